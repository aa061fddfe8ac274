import { Option } from 'commander';
import { OptionError } from '../core/errors.js';
import { parseWindowOption, type ViewOptions } from '../transforms/index.js';

/** Parse a non-negative integer option or throw a clear OptionError. */
export function intOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new OptionError('E_BAD_OPTION', `${name} ${v}: expected an integer ≥ ${min}`);
    return n;
  };
}

/** Options shared by every command that shows images to a model. */
export function viewOptions(): Option[] {
  return [
    new Option('--window <spec>', 'display window: file | auto | lung | mediastinum | bone | brain | abdomen | liver | C,W | pLOW,HIGH').default('auto'),
    new Option('--frame <n>', 'frame of a multi-frame DICOM (default: middle)').argParser(intOption('--frame')),
    new Option('--plane <plane>', 'NIfTI slice plane').choices(['axial', 'coronal', 'sagittal']),
    new Option('--slice <n>', 'NIfTI slice index in the plane (default: middle)').argParser(intOption('--slice')),
    new Option('--volume <n>', 'NIfTI volume index of a 4D file (default: 0)').argParser(intOption('--volume')),
  ];
}

/** View options as commander parses them. */
export interface ViewCliOptions {
  window?: string;
  frame?: number;
  plane?: ViewOptions['plane'];
  slice?: number;
  volume?: number;
}

/** Build `ViewOptions` from parsed command options. */
export function toViewOptions(o: ViewCliOptions): ViewOptions {
  return {
    window: parseWindowOption(o.window ?? 'auto'),
    ...(o.frame !== undefined ? { frame: o.frame } : {}),
    ...(o.plane ? { plane: o.plane } : {}),
    ...(o.slice !== undefined ? { index: o.slice } : {}),
    ...(o.volume !== undefined ? { volume: o.volume } : {}),
  };
}

/** Options shared by every command that loads a model. */
export function modelOptions(defaultModel: string): Option[] {
  return [
    new Option('-m, --model <id>', 'bundled name, local folder (Hugging Face layout) or hub id org/name').default(defaultModel),
    new Option('--dtype <dtype>', 'weights variant').choices(['fp32', 'q8']).default('fp32'),
    new Option('--threads <n>', 'inference threads (default: all cores)').argParser(intOption('--threads', 1)),
    new Option('--offline', 'never contact a model hub (also MEDVLM_OFFLINE=1)'),
    new Option('--batch-size <n>', 'images per model call').argParser(intOption('--batch-size', 1)).default(16),
  ];
}
