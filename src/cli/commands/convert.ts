import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import { convertCheckpoint, recordParity } from '../../convert/convert.js';
import { recipeNames } from '../../convert/recipes/index.js';
import { selfCheck } from '../../convert/verify.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { recordConvertedFolder } from '../../models/converted.js';
import { resolveRuntimeSettings } from '../../runtime/env.js';
import { isModelDtype, type ModelDtype } from '../../runtime/dtype.js';
import { note, out } from '../output.js';
import { downloadProgress } from '../progress.js';
import { localSource } from '../../convert/source.js';

interface ConvertCliOptions {
  out: string;
  recipe?: string;
  dtype: string;
  force?: boolean;
  check: boolean;
  offline?: boolean;
  json?: boolean;
}

function parseDtypes(value: string): ModelDtype[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((d) => !isModelDtype(d));
  if (list.length === 0 || bad.length > 0) throw new OptionError('E_BAD_OPTION', `--dtype ${value}: expected a comma-separated list of fp32, q8`);
  return [...new Set(list)] as ModelDtype[];
}

/** `medvlm convert SOURCE --out DIR`: a PyTorch/safetensors checkpoint → a folder every medvlm command loads. */
export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a medical CLIP checkpoint (BiomedCLIP, UniMed-CLIP, OpenAI CLIP, PubMedCLIP, ...) into an ONNX model folder')
    .argument('<source>', 'checkpoint file (.bin, .pt, .pth, .safetensors), the folder holding it with its config and vocab files, or a hub id org/name')
    .requiredOption('-o, --out <dir>', 'output model folder')
    .addOption(new Option('--recipe <name>', 'architecture recipe (default: detected from the keys)').choices(recipeNames()))
    .option('--dtype <list>', 'ONNX variants to write: fp32, q8 or fp32,q8', 'fp32')
    .option('--force', 'replace an existing output folder')
    .option('--no-check', 'skip loading the result with medvlm after conversion')
    .option('--offline', 'never contact a model hub (also MEDVLM_OFFLINE=1)')
    .option('--json', 'print the result as JSON')
    .action(async (source: string, o: ConvertCliOptions) => {
      const dtypes = parseDtypes(o.dtype);
      const progress = o.json ? undefined : (m: string) => note(`medvlm convert: ${m}`);
      const settings = resolveRuntimeSettings({ ...(o.offline ? { offline: true } : {}) });
      const local = await localSource(source, settings, downloadProgress());
      const result = convertCheckpoint({ source: local, out: o.out, dtypes, force: o.force, ...(o.recipe ? { recipe: o.recipe } : {}), ...(progress ? { onProgress: progress } : {}) });
      recordConvertedFolder(settings.cacheDir, { path: result.out, recipe: result.recipe, source: existsSync(source) ? resolve(source) : source, convertedAt: new Date().toISOString() });
      let check;
      if (o.check) {
        progress?.('checking the converted folder with medvlm');
        check = await selfCheck(result.out, dtypes);
        recordParity(result.out, { self_check: check });
      }
      if (o.json) {
        out(JSON.stringify({ ...result, check }, null, 2));
        return;
      }
      const d = result.dims;
      out(`converted ${source} → ${result.out}`);
      out(`recipe ${result.recipe} (${result.format}); vision ${d.vision.layers}×${d.vision.width} at ${d.vision.imageSize} px; text ${d.text.layers}×${d.text.width}; embed ${d.embedDim}; logit scale ${result.logitScale.toFixed(4)}`);
      out(`wrote ${result.files.join(', ')} in ${result.seconds.toFixed(1)} s`);
      if (check?.q8_vs_fp32) out(`q8 vs fp32 cosine (probe): image ${check.q8_vs_fp32.image.toFixed(5)}, text ${check.q8_vs_fp32.text.toFixed(5)}`);
      if (result.unusedKeys.length) note(`medvlm convert: ${result.unusedKeys.length} checkpoint keys were not used (listed in conversion.json): ${result.unusedKeys.slice(0, 5).join(', ')}${result.unusedKeys.length > 5 ? ', ...' : ''}`);
      out(`use it with: medvlm classify IMAGES --model ${result.out} --labels ...`);
      note(`medvlm: ${RESEARCH_NOTICE}`);
    });
}
