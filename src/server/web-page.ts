/**
 * The web page of `medvlm serve`, from the same process, with no CDN: the page and its script
 * (bundled from src/web/client with esbuild into a cache folder, or the prebuilt dist/web/page.js),
 * onnxruntime-web's WASM files, dcmjs-codecs' WASM, the template sets and the served model's folder,
 * so "run in this browser" needs nothing but this server and sends it no image byte.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { loginHtml, PAGE_CSP, pageHtml } from '../web/page-html.js';

/** Options of the web page. */
export interface WebPageOptions {
  /** Folder holding the bundled `page.js` (see `bundleWebPage`). */
  bundleDir: string;
}

/** The folder of an installed package's files under medvlm's root. */
function packageDir(...parts: string[]): string {
  const dir = join(packageRoot(), 'node_modules', ...parts);
  if (!existsSync(dir)) throw new Error(`${dir} is missing: reinstall medvlm's dependencies`);
  return dir;
}

/**
 * Register the page and its static files; `modelFolder` gives the served model's folder (files for
 * in-browser inference); `signedIn` says whether a request may see the page (else `/` is the login form).
 */
export async function registerWebPage(app: FastifyInstance, o: WebPageOptions, modelFolder: () => Promise<string>, signedIn: (req: FastifyRequest) => boolean = () => true): Promise<void> {
  const mounts: Array<[string, string]> = [
    ['/app/', o.bundleDir],
    ['/ort/', packageDir('onnxruntime-web', 'dist')],
    ['/codecs/', packageDir('dcmjs-codecs', 'build')],
    ['/templates/', join(packageRoot(), 'templates')],
  ];
  let first = true;
  for (const [prefix, root] of mounts) {
    await app.register(fastifyStatic, { root, prefix, decorateReply: first, dotfiles: 'deny', index: false, list: false, wildcard: true });
    first = false;
  }
  app.get('/model/*', async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    return reply.sendFile(rel, await modelFolder());
  });
  const html = pageHtml();
  const login = loginHtml();
  app.get('/', async (req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).send(signedIn(req) ? html : login));
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.url.startsWith('/v1/')) reply.header('content-security-policy', PAGE_CSP);
    return payload;
  });
}
