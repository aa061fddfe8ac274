import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers point one way (../shared/DESIGN.md):
 *   core <- io <- transforms <- runtime <- models <- tasks <- eval <- surfaces (cli, server, web)
 * with convert, index-store and queue beside them. Each rule lists the folders a layer must not import.
 */
const LAYERS = ['core', 'io', 'transforms', 'runtime', 'models', 'tasks', 'eval', 'cli', 'server', 'web'];
const BESIDE = ['index-store', 'queue', 'convert'];
const dir = (name) => `(^|/)${name}(/|$)`;
const above = (layer) => LAYERS.slice(LAYERS.indexOf(layer) + 1);
const restrict = (files, banned, message, extra = []) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          ...banned.map((b) => ({ regex: dir(b), message: `${message} (${b})`, allowTypeImports: false })),
          ...extra,
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'training/**', 'test/.corpus/**', 'test/.models/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  restrict(['src/core/**'], [...above('core'), ...BESIDE, 'metrics'], 'core is the bottom layer'),
  restrict(['src/metrics/**'], [...above('core'), ...BESIDE], 'metrics are pure functions over numbers'),
  restrict(['src/io/**'], [...above('io'), ...BESIDE], 'io must not depend on a layer above it'),
  restrict(['src/transforms/**'], [...above('transforms'), ...BESIDE], 'transforms must not depend on a layer above them'),
  restrict(['src/runtime/**'], [...above('runtime'), ...BESIDE], 'runtime must not depend on a layer above it'),
  restrict(['src/models/**'], [...above('models'), ...BESIDE], 'models must not depend on a layer above them'),
  restrict(['src/index-store/**'], [...above('models')], 'storage serves tasks; it must not depend on them'),
  restrict(['src/queue/**', 'src/pacs/**'], ['cli', 'server', 'web'], 'the queue and the PACS client serve the surfaces; they must not depend on one'),
  restrict(['src/convert/**'], [...above('models'), 'index-store', 'queue'], 'convert writes model folders; it must not depend on tasks'),
  restrict(['src/tasks/**'], above('tasks'), 'tasks must not depend on eval or a surface', [
    { regex: '(^|/)models/(?!capabilities|defaults|registry|catalog|family|families|generators)[^/]+/', message: 'tasks depend on capabilities, never on a model family' },
  ]),
  restrict(['src/eval/**'], above('eval'), 'eval must not depend on a surface', [
    { regex: '(^|/)models/(?!capabilities|defaults|registry|catalog|family|families|generators)[^/]+/', message: 'eval depends on capabilities, never on a model family' },
  ]),
  restrict(['src/cli/**', 'src/server/**', 'src/web/**'], [], 'surfaces', [
    { regex: '(^|/)index-store/(store|lance|meta)(\\.js)?$', message: 'surfaces reach the index through tasks (tasks/case-index.ts), not the store', allowTypeImports: true },
    { regex: '(^|/)runtime/', message: 'surfaces load models through pipeline() or models/registry, not the runtime' },
    { regex: '(^|/)models/(?!capabilities|defaults|registry|catalog|family|families|generators)[^/]+/', message: 'surfaces never name a model family' },
  ]),
);
