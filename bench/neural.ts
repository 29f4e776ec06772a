/**
 * `npm run bench -- neural [--data kuairec|kuairec-sample] [--path <kuairec dir>] [--epochs N] [--tt-epochs N] [--models mult-vae,two-tower] [--all-batches] [--no-python]`:
 * trains Mult-VAE and the two-tower model on KuaiRec (the full data when found in ../shared/data/kuairec/ or the
 * cache, else the embedded SYNTHETIC sample — the table says which) and prints, per model and batch size:
 * seconds per epoch, examples/s, GFLOP/s achieved by the whole training loop, and that rate as a share of the kernel
 * layer's GEMM GFLOP/s measured in the same run at the model's dominant GEMM shape (target: >= 50% at batch
 * >= 256). Then the KuaiRec-protocol metrics (train big_matrix, test small_matrix, candidates = small-matrix items,
 * relevant = watch_ratio >= 2) via src/eval, with popularity as the reference. When python3 + numpy are installed,
 * the same Mult-VAE step (dense input) and GEMM are timed in numpy in the same run.
 */
import { spawnSync } from 'node:child_process';
import type { LoadedDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/index.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { parseMetric } from '../src/eval/metrics.js';
import { kuaiRecSplit } from '../src/eval/splits.js';
import type { Kernels } from '../src/linalg/api.js';
import { defaultSpinMs } from '../src/linalg/pool.js';
import { getKernels } from '../src/linalg/index.js';
import { TrackedKernels } from '../src/nn/tracked-kernels.js';
import { AutoEncoderRecommender } from '../src/models/neural/autoencoder.js';
import { TwoTowerRecommender } from '../src/models/neural/two-tower.js';
import { PopularityRecommender } from '../src/models/baselines/popularity.js';
import type { Recommender } from '../src/models/contract.js';

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

async function loadKuaiRecData(which: string | undefined, path: string | undefined): Promise<LoadedDataset> {
  if (path) return loadDataset('kuairec', { path });
  if (which !== 'kuairec-sample') {
    try {
      return await loadDataset('kuairec');
    } catch (e) {
      if (which === 'kuairec') throw e;
      process.stdout.write(`full KuaiRec not available (${(e as Error).message.split('\n')[0]}); using the embedded sample\n`);
    }
  }
  return loadDataset('kuairec-sample');
}

/** Best-of-`reps` GFLOP/s of C = A·B (m×k · k×n) with all operands in kernel memory. */
async function gemmRate(kernels: Kernels, m: number, k: number, n: number, reps = 5): Promise<number> {
  const a = { rows: m, cols: k, data: kernels.allocF32(m * k) };
  const b = { rows: k, cols: n, data: kernels.allocF32(k * n) };
  const c = { rows: m, cols: n, data: kernels.allocF32(m * n) };
  for (let i = 0; i < a.data.length; i++) a.data[i] = Math.sin(i);
  for (let i = 0; i < b.data.length; i++) b.data[i] = Math.cos(i);
  await kernels.gemm(a, b, { c });
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await kernels.gemm(a, b, { c });
    best = Math.min(best, performance.now() - t0);
  }
  kernels.free(a.data);
  kernels.free(b.data);
  kernels.free(c.data);
  return (2 * m * n * k) / (best / 1000) / 1e9;
}

/** Kernels whose `gemm` calls are timed: the GEMM rate the training loop itself gets, under the same load. */
function timedGemmKernels(base: Kernels): { kernels: TrackedKernels; stats: { flops: number; seconds: number } } {
  const stats = { flops: 0, seconds: 0 };
  const kernels = new TrackedKernels(base);
  kernels.gemm = async (a, b, o = {}) => {
    const m = o.transA ? a.cols : a.rows;
    const k = o.transA ? a.rows : a.cols;
    const n = o.transB ? b.rows : b.cols;
    const t0 = performance.now();
    const r = await base.gemm(a, b, o);
    stats.seconds += (performance.now() - t0) / 1000;
    stats.flops += 2 * m * n * k;
    return r;
  };
  return { kernels, stats };
}

/** Seconds of each epoch, from the progress callbacks. */
function epochTimer(): { onProgress: () => void; times: number[] } {
  let last = performance.now();
  const times: number[] = [];
  return {
    times,
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  };
}

