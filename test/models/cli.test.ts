/** `recsys train` on a generated CSV file and `recsys recommend` on the saved model. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { modelEntries } from '../../src/models/index.js';
import { readManifest } from '../../src/models/persistence.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-cli-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'recsys', ...args]);
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out.join('');
}

describe('train and recommend commands', () => {
  // Users u1..u6 like items a,b,c (group 1) or x,y,z (group 2); string ids exercise the id maps.
  const rows = ['user,item,rating'];
  for (let u = 1; u <= 6; u++) for (const it of u <= 3 ? ['a', 'b', 'c'] : ['x', 'y', 'z']) if (!(u === 1 && it === 'c')) rows.push(`u${u},${it},5`);
  rows.push('u1,x,1');
  const csv = join(root, 'ratings.csv');
  writeFileSync(csv, rows.join('\n') + '\n');
  const dir = join(root, 'model');

  it('trains item-knn from a file with a column mapping and recommends unseen items by external id', async () => {
    const text = await run(['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--model', 'item-knn', '--param', 'neighbors=3', '--out', dir]);
    expect(text).toMatch(/fitted item-knn in .* saved to/);
    const m = await readManifest(dir);
    expect(m.modelType).toBe('item-knn');
    expect(m.provenance.input).toBe(csv);
    expect(m.hyperparameters.neighbors).toBe(3);
    const rec = await run(['recommend', '--model', dir, '--user', 'u1', '-k', '1']);
    expect(rec).toMatch(/top 1 for user u1/);
    expect(rec).toMatch(/ 1\. c /);
    const sim = await run(['recommend', '--model', dir, '--item', 'a', '-k', '2']);
    expect(sim.split('\n').slice(1, 3).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(['b', 'c']);
  });

  it('rejects unknown users, bad parameters and missing inputs clearly', async () => {
    await expect(run(['recommend', '--model', dir, '--user', 'nobody'])).rejects.toThrow(/unknown user id "nobody"/);
    await expect(run(['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--model', 'ials', '--param', 'factorz=3', '--out', join(root, 'x')])).rejects.toThrow(/unknown hyperparameter "factorz"/);
    await expect(run(['train', '--model', 'ials', '--out', join(root, 'y')])).rejects.toThrow(/--dataset NAME or --input FILE/);
  });
});

describe('models command', () => {
  it('--json lists every registered model with its capabilities and each hyperparameter from the schema', async () => {
    const out = JSON.parse(await run(['models', '--json'])) as { models: { name: string; description: string; capabilities: string[]; params: { name: string; kind: string; default: unknown; expects: string; doc: string; min?: number; exclusiveMin?: boolean }[] }[] };
    expect(out.models.map((m) => m.name)).toEqual(modelEntries().map((e) => e.name));
    for (const m of out.models) {
      const e = modelEntries().find((x) => x.name === m.name);
      expect(m.description).toBe(e?.description);
      expect(m.params.map((p) => [p.name, p.kind, p.default, p.expects])).toEqual(e?.params.describe().map((p) => [p.name, p.kind, p.default, p.expects]));
    }
    const ials = out.models.find((m) => m.name === 'ials');
    expect(ials?.capabilities).toEqual(['score', 'similarItems', 'foldIn', 'recommendForHistory']);
    expect(ials?.params.find((p) => p.name === 'factors')).toEqual({ name: 'factors', kind: 'int', default: 64, expects: 'an integer >= 1', doc: 'latent dimensions', min: 1 });
    expect(ials?.params.find((p) => p.name === 'eps')).toMatchObject({ min: 0, exclusiveMin: true });
    expect(ials?.params.find((p) => p.name === 'solver')).toMatchObject({ kind: 'choice', choices: ['cg', 'cholesky'], default: 'cg' });
  });

  it('prints one model as text, rejects an unknown one, and train --help points to it', async () => {
    const text = await run(['models', 'ease']);
    expect(text).toMatch(/^ease — EASE/);
    expect(text).toMatch(/reg +500 +a number > 0: λ added to the Gram diagonal/);
    expect(text).not.toMatch(/ials/);
    await expect(run(['models', 'nope'])).rejects.toThrow(/unknown model "nope"/);
    const help: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (help.push(String(chunk)), true));
    try {
      await expect(buildProgram().exitOverride().parseAsync(['node', 'recsys', 'train', '--help'])).rejects.toThrow();
    } finally {
      spy.mockRestore();
    }
    expect(help.join('').replace(/\s+/g, ' ')).toMatch(/`recsys models <type>` lists them/);
  });

  it('train coerces --param through the schema and reports a bad value naming model and key', async () => {
    const csv = join(root, 'tiny.csv');
    writeFileSync(csv, 'user,item\na,x\nb,y\na,y\n');
    await expect(run(['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--model', 'ials', '--param', 'factors=abc', '--out', join(root, 'z')])).rejects.toThrow(/ials: factors must be an integer >= 1 \(got "abc"\)/);
    await run(['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--model', 'ials', '--param', 'factors=2', '--param', 'solver=cholesky', '--param', 'iterations=1', '--out', join(root, 'z')]);
    const m = await readManifest(join(root, 'z'));
    expect(m.hyperparameters).toMatchObject({ factors: 2, solver: 'cholesky', iterations: 1 });
  });
});

describe('item metadata lines', () => {
  it('shows title, year, categorical values and multi-hot labels, and stops at padding', async () => {
    const { describerFor, formatTopK } = await import('../../src/cli/commands/recommend.js');
    const { IdMap } = await import('../../src/data/id-map.js');
    const items = IdMap.fromIds([10, 20, 30]);
    const describe = describerFor(
      {
        numeric: { year: Float32Array.from([1995, NaN, 2001]) },
        categorical: { decade: { names: ['90s', '00s'], codes: Int32Array.from([0, -1, 1]) } },
        multiHot: { genres: { names: ['Crime', 'Drama'], ptr: Int32Array.from([0, 2, 2, 3]), idx: Int32Array.from([0, 1, 1]) } },
        text: { title: ['The Usual Suspects', '', 'Amélie'] },
      },
      items,
    );
    expect(describe(10)).toBe('"The Usual Suspects"  (1995)  decade=90s  genres: Crime|Drama');
    expect(describe(20)).toBe('');
    const text = formatTopK({ k: 3, items: Int32Array.from([2, 0, -1]), scores: Float32Array.from([0.5, 0.25, -Infinity]) }, items, describe);
    const lines = text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ {2}1\. 30 +0\.5000 {2}"Amélie" {2}\(2001\) {2}decade=00s {2}genres: Drama$/);
  });
});
