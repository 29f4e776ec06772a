/**
 * `npm run bench -- retrieval [--sizes 100000,1000000] [--data clustered|ials] [--dims 64] [--queries 500]
 * [--M 16|32] [--ef-construction 128] [--ef 128,256] [--mips augmented|ip] [--quant f32,f16] [--mode serial,batch] [--repeat 3]
 * [--clusters 1000] [--spread 1] [--decay 0] [--exclude 0] [--users 30000] [--per-user 40] [--iterations 5]`:
 * recall@100 of HNSW retrieval (usearch, through HnswIndex as the service uses it) against exact retrieval (the
 * kernels' fused scoreTopK), and queries/s of both on the same vectors and exclusions.
 *
 * Data: "clustered" — items and queries around `clusters` random centres (N(0,1) centres, N(0, spread²) around
 * them); `--decay D` scales coordinate j by exp(−j/D), a decaying spectrum like trained factors (0: isotropic, the
 * hard case); `--exclude E` removes E of each query's exact top 3E (every third), like seen items. "ials" — item
 * and user factors of an iALS model (`--dims` factors) trained on synthetic implicit feedback over n items
 * (`--users` users, `--per-user` events each, drawn from a few topics per user with Zipf popularity inside a topic);
 * queries are user vectors and each excludes that user's training items, as the service does.
 *
 * `--quant f32,f16` builds one index per vector type (usearch f32 or f16 storage) over the same workload. Without
 * `--M` / `--quant` each size gets the library's defaults for it (`hnswDefaultsFor`: M 16 + f32 below 500,000
 * items, M 32 + f16 from there); the table prints what was built.
 *
 * `--index hnsw,ivf` (both by default) with `--lists L --nprobe 32,64 --rerank 1.5` for IVF (absent: `ivfDefaultsFor`
 * the size). Exact and ANN passes alternate (exact, ANN, exact, …), best of `--repeat` each, so a ratio compares
 * passes of the same spell on a shared machine.
 *
 * Modes: "serial" searches one query at a time (the service's regime: one request, one query) through
 * `search(q, k, excludeSet)`; "batch" searches all queries in one `searchRows` call on all threads. For HNSW,
 * "ranges" is the norm ranges searched per query / the ranges of the index. QPS is wall-clock; "CPU ratio" divides queries per CPU-second of the process
 * (all its threads), which is steadier on a shared machine. The load average is printed with the figures.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { drawCumulative, Rng } from '../src/core/rng.js';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import type { CsrMatrix, DenseMatrix } from '../src/linalg/api.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel } from '../src/models/index.js';
import { ExactIndex, type VectorHits } from '../src/pipeline/exact.js';
import { HnswIndex, isQuantization, removeHnswFiles, type HnswParams } from '../src/pipeline/hnsw.js';
import { IvfIndex } from '../src/pipeline/ivf.js';
import { vectorSpaceOf } from '../src/pipeline/vectors.js';

function flag(args: string[], name: string, fallback: string): string {
  const j = args.indexOf(`--${name}`);
  return j >= 0 && j + 1 < args.length ? args[j + 1] : fallback;
}

/** Items, queries and per-query exclusions to search. */
interface Workload {
  label: string;
  items: DenseMatrix;
  itemBias: Float32Array | null;
  queries: DenseMatrix;
  exclude: CsrMatrix | null;
}

/** `n` vectors of `d` dims around `clusters` centres (N(0,1) centres, N(0, spread²) around them), seeded. */
function clustered(n: number, d: number, clusters: number, rng: Rng, centres: Float32Array, spread: number, decay: number): DenseMatrix {
  const data = new Float32Array(n * d);
  // decay > 0: coordinate j scaled by exp(−j / decay), a decaying spectrum like trained factors (lower intrinsic dimension).
  const scale = Float32Array.from({ length: d }, (_, j) => (decay > 0 ? Math.exp(-j / decay) : 1));
  for (let i = 0; i < n; i++) {
    const c = rng.int(clusters);
    for (let j = 0; j < d; j++) data[i * d + j] = (centres[c * d + j] + spread * rng.normal()) * scale[j];
  }
  return { rows: n, cols: d, data };
}

