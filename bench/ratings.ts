/**
 * `npm run bench -- ratings --movielens [--data ml-100k|ml-latest-small] [--path DIR] [--folds 5] [--seed 0] [--models a,b] [--no-surprise] [--results FILE]`:
 * rating prediction on real MovieLens 100K (all 100,000 ratings of u.data) or ml-latest-small (ratings.csv, 0.5–5 stars), k-fold cross-validation over the
 * ratings (`kFold` by interaction), RMSE and fit time per fold of biases, biased MF, SVD++, KNNBaseline and the rating blend.
 *
 * When `python3 -c "import surprise"` works, the same folds are written as files (user, item, rating) and
 * Surprise's BaselineOnly, SVD, SVDpp and KNNBaseline run on exactly those folds (bench/surprise_ratings.py,
 * `Reader` + `Dataset.load_from_folds`); both columns are printed. Surprise is an optional benchmark reference,
 * never a test dependency. Data: --path, or `shared/data/ml-100k` in an ancestor of the working directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { kFold, rmse, type Split } from '../src/eval/index.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel } from '../src/models/index.js';
import { findData, flag, loadNote, writeSection } from './_movielens.js';

/** recsys models of the comparison and the Surprise algorithm each is compared with. */
export const RATING_MODELS: { label: string; model: string; params: Record<string, unknown>; surprise?: string }[] = [
  { label: 'biases', model: 'biases', params: {}, surprise: 'BaselineOnly' },
  { label: 'biased-mf', model: 'biased-mf', params: {}, surprise: 'SVD' },
  { label: 'svdpp', model: 'svdpp', params: {}, surprise: 'SVDpp' },
  { label: 'knn-baseline', model: 'knn-baseline', params: {}, surprise: 'KNNBaseline' },
  { label: 'rating-blend', model: 'rating-blend', params: {} },
];


/** The rating data sets of the benchmark: folder, file, separator, header line, rating scale. */
const DATA_SETS = {
  'ml-100k': { file: 'u.data', sep: '\t', header: false, scale: [1, 5] },
  'ml-latest-small': { file: 'ratings.csv', sep: ',', header: true, scale: [0.5, 5] },
} as const;

/** Name of a benchmark data set. */
export type RatingDataSet = keyof typeof DATA_SETS;

/** Every rating of a MovieLens ratings file (user, item, rating, …), ids as in the file. */
export function loadRatings(file: string, set: RatingDataSet = 'ml-100k'): Interactions {
  const { sep, header } = DATA_SETS[set];
  const u: string[] = [];
  const i: string[] = [];
  const r: number[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, j) => {
    if (!line.trim() || (header && j === 0)) return;
    const f = line.split(sep);
    const v = Number(f[2]);
    if (f.length < 3 || !Number.isFinite(v)) throw new Error(`${file}:${j + 1}: expected user, item, rating separated by ${JSON.stringify(sep)}`);
    u.push(f[0]);
    i.push(f[1]);
    r.push(v);
  });
  const users = IdMap.fromIds([...new Set(u)]);
  const items = IdMap.fromIds([...new Set(i)]);
  return Interactions.fromCoo({ users, items, userIdx: Int32Array.from(u, (x) => users.indexOf(x)), itemIdx: Int32Array.from(i, (x) => items.indexOf(x)), values: Float32Array.from(r) }).interactions;
}

function writeFold(split: Split, dir: string, k: number): void {
  for (const [part, m] of [['train', split.train], ['test', split.test]] as const) {
    const out: string[] = [];
    for (let u = 0; u < m.nUsers; u++) {
      for (let p = m.rowPtr[u]; p < m.rowPtr[u + 1]; p++) out.push(`${m.users.idOf(u)}\t${m.items.idOf(m.colIdx[p])}\t${m.values[p]}`);
    }
    writeFileSync(join(dir, `fold${k}.${part}.tsv`), out.join('\n') + '\n');
  }
}

