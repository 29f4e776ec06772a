/**
 * The `spark-als` model type. Without Spark: a saved spark-als is the ials/als model Spark's parameters map to
 * (the same recommendations, scores, fold-ins and similar items as that model holding the same factors), loads
 * and round-trips with neither Python nor Java, and fitting it without them says what to install — in an
 * experiment as a failed run (exit 1) while the other models run. On Spark (local mode; skipped with a message
 * when pyspark or Java is missing): `recsys experiment configs/spark-als-synthetic.yaml` fits spark-als on the
 * split's training part beside recsys's iALS with the mapped parameters, and their NDCG@10 agree within a small
 * tolerance (one Spark fit: a JVM per fit costs tens of seconds, so the fitted model's save → load is checked
 * above on the same arrays, without Spark).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AbortError } from '../../src/core/progress.js';
import { ParamError } from '../../src/core/params.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { capabilitiesOf, createModel, loadModel, type Recommender } from '../../src/models/index.js';
import { AlsRecommender } from '../../src/models/factorization/als.js';
import { IalsRecommender } from '../../src/models/factorization/ials.js';
import { SPARK_ALS_MODEL_PARAMS, SparkAlsRecommender, sparkAlsSnapshot, sparkMaster, sparkParamsOf } from '../../src/models/factorization/spark-als.js';
import { readManifest, saveTrainedModel } from '../../src/models/persistence.js';
import { checkSparkEnvironment, SparkUnavailableError } from '../../src/sparkjob/environment.js';
import { recsysModelFor } from '../../src/sparkjob/params.js';
import { runCli } from '../cli/helpers.js';
import { rejection } from '../rejection.js';

const env = await checkSparkEnvironment().catch((e: Error) => e);
const unavailable = env instanceof Error ? env.message : null;
if (unavailable) process.stderr.write(`test/spark/model: Spark tests skipped, Spark is not available here: ${unavailable}\n`);

const root = mkdtempSync(join(tmpdir(), 'recsys-spark-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const saved = { RECSYS_PYTHON: process.env.RECSYS_PYTHON, JAVA_HOME: process.env.JAVA_HOME };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
/** Neither the Python nor the Java Spark needs exist. */
function withoutSpark(): void {
  process.env.RECSYS_PYTHON = join(root, 'no-such-python');
  process.env.JAVA_HOME = join(root, 'no-such-java');
}

const data = syntheticDataset({ users: 40, items: 30, perUser: 8, seed: 5 }).interactions;

/** The same answers from both models for every capability. */
async function expectSameModel(a: Recommender, b: Recommender): Promise<void> {
  const users = Int32Array.from({ length: data.nUsers }, (_v, u) => u);
  const ra = await a.recommend(users, 5);
  const rb = await b.recommend(users, 5);
  expect(Array.from(ra.items)).toEqual(Array.from(rb.items));
  expect(Array.from(ra.scores)).toEqual(Array.from(rb.scores));
  const pu = Int32Array.from({ length: 60 }, (_v, j) => j % data.nUsers);
  const pi = Int32Array.from({ length: 60 }, (_v, j) => (j * 7) % data.nItems);
  expect(Array.from(await a.score!(pu, pi))).toEqual(Array.from(await b.score!(pu, pi)));
  const history = { items: [1, 4, 9], values: [1, 3, 2] };
  expect(Array.from(await a.foldIn!(history))).toEqual(Array.from(await b.foldIn!(history)));
  const ha = await a.recommendForHistory!(history, 4);
  expect(Array.from(ha.items)).toEqual(Array.from((await b.recommendForHistory!(history, 4)).items));
  expect(Array.from((await a.similarItems!(2, 4)).items)).toEqual(Array.from((await b.similarItems!(2, 4)).items));
}

/**
 * A spark-als directory holding the factors of a local ials/als fit with Spark's mapped parameters (what a
 * Spark fit would have produced, up to its initial factors), and that local model.
 */
async function savedSparkAls(dir: string, raw: Record<string, unknown>): Promise<Recommender> {
  const params = SPARK_ALS_MODEL_PARAMS.parse('test', raw);
  const spark = sparkParamsOf(params);
  const { modelType, hyperparameters } = recsysModelFor(spark);
  const local = modelType === 'ials' ? new IalsRecommender(hyperparameters) : new AlsRecommender(hyperparameters);
  await local.fit(data);
  const snap = sparkAlsSnapshot(data, spark, local.userFactors!.data, local.itemFactors!.data);
  expect(snap.modelType).toBe(modelType);
  await saveTrainedModel(dir, { modelType: 'spark-als', hyperparameters: { ...params }, train: data, state: snap.state, arrays: snap.arrays });
  return local;
}

