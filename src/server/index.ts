/** `medvlm serve`: start the HTTP API and web page, refusing an unsafe bind. */
import type { FastifyInstance } from 'fastify';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolveAuth, type AuthSources } from '../pacs/auth.js';
import { DicomwebClient } from '../pacs/client.js';
import { readApiKeys } from './auth.js';
import { checkBindSafety } from './bind.js';
import { buildServer, type ServerOptions } from './app.js';
import { bundleWebPage } from './web-bundle.js';

export { buildServer, type ServerOptions } from './app.js';
export { isLoopbackHost, checkBindSafety } from './bind.js';
export { parseByteSize } from './size.js';

/** Options of `startServer`. */
export interface StartOptions extends Omit<ServerOptions, 'apiKeys' | 'web'> {
  host?: string;
  port?: number;
  /** File of API keys (one per line). */
  apiKeyFile?: string;
  /** Allow a non-loopback bind without API keys. */
  insecure?: boolean;
  /** Serve the web page (default true). */
  web?: boolean;
  /** DICOMweb root of a PACS to proxy for the page's PACS panel (or MEDVLM_PACS_URL). */
  pacsUrl?: string;
  /** Where the PACS credentials come from (files or the environment; never values on the command line). */
  pacsAuth?: AuthSources;
  /** PEM bundle of extra CAs for an https PACS. */
  pacsCaFile?: string;
}

/** Check the bind, build the app and listen. Returns the app and its base URL. */
export async function startServer(o: StartOptions = {}): Promise<{ app: FastifyInstance; url: string }> {
  const host = o.host ?? '127.0.0.1';
  const apiKeys = o.apiKeyFile ? readApiKeys(o.apiKeyFile) : undefined;
  checkBindSafety(host, { hasApiKeys: Boolean(apiKeys?.length), insecure: Boolean(o.insecure) });
  const bundleDir = o.web === false ? undefined : await bundleWebPage();
  const web = bundleDir ? { bundleDir } : undefined;
  const { web: _web, pacsUrl: _url, pacsAuth, pacsCaFile, ...rest } = o;
  const pacsUrl = o.pacsUrl ?? process.env.MEDVLM_PACS_URL;
  const pacs = pacsUrl ? { url: pacsUrl, client: new DicomwebClient({ url: pacsUrl, auth: resolveAuth(pacsAuth), ...(pacsCaFile ? { caFile: pacsCaFile } : {}) }) } : undefined;
  const app = await buildServer({ ...rest, ...(apiKeys ? { apiKeys } : {}), ...(web ? { web } : {}), ...(pacs ? { pacs } : {}) });
  if (bundleDir?.startsWith(tmpdir())) app.addHook('onClose', async () => rmSync(bundleDir, { recursive: true, force: true }));
  const address = await app.listen({ host, port: o.port ?? 8787 });
  return { app, url: address };
}
