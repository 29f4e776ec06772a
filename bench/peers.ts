/**
 * `npm run bench -- peers [--models ials,item-knn,ease,mult-vae] [--threads N] [--vae-epochs N] [--scale S]`:
 * recsys against the reference libraries on the same matrix, in the same run, model by model (recsys fit, then the
 * peer's, back to back, so load from other processes hits both):
 *
 * | model | recsys | peer (python3) |
 * |---|---|---|
 * | iALS, 64 factors, 15 iterations, CG 3 steps | `ials` | implicit `AlternatingLeastSquares(use_cg=True)`, same c = 1 + α·r, λ; NDCG@10 of both factor sets ranked by the same code on the same split |
 * | item-KNN, K = 100, cosine | `item-knn` | implicit `CosineRecommender(K=100)` |
 * | EASE, λ = 500 | `ease` | numpy float32: dense Xᵀ·X, LAPACK Cholesky inverse (scipy spotrf + spotri; np.linalg.inv without scipy) |
 * | Mult-VAE [600, 200], batch 500 | `mult-vae` | PyTorch CPU, same layers, Adam, dense input (the reference implementation's) |
 *
 * Data: MovieLens 1M is not in ../shared/data, so a SYNTHETIC matrix of its shape is generated in memory (6,040 ×
 * 3,706, 1,000,209 entries: per-user counts log-normal with at least 20 as in ML-1M, items drawn ∝ popularity ×
 * exp(latent affinity) so that there is structure to find), split per user 80/20 (seeded). Mult-VAE uses a second
 * generated matrix of the shape of Liang et al.'s ML-20M-derived set the issue names (6,033 × 3,123, 834k entries).
 * Both sides get `--threads` threads (default: every core; implicit with OPENBLAS_NUM_THREADS=1 as it asks).
 * OPENBLAS_CORETYPE is set to the OpenBLAS kernel for this CPU (SkylakeX with AVX-512F, else Haswell — OpenBLAS's
 * Zen target also uses the Haswell kernels) and threadpoolctl's report of the kernel that ran is printed.
 * A peer that is not installed is skipped with the pip command that installs it. Targets: recsys/peer ≤ 1.0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openBlasCoreType } from './_openblas.js';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/core/rng.js';
import type { Progress } from '../src/core/progress.js';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { ratioSplit } from '../src/eval/splits.js';
import type { DenseMatrix, Kernels } from '../src/linalg/api.js';
import { createNativeKernels, getKernels } from '../src/linalg/index.js';
import { IalsRecommender } from '../src/models/factorization/ials.js';
import { createModel } from '../src/models/index.js';
import { userItemCsr } from '../src/models/matrices.js';
import { meanNdcg } from '../src/models/ndcg.js';

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * A SYNTHETIC users × items implicit matrix with `nnz` entries (values 1): user u has ⌈count⌉ items, counts
 * log-normal scaled to the total with a floor of `minPerUser`; items drawn without replacement with weight
 * pop_i · exp(1.5 · ⟨a_u, b_i⟩) (8 latent dimensions, pop_i ∝ (i + 10)^−0.9) by Efraimidis–Spirakis keys.
 */
export function latentMatrix(nUsers: number, nItems: number, nnz: number, minPerUser: number, seed: number): Interactions {
  const rng = new Rng(seed);
  const d = 8;
  const a = Float64Array.from({ length: nUsers * d }, () => rng.normal() / Math.sqrt(d));
  const b = Float64Array.from({ length: nItems * d }, () => rng.normal());
  const logPop = Float64Array.from({ length: nItems }, (_, i) => -0.9 * Math.log(i + 10));
  const raw = Float64Array.from({ length: nUsers }, () => Math.exp(rng.normal() * 1.0));
  const rawSum = raw.reduce((s, x) => s + x, 0);
  // The floor gives way when the matrix is too small for it (--scale).
  const least = Math.min(minPerUser, Math.floor(nnz / nUsers), nItems);
  const extra = nnz - least * nUsers;
  const counts = Int32Array.from(raw, (x) => Math.min(nItems, least + Math.floor((x / rawSum) * extra)));
  let left = nnz - counts.reduce((s, c) => s + c, 0);
  for (let u = 0; left > 0; u = (u + 1) % nUsers) if (counts[u] < nItems) (counts[u]++, left--);
  const rowPtr = new Int32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) rowPtr[u + 1] = rowPtr[u] + counts[u];
  const colIdx = new Int32Array(rowPtr[nUsers]);
  const keys = new Float64Array(nItems);
  const order = new Int32Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[u * d + k] * b[i * d + k];
      // key = log(U)/w, largest keys win: −Exp(1)/w ordering via log w − log(−log U).
      keys[i] = logPop[i] + 1.5 * s - Math.log(-Math.log(1 - rng.uniform()));
      order[i] = i;
    }
    order.sort((x, y) => keys[y] - keys[x]);
    const picked = order.slice(0, counts[u]).sort();
    colIdx.set(picked, rowPtr[u]);
  }
  return new Interactions(IdMap.range(nUsers), IdMap.range(nItems), rowPtr, colIdx, new Float32Array(colIdx.length).fill(1), null);
}