interface Cell {
  rmse: number[];
  seconds: number[];
  /** CPU seconds of the fit (all threads of the process): steadier than wall time on a shared machine. */
  cpu: number[];
  error?: string;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Runs the benchmark. */
export async function run(args: string[]): Promise<void> {
  if (!args.includes('--movielens')) {
    process.stdout.write('usage: npm run bench -- ratings --movielens [--data ml-100k|ml-latest-small] [--path DIR] [--folds 5] [--seed 0] [--models a,b] [--no-surprise]\n');
    return;
  }
  const set = (flag(args, '--data') ?? 'ml-100k') as RatingDataSet;
  if (!(set in DATA_SETS)) {
    process.stderr.write(`ratings --movielens: --data must be one of ${Object.keys(DATA_SETS).join(', ')}, got ${JSON.stringify(set)}\n`);
    process.exitCode = 2;
    return;
  }
  const file = findData(args, set, DATA_SETS[set].file);
  if (!file) {
    process.stdout.write(`ratings --movielens: skipped — ${set}/${DATA_SETS[set].file} not found (give --path DIR, or put it in shared/data/${set} next to the repository)\n`);
    return;
  }
  const data = loadRatings(file, set);
  const nFolds = Number(flag(args, '--folds') ?? '5');
  const seed = Number(flag(args, '--seed') ?? '0');
  const folds = kFold(data, { k: nFolds, by: 'interaction', seed });
  const head = `${set} (${file}): ${data.nUsers} users, ${data.nItems} items, ${data.nnz} ratings; ${nFolds}-fold cross-validation by rating (seed ${seed}); RMSE mean over folds, fit seconds (wall and CPU) per fold`;
  process.stdout.write(`${head}\n(${loadNote()} at the start)\n\n`);
  const only = flag(args, '--models') ? new Set(flag(args, '--models')!.split(',')) : null;
  const models = RATING_MODELS.filter((m) => !only || only.has(m.label));
  const kn = await getKernels();
  const ours = new Map<string, Cell>(models.map((m) => [m.label, { rmse: [], seconds: [], cpu: [] }]));
  for (const [f, split] of folds.entries()) {
    const coo = split.test.toCoo();
    for (const m of models) {
      const cell = ours.get(m.label)!;
      if (cell.error) continue;
      try {
        const model = createModel(m.model, m.params);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await model.fit(split.train);
        const c = process.cpuUsage(c0);
        cell.seconds.push((performance.now() - t0) / 1000);
        cell.cpu.push((c.user + c.system) / 1e6);
        cell.rmse.push(rmse(await model.score!(coo.userIdx, coo.itemIdx), coo.values));
        model.dispose?.();
      } catch (e) {
        cell.error = e instanceof Error ? e.message : String(e);
      }
      process.stderr.write(`  recsys ${m.label} fold ${f + 1}: ${cell.error ?? `${cell.rmse.at(-1)!.toFixed(4)} (${cell.seconds.at(-1)!.toFixed(2)} s)`}\n`);
    }
  }
  await kn.close();

  const theirs = new Map<string, Cell>();
  let note: string;
  if (args.includes('--no-surprise')) note = 'Surprise not run (--no-surprise).';
  else if (spawnSync('python3', ['-c', 'import surprise'], { stdio: 'ignore' }).status !== 0) note = 'Surprise not run: `python3 -c "import surprise"` fails (pip install scikit-surprise).';
  else {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-surprise-'));
    folds.forEach((s, k) => writeFold(s, dir, k));
    const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'surprise_ratings.py');
    for (const m of models) {
      if (!m.surprise) continue;
      const cell: Cell = { rmse: [], seconds: [], cpu: [] };
      try {
        const text = execFileSync('python3', [script, dir, String(nFolds), DATA_SETS[set].scale.join(','), m.surprise], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
        for (const line of text.split('\n').filter((l) => l.startsWith('{'))) {
          const r = JSON.parse(line) as { rmse: number; fit_seconds: number; fit_cpu_seconds: number };
          cell.rmse.push(r.rmse);
          cell.seconds.push(r.fit_seconds);
          cell.cpu.push(r.fit_cpu_seconds);
        }
      } catch (e) {
        const stderr = (e as { stderr?: string }).stderr ?? '';
        cell.error = (stderr.trim().split('\n').pop() ?? String(e)).slice(0, 200);
      }
      process.stderr.write(`  Surprise ${m.surprise}: ${cell.error ?? `${mean(cell.rmse).toFixed(4)} (${mean(cell.seconds).toFixed(2)} s/fold)`}\n`);
      theirs.set(m.surprise, cell);
    }
    const version = execFileSync('python3', ['-c', 'import surprise; print(surprise.__version__)'], { encoding: 'utf8' }).trim();
    note = `Surprise ${version} on the same folds (files in ${dir}, \`Reader\` + \`Dataset.load_from_folds\`), default parameters; KNNBaseline item-based pearson_baseline.`;
  }
  const fmt = (c: Cell | undefined, f: (c: Cell) => string): string => (!c ? '' : c.error ? `failed: ${c.error}` : c.rmse.length ? f(c) : '—');
  const lines = ['| recsys model | RMSE | fit s/fold | fit CPU s/fold | Surprise | Surprise RMSE | Surprise fit s/fold | Surprise fit CPU s/fold |', '|---|---|---|---|---|---|---|---|'];
  for (const m of models) {
    const a = ours.get(m.label);
    const b = m.surprise ? theirs.get(m.surprise) : undefined;
    lines.push(`| ${m.label} | ${fmt(a, (c) => mean(c.rmse).toFixed(4))} | ${fmt(a, (c) => mean(c.seconds).toFixed(2))} | ${fmt(a, (c) => mean(c.cpu).toFixed(2))} | ${m.surprise ?? '—'} | ${fmt(b, (c) => mean(c.rmse).toFixed(4))} | ${fmt(b, (c) => mean(c.seconds).toFixed(2))} | ${fmt(b, (c) => mean(c.cpu).toFixed(2))} |`);
  }
  const text = `${lines.join('\n')}\n\n${note}\n`;
  process.stdout.write(`${text}(${loadNote()} at the end)\n`);
  const results = flag(args, '--results');
  if (results) writeSection(results, `ratings:${set}`, `## Rating prediction: ${set}\n\n\`npm run bench -- ratings --movielens ${args.filter((a) => a !== '--movielens').join(' ')}\` (${loadNote()} at the end; both columns timed in the same run).\n\n${head}.\n\n${text}`);
}
