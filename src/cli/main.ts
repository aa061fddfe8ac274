#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isMedvlmError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import { classifyCommand } from './commands/classify.js';
import { demoCommand } from './commands/demo.js';
import { embedCommand } from './commands/embed.js';
import { inspectCommand } from './commands/inspect.js';
import { modelsCommand } from './commands/models.js';
import { indexCommand } from './commands/index.js';
import { searchCommand } from './commands/search.js';
import { draftReportCommand } from './commands/draft-report.js';
import { askCommand } from './commands/ask.js';
import { evalCommand } from './commands/eval.js';
import { reportCommand } from './commands/report.js';
import { datasetsCommand } from './commands/datasets.js';
import { convertCommand } from './commands/convert.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { note } from './output.js';

const debug = process.argv.includes('--debug');

/** Print one clear line for an error (the stack only with --debug) and set the exit code. */
function report(e: unknown): void {
  if (isMedvlmError(e)) {
    note(`medvlm: ${e.message} [${e.code}]`);
    process.exitCode = exitCodeFor(e.code);
  } else {
    note(`medvlm: unexpected error: ${e instanceof Error ? e.message : String(e)} (run again with --debug for details)`);
    process.exitCode = EXIT.internal;
  }
  if (debug && e instanceof Error && e.stack) note(e.stack);
}

/** Commander's own messages (unknown option, missing argument) in medvlm's one-line style. */
function commanderError(s: string, write: (s: string) => void): void {
  write(s.replace(/^error: /, 'medvlm: '));
}

const program = new Command('medvlm')
  .description('Medical vision-language models, locally: read DICOM/NIfTI/PNG/JPEG, run CLIP-family models on ONNX Runtime.\nResearch use only; not a diagnostic device.')
  .version(packageVersion())
  .option('--debug', 'print stack traces of errors')
  .exitOverride()
  .configureOutput({ outputError: commanderError });

for (const c of [inspectCommand(), classifyCommand(), embedCommand(), modelsCommand(), demoCommand()]) {
  program.addCommand(c.exitOverride().configureOutput({ outputError: commanderError }));
}
program.addCommand(indexCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(searchCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(draftReportCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(askCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(evalCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(reportCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(datasetsCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(convertCommand().exitOverride().configureOutput({ outputError: commanderError }));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version exit 0; anything else commander rejects is a usage error
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    report(e);
  }
}
