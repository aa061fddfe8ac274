/**
 * Applying a recipe's key rules to a state dict: canonical fp32 weights, the source key behind each
 * one (for messages), missing-key and shape checks that name the source key, and the list of
 * source keys nothing used.
 */
import { ConvertError } from '../../core/errors.js';
import type { WeightStore } from '../onnx/graph.js';
import type { StateDict } from '../checkpoint/index.js';
import type { KeyRule } from './types.js';

/** Canonical weights plus where each came from. */
export interface MappedWeights {
  store: WeightStore;
  /** canonical name → source key(s). */
  sources: Map<string, string>;
  /** Source keys no rule used and no ignore pattern covers. */
  unused: string[];
  /** Source keys covered by the recipe's ignore patterns (training-only, buffers). */
  ignored: string[];
  /** The checkpoint file (for messages). */
  file: string;
}

function patternRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace('{i}', '(?<i>\\d+)');
  return new RegExp(`^${escaped}$`);
}

function groupOf(pattern: string): string | undefined {
  const at = pattern.indexOf('{i}');
  return at < 0 ? undefined : pattern.slice(0, at);
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Apply `rules` to `dict`; `ignore` are regular expressions of keys not needed for inference. */
export function mapWeights(dict: StateDict, rules: KeyRule[], ignore: string[], file: string): MappedWeights {
  const store: WeightStore = new Map();
  const sources = new Map<string, string>();
  const used = new Set<string>();
  const mismatch = (what: string): ConvertError => new ConvertError('E_CHECKPOINT_MISMATCH', `${file}: ${what}`, { file });

  // Layer indices per group (the key prefix before {i}), over every rule of the group.
  const indices = new Map<string, Set<number>>();
  for (const rule of rules) {
    const group = groupOf(rule.from[0]);
    if (!group) continue;
    const re = patternRegex(rule.from[0]);
    const set = indices.get(group) ?? new Set<number>();
    for (const key of dict.keys()) {
      const m = re.exec(key);
      if (m?.groups?.i !== undefined) set.add(Number(m.groups.i));
    }
    indices.set(group, set);
  }
  for (const [group, set] of indices) {
    const n = set.size;
    for (let i = 0; i < n; i++) if (!set.has(i)) throw mismatch(`layer ${group}${i} is missing (found layers ${[...set].sort((a, b) => a - b).join(', ')})`);
  }

  const get = (key: string, rule: KeyRule): { dims: number[]; data: Float32Array } | undefined => {
    const t = dict.get(key);
    if (!t) {
      if (rule.optional) return undefined;
      throw mismatch(`missing key ${key} (needed for ${rule.to.replace('{i}', '*')})`);
    }
    used.add(key);
    return { dims: t.dims, data: t.toFloat32() };
  };

  for (const rule of rules) {
    const group = groupOf(rule.from[0]);
    const layerIds = group ? [...(indices.get(group) ?? [])].sort((a, b) => a - b) : [undefined];
    for (const i of layerIds) {
      const sub = (s: string): string => (i === undefined ? s : s.replace('{i}', String(i)));
      const keys = rule.from.map(sub);
      const parts = keys.map((k) => get(k, rule));
      if (parts.some((p) => p === undefined)) continue;
      const ts = parts as { dims: number[]; data: Float32Array }[];
      const name = sub(rule.to);
      const shapeError = (want: string): ConvertError =>
        mismatch(`key ${keys.join(' + ')} has shape [${ts.map((t) => t.dims.join(', ')).join('] + [')}], expected ${want}`);
      let out: { dims: number[]; data: Float32Array };
      const [t] = ts;
      switch (rule.op) {
        case 'copy':
          out = t;
          break;
        case 'T':
        case 'qkvT':
          if (t.dims.length !== 2) throw shapeError('a 2-D Linear weight');
          if (rule.op === 'qkvT' && t.dims[0] !== 3 * t.dims[1]) throw shapeError('[3·W, W]');
          out = { dims: [t.dims[1], t.dims[0]], data: transpose2d(t.data, t.dims[0], t.dims[1]) };
          break;
        case 'as3d':
          if (t.dims.length > 3) throw shapeError('at most 3 dimensions');
          out = { dims: [...new Array<number>(3 - t.dims.length).fill(1), ...t.dims], data: t.data };
          break;
        case 'row0':
          if (t.dims.length !== 2) throw shapeError('a 2-D embedding table');
          out = { dims: [1, t.dims[1]], data: t.data.slice(0, t.dims[1]) };
          break;
        case 'concatT': {
          if (ts.some((x) => x.dims.length !== 2 || x.dims[1] !== t.dims[1])) throw shapeError('2-D Linear weights with the same input width');
          const inW = t.dims[1];
          const total = ts.reduce((a, x) => a + x.dims[0], 0);
          const data = new Float32Array(inW * total);
          let col = 0;
          for (const x of ts) {
            const tr = transpose2d(x.data, x.dims[0], inW);
            for (let r = 0; r < inW; r++) data.set(tr.subarray(r * x.dims[0], (r + 1) * x.dims[0]), r * total + col);
            col += x.dims[0];
          }
          out = { dims: [inW, total], data };
          break;
        }
        case 'concat': {
          if (ts.some((x) => x.dims.length !== 1)) throw shapeError('1-D biases');
          const data = new Float32Array(ts.reduce((a, x) => a + x.data.length, 0));
          let at = 0;
          for (const x of ts) { data.set(x.data, at); at += x.data.length; }
          out = { dims: [data.length], data };
          break;
        }
      }
      store.set(name, out);
      sources.set(name, keys.join(' + '));
    }
  }
  const ignoreRes = ignore.map((p) => new RegExp(p));
  const rest = [...dict.keys()].filter((k) => !used.has(k));
  return {
    store,
    sources,
    ignored: rest.filter((k) => ignoreRes.some((r) => r.test(k))),
    unused: rest.filter((k) => !ignoreRes.some((r) => r.test(k))),
    file,
  };
}

/**
 * Check that canonical weight `name` has shape `dims` (-1 matches anything); otherwise
 * E_CHECKPOINT_MISMATCH naming the source key. Returns the actual dims.
 */
export function expectShape(w: MappedWeights, name: string, dims: number[]): number[] {
  const t = w.store.get(name);
  const source = w.sources.get(name) ?? name;
  if (!t) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${w.file}: missing key for ${name}`, { file: w.file });
  const ok = t.dims.length === dims.length && dims.every((d, i) => d === -1 || d === t.dims[i]);
  if (!ok) {
    throw new ConvertError(
      'E_CHECKPOINT_MISMATCH',
      `${w.file}: key ${source} has shape [${t.dims.join(', ')}] (as ${name}), expected [${dims.map((d) => (d === -1 ? '*' : d)).join(', ')}]`,
      { file: w.file },
    );
  }
  return t.dims;
}

/** Number of layers `prefix.{i}.…` present in the canonical weights. */
export function layerCount(w: MappedWeights, prefix: string): number {
  let n = 0;
  while ([...w.store.keys()].some((k) => k.startsWith(`${prefix}.${n}.`))) n++;
  return n;
}
