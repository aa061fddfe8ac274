/**
 * What `medvlm convert SOURCE` reads: a checkpoint file, or a folder holding one (open_clip,
 * Hugging Face CLIPModel, PMC-CLIP, UniMed-CLIP layouts) with its side files (open_clip_config.json,
 * config.json, preprocessor_config.json, vocab.txt, tokenizer files).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConvertError, InputError } from '../core/errors.js';
import type { RuntimeSettings } from '../runtime/env.js';
import type { LoadProgress } from '../runtime/engine.js';
import { fetchHubFiles } from '../runtime/hub-files.js';

/** Checkpoint file names, in order of preference, when SOURCE is a folder. */
export const CHECKPOINT_NAMES = [
  'open_clip_model.safetensors',
  'open_clip_pytorch_model.bin',
  'model.safetensors',
  'pytorch_model.bin',
  'checkpoint.pt',
];

/** A resolved conversion source. */
export interface ConversionSource {
  /** The checkpoint file. */
  checkpoint: string;
  /** The folder side files are read from. */
  folder: string;
  /** Parsed side files that exist (by file name). */
  json: Record<string, Record<string, unknown>>;
  /** vocab.txt content, when present. */
  vocab?: string;
  /** Side files read (for hashing). */
  sideFiles: string[];
}

const SIDE_JSON = ['open_clip_config.json', 'config.json', 'preprocessor_config.json', 'tokenizer_config.json', 'tokenizer.json', 'special_tokens_map.json'];

function readJson(path: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ConvertError('E_CHECKPOINT_INVALID', `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`, { file: path });
  }
}

/** Resolve SOURCE (a file or a folder) to its checkpoint and side files. */
export function resolveConversionSource(source: string): ConversionSource {
  const path = resolve(source);
  if (!existsSync(path)) throw new InputError('E_FILE_NOT_FOUND', `${path}: no such file or folder`, { file: path });
  let checkpoint: string;
  let folder: string;
  if (statSync(path).isDirectory()) {
    folder = path;
    const named = CHECKPOINT_NAMES.map((n) => join(path, n)).find((p) => existsSync(p));
    const other = readdirSync(path).filter((n) => /\.(pt|pth|bin|safetensors|ckpt)$/.test(n)).sort();
    if (named) checkpoint = named;
    else if (other.length === 1) checkpoint = join(path, other[0]);
    else {
      throw new ConvertError(
        'E_CHECKPOINT_INVALID',
        other.length === 0
          ? `${path}: no checkpoint in the folder (looked for ${CHECKPOINT_NAMES.join(', ')}, *.pt, *.pth, *.bin, *.safetensors)`
          : `${path}: several checkpoints (${other.join(', ')}); pass the file itself`,
        { file: path },
      );
    }
  } else {
    checkpoint = path;
    folder = dirname(path);
  }
  const json: Record<string, Record<string, unknown>> = {};
  const sideFiles: string[] = [];
  for (const name of SIDE_JSON) {
    const p = join(folder, name);
    if (existsSync(p) && p !== checkpoint) {
      json[name] = readJson(p);
      sideFiles.push(p);
    }
  }
  const vocabPath = join(folder, 'vocab.txt');
  const vocab = existsSync(vocabPath) ? readFileSync(vocabPath, 'utf8') : undefined;
  if (vocab !== undefined) sideFiles.push(vocabPath);
  return { checkpoint, folder, json, ...(vocab !== undefined ? { vocab } : {}), sideFiles: sideFiles.filter((f) => basename(f) !== basename(checkpoint)) };
}

/** Side files fetched with a hub checkpoint when the repository has them. */
export const HUB_SIDE_FILES = ['open_clip_config.json', 'config.json', 'preprocessor_config.json', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

const HUB_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[\w.-]{1,96}$/;

/**
 * SOURCE as a local path: an existing file or folder as is; a hub id (`org/name`) through the hub
 * cache (downloaded unless offline, with progress; E_MODEL_OFFLINE otherwise).
 */
export async function localSource(source: string, settings: RuntimeSettings, onProgress?: (p: LoadProgress) => void): Promise<string> {
  if (existsSync(resolve(source)) || !HUB_ID.test(source)) return source;
  return fetchHubFiles(source, { oneOf: [CHECKPOINT_NAMES], optional: HUB_SIDE_FILES }, settings, onProgress);
}
