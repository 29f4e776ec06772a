/** Running the `recsys` CLI from tests: in this process (through `run`) or as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { vi } from 'vitest';
import { run } from '../../src/cli/main.js';

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `recsys ...args` in this process, capturing stdout and stderr; resolves with the exit status. */
export async function runCli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await run(['node', 'recsys', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** Entry file running the CLI on the TypeScript sources (bin/recsys.js runs the compiled dist/). */
export const ENTRY = 'test/cli/recsys-entry.ts';

/**
 * Runs `recsys ...args` as a child process (`node --import tsx`); `onStderr` sees the stderr text so far after
 * each chunk (to send a signal at the right moment). Resolves when the process exits; one still running after
 * `timeoutMs` is killed.
 */
export function spawnCli(args: string[], onStderr?: (text: string, child: ChildProcess) => void, timeoutMs = 45_000): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    // A hung child is killed (SIGKILL, reported as signal) rather than outliving the test.
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? -1, signal, stdout, stderr }));
  });
}
