import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { loadKuaiRec } from '../../src/data/datasets/kuairec.js';
import { loadDataset } from '../../src/data/datasets/registry.js';
import { multiHotLabels } from '../../src/data/features.js';
import { KUAIREC_COLUMNS, writeSyntheticKuaiRec } from '../../src/data/synthetic/kuairec.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-kuairec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { users: 40, items: 60, bigRows: 900, smallUsers: 8, smallItems: 10, missingTimeRows: 3, outlierRate: 0.01, seed: 5, gzip: false };

/** Naive reference: parse a (possibly gzipped) CSV file in JS, splitting on commas outside quotes. */
function parseCsv(path: string): string[][] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((f) => f.replace(/,$/, '').replace(/^"|"$/g, '')).slice(0, -1));
}

describe('synthetic KuaiRec files', () => {
  beforeAll(() => {
    writeSyntheticKuaiRec(join(dir, 'tiny'), TINY);
    writeFileSync(join(dir, 'tiny', 'SYNTHETIC'), 'test\n');
  });

  it('have the real files’ exact headers', () => {
    const header = (f: string): string => readFileSync(join(dir, 'tiny', f), 'utf8').split('\n')[0];
    expect(header('big_matrix.csv')).toBe(KUAIREC_COLUMNS.matrix.join(','));
    expect(header('small_matrix.csv')).toBe('user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio');
    expect(header('item_categories.csv')).toBe('video_id,feat');
    expect(header('social_network.csv')).toBe('user_id,friend_list');
    expect(header('user_features.csv').split(',')).toHaveLength(13 + 18);
    expect(header('item_daily_features.csv').split(',')).toHaveLength(58);
    expect(header('kuairec_caption_category.csv').split(',')).toEqual([...KUAIREC_COLUMNS.captionCategory]);
  });

  it('are deterministic for a seed', () => {
    writeSyntheticKuaiRec(join(dir, 'again'), TINY);
    expect(readFileSync(join(dir, 'again', 'big_matrix.csv'), 'utf8')).toBe(readFileSync(join(dir, 'tiny', 'big_matrix.csv'), 'utf8'));
  });

  it('load into matrices equal to a naive JS parse of the files', async () => {
    const ds = await loadKuaiRec('kuairec', { path: join(dir, 'tiny'), duplicatePolicy: 'max' });
    expect(ds.description).toMatch(/SYNTHETIC/);
    const rows = parseCsv(join(dir, 'tiny', 'big_matrix.csv')).slice(1);
    const best = new Map<string, number>();
    for (const r of rows) {
      const key = `${r[0]},${r[1]}`;
      best.set(key, Math.max(best.get(key) ?? -Infinity, Number(r[7])));
    }
    const x = ds.interactions;
    expect(x.nnz).toBe(best.size);
    expect(ds.report.duplicates.merged).toBe(rows.length - best.size);
    for (const [key, v] of best) {
      const [u, i] = key.split(',').map(Number);
      expect(x.get(x.users.indexOf(u), x.items.indexOf(i))).toBeCloseTo(v, 4);
    }
    // play_duration travels with its event.
    for (let p = 0; p < x.nnz; p += 37) {
      const ratio = ds.eventColumns.play_duration[p] / ds.eventColumns.video_duration[p];
      expect(ratio).toBeCloseTo(x.values[p], 3);
    }
  });

  it('small_matrix is fully observed in the same index spaces, with missing times kept and counted', async () => {
    const ds = await loadKuaiRec('kuairec', { path: join(dir, 'tiny') });
    const t = ds.test!;
    expect(t.nUsers).toBe(ds.interactions.nUsers);
    expect(t.nItems).toBe(ds.interactions.nItems);
    expect(t.nnz).toBe(TINY.smallUsers * TINY.smallItems);
    const rowsWithData = Array.from(t.userCounts()).filter((c) => c > 0);
    expect(rowsWithData).toEqual(new Array(TINY.smallUsers).fill(TINY.smallItems));
    let nan = 0;
    for (const v of t.timestamps!) if (Number.isNaN(v)) nan++;
    expect(nan).toBe(TINY.missingTimeRows);
    const issue = ds.report.issues.find((i) => i.kind === 'missing time')!;
    expect(issue).toMatchObject({ count: 3, action: 'kept', field: 'timestamp' });
    const lines = parseCsv(join(dir, 'tiny', 'small_matrix.csv'));
    for (const l of issue.lines) expect(lines[l - 1][6]).toBe('');
    // Small-matrix pairs are not in big_matrix.
    for (let u = 0; u < t.nUsers; u++) for (const i of t.userItems(u)) expect(ds.interactions.find(u, i)).toBe(-1);
  });

  it('reports extreme watch ratios, and clips them on request', async () => {
    const kept = await loadKuaiRec('kuairec', { path: join(dir, 'tiny'), interactionsOnly: true });
    const out = kept.report.issues.find((i) => i.kind.startsWith('extreme watch_ratio') && i.file.endsWith('big_matrix.csv'))!;
    expect(out.count).toBeGreaterThan(0);
    expect(out.action).toBe('kept');
    const clipped = await loadKuaiRec('kuairec', { path: join(dir, 'tiny'), interactionsOnly: true, clip: 5 });
    expect(Math.max(...clipped.interactions.values)).toBeLessThanOrEqual(5);
    expect(clipped.report.issues.some((i) => i.action === 'clipped' && i.count >= out.count)).toBe(true);
    expect(clipped.itemFeatures).toBeUndefined();
  });

  it('side files become features aligned with the item and user indices', async () => {
    const ds = await loadKuaiRec('kuairec', { path: join(dir, 'tiny') });
    const cats = parseCsv(join(dir, 'tiny', 'item_categories.csv')).slice(1);
    const tags = ds.itemFeatures!.multiHot.tags;
    for (const [vid, feat] of cats) {
      const i = ds.interactions.items.indexOf(Number(vid));
      if (i < 0) continue;
      const want = [...new Set(feat.slice(1, -1).split(',').map((s) => s.trim()))].sort((a, b) => Number(a) - Number(b));
      expect(multiHotLabels(tags, i)).toEqual(want);
    }
    const f = ds.itemFeatures!;
    expect(Object.keys(f.numeric)).toEqual(expect.arrayContaining(['like_per_play', 'complete_per_play', 'share_per_play']));
    expect(f.text.caption).toHaveLength(ds.interactions.nItems);
    expect(f.categorical.category1.codes).toHaveLength(ds.interactions.nItems);
    expect(ds.userFeatures!.numeric.register_days).toHaveLength(ds.interactions.nUsers);
    expect(ds.social!.rowPtr).toHaveLength(ds.interactions.nUsers + 1);
  });

  it('a missing full data set gives a message naming the file and the folders', async () => {
    await expect(loadKuaiRec('kuairec', { path: join(dir, 'none'), dataDir: join(dir, 'cache') })).rejects.toThrow(/big_matrix\.csv not found[\s\S]*recsys datasets download kuairec/);
  });
});

