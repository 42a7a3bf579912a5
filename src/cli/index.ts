#!/usr/bin/env node
import { Command } from 'commander';
import { registerAssessCommand } from './assess-command';
import { registerAttackCommand } from './attack-command';
import { registerConfigCommand } from './config-command';
import { registerDlqCommand } from './dlq-command';
import { registerRetriggerCommand } from './retrigger-command';
import { registerRunCommand } from './run-command';
import { registerScheduleCommand } from './schedule-command';
import { registerStatusCommand } from './status-command';

/**
 * `coverage-connector` — one sub-command per file in src/cli; each exports `register…(program)`.
 * Commands parse options, call src/app, print, and set the exit code. No business logic here.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('coverage-connector')
    .description('OpenCTI Security Coverage connector: assess ATT&CK coverage and push scores to OpenCTI')
    .showHelpAfterError();
  registerAssessCommand(program);
  registerAttackCommand(program);
  registerConfigCommand(program);
  registerRunCommand(program);
  registerScheduleCommand(program);
  registerRetriggerCommand(program);
  registerDlqCommand(program);
  registerStatusCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = process.exitCode || 1;
    });
}
