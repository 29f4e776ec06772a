/** Test helpers: a fingerprint of a directory tree (to prove nothing outside an output changed), FIFOs and sockets. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/** Every entry under `root` (relative path → kind, mode and content hash or link target), sorted. */
export function treeHash(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      const key = relative(root, p);
      if (st.isSymbolicLink()) out[key] = `link -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${mode}`;
        walk(p);
      } else if (st.isFile()) out[key] = `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      else if (st.isFIFO()) out[key] = `fifo ${mode}`;
      else if (st.isSocket()) out[key] = `socket ${mode}`;
      else out[key] = `special ${mode}`;
    }
  };
  walk(root);
  return out;
}

/** `treeHash` without the given relative paths (and anything under them). */
export function treeHashExcept(root: string, ...skip: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(treeHash(root)).filter(([k]) => !skip.some((s) => k === s || k.startsWith(`${s}/`))));
}

/** Names under `root` that look like temporary or replaced copies a writer left behind. */
export function leftovers(root: string): string[] {
  return Object.keys(treeHash(root)).filter((k) => /\.(tmp|old)-|\.tmp$/.test(k));
}

/** Creates a FIFO (named pipe) at `path`. */
export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** Listens on a Unix socket at `path`; close the server when done. */
export async function unixSocket(path: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(path, done));
  return server;
}

const repo = join(import.meta.dirname, '..', '..');

function userExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs an ES module script (run from the repository, so `./src/...` imports work) as a user whom permission
 * bits bind, returning its stdout: this process when it is not root, else `runuser -u nobody` (root ignores
 * permission bits, so an unwritable directory cannot be tested as root). Undefined when neither is possible.
 */
export const unprivileged: ((script: string) => string) | undefined = (() => {
  const args = (script: string): string[] => ['--import', 'tsx', '--input-type=module', '-e', script];
  if (process.getuid?.() !== 0) return (script: string) => execFileSync(process.execPath, args(script), { cwd: repo, encoding: 'utf8', timeout: 30_000 });
  if (process.platform !== 'linux' || !userExists('nobody')) return undefined;
  try {
    execFileSync('runuser', ['-u', 'nobody', '--', 'true'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return (script: string) => execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, ...args(script)], { cwd: repo, encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: tmpdir() } });
})();
