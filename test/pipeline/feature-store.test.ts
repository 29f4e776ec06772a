import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { categoricalFrom, emptyFeatures, multiHotFrom } from '../../src/data/features.js';
import type { EntityFeatures } from '../../src/data/dataset.js';
import { materializeFeatures, openFeatureStore, type MaterializeInput } from '../../src/pipeline/feature-store.js';
import { startTestPg, type TestPg } from './pg-server.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Data set order of ids differs from the model's training order: the store maps by external id.
const dsUsers = IdMap.fromIds(['u2', 'u1', 'u3']);
const dsItems = IdMap.fromIds([10, 'ten', 30, 20]);
const itemFeatures: EntityFeatures = {
  ...emptyFeatures(),
  numeric: { year: Float32Array.of(1999, NaN, 2005, 1980) },
  categorical: { genre: categoricalFrom(['drama', null, 'comedy', "it's"]) },
  multiHot: { tags: multiHotFrom([['a', 'b'], [], ['c'], ['b']]) },
  text: { title: ['Ten', '', 'Thirty', 'Twenty "20"'] },
};
const userFeatures: EntityFeatures = { ...emptyFeatures(), numeric: { age: Float32Array.of(30, 40, 50) }, categorical: { gender: categoricalFrom(['F', 'M', '']) } };
// Training data: users u1, u2 (u3 has no events but is in the map), items 10, 20, 30, "ten".
const users = IdMap.fromIds(['u1', 'u2', 'u3']);
const items = IdMap.fromIds([10, 20, 30, 'ten']);
const train = Interactions.fromCoo({
  users, items,
  userIdx: Int32Array.of(0, 0, 1, 1, 1),
  itemIdx: Int32Array.of(0, 1, 0, 2, 3),
  values: Float32Array.of(1, 3, 5, 2, 4),
  timestamps: Float64Array.of(100, 200, 50, 300, 250),
}).interactions;
const input: MaterializeInput = { train, dataFingerprint: 'fp-1', modelType: 'ials', features: { userFeatures, itemFeatures, users: dsUsers, items: dsItems } };

/** The checks, run against each backend. */
function suite(name: string, location: () => string | null): void {
  describe(`feature store: ${name}`, () => {
    it('point and batch lookups agree with the source tables and the event log', async (ctx) => {
      const loc = location();
      if (!loc) return ctx.skip();
      const version = await materializeFeatures(loc, input);
      expect(version.columns.items).toEqual({ year: 'numeric', genre: 'label', tags: 'labels', title: 'text', events: 'numeric', value_mean: 'numeric', first_seen: 'numeric', last_seen: 'numeric' });
      const store = await openFeatureStore(loc, { expectFingerprint: 'fp-1' });
      try {
        expect(store.version.dataFingerprint).toBe('fp-1');
        expect(await store.item(10)).toEqual({ id: 10, year: 1999, genre: 'drama', tags: ['a', 'b'], title: 'Ten', events: 2, value_mean: 3, first_seen: 50, last_seen: 100 });
        expect(await store.item('ten')).toEqual({ id: 'ten', year: null, genre: null, tags: [], title: null, events: 1, value_mean: 4, first_seen: 250, last_seen: 250 });
        const batch = await store.items([20, 30, 'nope', 20]);
        expect(batch.map((r) => r?.genre ?? 'missing')).toEqual(["it's", 'comedy', 'missing', "it's"]);
        expect(batch[0]).toEqual({ id: 20, year: 1980, genre: "it's", tags: ['b'], title: 'Twenty "20"', events: 1, value_mean: 3, first_seen: 200, last_seen: 200 });
        expect(await store.user('u2')).toEqual({ id: 'u2', age: 30, gender: 'F', events: 3, value_mean: 11 / 3, first_seen: 50, last_seen: 300 });
        expect(await store.user('u3')).toEqual({ id: 'u3', age: 50, gender: null, events: 0, value_mean: null, first_seen: null, last_seen: null });
        expect(await store.user('nobody')).toBeNull();
        // The number 20 and the string "20" are different ids.
        expect(await store.item('20')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('is versioned with the model: another fingerprint is refused; rebuilding replaces it', async (ctx) => {
      const loc = location();
      if (!loc) return ctx.skip();
      await materializeFeatures(loc, input);
      await expect(openFeatureStore(loc, { expectFingerprint: 'fp-2' })).rejects.toThrow(/built for data fp-1/);
      await materializeFeatures(loc, { ...input, dataFingerprint: 'fp-2', features: undefined });
      const store = await openFeatureStore(loc, { expectFingerprint: 'fp-2' });
      expect(Object.keys(store.version.columns.items)).toEqual(['events', 'value_mean', 'first_seen', 'last_seen']);
      await store.close();
    });
  });
}

suite('DuckDB file', () => join(dir, 'features.duckdb'));

let pgServer: TestPg | null = null;
let pgSkip = '';
beforeAll(async () => {
  const r = await startTestPg();
  if ('skip' in r) pgSkip = r.skip;
  else pgServer = r;
}, 90_000);
afterAll(() => pgServer?.stop());
suite('PostgreSQL', () => {
  if (!pgServer) {
    console.warn(`feature store PostgreSQL tests skipped: ${pgSkip}`);
    return null;
  }
  return pgServer.url;
});

describe('feature store: refusals', () => {
  it('a missing store, a DuckDB file that is not a store', async () => {
    await expect(openFeatureStore(join(dir, 'none.duckdb'))).rejects.toThrow(/no feature store here/);
    const other = join(dir, 'other.duckdb');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(other);
    const con = await inst.connect();
    await con.run('CREATE TABLE mine (x INTEGER)');
    con.closeSync();
    inst.closeSync();
    await expect(materializeFeatures(other, input)).rejects.toThrow(/not a recsys feature store/);
    const junk = join(dir, 'junk.duckdb');
    writeFileSync(junk, 'not a database');
    await expect(openFeatureStore(junk)).rejects.toThrow();
  });

  it('a data set feature named like a computed column is an error naming it', async () => {
    const bad: EntityFeatures = { ...emptyFeatures(), numeric: { events: Float32Array.of(1, 2, 3, 4) } };
    await expect(materializeFeatures(join(dir, 'bad.duckdb'), { ...input, features: { itemFeatures: bad, users: dsUsers, items: dsItems } })).rejects.toThrow(/item feature "events"/);
  });
});
