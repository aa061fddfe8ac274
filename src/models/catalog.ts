/**
 * Known models for `medvlm models`: hub ids transformers.js loads as CLIP/SigLIP dual encoders,
 * medical models that need an ONNX export first, and what is available locally (bundled folders,
 * hub models already in the cache).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRuntimeSettings } from '../runtime/env.js';
import { MODEL_DTYPES, type ModelDtype } from '../runtime/dtype.js';
import { bundledModelsDir, hubCacheFolder, listBundledModels, missingModelFiles } from '../runtime/sources.js';
import { existingConvertedFolders } from './converted.js';

/** One row of `medvlm models`. */
export interface ModelListing {
  /** What to pass as `--model`: a hub id or a bundled name. */
  id: string;
  /** config.json model_type, when known. */
  family: string;
  /** Where it comes from. */
  kind: 'hub' | 'bundled' | 'converted';
  /** True when medvlm can load it as is (an ONNX export in the transformers.js layout). */
  loadable: boolean;
  /** dtypes whose files are present locally (bundled folder or hub cache); empty when not downloaded. */
  localDtypes: ModelDtype[];
  /** Local folder, when present. */
  location?: string;
  /** Medical domain model. */
  medical: boolean;
  /** Why it matters, or what to do first. */
  note: string;
  /** For folders written by `medvlm convert`: the recipe and the checkpoint file. */
  converted?: { recipe: string; source: string };
}

interface CatalogEntry {
  id: string;
  family: string;
  loadable: boolean;
  medical: boolean;
  note: string;
}

/**
 * Hub models. The Xenova ids are the ones transformers.js' own documentation loads with
 * CLIPModel / SiglipModel (src/models/clip, src/models/siglip, src/pipelines of @huggingface/transformers 4.3).
 */
export const HUB_CATALOG: readonly CatalogEntry[] = [
  { id: 'Xenova/clip-vit-base-patch32', family: 'clip', loadable: true, medical: false, note: 'OpenAI CLIP ViT-B/32, ONNX export used in transformers.js docs' },
  { id: 'Xenova/clip-vit-base-patch16', family: 'clip', loadable: true, medical: false, note: 'OpenAI CLIP ViT-B/16, ONNX export used in transformers.js docs' },
  { id: 'Xenova/siglip-base-patch16-224', family: 'siglip', loadable: true, medical: false, note: 'Google SigLIP base 224 px, ONNX export used in transformers.js docs' },
  {
    id: 'microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224',
    family: 'clip',
    loadable: false,
    medical: true,
    note: 'open_clip format (PubMedBERT text tower, timm ViT-B/16): convert the downloaded folder with `medvlm convert FOLDER --out DIR` (recipe open_clip-timm-vit-hf-bert), then pass DIR',
  },
  {
    id: 'flaviagiammarino/pubmed-clip-vit-base-patch32',
    family: 'clip',
    loadable: false,
    medical: true,
    note: 'PubMedCLIP (PyTorch weights in the HF CLIP layout): convert the downloaded folder with `medvlm convert FOLDER --out DIR` (recipe hf-clip), then pass DIR',
  },
];

function localDtypes(folder: string): ModelDtype[] {
  return MODEL_DTYPES.filter((d) => missingModelFiles(folder, d).length === 0);
}

interface FolderConfig {
  model_type?: unknown;
  medvlm?: { medical?: unknown; converted?: { recipe?: unknown; source?: unknown } };
}

function readConfig(folder: string): FolderConfig {
  try {
    return JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as FolderConfig;
  } catch {
    return {};
  }
}

/**
 * Models bundled with medvlm are medical models unless their config.json says otherwise
 * (`"medvlm": {"medical": false}`): the flag is read where present, so a bundled general-domain
 * model can opt out without changing the shipped medical models' files (and so their hashes).
 */
function bundledIsMedical(folder: string): boolean {
  return readConfig(folder).medvlm?.medical !== false;
}

function modelTypeOf(folder: string): string {
  const t = readConfig(folder).model_type;
  return typeof t === 'string' ? t : 'unknown';
}

/** Hub ids present in the cache folder (`<cacheDir>/<org>/<name>/config.json`). */
export function cachedHubIds(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  const ids: string[] = [];
  for (const org of readdirSync(cacheDir, { withFileTypes: true })) {
    if (!org.isDirectory()) continue;
    for (const name of readdirSync(join(cacheDir, org.name), { withFileTypes: true })) {
      if (name.isDirectory() && existsSync(join(cacheDir, org.name, name.name, 'config.json'))) ids.push(`${org.name}/${name.name}`);
    }
  }
  return ids.sort();
}

/** Options of `listModels`. */
export interface ListModelsOptions {
  cacheDir?: string;
  bundledDir?: string;
}

function convertedOf(folder: string): { recipe: string; source: string } | undefined {
  const c = readConfig(folder).medvlm?.converted;
  return c && typeof c.recipe === 'string' && typeof c.source === 'string' ? { recipe: c.recipe, source: c.source } : undefined;
}

/** The catalog, then bundled models, then other hub models found in the cache, then folders written by `medvlm convert`. */
export async function listModels(opts: ListModelsOptions = {}): Promise<ModelListing[]> {
  const cacheDir = resolveRuntimeSettings({ cacheDir: opts.cacheDir }).cacheDir;
  const bundledDir = opts.bundledDir ?? bundledModelsDir();
  const out: ModelListing[] = [];
  for (const e of HUB_CATALOG) {
    const folder = hubCacheFolder(cacheDir, e.id);
    const present = existsSync(join(folder, 'config.json'));
    out.push({ ...e, kind: 'hub', localDtypes: present ? localDtypes(folder) : [], ...(present ? { location: folder } : {}) });
  }
  for (const name of listBundledModels(bundledDir)) {
    const folder = join(bundledDir, name);
    out.push({ id: name, family: modelTypeOf(folder), kind: 'bundled', loadable: true, localDtypes: localDtypes(folder), location: folder, medical: bundledIsMedical(folder), note: 'bundled with medvlm; works offline' });
  }
  const known = new Set(HUB_CATALOG.map((e) => e.id));
  for (const id of cachedHubIds(cacheDir).filter((i) => !known.has(i))) {
    const folder = hubCacheFolder(cacheDir, id);
    out.push({ id, family: modelTypeOf(folder), kind: 'hub', loadable: true, localDtypes: localDtypes(folder), location: folder, medical: false, note: 'found in the cache' });
  }
  for (const e of existingConvertedFolders(cacheDir)) {
    const converted = convertedOf(e.path) ?? { recipe: e.recipe, source: e.source };
    out.push({
      id: e.path, family: modelTypeOf(e.path), kind: 'converted', loadable: true, localDtypes: localDtypes(e.path), location: e.path,
      medical: readConfig(e.path).medvlm?.medical === true, note: `converted by medvlm convert from ${converted.source} (recipe ${converted.recipe})`, converted,
    });
  }
  return out;
}
