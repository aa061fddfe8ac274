/** The page scripts (page, login): bundled with esbuild from src/web/client at server start (development), or the prebuilt dist/web/. */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyError } from '../core/errors.js';
import { packageRoot, packageVersion } from '../core/paths.js';

/** Bundle `src/web/client/page.ts` and `login.ts` into `outDir` (default: a cache folder under the OS temp dir); returns the folder. */
export async function bundleWebPage(outDir: string = join(tmpdir(), `medvlm-web-${packageVersion()}-${process.pid}`)): Promise<string> {
  const entry = join(packageRoot(), 'src/web/client/page.ts');
  const prebuilt = join(packageRoot(), 'dist/web');
  if (!existsSync(entry)) {
    if (existsSync(join(prebuilt, 'page.js'))) return prebuilt;
    throw new DependencyError('E_DEPENDENCY', `${prebuilt}/page.js is missing and the page source is not here to bundle: run npm run build`);
  }
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    if (existsSync(join(prebuilt, 'page.js'))) return prebuilt;
    throw new DependencyError('E_DEPENDENCY', `esbuild is needed to bundle the web page (npm install): ${(e as Error).message}`);
  }
  mkdirSync(outDir, { recursive: true });
  const login = join(packageRoot(), 'src/web/client/login.ts');
  await esbuild.build({ entryPoints: [entry, login], bundle: true, platform: 'browser', format: 'esm', outdir: outDir, logLevel: 'silent', minify: true, sourcemap: false });
  return outDir;
}
