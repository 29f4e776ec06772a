/**
 * `npm run bench -- models [--synthetic | --generated] [--path DIR] [--models ials,ease,bpr,item-knn]
 * [--bpr-epochs N] [--scale S] [--no-reference]`: fits iALS (64 factors, 15 iterations, CG 3 steps, α 40),
 * EASE (λ 500), BPR (64 factors, 100 epochs) and item-KNN (K 100) on KuaiRec big_matrix and prints fit
 * time, time per iteration and recommend throughput (users/s, k = 10, seen items excluded).
 *
 * Data: --path, ../shared/data/kuairec/ or the cache; when absent, `--synthetic` loads the data engineer's
 * full-size SYNTHETIC big_matrix.csv (generated once into <cache>/synthetic/kuairec-full/), and otherwise
 * (or with `--generated`) an in-memory matrix of the same shape is generated: 7,176 users × 10,728 items,
 * 12.5M entries, power-law item popularity. `--scale` shrinks users and items (for quick runs).
 * Reference: numpy (python3) on the same matrix in the same run, when installed: EASE (dense Gram + inv) and
 * iALS-factor scoring + top-10 (U·Vᵀ, mask seen, argpartition).
 * Targets: iALS <= 2 s per iteration, EASE <= 60 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { loadKuaiRec } from '../src/data/datasets/kuairec.js';
import { cacheDir, candidateDirs, findFile } from '../src/data/paths.js';
import { KUAIREC_FULL_SIZE_OPTIONS, writeSyntheticKuaiRec } from '../src/data/synthetic/kuairec.js';
import type { LoadedDataset } from '../src/data/dataset.js';
import { getKernels } from '../src/linalg/index.js';
import { Rng } from '../src/core/rng.js';
import { createModel } from '../src/models/index.js';
import type { Progress, Recommender } from '../src/index.js';

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

/**
 * A generated users × items matrix with about `nnz` entries: item i is kept for a user with probability
 * ∝ (i + 10)^−0.8 (capped at 1), values log-normal watch ratios.
 */
export function generatedMatrix(nUsers: number, nItems: number, nnz: number, seed: number): Interactions {
  const rng = new Rng(seed);
  const w = Float64Array.from({ length: nItems }, (_, i) => Math.pow(i + 10, -0.8));
  const target = nnz / nUsers;
  // Scale so that Σ min(1, c·w_i) ≈ target.
  let lo = 0;
  let hi = 1e9;
  for (let it = 0; it < 100; it++) {
    const c = (lo + hi) / 2;
    let s = 0;
    for (const x of w) s += Math.min(1, c * x);
    if (s < target) lo = c;
    else hi = c;
  }
  const p = Float64Array.from(w, (x) => Math.min(1, lo * x));
  const perm = Int32Array.from({ length: nItems }, (_, i) => i);
  for (let i = nItems - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const rowPtr = new Int32Array(nUsers + 1);
  const cols: Int32Array[] = [];
  let total = 0;
  const buf = new Int32Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    let m = 0;
    for (let i = 0; i < nItems; i++) if (rng.uniform() < p[perm[i]]) buf[m++] = i;
    cols.push(buf.slice(0, m));
    total += m;
    rowPtr[u + 1] = total;
  }
  const colIdx = new Int32Array(total);
  cols.forEach((c, u) => colIdx.set(c, rowPtr[u]));
  const values = new Float32Array(total);
  for (let q = 0; q < total; q++) values[q] = Math.exp(rng.normal() * 0.8 - 0.2);
  return new Interactions(IdMap.range(nUsers), IdMap.range(nItems), rowPtr, colIdx, values, null);
}

