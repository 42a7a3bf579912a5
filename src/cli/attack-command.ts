import type { Command } from 'commander';
import { catalogueStats, importAttackCatalogueFile } from '../adapters/evidence';

/** Captured output for tests. */
export interface AttackCommandIo {
  write?: (text: string) => void;
}

/**
 * `attack import <enterprise-attack.json[.gz]> --out <catalogue.json>` — turns the ATT&CK STIX bundle
 * (the one the OpenCTI MITRE connector loads) into the compact catalogue the engine reads
 * (COVERAGE_ATTACK_CATALOGUE).
 */
export function registerAttackCommand(program: Command, io: AttackCommandIo = {}): void {
  const attack = program.command('attack').description('MITRE ATT&CK catalogue (docs/evidence-formats.md)');
  attack
    .command('import')
    .description('Build the compact ATT&CK catalogue from an enterprise-attack STIX bundle (plain or gzip JSON)')
    .argument('<bundle>', 'enterprise-attack.json or enterprise-attack-<version>.json.gz')
    .requiredOption('-o, --out <file>', 'catalogue JSON to write')
    .option('--attack-version <version>', 'ATT&CK version to record (default: from the file name, e.g. 18.1)')
    .action(async (bundle: string, opts: { out: string; attackVersion?: string }) => {
      const report = await importAttackCatalogueFile(bundle, opts.out, opts.attackVersion ? { version: opts.attackVersion } : {});
      const s = catalogueStats(report.catalogue);
      const write = io.write ?? ((t: string) => process.stdout.write(t));
      write(
        `ATT&CK ${report.catalogue.version}: ${s.techniques} techniques (${s.active} active, ${s.subTechniques} sub-techniques, ` +
          `${s.revoked} revoked, ${s.deprecated} deprecated), ${s.mitigations} mitigations\n` +
          `wrote ${opts.out} (${report.bytesWritten} bytes) in ${report.durationMs} ms\n`,
      );
    });
}