/** CSR rows (sorted, as the kernels require) from per-row item lists. */
function csrOf(lists: Int32Array[], cols: number): CsrMatrix {
  const rowPtr = new Int32Array(lists.length + 1);
  lists.forEach((l, r) => (rowPtr[r + 1] = rowPtr[r] + l.length));
  const colIdx = new Int32Array(rowPtr[lists.length]);
  lists.forEach((l, r) => colIdx.set(Int32Array.from(l).sort(), rowPtr[r]));
  return { rows: lists.length, cols, rowPtr, colIdx, values: new Float32Array(colIdx.length).fill(1) };
}

async function clusteredWorkload(n: number, d: number, nq: number, args: string[], exact: (items: DenseMatrix) => ExactIndex): Promise<Workload> {
  const clusters = Number(flag(args, 'clusters', '1000'));
  const spread = Number(flag(args, 'spread', '1'));
  const decay = Number(flag(args, 'decay', '0'));
  const nEx = Number(flag(args, 'exclude', '0'));
  const rng = new Rng(n);
  const centres = Float32Array.from({ length: clusters * d }, () => rng.normal());
  const items = clustered(n, d, clusters, rng.fork('items'), centres, spread, decay);
  const queries = clustered(nq, d, clusters, rng.fork('queries'), centres, spread, decay);
  let exclude: CsrMatrix | null = null;
  if (nEx > 0) {
    const top = await exact(items).search(queries, 3 * nEx);
    exclude = csrOf(Array.from({ length: nq }, (_, r) => top.items.subarray(r * 3 * nEx, (r + 1) * 3 * nEx).filter((_, j) => j % 3 === 0)), n);
  }
  const label = `${decay > 0 ? `decay ${decay}` : 'isotropic'}${nEx > 0 ? `, ${nEx} excl.` : ''}`;
  return { label, items, itemBias: null, queries, exclude };
}

