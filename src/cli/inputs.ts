import type { InputProblem } from '../io/inputs.js';
import { EXIT } from './exit-codes.js';
import { note } from './output.js';

/**
 * When the inputs named no file at all: say which input was wrong, one line each, and exit 3 without
 * loading a model.
 */
export function reportNoInputs(problems: InputProblem[]): void {
  for (const p of problems) note(`medvlm: ${p.message} [${p.code}]`);
  note('medvlm: no image files to process');
  process.exitCode = EXIT.input;
}
