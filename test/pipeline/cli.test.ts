import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-pipeline-cli-'));
const model = join(dir, 'ials');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  const r = await runCli(['train', '--dataset', 'kuairec-sample', '--model', 'ials', '--param', 'factors=8', '--param', 'iterations=3', '--out', model]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

interface Item {
  item: string | number;
  score: number;
  source: string;
  rank: number;
}

describe('recsys pipeline', () => {
  it('prints the three stages as JSON with sources; ranked equals recommend', async () => {
    const r = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--popularity', '10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { retrieved: Item[]; ranked: Item[]; explored: Item[]; rankedBy: string };
    expect(out.retrieved.length).toBe(110);
    expect(new Set(out.retrieved.map((x) => x.source))).toEqual(new Set(['exact', 'popularity']));
    expect(out.ranked.map((x) => x.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(out.explored).toEqual(out.ranked);
    const rec = await runCli(['recommend', '--model', model, '--user', '0', '-k', '5', '--json']);
    const ref = JSON.parse(rec.stdout) as { items: Array<{ item: string | number }> };
    expect(out.ranked.map((x) => x.item)).toEqual(ref.items.map((x) => x.item));
  }, 60_000);

  it('--ann builds the IVF index next to the model, then loads it; every list probed, the lists are exact', async () => {
    const a = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--ann', '--nprobe', '4096', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/built IVF index \(\d+ lists\)/);
    expect(existsSync(`${model}.ivf`)).toBe(true);
    const out = JSON.parse(a.stdout) as { retrieval: string; retrieved: Item[]; ranked: Item[] };
    expect(out.retrieval).toBe('ivf');
    expect(out.retrieved.every((x) => x.source === 'ann')).toBe(true);
    const exact = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--json']);
    expect(out.ranked.map((x) => x.item)).toEqual((JSON.parse(exact.stdout) as { ranked: Item[] }).ranked.map((x) => x.item));
    const b = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--ann', 'ivf']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).not.toMatch(/built IVF index/);
    expect(b.stdout).toMatch(/ivf retrieval/);
    const wrong = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', 'ivf', '--ef', '64']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--ef is an HNSW setting \(--ann hnsw\)/);
    const both = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', '--nprobe', '8', '--hnsw-m', '8']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--hnsw-m is an HNSW setting/);
    const other = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', 'hnsw', '--nprobe', '8']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--nprobe is an IVF setting \(--ann ivf\)/);
    const kind = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', 'faiss']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--ann takes ivf or hnsw \(got "faiss"\)/);
    const stray = await runCli(['pipeline', '--model', model, '--user', '0', '--nprobe', '8']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--nprobe needs --ann/);
  }, 90_000);

  it('--ann hnsw builds the HNSW index next to the model, then loads it; --explore-report writes HTML and JSON', async () => {
    const report = join(dir, 'explore.html');
    const a = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--ann', 'hnsw', '--explore', 'sampling', '--temperature', '0.05', '--explore-report', report, '--runs', '5']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/built HNSW index/);
    expect(existsSync(`${model}.hnsw`)).toBe(true);
    expect(a.stdout).toMatch(/explored \(sampling\)/);
    expect(a.stdout).toMatch(/ann/);
    expect(readFileSync(report, 'utf8')).toMatch(/<svg/);
    const data = JSON.parse(readFileSync(join(dir, 'explore.json'), 'utf8')) as { runs: number; items: unknown[]; with: { coverage: number } };
    expect(data.runs).toBe(5);
    expect(data.items.length).toBeGreaterThan(0);
    const b = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--ann', 'hnsw']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).not.toMatch(/built HNSW index/);
    const meta = (): { params: { mips: string; quantization: string } } => JSON.parse(readFileSync(`${model}.hnsw.json`, 'utf8')) as { params: { mips: string; quantization: string } };
    expect(meta().params.mips).toBe('augmented');
    expect(meta().params.quantization).toBe('f32');
    const c = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--ann', 'hnsw', '--rebuild-ann', '--hnsw-mips', 'ip', '--hnsw-quant', 'f16', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(meta().params.mips).toBe('ip');
    expect(meta().params.quantization).toBe('f16');
    const exact = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '5', '--json']);
    const itemsOf = (text: string): unknown[] => (JSON.parse(text) as { ranked: Item[] }).ranked.map((x) => x.item);
    expect(itemsOf(c.stdout)).toEqual(itemsOf(exact.stdout));
    const bad = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', 'hnsw', '--hnsw-mips', 'cos']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--hnsw-mips must be augmented or ip \(got "cos"\)/);
    const badQuant = await runCli(['pipeline', '--model', model, '--user', '0', '--ann', 'hnsw', '--hnsw-quant', 'i8']);
    expect(badQuant.code).toBe(2);
    expect(badQuant.stderr).toMatch(/--hnsw-quant must be f32 or f16 \(got "i8"\)/);
  }, 90_000);

  it('--store --build-store shows item features from the store', async () => {
    const r = await runCli(['pipeline', '--model', model, '--user', '0', '-k', '3', '--store', '--build-store', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ranked: Array<Item & { features: Record<string, unknown> | null }> };
    for (const x of out.ranked) expect(x.features?.events).toBeGreaterThan(0);
  }, 90_000);

  it('usage errors exit 2 with a message naming the flag', async () => {
    const bad = await runCli(['pipeline', '--model', model, '--user', '0', '--explore', 'wild']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--explore: unknown exploration strategy "wild"/);
    const who = await runCli(['pipeline', '--model', model, '--user', 'no-such-user']);
    expect(who.code).toBe(2);
    expect(who.stderr).toMatch(/unknown user id/);
    const rep = await runCli(['pipeline', '--model', model, '--user', '0', '--explore-report', join(dir, 'x.html')]);
    expect(rep.code).toBe(2);
    expect(rep.stderr).toMatch(/--explore-report needs --explore/);
  }, 60_000);
});
