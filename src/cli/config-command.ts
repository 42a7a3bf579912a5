import type { Command } from 'commander';
import { stringify } from 'yaml';
import { describeOptions, loadConfig, maskConfig } from '../app/config';

/** `config show` prints the effective configuration with secrets masked; `config options` lists every option. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Show the effective configuration or the list of options');
  config
    .command('show')
    .description('Print the merged configuration (env > config.yml > defaults), secrets masked')
    .action(() => {
      process.stdout.write(stringify(maskConfig(loadConfig())));
    });
  config
    .command('options')
    .description('List every option with its environment variable and default')
    .action(() => {
      for (const o of describeOptions()) {
        process.stdout.write(`${o.env.padEnd(34)} ${JSON.stringify(o.default ?? null).padEnd(28)} ${o.description}\n`);
      }
    });
}
