#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
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
import { reportError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { generateCommand } from './commands/generate.js';
import { pacsCommand } from './commands/pacs.js';
import { queueCommand, workerCommand } from './commands/queue.js';
import { convertCommand } from './commands/convert.js';
import { serveCommand } from './commands/serve.js';
import { anomalyCommand, mapCommand, segmentCommand } from './commands/dense.js';

const debug = process.argv.includes('--debug');

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
program.addCommand(generateCommand().exitOverride().configureOutput({ outputError: commanderError }));
const pacs = pacsCommand().exitOverride().configureOutput({ outputError: commanderError });
for (const sub of pacs.commands) sub.exitOverride().configureOutput({ outputError: commanderError });
program.addCommand(pacs);
program.addCommand(queueCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(workerCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(convertCommand().exitOverride().configureOutput({ outputError: commanderError }));
program.addCommand(serveCommand().exitOverride().configureOutput({ outputError: commanderError }));
for (const c of [mapCommand(), anomalyCommand(), segmentCommand()]) program.addCommand(c.exitOverride().configureOutput({ outputError: commanderError }));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version exit 0; anything else commander rejects is a usage error
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    reportError(e, debug);
  }
}
