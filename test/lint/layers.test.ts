/** The layer rules in eslint.config.js refuse wrong-way imports (and allow the right ones). */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function restricted(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: file });
  return r.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['src/io/x.ts', "import { loadDualEncoder } from '../models/registry.js';\nexport const a = loadDualEncoder;\n", /io must not depend/],
    ['src/core/x.ts', "import { readImage } from '../io/read.js';\nexport const a = readImage;\n", /core is the bottom layer/],
    ['src/runtime/x.ts', "import { DEFAULT_MODEL } from '../models/defaults.js';\nexport const a = DEFAULT_MODEL;\n", /runtime must not depend/],
    ['src/tasks/x.ts', "import { clipFamily } from '../models/clip/family.js';\nexport const a = clipFamily;\n", /never on a model family/],
    ['src/tasks/x.ts', "import { runEval } from '../eval/runner.js';\nexport const a = runEval;\n", /tasks must not depend/],
    ['src/cli/commands/x.ts', "import { CaseIndex } from '../../index-store/store.js';\nexport const a = CaseIndex;\n", /through tasks/],
    ['src/cli/commands/x.ts', "import { loadModel } from '../../runtime/engine.js';\nexport const a = loadModel;\n", /not the runtime/],
    ['src/index-store/x.ts', "import { addToIndex } from '../tasks/search.js';\nexport const a = addToIndex;\n", /must not depend on them/],
  ])('%s: wrong-way import refused', async (file, code, message) => {
    const found = await restricted(file, code);
    expect(found.length).toBe(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['src/tasks/x.ts', "import type { DualEncoder } from '../models/capabilities.js';\nexport type A = DualEncoder;\n"],
    ['src/models/x.ts', "import { loadModel } from '../runtime/engine.js';\nexport const a = loadModel;\n"],
    ['src/cli/commands/x.ts', "import type { IndexHit } from '../../index-store/store.js';\nexport type A = IndexHit;\n"],
  ])('%s: right-way import allowed', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
