/**
 * `npm run bench -- retrieval [--sizes 100000,1000000] [--dims 64] [--queries 500] [--M 16] [--ef-construction 96]
 * [--ef 64,128,256] [--mips augmented|ip] [--clusters 1000] [--spread 1] [--decay 0] [--serial]`: recall@100 of HNSW retrieval (usearch) against exact retrieval (the
 * kernels' fused scoreTopK) and queries/s of both on the same synthetic vectors: items around 1,000 random
 * centres, N(0, spread²) around each (clustered like learned embeddings), queries drawn the same way. Both sides search the whole query
 * batch on all threads; with --serial each query is searched alone, one after another (the service's regime: one
 * request, one query), and queries/s are those of that loop. The machine may be shared: the load average is printed with the figures.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Rng } from '../src/core/rng.js';
import type { DenseMatrix } from '../src/linalg/api.js';
import { getKernels } from '../src/linalg/index.js';
import { ExactIndex } from '../src/pipeline/exact.js';
import { HnswIndex, type HnswParams } from '../src/pipeline/hnsw.js';

function flag(args: string[], name: string, fallback: string): string {
  const j = args.indexOf(`--${name}`);
  return j >= 0 && j + 1 < args.length ? args[j + 1] : fallback;
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

function recallAt(got: Int32Array, truth: Int32Array, k: number, rows: number): number {
  let hit = 0;
  for (let r = 0; r < rows; r++) {
    const t = new Set(truth.subarray(r * k, r * k + k));
    for (const x of got.subarray(r * k, r * k + k)) if (t.has(x)) hit++;
  }
  return hit / (rows * k);
}

export async function run(args: string[]): Promise<void> {
  const sizes = flag(args, 'sizes', '100000,1000000').split(',').map(Number);
  const d = Number(flag(args, 'dims', '64'));
  const nq = Number(flag(args, 'queries', '500'));
  const k = 100;
  const M = Number(flag(args, 'M', '16'));
  const efConstruction = Number(flag(args, 'ef-construction', '96'));
  const efs = flag(args, 'ef', '64,128,256').split(',').map(Number);
  const mips = flag(args, 'mips', 'augmented') === 'ip' ? 'ip' : 'augmented';
  const serial = args.includes('--serial');
  const kn = await getKernels();
  /** Queries/s of `search` over all queries: one batch, or one query at a time with --serial. */
  const timed = async (search: (q: DenseMatrix) => Promise<unknown>, queries: DenseMatrix): Promise<number> => {
    const t0 = performance.now();
    if (serial) for (let r = 0; r < queries.rows; r++) await search({ rows: 1, cols: queries.cols, data: queries.data.subarray(r * queries.cols, (r + 1) * queries.cols) });
    else await search(queries);
    return queries.rows / ((performance.now() - t0) / 1000);
  };
  process.stdout.write(`retrieval benchmark: ${d} dims, ${flag(args, 'clusters', '1000')} clusters of spread ${flag(args, 'spread', '1')}, spectrum decay ${flag(args, 'decay', '0')} (0 = isotropic), ${nq} queries, top ${k}, ${serial ? 'one query at a time' : 'queries as one batch'}; HNSW M=${M} efConstruction=${efConstruction} mips=${mips}; ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (shared machine)\n\n`);
  process.stdout.write('items      | method        | build s | queries/s | recall@100 | speed-up\n');
  process.stdout.write('-----------|---------------|---------|-----------|------------|---------\n');
  for (const n of sizes) {
    const rng = new Rng(n);
    const clusters = Number(flag(args, 'clusters', '1000'));
    const spread = Number(flag(args, 'spread', '1'));
    const decay = Number(flag(args, 'decay', '0'));
    const centres = Float32Array.from({ length: clusters * d }, () => rng.normal());
    const items = clustered(n, d, clusters, rng.fork('items'), centres, spread, decay);
    const queries = clustered(nq, d, clusters, rng.fork('queries'), centres, spread, decay);
    const exact = new ExactIndex(items, null, kn);
    await exact.search({ rows: 1, cols: d, data: queries.data.slice(0, d) }, k); // warm-up
    const truth = await exact.search(queries, k);
    const exactQps = await timed((q) => exact.search(q, k), queries);
    process.stdout.write(`${String(n).padEnd(10)} | exact         |       – | ${exactQps.toFixed(0).padStart(9)} |      1.000 |    1.0×\n`);
    let t = performance.now();
    const built = HnswIndex.build(items, null, { M, efConstruction, ef: efs[0], mips } satisfies Partial<HnswParams>);
    const buildS = (performance.now() - t) / 1000;
    const path = `${process.env.TMPDIR ?? '/tmp'}/recsys-bench-${process.pid}.hnsw`;
    built.save(path, 'bench');
    for (const ef of efs) {
      const index = HnswIndex.load(path, 'bench', { ef });
      await index.search({ rows: 1, cols: d, data: queries.data.slice(0, d) }, k);
      const got = await index.search(queries, k);
      const qps = await timed((q) => index.search(q, k), queries);
      const recall = recallAt(got.items, truth.items, k, nq);
      process.stdout.write(`${String(n).padEnd(10)} | hnsw ef=${String(ef).padEnd(5)} | ${buildS.toFixed(1).padStart(7)} | ${qps.toFixed(0).padStart(9)} | ${recall.toFixed(3).padStart(10)} | ${(qps / exactQps).toFixed(1).padStart(6)}×\n`);
    }
    const { rmSync } = await import('node:fs');
    rmSync(path, { force: true });
    rmSync(`${path}.json`, { force: true });
  }
  process.stdout.write(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  await kn.close();
}
