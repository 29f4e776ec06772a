/**
 * A PostgreSQL server for tests: `RECSYS_TEST_PG` (a connection string) when set, else a throwaway server
 * started from Debian's binaries (/usr/lib/postgresql/<version>/bin: initdb + pg_ctl) on a temporary directory
 * and a free loopback port — as the `postgres` (or `nobody`) user via runuser when running as root. Returns
 * null with the reason when neither works, so the caller can skip with a clear message.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** A running server (or the given one) and how to stop it. */
export interface TestPg {
  url: string;
  stop(): void;
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

/** Uid/gid of a system user, or null. */
function idsOf(user: string): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** The server to test against, or `{ skip: reason }`. */
export async function startTestPg(): Promise<TestPg | { skip: string }> {
  const given = process.env.RECSYS_TEST_PG;
  if (given) return { url: given, stop: () => undefined };
  const bin = binDir();
  if (!bin) return { skip: 'no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql) and RECSYS_TEST_PG is not set' };
  const asRoot = userInfo().uid === 0;
  const runAs = asRoot ? (['postgres', 'nobody'].find((u) => idsOf(u) !== null) ?? null) : null;
  if (asRoot && !runAs) return { skip: 'running as root and neither a postgres nor a nobody user exists to run the server' };
  const dir = mkdtempSync(join(tmpdir(), 'recsys-pg-'));
  const data = join(dir, 'data');
  const run = (cmd: string, args: string[]): void => {
    const full = runAs ? ['runuser', ['-u', runAs, '--', join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    execFileSync(full[0], full[1], { stdio: 'pipe', timeout: 60_000 });
  };
  try {
    if (runAs) {
      const ids = idsOf(runAs);
      if (ids) chownSync(dir, ids.uid, ids.gid);
    }
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'recsys', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
    return {
      url: `postgres://recsys@127.0.0.1:${port}/postgres`,
      stop: () => {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { skip: `could not start a throwaway PostgreSQL server (${err}); set RECSYS_TEST_PG to a connection string to test the backend` };
  }
}
