/**
 * `npm run bench -- load [--synthetic] [--path <dir>] [--data-dir <dir>]`: loads KuaiRec big_matrix.csv
 * (12.5M rows) into Interactions and prints wall time and peak RSS, measured in a fresh child process.
 *
 * Data: --path, ../shared/data/kuairec/ or the cache (`<cache>/kuairec/`); absent → skipped with a message.
 * `--synthetic` instead generates, once, a full-size SYNTHETIC big_matrix.csv (7,176 users × 10,728 items,
 * 12,530,806 rows, KuaiRec schema) into `<cache>/synthetic/kuairec-full/` and loads that.
 * Reference: the same load by python3 + pandas + scipy (csr_matrix) in the same run, when installed.
 * Targets: <= 5 s wall, <= 1.5 GB peak RSS.
 *
 * `--msd [--users N]` instead loads a SYNTHETIC Taste Profile-format train_triplets.txt (string ids; default
 * 200,000 users × 100,000 songs, ~25 songs per user: ~6M rows), generated once into `<cache>/synthetic/msd-<N>u/`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadKuaiRec } from '../src/data/datasets/kuairec.js';
import { cacheDir, candidateDirs, findFile } from '../src/data/paths.js';
import { loadMsd } from '../src/data/datasets/msd.js';
import { KUAIREC_FULL_SIZE_OPTIONS, writeSyntheticKuaiRec } from '../src/data/synthetic/kuairec.js';
import { writeSyntheticMsd } from '../src/data/synthetic/msd.js';

interface Measure {
  wallMs: number;
  /** User + system CPU time of the child (all DuckDB threads included). */
  cpuMs: number;
  maxRssMB: number;
  users: number;
  items: number;
  nnz: number;
  rowsRead: number;
}

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

/** Child mode: load and report as one JSON line. */
async function measure(dir: string, msd: boolean): Promise<void> {
  const t0 = performance.now();
  const ds = msd ? await loadMsd('msd-taste', { path: dir }) : await loadKuaiRec('kuairec', { path: dir, interactionsOnly: true });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage();
  const m: Measure = {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    users: ds.interactions.nUsers,
    items: ds.interactions.nItems,
    nnz: ds.interactions.nnz,
    rowsRead: ds.report.rowsRead,
  };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

const PYTHON = `
import sys, time, resource
t0 = time.perf_counter()
import pandas as pd, numpy as np, scipy.sparse as sp
df = pd.read_csv(sys.argv[1], usecols=['user_id', 'video_id', 'watch_ratio', 'timestamp'])
u, uid = pd.factorize(df['user_id'], sort=True)
i, iid = pd.factorize(df['video_id'], sort=True)
m = sp.csr_matrix((df['watch_ratio'].to_numpy(np.float32), (u, i)), shape=(len(uid), len(iid)))
m.sum_duplicates()
print(f"{(time.perf_counter() - t0) * 1000:.0f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {m.nnz}")
`;

function pythonReference(csv: string): string {
  try {
    execFileSync('python3', ['-c', 'import pandas, scipy'], { stdio: 'ignore' });
  } catch {
    return 'python3 + pandas + scipy: skipped (pandas or scipy not installed)';
  }
  const out = execFileSync('python3', ['-c', PYTHON, csv], { encoding: 'utf8' }).trim().split(' ');
  return `python3 pandas.read_csv + scipy csr_matrix: wall ${(Number(out[0]) / 1000).toFixed(2)} s, peak RSS ${out[1]} MB, nnz ${out[2]} (duplicates summed)`;
}

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const child = flag(args, '--measure');
  const msd = args.includes('--msd');
  if (child) return measure(child, msd);
  let dir: string | null = null;
  let label = 'KuaiRec 2.0 big_matrix.csv';
  let fileName = 'big_matrix.csv';
  if (msd) {
    const users = Number(flag(args, '--users') ?? 200000);
    dir = join(cacheDir(flag(args, '--data-dir')), 'synthetic', `msd-${users}u`);
    label = `SYNTHETIC Taste Profile-format train_triplets.txt (string ids, ${users} users)`;
    fileName = 'train_triplets.txt';
    if (!existsSync(join(dir, fileName))) {
      process.stderr.write(`generating ${users} users into ${dir} (once)...\n`);
      writeSyntheticMsd(dir, { users, songs: Math.max(1000, Math.round(users / 2)), songsPerUser: 25, seed: 5, metadata: false });
    }
  } else if (args.includes('--synthetic')) {
    dir = join(cacheDir(flag(args, '--data-dir')), 'synthetic', 'kuairec-full');
    label = 'SYNTHETIC full-size big_matrix.csv (KuaiRec schema)';
    if (!existsSync(join(dir, 'big_matrix.csv'))) {
      process.stderr.write(`generating ${KUAIREC_FULL_SIZE_OPTIONS.bigRows} rows into ${dir} (once)...\n`);
      const t0 = performance.now();
      writeSyntheticKuaiRec(dir, KUAIREC_FULL_SIZE_OPTIONS, (done, total) => process.stderr.write(`\r  ${done}/${total}`));
      process.stderr.write(`\n  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  } else {
    const dirs = candidateDirs('kuairec', { path: flag(args, '--path'), dataDir: flag(args, '--data-dir') });
    const big = findFile(dirs, 'big_matrix.csv', ['data', 'KuaiRec 2.0/data']);
    if (!big) {
      process.stdout.write(`load: skipped — big_matrix.csv not found in:\n${dirs.map((d) => `  ${d}`).join('\n')}\n(run with --synthetic to measure on a generated full-size file)\n`);
      return;
    }
    dir = big.slice(0, big.lastIndexOf('/'));
  }
  const csv = findFile([dir], fileName)!;
  const sizeMB = statSync(csv).size / 1e6;
  const script = process.argv[1];
  const res = spawnSync(process.execPath, [script, 'load', '--measure', dir, ...(msd ? ['--msd'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (res.status !== 0) throw new Error(`load failed: ${res.stderr}`);
  const m = JSON.parse(res.stdout.trim().split('\n').pop()!) as Measure;
  const ok = (v: boolean): string => (v ? 'ok' : 'MISSED');
  const lines = [
    `load: ${label}: ${csv} (${sizeMB.toFixed(0)} MB)`,
    '',
    '| what                         | wall (s) | CPU (s) | peak RSS (MB) | rows read  | users | items | nnz        |',
    '|------------------------------|---------:|--------:|--------------:|-----------:|------:|------:|-----------:|',
    `| recsys ${msd ? 'loadMsd (DuckDB)    ' : 'loadKuaiRec (DuckDB)'}  | ${(m.wallMs / 1000).toFixed(2).padStart(8)} | ${(m.cpuMs / 1000).toFixed(2).padStart(7)} | ${m.maxRssMB.toFixed(0).padStart(13)} | ${String(m.rowsRead).padStart(10)} | ${String(m.users).padStart(5)} | ${String(m.items).padStart(5)} | ${String(m.nnz).padStart(10)} |`,
    '',
    `targets: wall <= 5 s: ${ok(m.wallMs <= 5000)}; peak RSS <= 1536 MB: ${ok(m.maxRssMB <= 1536)} (child process, includes Node + DuckDB)`,
    ...(msd ? [] : [pythonReference(csv)]),
    `machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end (shared machine: wall time depends on it)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
