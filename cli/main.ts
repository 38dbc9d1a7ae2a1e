import { Command } from 'commander';
import { PdmError, errorMessage } from '../lib/errors';
import { registerPendingCommands } from './not-built';
import { registerBenchCommand } from './bench.command';
import { registerRunCommand } from './run.command';
import { registerReplayCommand } from './replay.command';
import { registerSimulateCommand } from './simulate.command';
import { registerStackCommands } from './stack.command';
import { registerStartCommand } from './start.command';
import { registerTopicsCommand } from './topics.command';
import { registerTrainCommand } from './train.command';
import { registerEvaluateCommand } from './evaluate.command';
import { registerModelsCommand } from './models.command';
import { registerDbCommands } from './db.command';
import { registerMachinesCommand } from './machines.command';
import { registerAlertsCommand } from './alerts.command';

const program = new Command('pdmctl')
  .description('pdm-stream: predictive maintenance on Apache Kafka')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

registerStartCommand(program);
registerStackCommands(program);
registerTopicsCommand(program);
registerSimulateCommand(program);
registerReplayCommand(program);
registerRunCommand(program);
registerBenchCommand(program);
registerTrainCommand(program);
registerEvaluateCommand(program);
registerModelsCommand(program);
registerMachinesCommand(program);
registerAlertsCommand(program);
registerDbCommands(program);
registerPendingCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Expected failures (a missing prerequisite, a bad setting) read as one clear message; anything
  // else (STAGE_NOT_OPEN is a bug too) keeps its stack trace for a bug report.
  if (err instanceof PdmError && err.code !== 'STAGE_NOT_OPEN') console.error(`pdmctl: ${err.message}`);
  else console.error(`pdmctl: ${errorMessage(err)}\n${err instanceof Error ? err.stack : ''}`);
  process.exitCode = 1;
});
