/**
 * Where a model comes from: a bundled name (a folder under the package's `models/`), a local
 * folder in the Hugging Face layout, or a hub id (`org/name`). Folders are validated before any
 * engine sees them, so a missing file is reported by name instead of as an engine stack trace.
 */
import { packageRoot } from '../core/paths.js';
import { closestNames } from '../core/suggest.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ModelLoadError } from '../core/errors.js';
import type { ModelDtype } from './dtype.js';
import { REQUIRED_JSON_FILES, requiredOnnxFiles, type ModelSource } from './model-source.js';

export * from './model-source.js';

/** Options for `resolveModelSource`. */
export interface ResolveOptions {
  /** Folder holding bundled models (default: `<package root>/models`). */
  bundledDir?: string;
  /** Working directory for relative paths (default: `process.cwd()`). */
  cwd?: string;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[\w.-]{1,96}$/;

/** Folder of bundled models: `<package root>/models`. */
export function bundledModelsDir(): string {
  return join(packageRoot(), 'models');
}

/** Names of bundled models (sub-folders of `dir` that contain a config.json), sorted. */
export function listBundledModels(dir: string = bundledModelsDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'config.json')))
    .map((e) => e.name)
    .sort();
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function looksLikePath(id: string): boolean {
  return isAbsolute(id) || id.startsWith('.') || id.startsWith('~') || id.includes('\\') || id.split('/').length > 2;
}

/**
 * Interpret a model id: an existing folder → `folder`; a bundled name → `bundled`; `org/name` →
 * `hub`. A path that does not exist, or a bare name that is not bundled, → E_MODEL_NOT_FOUND
 * (with "did you mean" over the bundled names).
 */
export function resolveModelSource(id: string, opts: ResolveOptions = {}): ModelSource {
  const cwd = opts.cwd ?? process.cwd();
  const bundledDir = opts.bundledDir ?? bundledModelsDir();
  const trimmed = id.trim();
  if (trimmed === '') throw new ModelLoadError('E_MODEL_NOT_FOUND', 'model: the model id is empty');
  const expanded = trimmed.startsWith('~/') ? join(process.env.HOME ?? '', trimmed.slice(2)) : trimmed;
  const asPath = resolve(cwd, expanded);
  if (isDirectory(asPath)) return { kind: 'folder', location: asPath };
  if (looksLikePath(trimmed)) {
    throw new ModelLoadError('E_MODEL_NOT_FOUND', `${asPath}: no such model folder`, { file: asPath });
  }
  const bundled = join(bundledDir, trimmed);
  if (!trimmed.includes('/') && isDirectory(bundled)) return { kind: 'bundled', location: bundled };
  if (HUB_ID.test(trimmed)) return { kind: 'hub', location: trimmed };
  const names = listBundledModels(bundledDir);
  const guesses = closestNames(trimmed, names);
  const hint = guesses.length > 0
    ? ` Did you mean ${guesses.map((g) => `"${g}"`).join(' or ')}?`
    : names.length > 0 ? ` Bundled models: ${names.join(', ')}.` : '';
  throw new ModelLoadError(
    'E_MODEL_NOT_FOUND',
    `${trimmed}: not a model folder, a bundled model name or a hub id (org/name).${hint}`,
    { file: trimmed },
  );
}

/** Files a folder lacks for a dual encoder of `dtype` (relative paths; empty when complete). */
export function missingModelFiles(folder: string, dtype: ModelDtype): string[] {
  return [...REQUIRED_JSON_FILES, ...requiredOnnxFiles(dtype)].filter((f) => !existsSync(join(folder, f)));
}

/** Throw E_MODEL_INVALID naming the folder and every missing file, unless the folder is complete. */
export function validateModelFolder(folder: string, dtype: ModelDtype): void {
  const missing = missingModelFiles(folder, dtype);
  if (missing.length > 0) {
    throw new ModelLoadError(
      'E_MODEL_INVALID',
      `${folder}: not a complete model folder for dtype ${dtype}: missing ${missing.join(', ')}`,
      { file: folder },
    );
  }
}

/** Folder where transformers.js caches a hub model's files (`<cacheDir>/<org>/<name>`). */
export function hubCacheFolder(cacheDir: string, hubId: string): string {
  return join(cacheDir, ...hubId.split('/'));
}