/** KuaiRec big_matrix (real, or synthetic with `--synthetic`), or null when absent. */
export async function kuaiRecData(args: string[]): Promise<{ ds: LoadedDataset; label: string } | null> {
  if (args.includes('--synthetic')) {
    const dir = join(cacheDir(flag(args, '--data-dir')), 'synthetic', 'kuairec-full');
    if (!existsSync(join(dir, 'big_matrix.csv'))) {
      process.stderr.write(`generating the synthetic full-size KuaiRec into ${dir} (once)...\n`);
      writeSyntheticKuaiRec(dir, KUAIREC_FULL_SIZE_OPTIONS, () => undefined);
    }
    return { ds: await loadKuaiRec('kuairec', { path: dir, interactionsOnly: true }), label: 'SYNTHETIC full-size KuaiRec big_matrix (KuaiRec schema)' };
  }
  const dirs = candidateDirs('kuairec', { path: flag(args, '--path'), dataDir: flag(args, '--data-dir') });
  if (!findFile(dirs, 'big_matrix.csv', ['data', 'KuaiRec 2.0/data'])) return null;
  return { ds: await loadKuaiRec('kuairec', { path: flag(args, '--path'), dataDir: flag(args, '--data-dir') }), label: 'KuaiRec 2.0 big_matrix' };
}

interface Row {
  model: string;
  fitS: number;
  perIter: string;
  usersPerS: number;
  note: string;
}

async function measure(name: string, params: Record<string, unknown>, train: Interactions, unit: string): Promise<{ row: Row; model: Recommender }> {
  const m = createModel(name, params);
  let steps = 0;
  let last = 0;
  const t0 = performance.now();
  await m.fit(train, {
    onProgress: (p: Progress) => {
      if (p.phase === unit) steps = p.done;
      const now = performance.now();
      if (now - last > 5000) {
        last = now;
        process.stderr.write(`  ${name} ${p.phase} ${p.done}/${p.total}\n`);
      }
    },
  });
  const fitS = (performance.now() - t0) / 1000;
  const users = Int32Array.from({ length: train.nUsers }, (_, u) => u);
  const t1 = performance.now();
  await m.recommend(users, 10);
  const recS = (performance.now() - t1) / 1000;
  return { row: { model: name, fitS, perIter: steps ? `${(fitS / steps).toFixed(3)} s/${unit}` : '', usersPerS: train.nUsers / recS, note: JSON.stringify(params) }, model: m };
}

