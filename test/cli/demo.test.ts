import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { demoSectionBuilders, edaBuilder, partialReportPath, runDemo, type SectionBuilder } from '../../src/cli/commands/demo.js';
import { DEMO_RANKING_MODELS, DEMO_RATING_MODELS, QUICK_RANKING_MODELS, QUICK_RATING_MODELS, rankingBuilder, sampleUsers } from '../../src/cli/commands/demo-models.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { FakeTty } from './fake-tty.js';
import { modelEntry } from '../../src/models/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'recsys-demo-cli-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Captures what is written to process.stdout and process.stderr while `run` runs. */
async function captureStreams<T>(run: () => Promise<T>): Promise<{ result: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const result = await run();
    return { result, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

const tiny = [{ label: 'popularity', model: 'popularity', params: {}, cost: 1 }];

describe('demo output streams', () => {
  it('writes the cleaning report, the EDA summary and the result tables to stdout, logs to stderr', async () => {
    const out = join(await tempDir(), 'report.html');
    const { stdout, stderr } = await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false, builders: [edaBuilder, rankingBuilder(tiny)] }));
    expect(stdout).toMatch(/Cleaning: [\d,]+ rows read/);
    expect(stdout).toMatch(/users\s+items\s+interactions/);
    expect(stdout).toMatch(/Ranking models — per-user 80\/20 holdout/);
    expect(stdout).toMatch(/^popularity\s+0\.\d{4} ± 0\.\d{4}/m);
    // stderr: log lines only, none of the tables.
    expect(stderr).toMatch(/popularity: fit [\d.]+ s/);
    expect(stderr).toMatch(/split: per-user ratio holdout/);
    expect(stderr).not.toMatch(/Cleaning:|precision@10|± 0\./);
  });
});

describe('demo progress line', () => {
  it('shows "[stage/stages name] model k/n …" on the terminal and leaves only logs and the summary behind', async () => {
    const tty = new FakeTty(80);
    const out = join(await tempDir(), 'report.html');
    const two = [...tiny, { label: 'EASE', model: 'ease', params: { reg: 500 }, cost: 1 }];
    await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progressStream: tty, builders: [edaBuilder, rankingBuilder(two)] }));
    expect(tty.raw).toMatch(/\[1\/2 EDA\] 3\/3 charts · elapsed \d:\d\d · ETA /);
    expect(tty.raw).toMatch(/\[2\/2 ranking models\] 2\/2 EASE [^\r\n]*· elapsed \d:\d\d · ETA (\d+:\d\d|–)/);
    const lines = tty.lines();
    expect(lines[lines.length - 1]).toMatch(/^demo finished in \d:\d\d$/);
    expect(lines.join('\n')).not.toMatch(/\[\d\/2 /); // the status line is gone
    expect(lines.join('\n')).toMatch(/EASE: fit [\d.]+ s/); // logs stay, above it
  });
});

describe('interrupted demo', () => {
  it('writes report.partial.html with an INCOMPLETE banner and leaves the complete report as it was', async () => {
    const dir = await tempDir();
    const out = join(dir, 'report.html');
    await writeFile(out, '<p>the last complete report</p>');
    const controller = new AbortController();
    const ran: string[] = [];
    const stopper: SectionBuilder = {
      name: 'ranking models',
      plan: () => [{ label: 'first', weight: 1 }, { label: 'second', weight: 1 }],
      build: async (ctx) => {
        ran.push('ranking');
        ctx.tracker.startUnit('first');
        controller.abort(); // Ctrl-C during the first model
        return [{ id: 'half', title: 'Half of the models', html: '<p>first model only</p>' }];
      },
    };
    const never: SectionBuilder = { name: 'rating models', build: async () => (ran.push('rating'), []) };
    const { result } = await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false, builders: [edaBuilder, stopper, never], signal: controller.signal }));
    expect(ran).toEqual(['ranking']);
    expect(await readFile(out, 'utf8')).toBe('<p>the last complete report</p>');
    const partial = join(dir, 'report.partial.html');
    expect(result).toMatchObject({ interrupted: true, reportPath: partial });
    const html = await readFile(partial, 'utf8');
    expect(html).toMatch(/INCOMPLETE: interrupted after \d+:\d\d, during ranking models \(first, 1 of 2\)\./);
    expect(html).toMatch(/Finished: EDA\./);
    expect(html).toMatch(/Not run: rating models\./);
    expect(html).toContain('id="overview"');
    expect(html).toContain('first model only');
    expect(html.indexOf('INCOMPLETE')).toBeLessThan(html.indexOf('id="overview"'));
  });

  it('a later complete run replaces the report and removes its own stale partial report, not a user\'s file', async () => {
    const dir = await tempDir();
    const out = join(dir, 'report.html');
    const controller = new AbortController();
    const stop: SectionBuilder = { name: 'stop', build: async () => (controller.abort(), []) };
    await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false, builders: [edaBuilder, stop], signal: controller.signal }));
    expect(existsSync(partialReportPath(out))).toBe(true);
    await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false, builders: [edaBuilder] }));
    expect(existsSync(partialReportPath(out))).toBe(false);
    expect(await readFile(out, 'utf8')).toContain('id="overview"');
    // A file of that name that the demo did not write stays.
    await writeFile(partialReportPath(out), 'my notes');
    await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false, builders: [edaBuilder] }));
    expect(await readFile(partialReportPath(out), 'utf8')).toBe('my notes');
  });

  it('names the partial report beside the report', () => {
    expect(partialReportPath('/x/out/report.html')).toBe('/x/out/report.partial.html');
    expect(partialReportPath('/x/out/r.HTM')).toBe('/x/out/r.partial.html');
    expect(partialReportPath('/x/out/report')).toBe('/x/out/report.partial.html');
  });
});