const NUMPY_VAE = `
import sys, time, json
import numpy as np
users, items, batch, epochs, density = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(0)
def glorot(a, b): l = np.sqrt(6/(a+b)); return rng.uniform(-l, l, (a, b)).astype(np.float32)
W = [glorot(items, 600), glorot(600, 400), glorot(200, 600), glorot(600, items)]
b = [np.zeros(600, np.float32), np.zeros(400, np.float32), np.zeros(600, np.float32), np.zeros(items, np.float32)]
X = (rng.random((users, items)) < density).astype(np.float32)
m = [np.zeros_like(w) for w in W]; v = [np.zeros_like(w) for w in W]
def step(x, t):
    n = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = n * (rng.random(n.shape) >= 0.5) * 2
    h1 = np.tanh(n @ W[0] + b[0]); e = h1 @ W[1] + b[1]; mu, lv = e[:, :200], e[:, 200:]
    eps = rng.standard_normal(mu.shape).astype(np.float32); z = mu + eps * np.exp(0.5 * lv)
    h2 = np.tanh(z @ W[2] + b[2]); lo = h2 @ W[3] + b[3]
    lo = lo - lo.max(1, keepdims=True); p = np.exp(lo); p /= p.sum(1, keepdims=True)
    g = (p * x.sum(1, keepdims=True) - x) / x.shape[0]
    gW3 = h2.T @ g; dh2 = (g @ W[3].T) * (1 - h2**2); gW2 = z.T @ dh2; dz = dh2 @ W[2].T
    de = np.concatenate([dz + 0.2 * mu / x.shape[0], dz * eps * 0.5 * np.exp(0.5 * lv) + 0.2 * 0.5 * (np.exp(lv) - 1) / x.shape[0]], 1)
    gW1 = h1.T @ de; dh1 = (de @ W[1].T) * (1 - h1**2); gW0 = n.T @ dh1
    for i, gw in enumerate([gW0, gW1, gW2, gW3]):
        m[i] = 0.9 * m[i] + 0.1 * gw; v[i] = 0.999 * v[i] + 0.001 * gw * gw
        W[i] -= 1e-3 * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
t = 0; times = []
for ep in range(epochs):
    t0 = time.perf_counter()
    for s in range(0, users, batch):
        t += 1; step(X[s:s+batch], t)
    times.append(time.perf_counter() - t0)
A = rng.random((batch, 600), dtype=np.float32); B = rng.random((600, items), dtype=np.float32)
best = 1e9
for r in range(5):
    t0 = time.perf_counter(); A @ B; best = min(best, time.perf_counter() - t0)
print(json.dumps({"epoch": min(times[1:] or times), "gemm": 2*batch*600*items/best/1e9}))
`;

