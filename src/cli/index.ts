#!/usr/bin/env node
import { Command } from 'commander';
import { registerConfigCommand } from './config-command';
import { registerRunCommand } from './run-command';
import { registerScheduleCommand } from './schedule-command';

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
  registerConfigCommand(program);
  registerRunCommand(program);
  registerScheduleCommand(program);
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
