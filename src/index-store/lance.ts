/**
 * The one place that loads LanceDB (and Apache Arrow, its data format). Loaded lazily so that commands
 * that never touch an index do not pay for the native library, and with LanceDB's own log output
 * limited to errors (its warnings are not addressed to medvlm's users).
 */
import { DependencyError } from '../core/errors.js';

type LanceModule = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');

let loaded: Promise<{ lancedb: LanceModule; arrow: ArrowModule }> | undefined;

/** LanceDB and Arrow modules. @throws DependencyError E_DEPENDENCY when the native library cannot load. */
export function loadLance(): Promise<{ lancedb: LanceModule; arrow: ArrowModule }> {
  loaded ??= (async () => {
    process.env.LANCEDB_LOG ??= 'error';
    try {
      const [lancedb, arrow] = await Promise.all([import('@lancedb/lancedb'), import('apache-arrow')]);
      return { lancedb, arrow };
    } catch (e) {
      loaded = undefined;
      throw new DependencyError(
        'E_DEPENDENCY',
        `cannot load the vector store library @lancedb/lancedb (${e instanceof Error ? e.message : String(e)}); reinstall medvlm's dependencies with npm ci`,
        { cause: e },
      );
    }
  })();
  return loaded;
}
