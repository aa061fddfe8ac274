import { Command, Option } from 'commander';
import { parseByteSize, startServer } from '../../server/index.js';
import { pipelineOptions } from '../model.js';
import { intOption } from '../options.js';
import { note } from '../output.js';

interface ServeCliOptions {
  host: string;
  port: number;
  model?: string;
  index?: string;
  segmenter?: string;
  dataRoot?: string;
  apiKeyFile?: string;
  insecure?: boolean;
  maxUpload: string;
  concurrency: number;
  timeout: number;
  dtype: 'fp32' | 'q8';
  threads?: number;
  offline?: boolean;
  web: boolean;
  quiet?: boolean;
  pacsUrl?: string;
  pacsUser?: string;
  pacsPasswordFile?: string;
  pacsTokenFile?: string;
  pacsCaFile?: string;
}

/** `medvlm serve`: the HTTP API (`/v1/...`, `/openapi.json`) and the web page. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the HTTP API and the web page (loopback only unless --api-key-file or --insecure)')
    .option('--host <host>', 'address to bind (a non-loopback address needs --api-key-file or --insecure)', '127.0.0.1')
    .addOption(new Option('--port <n>', 'port').argParser(intOption('--port', 0)).default(8787))
    .option('-m, --model <id>', 'bundled name, local folder or hub id (default: medvlm-tiny; index endpoints: the index\'s model)')
    .option('--index <dir>', 'similar-case index folder: enables /v1/search and /v1/draft-report')
    .option('--segmenter <id>', 'text-prompted segmenter behind /v1/segment and the page\'s Segment button (default: medvlm-tiny-seg)')
    .option('--data-root <dir>', 'requests may name images by a path relative to this folder (no traversal, no symlinks out)')
    .option('--api-key-file <file>', 'API keys, one per line (each ≥ 16 characters); clients send Authorization: Bearer KEY')
    .option('--insecure', 'allow a non-loopback --host without API keys (trusted networks only)')
    .option('--max-upload <size>', 'largest upload, e.g. 512MB', '512MB')
    .addOption(new Option('--concurrency <n>', 'inference requests at once; up to 8x more wait, the rest get 503 + Retry-After').argParser(intOption('--concurrency', 1)).default(2))
    .addOption(new Option('--timeout <seconds>', 'longest time a request may take').argParser(intOption('--timeout', 1)).default(120))
    .addOption(new Option('--dtype <dtype>', 'weights variant').choices(['fp32', 'q8']).default('fp32'))
    .addOption(new Option('--threads <n>', 'inference threads (default: all cores)').argParser(intOption('--threads', 1)))
    .option('--offline', 'never contact a model hub (also MEDVLM_OFFLINE=1)')
    .option('--no-web', 'serve the API only, no web page')
    .option('--quiet', 'no request log on stderr')
    .option('--pacs-url <url>', "DICOMweb root of a PACS for the page's PACS panel, proxied by the server (or MEDVLM_PACS_URL)")
    .option('--pacs-user <name>', 'PACS basic-auth user (or MEDVLM_PACS_USER); the password from --pacs-password-file or MEDVLM_PACS_PASSWORD')
    .option('--pacs-password-file <file>', 'file whose first line is the PACS password')
    .option('--pacs-token-file <file>', 'file whose first line is a PACS bearer token (or MEDVLM_PACS_TOKEN)')
    .option('--pacs-ca-file <file>', 'PEM bundle of extra CA certificates for an https PACS')
    .action(async (o: ServeCliOptions) => {
      const maxUploadBytes = parseByteSize(o.maxUpload, 'maxUpload');
      const { onProgress: _ignored, ...load } = pipelineOptions(o);
      const { url } = await startServer({
        host: o.host,
        port: o.port,
        served: { ...(o.model ? { model: o.model } : {}), ...(o.index ? { index: o.index } : {}), options: load },
        maxUploadBytes,
        ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
        ...(o.segmenter ? { segmenter: o.segmenter } : {}),
        concurrency: o.concurrency,
        requestTimeoutMs: o.timeout * 1000,
        ...(o.apiKeyFile ? { apiKeyFile: o.apiKeyFile } : {}),
        insecure: Boolean(o.insecure),
        web: o.web,
        ...(o.pacsUrl ? { pacsUrl: o.pacsUrl } : {}),
        pacsAuth: { ...(o.pacsUser ? { user: o.pacsUser } : {}), ...(o.pacsPasswordFile ? { passwordFile: o.pacsPasswordFile } : {}), ...(o.pacsTokenFile ? { tokenFile: o.pacsTokenFile } : {}) },
        ...(o.pacsCaFile ? { pacsCaFile: o.pacsCaFile } : {}),
        ...(o.quiet ? {} : { log: process.stderr }),
      });
      note(`medvlm: serving ${url}${o.web ? ` (page at ${url}/)` : ''}, API at ${url}/v1/, OpenAPI at ${url}/openapi.json`);
      note('medvlm: research use only; model outputs are not a diagnosis.');
    });
}
