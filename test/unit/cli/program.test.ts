import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildProgram, exitQuietlyOnClosedPipe, packageVersion } from '../../../src/cli/index';
import { PROJECT_DIR, TS_REGISTER } from '../../support/env';

/** `coverage-connector --version`, and output into a pipe that closes early (`… | head`). */

const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string };

describe('coverage-connector --version', () => {
  it('prints the package version (found from src/cli and from dist/src/cli alike)', async () => {
    expect(packageVersion(join(PROJECT_DIR, 'src/cli'))).toBe(pkg.version);
    expect(packageVersion(join(PROJECT_DIR, 'dist/src/cli'))).toBe(pkg.version);
    let out = '';
    const program = buildProgram().exitOverride().configureOutput({ writeOut: (t) => void (out += t) });
    await expect(program.parseAsync(['node', 'coverage-connector', '--version'])).rejects.toMatchObject({ code: 'commander.version' });
    expect(out).toBe(`${pkg.version}\n`);
  });
});

describe('a reader that closes early', () => {
  it('ends the process quietly with code 0 on EPIPE, and still throws any other stream error', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const codes: number[] = [];
    exitQuietlyOnClosedPipe(stream, (code) => codes.push(code));
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(codes).toEqual([0]);
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });

  it('`config options | head -1`: no EPIPE stack, exit code 0', async () => {
    const child = spawn(process.execPath, ['-r', TS_REGISTER, 'src/cli/index.ts', 'config', 'options'], { cwd: PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Like `head -1` that already has its line: the pipe is closed before the command writes.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  }, 60000);
});