const PY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'peers.py');

/** Runs one peers.py task; null (with the reason on stderr) when it fails. */
function peer(task: string, dir: string, threads: number, params: object, blasThreads: number): Record<string, unknown> | null {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_CORETYPE: openBlasCoreType(), OPENBLAS_NUM_THREADS: String(blasThreads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const res = spawnSync('python3', [PY, task, dir, String(threads), JSON.stringify(params)], { env, encoding: 'utf8', maxBuffer: 1 << 24, timeout: 1_800_000 });
  if (res.status !== 0) {
    process.stderr.write(`peer ${task} failed (status ${String(res.status)}): ${res.stderr.slice(-800)}\n`);
    return null;
  }
  return JSON.parse(res.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function writeMatrix(dir: string, x: Interactions): void {
  writeFileSync(join(dir, 'indptr.bin'), x.rowPtr);
  writeFileSync(join(dir, 'indices.bin'), x.colIdx);
  writeFileSync(join(dir, 'values.bin'), x.values);
  writeFileSync(join(dir, 'shape.json'), JSON.stringify({ users: x.nUsers, items: x.nItems }));
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
}

/** Which peer modules import (each probed on its own, so one missing library skips only its rows). */
function probe(): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of ['numpy', 'implicit', 'torch', 'scipy', 'threadpoolctl']) out[m] = spawnSync('python3', ['-c', `import ${m}`]).status === 0;
  return out;
}

const INSTALL: Record<string, string> = { implicit: 'pip install implicit', torch: 'pip install torch --index-url https://download.pytorch.org/whl/cpu', numpy: 'pip install numpy' };

interface Row {
  model: string;
  what: string;
  /** Wall seconds. */
  recsys: number;
  peer: number | null;
  /** CPU seconds of the whole process (all threads): on a loaded machine, with 1 thread, the steadier figure. */
  recsysCpu: number;
  peerCpu: number | null;
  peerName: string;
  note: string;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** NDCG@10 of factor scoring (train items excluded) against the test entries. */
async function factorNdcg(kn: Kernels, u: DenseMatrix, v: DenseMatrix, train: Interactions, test: Interactions): Promise<number> {
  const top = await kn.scoreTopK(u, v, 10, { exclude: userItemCsr(train) });
  const users = Int32Array.from({ length: train.nUsers }, (_, i) => i);
  return meanNdcg({ k: 10, items: top.items, scores: top.scores }, users, test);
}

/** Fit seconds and the per-epoch times (from the progress reports) of one model. */
async function timedFit(
  name: string,
  params: Record<string, unknown>,
  train: Interactions,
): Promise<{ fitS: number; cpuS: number; epochs: number[]; epochsCpu: number[]; model: ReturnType<typeof createModel> }> {
  const m = createModel(name, params);
  const epochs: number[] = [];
  const epochsCpu: number[] = [];
  let last = performance.now();
  let lastCpu = cpuSeconds();
  const t0 = last;
  const c0 = lastCpu;
  await m.fit(train, {
    onProgress: (p: Progress) => {
      if (p.phase !== 'epoch') return;
      const now = performance.now();
      const cpu = cpuSeconds();
      epochs.push((now - last) / 1000);
      epochsCpu.push(cpu - lastCpu);
      last = now;
      lastCpu = cpu;
    },
  });
  return { fitS: (performance.now() - t0) / 1000, cpuS: cpuSeconds() - c0, epochs, epochsCpu, model: m };
}

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const threads = Number(flag(args, '--threads') ?? String(availableParallelism()));
  const which = (flag(args, '--models') ?? 'ials,item-knn,ease,mult-vae').split(',');
  const scale = Number(flag(args, '--scale') ?? '1');
  const vaeEpochs = Number(flag(args, '--vae-epochs') ?? '3');
  const have = probe();
  const native = await createNativeKernels(1).then(
    async (k) => {
      const i = k.info;
      await k.close();
      return `${i.isa} (${i.cpu}; ${i.compiler} ${i.isaFlags})`;
    },
    (e: unknown) => `unavailable (${e instanceof Error ? e.message : String(e)})`,
  );
  const kn = await getKernels({ threads });
  process.stdout.write(`peers benchmark: CPU ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}; recsys kernels ${kn.kind} × ${kn.threads} threads, native ISA ${native}\n`);
  process.stdout.write(`load average before: ${load()}\n`);
  for (const m of ['numpy', 'implicit', 'torch']) if (!have[m]) process.stdout.write(`peer ${m} not installed (\`${INSTALL[m]}\`): its rows are skipped\n`);

  const dir = mkdtempSync(join(tmpdir(), 'recsys-peers-'));
  const rows: Row[] = [];
  try {
    if (have.numpy) {
      const info = peer('info', dir, threads, {}, threads);
      const blas = (info?.blas as { internal_api?: string; version?: string; architecture?: string }[] | undefined)?.filter((b) => b.internal_api === 'openblas') ?? [];
      process.stdout.write(`peer BLAS: OPENBLAS_CORETYPE=${openBlasCoreType()} → ${blas.map((b) => `${b.internal_api} ${b.version} kernel ${b.architecture}`).join('; ') || JSON.stringify(info?.blas)}; numpy ${String(info?.numpy)}, implicit ${String(info?.implicit)}, torch ${String(info?.torch)}, scipy ${String(info?.scipy)}\n`);
    }
    const nU = Math.round(6040 * scale);
    const nI = Math.round(3706 * scale);
    const needMl1m = which.some((w) => w !== 'mult-vae');
    if (needMl1m) {
      const t = performance.now();
      const full = latentMatrix(nU, nI, Math.round(1_000_209 * scale * scale), 20, 1);
      const split = ratioSplit(full, { ratios: [8, 2], seed: 7 });
      const train = split.train;
      process.stdout.write(`data: SYNTHETIC ML-1M shape ${nU} × ${nI}, ${full.nnz} entries (generated in ${((performance.now() - t) / 1000).toFixed(1)} s); per-user 80/20 split: train ${train.nnz}, test ${split.test.nnz}\n`);
      writeMatrix(dir, train);

      if (which.includes('ials')) {
        const p = { factors: 64, iterations: 15, solver: 'cg', cgSteps: 3, alpha: 1, reg: 20 };
        const ours = await timedFit('ials', p, train);
        const fm = ours.model;
        if (!(fm instanceof IalsRecommender) || !fm.userFactors || !fm.itemFactors) throw new Error('bench peers: ials did not produce factors');
        const ndcg = await factorNdcg(kn, fm.userFactors, fm.itemFactors, train, split.test);
        let peerS: number | null = null;
        let peerCpu: number | null = null;
        let note = `recsys NDCG@10 ${ndcg.toFixed(4)}`;
        if (have.implicit) {
          const r = peer('ials', dir, threads, p, 1);
          if (r) {
            peerS = r.fit_s as number;
            peerCpu = r.cpu_s as number;
            const u = { rows: nU, cols: 64, data: readF32(join(dir, 'user_factors.bin')) };
            const v = { rows: nI, cols: 64, data: readF32(join(dir, 'item_factors.bin')) };
            note += `, implicit ${(await factorNdcg(kn, u, v, train, split.test)).toFixed(4)}`;
          }
        }
        rows.push({ model: 'iALS', what: 'fit s (64 f, 15 it, CG 3, α 1, λ 20)', recsys: ours.fitS, peer: peerS, recsysCpu: ours.cpuS, peerCpu, peerName: 'implicit', note });
        process.stdout.write(`  iALS done (load ${load()})\n`);
      }
      if (which.includes('item-knn')) {
        const ours = await timedFit('item-knn', { neighbors: 100 }, train);
        const r = have.implicit ? peer('item-knn', dir, threads, { neighbors: 100 }, 1) : null;
        rows.push({ model: 'item-KNN', what: 'fit s (K 100, cosine)', recsys: ours.fitS, peer: r ? (r.fit_s as number) : null, recsysCpu: ours.cpuS, peerCpu: r ? (r.cpu_s as number) : null, peerName: 'implicit', note: '' });
        process.stdout.write(`  item-KNN done (load ${load()})\n`);
      }
      if (which.includes('ease')) {
        const ours = await timedFit('ease', { reg: 500 }, train);
        const r = have.numpy ? peer('ease', dir, threads, { reg: 500 }, threads) : null;
        rows.push({
          model: 'EASE',
          what: 'fit s (λ 500)',
          recsys: ours.fitS,
          peer: r ? (r.fit_s as number) : null,
          recsysCpu: ours.cpuS,
          peerCpu: r ? (r.cpu_s as number) : null,
          peerName: 'numpy f32',
          note: r ? `peer: Gram ${(r.gram_s as number).toFixed(2)} s + ${String(r.inverse)} ${(r.inverse_s as number).toFixed(2)} s (inverses tried: ${JSON.stringify(r.inverses_s, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))})` : '',
        });
        process.stdout.write(`  EASE done (load ${load()})\n`);
      }
    }
    if (which.includes('mult-vae')) {
      const vU = Math.round(6033 * scale);
      const vI = Math.round(3123 * scale);
      const x = latentMatrix(vU, vI, Math.round(834_000 * scale * scale), 5, 2);
      writeMatrix(dir, x);
      const p = { hidden: [600, 200], batchSize: 500, dropout: 0.5, lr: 1e-3 };
      const plain = await timedFit('mult-vae', { ...p, epochs: vaeEpochs + 1, holdout: 0 }, x);
      const withVal = await timedFit('mult-vae', { ...p, epochs: vaeEpochs + 1, holdout: 0.1, patience: 100 }, x);
      // The first epoch warms up buffers; the fastest of the others is the figure.
      const ep = Math.min(...plain.epochs.slice(1));
      const epCpu = Math.min(...plain.epochsCpu.slice(1));
      const epVal = Math.min(...withVal.epochs.slice(1));
      const epValCpu = Math.min(...withVal.epochsCpu.slice(1));
      const r = have.torch ? peer('mult-vae', dir, threads, { ...p, hidden: 600, latent: 200, epochs: vaeEpochs }, threads) : null;
      rows.push({
        model: 'Mult-VAE',
        what: `epoch s (${vU}×${vI}, ${x.nnz} nnz, batch 500)`,
        recsys: ep,
        peer: r ? (r.epoch_s as number) : null,
        recsysCpu: epCpu,
        peerCpu: r ? (r.cpu_s as number) : null,
        peerName: 'PyTorch',
        note: `with validation (holdout 0.1, NDCG@10 each epoch): ${epVal.toFixed(2)} s wall / ${epValCpu.toFixed(2)} s CPU per epoch; validation ≈ ${Math.max(0, ((epValCpu - epCpu) / epValCpu) * 100).toFixed(0)}% of its CPU`,
      });
      process.stdout.write(`  Mult-VAE done (load ${load()})\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n| model | measure | threads | recsys wall | peer wall | recsys/peer wall | recsys CPU | peer CPU | recsys/peer CPU | note |\n|---|---|---|---|---|---|---|---|---|---|\n`);
  for (const r of rows) {
    const ratio = (a: number, b: number | null): string => (b ? (a / b).toFixed(2) : '–');
    const peerCell = (v: number | null): string => (v === null ? `– (${r.peerName} missing)` : `${v.toFixed(2)} (${r.peerName})`);
    process.stdout.write(
      `| ${r.model} | ${r.what} | ${threads} | ${r.recsys.toFixed(2)} | ${peerCell(r.peer)} | ${ratio(r.recsys, r.peer)} | ${r.recsysCpu.toFixed(2)} | ${peerCell(r.peerCpu)} | ${ratio(r.recsysCpu, r.peerCpu)} | ${r.note} |\n`,
    );
  }
  process.stdout.write(`load average after: ${load()}\n`);
  await kn.close();
}