describe('demo data fallback', () => {
  it('falls back to the embedded sample only when the full KuaiRec is absent, not on other errors', async () => {
    const dataDir = await tempDir();
    await mkdir(join(dataDir, 'kuairec'));
    // A present but broken big_matrix.csv: its error mentions "not found" (a column), yet it must surface.
    await writeFile(join(dataDir, 'kuairec', 'big_matrix.csv'), 'user_id,video_id,something\n1,2,3\n');
    const lines: string[] = [];
    await expect(runDemo({ out: join(dataDir, 'r.html'), progress: false, loadOptions: { dataDir }, log: (l) => lines.push(l), print: () => {}, builders: [] }))
      .rejects.toThrow(/big_matrix/);
    expect(lines.join('\n')).not.toMatch(/using the embedded synthetic sample/);
  });
});

describe('demo profiles', () => {
  it('the quick profile keeps every model of the full comparison, changing only the slow ones', () => {
    expect(QUICK_RANKING_MODELS.map((m) => m.label)).toEqual(DEMO_RANKING_MODELS.map((m) => m.label));
    expect(QUICK_RATING_MODELS.map((m) => m.label)).toEqual(DEMO_RATING_MODELS.map((m) => m.label));
    const changed = [...QUICK_RANKING_MODELS, ...QUICK_RATING_MODELS].filter((q) => {
      const f = [...DEMO_RANKING_MODELS, ...DEMO_RATING_MODELS].find((m) => m.label === q.label)!;
      return JSON.stringify(f.params) !== JSON.stringify(q.params);
    }).map((m) => m.label);
    expect(changed).toEqual(['DeepAutoEncoder', 'Mult-DAE', 'Mult-VAE', 'two-tower', 'biased MF (SGD)', 'MLP ranker']);
    // Every setting is a real hyperparameter of its model.
    for (const m of [...QUICK_RANKING_MODELS, ...QUICK_RATING_MODELS]) {
      for (const key of Object.keys(m.params)) expect(Object.keys(modelEntry(m.model).defaults), `${m.label}.${key}`).toContain(key);
    }
  });

  it('samples users for large data in the quick profile, keeping every test-matrix user', () => {
    const ds = syntheticDataset({ users: 300, items: 80, seed: 3 });
    const x = ds.interactions;
    const testUsers = [5, 17, 250];
    const test = x.selectUsers(testUsers);
    const { dataset, note } = sampleUsers({ ...ds, test }, 100);
    const counts = dataset.interactions.userCounts();
    const kept = [...counts.keys()].filter((u) => counts[u] > 0);
    expect(kept).toHaveLength(100);
    for (const u of testUsers) expect(kept).toContain(u);
    for (const u of kept) expect(counts[u]).toBe(x.userCounts()[u]); // whole rows kept
    expect(dataset.interactions.nUsers).toBe(x.nUsers); // same index spaces
    expect(note).toMatch(/100 of 300 users/);
    expect(sampleUsers(ds, 300)).toEqual({ dataset: ds, note: null });
  });
});

describe('npm start (the quick demo) on the embedded sample', () => {
  it('shows every part (EDA, each model family, the KuaiRec protocol, rating) within 90 s of CPU time', async () => {
    const out = join(await tempDir(), 'report.html');
    const cpu0 = process.cpuUsage();
    const { result, stdout } = await captureStreams(() => runDemo({ dataset: 'kuairec-sample', out, progress: false }));
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    expect(cpuSeconds).toBeLessThan(90);
    const ids = result.sections.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['overview', 'activity', 'models-holdout', 'models-kuairec', 'models-rating', 'pipeline']));
    // it ends with one user's pipeline: retrieved (HNSW + popularity), ranked by the EASE ranker, explored
    expect(ids.at(-1)).toBe('pipeline');
    expect(stdout).toMatch(/retrieved: \d+ candidates \(ann \d+(, popularity \d+)?\)/);
    expect(stdout).toMatch(/ranked \(by ranker\):/);
    expect(stdout).toMatch(/explored \(least-viewed \+ sampling\):/);
    const html = await readFile(out, 'utf8');
    for (const m of [...QUICK_RANKING_MODELS, ...QUICK_RATING_MODELS]) expect(stdout, m.label).toMatch(new RegExp(`^${m.label.replace(/[()+]/g, '\\$&')}\\s+\\d`, 'm'));
    expect(html).toContain('Reduced settings of the quick demo');
    expect(html).toMatch(/two-tower<\/td><td>epochs=3, batchSize=128, positiveThreshold=2<\/td><td>epochs=10<\/td>/);
    expect(demoSectionBuilders.map((b) => b.name)).toEqual(['EDA', 'ranking models', 'KuaiRec protocol', 'rating models', 'pipeline']);
  }, 300_000);
});
