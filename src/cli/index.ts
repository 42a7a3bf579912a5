#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { registerAssessCommand } from './assess-command';
import { registerAttackCommand } from './attack-command';
import { registerConfigCommand } from './config-command';
import { registerDlqCommand } from './dlq-command';
import { registerHistoryCommand } from './history-command';
import { registerRetriggerCommand } from './retrigger-command';
import { registerRunCommand } from './run-command';
import { registerScheduleCommand } from './schedule-command';
import { registerStatusCommand } from './status-command';

/**
 * `coverage-connector` — one sub-command per file in src/cli; each exports `register…(program)`.
 * Commands parse options, call src/app, print, and set the exit code. No business logic here.
 */
/** The package version, from the package.json above this file (src/cli under ts-node, dist/src/cli when built). */
export function packageVersion(from = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'opencti-security-coverage-connector' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/**
 * A reader that closed early (`coverage-connector config options | head`) is not an error: stop
 * quietly instead of dying on EPIPE with a stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    else throw err;
  });
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('coverage-connector')
    .description('OpenCTI Security Coverage connector: assess ATT&CK coverage and push scores to OpenCTI')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError();
  registerAssessCommand(program);
  registerAttackCommand(program);
  registerConfigCommand(program);
  registerRunCommand(program);
  registerScheduleCommand(program);
  registerRetriggerCommand(program);
  registerDlqCommand(program);
  registerStatusCommand(program);
  registerHistoryCommand(program);
  return program;
}

if (require.main === module) {
  exitQuietlyOnClosedPipe(process.stdout);
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = process.exitCode || 1;
    });
}