function numpyVae(users: number, items: number, batch: number, epochs: number, density: number): { epoch: number; gemm: number } | null {
  const r = spawnSync('python3', ['-c', NUMPY_VAE, String(users), String(items), String(batch), String(epochs), String(density)], { encoding: 'utf8', timeout: 600_000, env: { ...process.env } });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { epoch: number; gemm: number };
  } catch {
    return null;
  }
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (typeof c === 'number' ? fmt(c) : c).padStart(widths[i])).join('  ');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(3);
}

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  const kernels = await getKernels();
  const ds = await loadKuaiRecData(flag(args, '--data'), flag(args, '--path'));
  // Without small_matrix (e.g. the full-size synthetic big_matrix only) there is no protocol: throughput only.
  const split = ds.test ? kuaiRecSplit(ds) : null;
  const train = split ? split.train : ds.interactions;
  const nI = train.nItems;
  const full = ds.name === 'kuairec';
  const vaeEpochs = Number(flag(args, '--epochs') ?? (full ? 5 : 30));
  const ttEpochs = Number(flag(args, '--tt-epochs') ?? (full ? 2 : 10));
  // On the full data (12.5M pairs) one two-tower epoch takes minutes: only the larger batch unless asked.
  const ttBatches = full && !args.includes('--all-batches') ? [1024] : [256, 1024];
  process.stdout.write(`data: ${ds.name} — ${ds.description}\n`);
  process.stdout.write(`train ${train.nUsers} users × ${nI} items, ${train.nnz} entries; ${split ? split.description : 'no small_matrix: throughput only'}\n`);
  process.stdout.write(`kernels: ${kernels.kind}, ${kernels.threads} threads, idle-worker polling ${defaultSpinMs(kernels.threads)} ms (RECSYS_SPIN_MS; see docs/kernels.md)\n\n`);

  const perf: (string | number)[][] = [];
  const quality: { name: string; model: Recommender }[] = [];
  const activeUsers = train.userCounts().filter((c) => c > 0).length;

  const models = (flag(args, '--models') ?? 'mult-vae,two-tower').split(',');
  for (const batch of models.includes('mult-vae') ? [256, 500] : []) {
    const before = await gemmRate(kernels, batch, 600, nI);
    const timed = timedGemmKernels(kernels);
    const vae = new AutoEncoderRecommender('mult-vae', { hidden: [600, 200], lr: 1e-3, epochs: vaeEpochs, batchSize: batch, seed: 1, totalAnnealSteps: 200000 }).useKernels(timed.kernels);
    const timer = epochTimer();
    await vae.fit(train, { onProgress: timer.onProgress });
    const gemm = Math.max(before, await gemmRate(kernels, batch, 600, nI));
    const sec = Math.min(...timer.times.slice(1));
    const flops = vae.flopsPerStep(activeUsers, train.nnz, nI);
    const rate = flops / sec / 1e9;
    const inLoop = timed.stats.flops / timed.stats.seconds / 1e9;
    const loopRate = flops / (timer.times.reduce((a, b) => a + b, 0) / timer.times.length) / 1e9;
    perf.push(['mult-vae', batch, sec, activeUsers / sec, rate, gemm, (100 * rate) / gemm, inLoop, (100 * loopRate) / inLoop]);
    if (batch === 500) quality.push({ name: `mult-vae (${vaeEpochs} ep)`, model: vae });
  }

  for (const batch of models.includes('two-tower') ? ttBatches : []) {
    const before = await gemmRate(kernels, batch, 64, 64);
    const timed = timedGemmKernels(kernels);
    const tt = new TwoTowerRecommender({ epochs: ttEpochs, batchSize: batch, seed: 1 }).useKernels(timed.kernels);
    tt.setFeatures(ds);
    const timer = epochTimer();
    await tt.fit(train, { onProgress: timer.onProgress });
    const sec = Math.min(...(timer.times.length > 1 ? timer.times.slice(1) : timer.times));
    const pairs = train.nnz;
    const flops = (tt.flopsPerStep(batch) * pairs) / batch;
    const rate = flops / sec / 1e9;
    const gemm = Math.max(before, await gemmRate(kernels, batch, 64, 64));
    const inLoop = timed.stats.flops / timed.stats.seconds / 1e9;
    const loopRate = flops / (timer.times.reduce((a, b) => a + b, 0) / timer.times.length) / 1e9;
    perf.push(['two-tower', batch, sec, pairs / sec, rate, gemm, (100 * rate) / gemm, inLoop, (100 * loopRate) / inLoop]);
    if (batch === 1024) quality.push({ name: `two-tower (${ttEpochs} ep)`, model: tt });
  }

  const widths = [10, 6, 10, 12, 10, 12, 8, 14, 10];
  process.stdout.write('Training throughput (fastest epoch after the first, vs the fastest GEMM: both best-of, since the machine is shared)\n');
  process.stdout.write(`${row(['model', 'batch', 's/epoch', 'examples/s', 'GFLOP/s', 'GEMM GFLOP/s', '% GEMM', 'in-loop GEMM', '% in-loop'], widths)}\n`);
  for (const r of perf) process.stdout.write(`${row(r, widths)}\n`);
  process.stdout.write('examples = users (mult-vae) or (user, item) pairs (two-tower); GEMM = best of 5 runs measured just before and 5 just after each fit, at batch×600×items (mult-vae) and batch×64×64 (two-tower MLP);\nin-loop GEMM = FLOPs / time of the gemm calls the training loop made (same load); % in-loop = mean-epoch loop GFLOP/s over it\n\n');

  if (!args.includes('--no-python') && models.includes('mult-vae')) {
    const density = train.nnz / (activeUsers * nI);
    const np = numpyVae(activeUsers, nI, 500, Math.min(vaeEpochs, 5), density);
    if (np) {
      const ours = perf.find((r) => r[0] === 'mult-vae' && r[1] === 500);
      process.stdout.write(`numpy reference (same run, dense input, batch 500, fastest epoch after the first): Mult-VAE ${fmt(np.epoch)} s/epoch vs ours ${fmt(Number(ours?.[2]))} s; numpy GEMM 500×600×${nI}: ${fmt(np.gemm)} GFLOP/s\n\n`);
    } else process.stdout.write('numpy reference skipped (python3 with numpy not available)\n\n');
  }

  if (!split) {
    process.stdout.write('no small_matrix in this data: KuaiRec-protocol metrics skipped\n');
    await kernels.close();
    return;
  }
  const pop = new PopularityRecommender();
  await pop.fit(train);
  const metrics = ['ndcg@10', 'recall@10', 'precision@10', 'map@10', 'hitrate@10'].map(parseMetric);
  const qw = [20, 9, 10, 12, 8, 11, 7];
  process.stdout.write(`KuaiRec protocol (${split.candidates?.length ?? nI} candidates, relevant watch_ratio >= ${split.relevanceThreshold ?? 2})\n`);
  process.stdout.write(`${row(['model', 'ndcg@10', 'recall@10', 'precision@10', 'map@10', 'hitrate@10', 'users'], qw)}\n`);
  for (const q of [{ name: 'popularity', model: pop as Recommender }, ...quality]) {
    const r = await evaluateModel(q.model, train, split.test, {
      metrics, candidates: split.candidates, excludeSeen: split.excludeSeen ?? true, relevanceThreshold: split.relevanceThreshold, bootstrap: 0,
    });
    process.stdout.write(`${row([q.name, ...metrics.map((m) => r.metrics[m.label].mean), r.users.length], qw)}\n`);
  }
  await kernels.close();
}
