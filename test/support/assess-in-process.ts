import { Command } from 'commander';
import { registerAssessCommand } from '../../src/cli/assess-command';

/** `coverage-connector assess` in-process (no process start-up per case): output captured, exit code read back. */
export async function assessInProcess(args: string[], options: { columns?: number; cwd?: string } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride();
  registerAssessCommand(program, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), ...(options.columns ? { columns: options.columns } : {}) });
  const cwd = process.cwd();
  const previous = process.exitCode;
  if (options.cwd) process.chdir(options.cwd);
  try {
    process.exitCode = 0;
    await program.parseAsync(['assess', ...args], { from: 'user' });
    return { status: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = previous;
    process.chdir(cwd);
  }
}
