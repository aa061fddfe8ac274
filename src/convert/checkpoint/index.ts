/**
 * Reading a checkpoint file into a flat state dict: safetensors, PyTorch zip or legacy pickle
 * (restricted, nothing executed), fp16/bf16 widened to fp32 on access. `state_dict`/`model`/
 * `module` wrappers and `module.` prefixes are removed; non-tensor entries are dropped.
 */
import { readFileSync, statSync } from 'node:fs';
import { ConvertError } from '../../core/errors.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { looksLikeLegacyTorch, readTorchLegacy, readTorchZip, type TorchValue } from './torch.js';
import { looksLikeZip } from './zip.js';
import type { CheckpointTensor } from './tensor.js';

export type { CheckpointTensor, StoredDtype } from './tensor.js';

/** A flat name → tensor map, as a model's state_dict(). */
export type StateDict = Map<string, CheckpointTensor>;

/** Which reader a file needed. */
export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

/** A read checkpoint. */
export interface Checkpoint {
  format: CheckpointFormat;
  tensors: StateDict;
}

const WRAPPERS = ['state_dict', 'model_state_dict', 'model', 'module', 'net'];

function isTensor(v: TorchValue): v is CheckpointTensor {
  return typeof v === 'object' && v !== null && typeof (v as CheckpointTensor).toFloat32 === 'function';
}

function asDict(v: TorchValue): Map<unknown, TorchValue> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && (v as { kind?: string }).kind === 'dict'
    ? ((v as { map: Map<unknown, TorchValue> }).map)
    : undefined;
}

/** The tensors of a torch.save value: unwraps `{state_dict: ...}`-style wrappers, keeps string-keyed tensors. */
export function stateDictOf(value: TorchValue, file: string): StateDict {
  let dict = asDict(value);
  for (let depth = 0; dict && depth < 3; depth++) {
    const hasTensors = [...dict.values()].some(isTensor);
    const wrapper = WRAPPERS.find((w) => asDict(dict!.get(w) as TorchValue));
    if (hasTensors || !wrapper) break;
    dict = asDict(dict.get(wrapper) as TorchValue);
  }
  if (!dict) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: the checkpoint holds no dict of tensors (a state_dict)`, { file });
  const out: StateDict = new Map();
  for (const [k, v] of dict) if (typeof k === 'string' && isTensor(v)) out.set(k, v);
  if (out.size === 0) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: the checkpoint holds no tensors`, { file });
  return stripPrefix(out, 'module.');
}

/** Remove `prefix` from every key when all keys carry it (DataParallel/DDP checkpoints). */
export function stripPrefix(dict: StateDict, prefix: string): StateDict {
  if (![...dict.keys()].every((k) => k.startsWith(prefix))) return dict;
  return new Map([...dict].map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Read a checkpoint held in memory; the format is detected from the bytes, not the file name. */
export function parseCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  if (looksLikeZip(bytes)) return { format: 'torch-zip', tensors: stateDictOf(readTorchZip(bytes, file), file) };
  if (looksLikeLegacyTorch(bytes)) return { format: 'torch-legacy', tensors: stateDictOf(readTorchLegacy(bytes, file), file) };
  if (looksLikeSafetensors(bytes)) return { format: 'safetensors', tensors: stripPrefix(readSafetensors(bytes, file), 'module.') };
  throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: not a safetensors file or a PyTorch checkpoint (zip or legacy pickle)`, { file });
}

/** Read a checkpoint file (safetensors, PyTorch zip, PyTorch legacy). */
export function readCheckpoint(file: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    if (statSync(file).size === 0) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: the file is empty`, { file });
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof ConvertError) throw e;
    throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: cannot read the checkpoint: ${e instanceof Error ? e.message : String(e)}`, { file, cause: e });
  }
  return parseCheckpoint(bytes, file);
}