describe('embedded kuairec-sample', () => {
  let ds: LoadedDataset;
  beforeAll(async () => {
    ds = await loadDataset('kuairec-sample');
  });

  it('loads with no options, labelled synthetic, with test matrix and features', () => {
    expect(ds.name).toBe('kuairec-sample');
    expect(ds.valueKind).toBe('watch_ratio');
    expect(ds.description).toMatch(/SYNTHETIC/);
    expect(ds.report.notes.join(' ')).toMatch(/SYNTHETIC/);
    expect(ds.interactions.nUsers).toBe(1000);
    expect(ds.interactions.nItems).toBe(1500);
    expect(ds.interactions.nnz).toBeGreaterThan(100_000);
    expect(ds.test!.nnz).toBe(200 * 300);
    expect(ds.report.issues.find((i) => i.kind === 'missing time')!.count).toBe(24);
    expect(ds.report.duplicates.merged).toBeGreaterThan(0);
    expect(ds.itemFeatures).toBeDefined();
    expect(ds.userFeatures).toBeDefined();
    expect(ds.social).toBeDefined();
  });

  it('has long-tail popularity and a long right tail of watch ratio', () => {
    const counts = Array.from(ds.interactions.itemCounts()).sort((a, b) => b - a);
    const top = counts.slice(0, counts.length / 10).reduce((a, b) => a + b, 0);
    // Uniform popularity would give 0.1.
    expect(top / ds.interactions.nnz).toBeGreaterThan(0.2);
    const v = Array.from(ds.interactions.values).sort((a, b) => a - b);
    const median = v[v.length >> 1];
    expect(median).toBeGreaterThan(0.4);
    expect(median).toBeLessThan(1.5);
    expect(v[v.length - 1]).toBeGreaterThan(20);
  });
  it('has preference structure: a user-kNN on big_matrix beats popularity on the fully observed small_matrix', () => {
    const x = ds.interactions;
    const t = ds.test!;
    const pop = x.itemCounts();
    const c = x.csc();
    const uc = x.userCounts();
    // NDCG@20 with the watch ratio (capped at 5) as graded gain, over each small-matrix user's items.
    const ndcg = (scores: ArrayLike<number>, u: number): number => {
      const items = Array.from(t.userItems(u));
      const gains = Array.from(t.userValues(u), (v) => Math.min(v, 5));
      const ranked = items.map((i, j) => [scores[i], gains[j]] as const).sort((a, b) => b[0] - a[0]);
      const ideal = [...gains].sort((a, b) => b - a);
      let dcg = 0;
      let idcg = 0;
      for (let r = 0; r < 20; r++) {
        dcg += ranked[r][1] / Math.log2(r + 2);
        idcg += ideal[r] / Math.log2(r + 2);
      }
      return dcg / idcg;
    };
    const mark = new Uint8Array(x.nItems);
    const sim = new Float64Array(x.nUsers);
    const score = new Float64Array(x.nItems);
    let popSum = 0;
    let knnSum = 0;
    let n = 0;
    for (let u = 0; u < t.nUsers; u++) {
      if (t.rowPtr[u + 1] === t.rowPtr[u]) continue;
      mark.fill(0);
      for (const i of x.userItems(u)) mark[i] = 1;
      for (let v = 0; v < x.nUsers; v++) {
        let o = 0;
        for (const i of x.userItems(v)) o += mark[i];
        sim[v] = v === u ? 0 : o / Math.sqrt(uc[v] * uc[u] + 1e-9);
      }
      score.fill(0);
      for (const i of t.userItems(u)) for (let q = c.colPtr[i]; q < c.colPtr[i + 1]; q++) score[i] += sim[c.rowIdx[q]];
      popSum += ndcg(pop, u);
      knnSum += ndcg(score, u);
      n++;
    }
    expect(n).toBe(200);
    expect(knnSum / n).toBeGreaterThan((popSum / n) * 1.05);
  });
});

describe('scripts/make-kuairec-sample.ts --from', () => {
  it('samples full-format files keeping the small matrix fully observed and the synthetic label', async () => {
    const { execFileSync } = await import('node:child_process');
    const full = join(dir, 'fullish');
    writeSyntheticKuaiRec(full, { ...TINY, users: 80, items: 120, bigRows: 3000, smallUsers: 12, smallItems: 20 });
    writeFileSync(join(full, 'SYNTHETIC'), 'test\n');
    const out = join(dir, 'sampled');
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/make-kuairec-sample.ts', '--from', full, '--out', out, '--users', '5', '--items', '7', '--extra-users', '30'], { stdio: 'ignore' });
    const ds = await loadKuaiRec('kuairec-sample', { path: out });
    expect(ds.test!.nnz).toBe(5 * 7);
    expect(Array.from(ds.test!.userCounts()).filter((c) => c > 0)).toEqual([7, 7, 7, 7, 7]);
    expect(ds.description).toMatch(/SYNTHETIC/);
    const users = new Set(Array.from({ length: ds.interactions.nUsers }, (_, u) => ds.interactions.users.idOf(u)));
    expect(users.size).toBeLessThanOrEqual(35);
  }, 30_000);
});
