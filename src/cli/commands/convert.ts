import { Command, Option } from 'commander';
import { convertModel, parseDtypeList } from '../../convert/run.js';
import { recipeNames } from '../../convert/recipes/index.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { note, out } from '../output.js';
import { downloadProgress } from '../progress.js';

interface ConvertCliOptions {
  out: string;
  recipe?: string;
  dtype: string;
  force?: boolean;
  check: boolean;
  offline?: boolean;
  json?: boolean;
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
      const progress = o.json ? undefined : (m: string) => note(`medvlm convert: ${m}`);
      const result = await convertModel(source, {
        out: o.out,
        dtypes: parseDtypeList(o.dtype),
        ...(o.recipe ? { recipe: o.recipe } : {}),
        force: Boolean(o.force),
        check: o.check,
        offline: Boolean(o.offline) || process.env.MEDVLM_OFFLINE === '1',
        ...(progress ? { onProgress: progress } : {}),
        onDownload: downloadProgress(),
      });
      const { check } = result;
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