/** Synthetic implicit feedback with topic structure, an iALS model fitted on it, and user queries. */
export async function ialsWorkload(n: number, d: number, nq: number, args: string[]): Promise<Workload> {
  const users = Number(flag(args, 'users', '30000'));
  const perUser = Number(flag(args, 'per-user', '40'));
  const iterations = Number(flag(args, 'iterations', '5'));
  const topics = Math.max(10, Math.round(n / 500));
  const rng = new Rng(n + 1);
  // Items are spread over topics; inside a topic, popularity is Zipf(1) over its items.
  const topicOf = Int32Array.from({ length: n }, () => rng.int(topics));
  const members: number[][] = Array.from({ length: topics }, () => []);
  for (let i = 0; i < n; i++) members[topicOf[i]].push(i);
  const cums = members.map((m) => {
    const c = new Float64Array(m.length);
    let s = 0;
    m.forEach((_, j) => (c[j] = s += 1 / (j + 1)));
    return c;
  });
  const userIdx: number[] = [];
  const itemIdx: number[] = [];
  for (let u = 0; u < users; u++) {
    const mine = [rng.int(topics), rng.int(topics), rng.int(topics)];
    const seen = new Set<number>();
    for (let e = 0; e < perUser; e++) {
      // 80% from the user's first topic, the rest from the other two.
      const topic = mine[rng.uniform() < 0.8 ? 0 : 1 + rng.int(2)];
      if (members[topic].length === 0) continue;
      const item = members[topic][drawCumulative(cums[topic], rng.uniform())];
      if (seen.has(item)) continue;
      seen.add(item);
      userIdx.push(u);
      itemIdx.push(item);
    }
  }
  const train = Interactions.fromCoo({ users: IdMap.range(users), items: IdMap.range(n), userIdx: Int32Array.from(userIdx), itemIdx: Int32Array.from(itemIdx) }).interactions;
  const t0 = performance.now();
  const model = createModel('ials', { factors: d, iterations });
  await model.fit(train);
  process.stdout.write(`iALS: ${users} users × ${n} items, ${itemIdx.length} events, ${topics} topics, ${d} factors, ${iterations} iterations, fitted in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  const space = await vectorSpaceOf(model);
  if (!space) throw new Error('iALS exposes no vector space');
  const who = Array.from({ length: nq }, (_, r) => Math.floor((r * users) / nq));
  const queries = new Float32Array(nq * d);
  for (let r = 0; r < nq; r++) queries.set(await space.user(who[r]), r * d);
  const exclude = csrOf(who.map((u) => Int32Array.from(train.userItems(u))), n);
  return { label: `iALS factors, seen excl.`, items: space.items, itemBias: space.itemBias, queries: { rows: nq, cols: d, data: queries }, exclude };
}

function recallAt(got: Int32Array, truth: Int32Array, k: number, rows: number): number {
  let hit = 0;
  for (let r = 0; r < rows; r++) {
    const t = new Set(truth.subarray(r * k, r * k + k));
    for (const x of got.subarray(r * k, r * k + k)) if (t.has(x)) hit++;
  }
  return hit / (rows * k);
}

/** A search over a whole workload: serial (one query at a time, with its exclusion set) or one batch. */
interface Searcher {
  search(q: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits>;
  searchRows(q: DenseMatrix, k: number, exclude: CsrMatrix | null): Promise<VectorHits>;
}

/** Wall and CPU queries/s of one pass of `index` over the workload in `mode`, and its hits. */
async function onePass(index: Searcher, w: Workload, sets: Set<number>[] | null, k: number, mode: string): Promise<{ qps: number; cpuQps: number; hits: Int32Array }> {
  const { queries, exclude } = w;
  const d = queries.cols;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let hits: Int32Array;
  if (mode === 'serial') {
    hits = new Int32Array(queries.rows * k);
    for (let r = 0; r < queries.rows; r++) {
      const got = await index.search({ rows: 1, cols: d, data: queries.data.subarray(r * d, (r + 1) * d) }, k, sets?.[r]);
      hits.set(got.items, r * k);
    }
  } else hits = (await index.searchRows(queries, k, exclude)).items;
  const c = process.cpuUsage(c0);
  return { qps: queries.rows / ((performance.now() - t0) / 1000), cpuQps: queries.rows / ((c.user + c.system) / 1e6), hits };
}

/**
 * Best-of-`repeat` queries/s of `ann` and of `exact` over the workload in `mode`, measured in alternation (exact
 * pass, ANN pass, …) so that both see the same spells of a shared machine; the ANN's hits of its last pass.
 */
async function paired(ann: Searcher, exact: Searcher, w: Workload, k: number, mode: string, repeat: number): Promise<{ ann: { qps: number; cpuQps: number }; exact: { qps: number; cpuQps: number }; hits: Int32Array }> {
  const { queries, exclude } = w;
  const sets = exclude ? Array.from({ length: queries.rows }, (_, r) => new Set(exclude.colIdx.subarray(exclude.rowPtr[r], exclude.rowPtr[r + 1]))) : null;
  const best = { ann: { qps: 0, cpuQps: 0 }, exact: { qps: 0, cpuQps: 0 } };
  let hits: Int32Array = new Int32Array(0);
  for (let rep = 0; rep < repeat; rep++) {
    const e = await onePass(exact, w, sets, k, mode);
    const a = await onePass(ann, w, sets, k, mode);
    hits = a.hits;
    best.exact = { qps: Math.max(best.exact.qps, e.qps), cpuQps: Math.max(best.exact.cpuQps, e.cpuQps) };
    best.ann = { qps: Math.max(best.ann.qps, a.qps), cpuQps: Math.max(best.ann.cpuQps, a.cpuQps) };
  }
  return { ...best, hits };
}

export async function run(args: string[]): Promise<void> {
  const sizes = flag(args, 'sizes', '100000,1000000').split(',').map(Number);
  const d = Number(flag(args, 'dims', '64'));
  const nq = Number(flag(args, 'queries', '500'));
  const k = 100;
  const indexes = flag(args, 'index', 'hnsw,ivf').split(',');
  if (!indexes.every((x) => x === 'hnsw' || x === 'ivf')) throw new Error(`--index takes hnsw and/or ivf (got ${indexes.join(',')})`);
  // Absent --M / --quant: the library's defaults for each size (hnswDefaultsFor).
  const M = args.includes('--M') ? Number(flag(args, 'M', '16')) : undefined;
  const efConstruction = Number(flag(args, 'ef-construction', '128'));
  const efs = flag(args, 'ef', '128,256').split(',').map(Number);
  const mips = flag(args, 'mips', 'augmented') === 'ip' ? 'ip' : 'augmented';
  const quants: (HnswParams['quantization'] | undefined)[] = args.includes('--quant') ? flag(args, 'quant', 'f32').split(',').map((q) => {
    if (!isQuantization(q)) throw new Error(`--quant takes f32 and/or f16 (got ${q})`);
    return q;
  }) : [undefined];
  // Absent --lists / --nprobe / --rerank: ivfDefaultsFor each size.
  const lists = args.includes('--lists') ? Number(flag(args, 'lists', '0')) : undefined;
  const nprobes: (number | undefined)[] = args.includes('--nprobe') ? flag(args, 'nprobe', '').split(',').map(Number) : [undefined];
  const rerank = args.includes('--rerank') ? Number(flag(args, 'rerank', '1.5')) : undefined;
  const modes = args.includes('--serial') ? ['serial'] : flag(args, 'mode', 'serial,batch').split(',');
  const repeat = Number(flag(args, 'repeat', '3'));
  const data = flag(args, 'data', 'clustered');
  if (!['clustered', 'ials'].includes(data)) throw new Error(`--data must be clustered or ials (got ${data})`);
  if (!modes.every((m) => m === 'serial' || m === 'batch')) throw new Error(`--mode takes serial and/or batch (got ${modes.join(',')})`);
  const kn = await getKernels();
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(`retrieval benchmark: ${d} dims, ${nq} queries, top ${k}, ${indexes.join(' and ')} against exact retrieval (kernels: ${kn.kind}); exact and ANN timed in alternation, best of ${repeat} each; ${availableParallelism()} cores, CPU ${cpus()[0]?.model ?? '?'}, load average ${load()} (shared machine)\n\n`);
  const line = (cells: (string | number)[]): void => {
    process.stdout.write(`| ${cells.join(' | ')} |\n`);
  };
  line(['n', 'data', 'index', 'parameters', 'mode', 'recall@100', 'QPS ANN', 'QPS exact', 'ratio', 'CPU ratio', 'build s', 'load']);
  line(Array(12).fill('---'));
  for (const n of sizes) {
    const w = data === 'ials' ? await ialsWorkload(n, d, nq, args) : await clusteredWorkload(n, d, nq, args, (items) => new ExactIndex(items, null, kn));
    const exact = new ExactIndex(w.items, w.itemBias, kn);
    const truth = await exact.searchRows(w.queries, k, w.exclude);
    const report = async (ann: Searcher, kind: string, params: string, buildS: number, mode: string, after: () => string = () => ''): Promise<void> => {
      const r = await paired(ann, exact, w, k, mode, repeat);
      const recall = recallAt(r.hits, truth.items, k, nq);
      line([n, w.label, kind, params + after(), mode, recall.toFixed(3), r.ann.qps.toFixed(0), r.exact.qps.toFixed(0), `${(r.ann.qps / r.exact.qps).toFixed(1)}×`, `${(r.ann.cpuQps / r.exact.cpuQps).toFixed(1)}×`, buildS.toFixed(0), loadavg()[0].toFixed(2)]);
    };
    if (indexes.includes('hnsw')) {
      for (const quantization of quants) {
        const t = performance.now();
        const built = HnswIndex.build(w.items, w.itemBias, { M, efConstruction, ef: efs[0], mips, quantization } satisfies Partial<HnswParams>);
        const buildS = (performance.now() - t) / 1000;
        const path = `${process.env.TMPDIR ?? '/tmp'}/recsys-bench-${process.pid}.hnsw`;
        built.save(path, 'bench');
        try {
          for (const ef of efs) {
            const index = HnswIndex.load(path, 'bench', { ef });
            for (const mode of modes) {
              const before = { ...index.stats };
              const params = `M ${built.params.M}, efC ${efConstruction}, ef ${ef}, ${built.params.quantization}, ${mips}`;
              // "ranges": norm ranges searched per query / ranges of the index.
              const ranges = (): string => `; ranges ${((index.stats.rangeSearches - before.rangeSearches) / (index.stats.queries - before.queries)).toFixed(1)} / ${index.ranges}`;
              await report(index, 'HNSW', params, buildS, mode, ranges);
            }
          }
        } finally {
          removeHnswFiles(path);
        }
      }
    }
    if (indexes.includes('ivf')) {
      const t = performance.now();
      const built = await IvfIndex.build(w.items, w.itemBias, { lists, rerank }, { kernels: kn });
      const buildS = (performance.now() - t) / 1000;
      for (const nprobe of nprobes) {
        const index = nprobe === undefined ? built : built.with({ nprobe });
        for (const mode of modes) await report(index, 'IVF', `${index.listCount} lists, nprobe ${index.params.nprobe}, rerank ${index.params.rerank}`, buildS, mode);
      }
    }
  }
  process.stdout.write(`\nload average at the end: ${load()}\n`);
  await kn.close();
}