describe('spark-als without Spark', () => {
  it('a saved spark-als (implicit) loads without Python or Java and answers as the ials model holding its factors', async () => {
    const dir = join(root, 'implicit');
    const local = await savedSparkAls(dir, { implicitPrefs: true, rank: 4, maxIter: 3, regParam: 0.05, alpha: 2 });
    withoutSpark();
    const loaded = await loadModel(dir);
    expect(loaded.name).toBe('spark-als');
    expect(capabilitiesOf(loaded)).toEqual(['score', 'similarItems', 'foldIn', 'recommendForHistory']);
    expect((loaded as SparkAlsRecommender).recsysModel?.name).toBe('ials');
    await expectSameModel(loaded, local);
    // save → load round trip keeps type, Spark's hyperparameters and every answer.
    const again = join(root, 'implicit-again');
    await loaded.save!(again);
    const manifest = await readManifest(again);
    expect(manifest.modelType).toBe('spark-als');
    expect(manifest.hyperparameters).toMatchObject({ implicitPrefs: true, rank: 4, regParam: 0.05, alpha: 2, master: '' });
    await expectSameModel(await loadModel(again), local);
  });

  it('explicit ratings: the als model (ALS-WR), cold pairs NaN as Spark\'s coldStartStrategy', async () => {
    const dir = join(root, 'explicit');
    const local = await savedSparkAls(dir, { implicitPrefs: false, rank: 3, maxIter: 3, regParam: 0.1 });
    withoutSpark();
    const loaded = await loadModel(dir);
    expect((loaded as SparkAlsRecommender).recsysModel?.name).toBe('als');
    await expectSameModel(loaded, local);
    const cold = data.itemCounts().findIndex((c) => c === 0);
    if (cold >= 0) expect(Number.isNaN((await loaded.score!(Int32Array.from([0]), Int32Array.from([cold])))[0])).toBe(true);
  });

  it('fitting without Python/pyspark says what to install and leaves the model unfitted', async () => {
    withoutSpark();
    const m = createModel('spark-als', { implicitPrefs: true, rank: 2 });
    const e = await rejection(m.fit(data));
    expect(e).toBeInstanceOf(SparkUnavailableError);
    expect(e.message).toMatch(/no-such-python was not found; install Python 3 and `pip install pyspark`/);
    expect((m as SparkAlsRecommender).fitted).toBe(false);
    await expect(m.recommend([0], 3)).rejects.toThrow(/spark-als: used before fit or load/);
    const aborted = new AbortController();
    aborted.abort();
    expect(await rejection(m.fit(data, { signal: aborted.signal }))).toBeInstanceOf(AbortError);
  });

  it('checks its own hyperparameters at construction; the master comes from the param, else RECSYS_SPARK_MASTER, else local[2]', () => {
    expect(() => createModel('spark-als', { driverMemory: 'lots' })).toThrow(ParamError);
    expect(() => createModel('spark-als', { rank: 0 })).toThrow(/rank must be an integer >= 1/);
    expect(() => createModel('spark-als', { factors: 8 })).toThrow(/unknown hyperparameter "factors"/);
    const p = SPARK_ALS_MODEL_PARAMS.parse('t', {});
    expect(sparkMaster(p, {})).toBe('local[2]');
    expect(sparkMaster(p, { RECSYS_SPARK_MASTER: 'spark://h:7077' })).toBe('spark://h:7077');
    expect(sparkMaster({ ...p, master: 'local[1]' }, { RECSYS_SPARK_MASTER: 'spark://h:7077' })).toBe('local[1]');
  });

  it('recsys experiment: spark-als without Spark is a failed run (exit 1) with what to install; the other models finish', async () => {
    withoutSpark();
    const config = join(root, 'no-spark.yaml');
    writeFileSync(config, [
      'name: no spark',
      'dataset: { name: synthetic, users: 60, items: 40, perUser: 8 }',
      'split: { method: random, testRatio: 0.2 }',
      'metrics: [ndcg@10]',
      'bootstrap: 0',
      'models:',
      '  - { model: spark-als, params: { implicitPrefs: true, rank: 4 } }',
      '  - popularity',
    ].join('\n'));
    const r = await runCli(['experiment', config, '--format', 'json', '--no-progress', '--keep-going']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 2 models failed: spark-als \(Spark runs through Python, but .*no-such-python was not found; install Python 3 and `pip install pyspark`/);
    const results = JSON.parse(r.stdout) as { models: { label: string; error?: string; metrics: Record<string, { mean: number }> }[] };
    expect(results.models.map((m) => m.label)).toEqual(['spark-als', 'popularity']);
    expect(results.models[0].error).toMatch(/pyspark/);
    expect(results.models[1].metrics['ndcg@10'].mean).toBeGreaterThan(0);
  });
});

describe.skipIf(unavailable !== null)('spark-als on Spark local mode (integration)', () => {
  it('recsys experiment configs/spark-als-synthetic.yaml: spark-als fitted on the training part agrees with iALS on NDCG@10', async () => {
    const out = join(root, 'experiment.json');
    const r = await runCli(['experiment', 'configs/spark-als-synthetic.yaml', '--format', 'json', '--out', out, '--no-progress']);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { models: { label: string; fitSeconds: number; notes: string[]; metrics: Record<string, { mean: number }> }[] };
    const [spark, ials, pop] = results.models;
    expect(spark.label).toBe('spark-als');
    expect(spark.notes.some((n) => /^fitted by Spark \d+\.\d+\.\d+ on local\[2\], as ials$/.test(n))).toBe(true);
    const ndcg = (m: typeof spark): number => m.metrics['ndcg@10'].mean;
    process.stderr.write(`spark-als vs ials: NDCG@10 ${ndcg(spark).toFixed(4)} vs ${ndcg(ials).toFixed(4)} (popularity ${ndcg(pop).toFixed(4)}); ROEM ${spark.metrics.roem.mean.toFixed(4)} vs ${ials.metrics.roem.mean.toFixed(4)}; fit ${spark.fitSeconds.toFixed(1)} s vs ${ials.fitSeconds.toFixed(2)} s\n`);
    expect(Math.abs(ndcg(spark) - ndcg(ials))).toBeLessThan(0.03);
    expect(Math.abs(spark.metrics.roem.mean - ials.metrics.roem.mean)).toBeLessThan(0.02);
  }, 240_000);
});
