/** How the command line shows library errors: one line, option names as flags, exit code by error code. */
import { isMedvlmError, OptionError, type MedvlmError } from '../core/errors.js';
import type { FileError } from '../tasks/batch.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { note } from './output.js';

/** Library option names whose flag is not simply `--kebab-case` of the name. */
const FLAG_OF: Record<string, string> = { index: '--slice', out: '--out', force: '--force' };

/** The command-line flag for a library option name (`dataRoot` → `--data-root`). */
export function flagFor(option: string): string {
  return FLAG_OF[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The message as the CLI prints it: the first mention of the library option becomes its flag. */
export function cliMessage(e: MedvlmError): string {
  if (!(e instanceof OptionError) || !e.option) return e.message;
  const name = e.option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return e.message.replace(new RegExp(`(^|[\\s:(])${name}\\b`), (_m, pre: string) => `${pre}${flagFor(e.option!)}`);
}

/** Print one clear line for an error (the stack only with `debug`) and set the exit code. */
export function reportError(e: unknown, debug: boolean): void {
  if (isMedvlmError(e)) {
    note(`medvlm: ${cliMessage(e)} [${e.code}]`);
    process.exitCode = exitCodeFor(e.code);
  } else {
    note(`medvlm: unexpected error: ${e instanceof Error ? e.message : String(e)} (run again with --debug for details)`);
    process.exitCode = EXIT.internal;
  }
  if (debug && e instanceof Error && e.stack) note(e.stack);
}

/** A batch failure as the CLI shows it (in text and in `--json`): the message speaks in flags. */
export function cliFileError(r: FileError): FileError {
  if (!r.error.option) return r;
  const message = cliMessage(new OptionError(r.error.code, r.error.message, { option: r.error.option }));
  return { file: r.file, error: { code: r.error.code, message } };
}

/** The one line the CLI prints for an input that failed in a batch. */
export function fileErrorLine(r: FileError): string {
  return `medvlm: ${cliFileError(r).error.message} [${r.error.code}]`;
}