/** numpy timings of EASE and of factor scoring + top-10 on the same data; null when numpy is missing. */
export function numpyReference(train: Interactions, ease: boolean, factors: { u: Float32Array; v: Float32Array; f: number } | null): Record<string, number> | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-'));
  try {
    writeFileSync(join(dir, 'indptr.bin'), train.rowPtr);
    writeFileSync(join(dir, 'indices.bin'), train.colIdx);
    if (factors) {
      writeFileSync(join(dir, 'u.bin'), factors.u);
      writeFileSync(join(dir, 'v.bin'), factors.v);
    }
    const script = `
import numpy as np, time, json, sys
d, m, n, f, do_ease = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == '1'
ip = np.fromfile(d + '/indptr.bin', dtype=np.int32); ix = np.fromfile(d + '/indices.bin', dtype=np.int32)
out = {}
if do_ease:
    t = time.perf_counter()
    X = np.zeros((m, n), dtype=np.float32)
    rows = np.repeat(np.arange(m), np.diff(ip)); X[rows, ix] = 1
    G = X.T @ X; del X
    G[np.diag_indices(n)] += 500
    P = np.linalg.inv(G); B = P / (-np.diag(P)); B[np.diag_indices(n)] = 0
    out['ease_s'] = time.perf_counter() - t
if f > 0:
    U = np.fromfile(d + '/u.bin', dtype=np.float32).reshape(m, f); V = np.fromfile(d + '/v.bin', dtype=np.float32).reshape(n, f)
    t = time.perf_counter()
    for s in range(0, m, 1024):
        S = U[s:s+1024] @ V.T
        for r in range(S.shape[0]): S[r, ix[ip[s+r]:ip[s+r+1]]] = -np.inf
        top = np.argpartition(-S, 10, axis=1)[:, :10]
        np.take_along_axis(S, top, 1).argsort(axis=1)
    out['score_users_per_s'] = m / (time.perf_counter() - t)
print(json.dumps(out))
`;
    const res = spawnSync('python3', ['-c', script, dir, String(train.nUsers), String(train.nItems), String(factors?.f ?? 0), ease ? '1' : '0'], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (res.status !== 0 || res.error) {
      process.stderr.write(`numpy reference failed (status ${String(res.status)}, signal ${String(res.signal)}): ${String(res.error ?? '')} ${res.stderr.slice(-500)}\n`);
      return null;
    }
    return JSON.parse(res.stdout.trim().split('\n').pop() as string) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const scale = Number(flag(args, '--scale') ?? '1');
  let train: Interactions;
  let label: string;
  const data = args.includes('--generated') ? null : await kuaiRecData(args);
  if (data) {
    train = data.ds.interactions;
    label = data.label;
  } else {
    const nU = Math.round(7176 * scale);
    const nI = Math.round(10728 * scale);
    process.stderr.write(`KuaiRec big_matrix not found (use --path or --synthetic); generating ${nU} × ${nI} in memory...\n`);
    train = generatedMatrix(nU, nI, Math.round(12_530_806 * scale * scale), 1);
    label = `GENERATED ${nU} × ${nI} (KuaiRec big_matrix shape${scale !== 1 ? ` × ${scale}` : ''})`;
  }
  const kn = await getKernels();
  const which = (flag(args, '--models') ?? 'ials,ease,bpr,item-knn').split(',');
  const bprEpochs = Number(flag(args, '--bpr-epochs') ?? '100');
  process.stdout.write(`models benchmark on ${label}: ${train.nUsers} users, ${train.nItems} items, ${train.nnz} entries; kernels ${kn.kind} × ${kn.threads} threads\n\n`);
  const rows: Row[] = [];
  let ialsFactors: { u: Float32Array; v: Float32Array; f: number } | null = null;
  const specs: [string, Record<string, unknown>, string][] = [
    ['ials', { factors: 64, iterations: 15, solver: 'cg', cgSteps: 3, alpha: 40 }, 'iteration'],
    ['ease', { reg: 500 }, 'gram'],
    ['bpr', { factors: 64, epochs: bprEpochs, threads: 0 }, 'epoch'],
    ['item-knn', { neighbors: 100 }, 'similarity'],
  ];
  for (const [name, params, unit] of specs) {
    if (!which.includes(name)) continue;
    process.stderr.write(`fitting ${name}...\n`);
    const { row, model } = await measure(name, params, train, unit);
    if (name === 'ease' || name === 'item-knn') row.perIter = '';
    rows.push(row);
    if (name === 'ials') {
      const fm = model as unknown as { userFactors: { data: Float32Array }; itemFactors: { data: Float32Array } };
      ialsFactors = { u: fm.userFactors.data, v: fm.itemFactors.data, f: 64 };
    }
  }
  const ref = args.includes('--no-reference') ? null : numpyReference(train, which.includes('ease'), ialsFactors);
  const pad = (s: string, n: number): string => s.padEnd(n);
  process.stdout.write(`${pad('model', 10)} ${pad('fit (s)', 10)} ${pad('per unit', 22)} ${pad('recommend users/s', 18)} params\n`);
  for (const r of rows) process.stdout.write(`${pad(r.model, 10)} ${pad(r.fitS.toFixed(2), 10)} ${pad(r.perIter, 22)} ${pad(r.usersPerS.toFixed(0), 18)} ${r.note}\n`);
  if (ref) {
    process.stdout.write('\nnumpy reference (same matrix, same run):\n');
    if (ref.ease_s !== undefined) process.stdout.write(`  EASE λ=500 (dense XᵀX + inv): ${ref.ease_s.toFixed(2)} s\n`);
    if (ref.score_users_per_s !== undefined) process.stdout.write(`  iALS factors U·Vᵀ + mask seen + top-10: ${ref.score_users_per_s.toFixed(0)} users/s\n`);
    if (ref.ease_s === undefined && ref.score_users_per_s === undefined) process.stdout.write(`  (no figures; the reference printed ${JSON.stringify(ref)})\n`);
  } else if (!args.includes('--no-reference')) {
    process.stdout.write('\n(numpy reference not available)\n');
  }
  const ials = rows.find((r) => r.model === 'ials');
  const ease = rows.find((r) => r.model === 'ease');
  process.stdout.write('\ntargets:');
  if (ials) process.stdout.write(` iALS ${(ials.fitS / 15).toFixed(2)} s/iteration (target <= 2: ${ials.fitS / 15 <= 2 ? 'ok' : 'MISSED'})`);
  if (ease) process.stdout.write(` EASE ${ease.fitS.toFixed(1)} s (target <= 60: ${ease.fitS <= 60 ? 'ok' : 'MISSED'})`);
  process.stdout.write('\n');
  await kn.close();
}
