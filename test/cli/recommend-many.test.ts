/**
 * `recsys recommend --users FILE|all`: one process for many users, external ids in and out, unknown ids
 * reported with line numbers, the output formats, `--out`, `-k` clamped to the catalogue, and rating-only
 * models refused.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATING_ONLY_MODELS } from '../../src/cli/commands/recommend.js';
import { runCli, spawnCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-recommend-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 12 users (string ids), 9 items (numeric ids 101..109); each user has seen 3 items.
const seen = new Map<string, Set<number>>();
const csv = join(root, 'events.csv');
{
  const rows = ['user,item,rating'];
  for (let u = 0; u < 12; u++) {
    const items = new Set([101 + (u % 9), 101 + ((u + 2) % 9), 101 + ((u * 5 + 1) % 9)]);
    seen.set(`user-${u}`, items);
    for (const i of items) rows.push(`user-${u},${i},${1 + (u % 5)}`);
  }
  writeFileSync(csv, `${rows.join('\n')}\n`);
}
const ials = join(root, 'ials');
const mean = join(root, 'global-mean');

beforeAll(async () => {
  for (const [dir, model, params] of [[ials, 'ials', ['--param', 'factors=3', '--param', 'iterations=3']], [mean, 'global-mean', []]] as const) {
    const r = await runCli(['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--model', model, ...params, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
  }
});

/** Writes a users file. */
function usersFile(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

interface JsonRow {
  user: string;
  items: { item: number; score: number }[];
}

describe('recommend --users', () => {
  it('a file of ids (BOM, CRLF, blank lines): each user in file order, k unseen items each, as --user gives them', async () => {
    const file = usersFile('some.txt', '\uFEFFuser-3\r\nuser-0\n\n  user-11  \nuser-3\n');
    const r = await runCli(['recommend', '--model', ials, '--users', file, '-k', '4', '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('user,rank,item,score');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((x) => x[0])).toEqual([...Array(4).fill('user-3'), ...Array(4).fill('user-0'), ...Array(4).fill('user-11'), ...Array(4).fill('user-3')]);
    expect(rows.map((x) => Number(x[1]))).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    for (const [user, , item] of rows) expect(seen.get(user)!.has(Number(item))).toBe(false);
    for (const user of ['user-3', 'user-0', 'user-11']) {
      const single = await runCli(['recommend', '--model', ials, '--user', user, '-k', '4', '--json']);
      const o = JSON.parse(single.stdout) as JsonRow & { model: string; k: number };
      expect(o.model).toBe('ials');
      expect(o.items.map((x) => String(x.item))).toEqual(rows.filter((x) => x[0] === user).slice(0, 4).map((x) => x[2]));
      // Scores decrease along the list.
      for (let j = 1; j < o.items.length; j++) expect(o.items[j].score).toBeLessThanOrEqual(o.items[j - 1].score);
    }
  });

  it('"all": every user the model knows, ids as in the data (numbers stay numbers), as one JSON document', async () => {
    const r = await runCli(['recommend', '--model', ials, '--users', 'all', '-k', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    expect(rows.map((x) => x.user).sort()).toEqual([...seen.keys()].sort());
    for (const row of rows) {
      expect(row.items).toHaveLength(2);
      for (const { item } of row.items) {
        expect(typeof item).toBe('number');
        expect(seen.get(row.user)!.has(item)).toBe(false);
      }
    }
    const jsonl = await runCli(['recommend', '--model', ials, '--users', 'all', '-k', '2', '--format', 'jsonl']);
    expect(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonRow)).toEqual(rows);
    const text = await runCli(['recommend', '--model', ials, '--users', 'all', '-k', '2']);
    expect(text.stdout.match(/^user user-\d+:$/gm)).toHaveLength(12);
  });

  it('unknown ids are an error listing their line numbers (exit 2); --skip-unknown reports them and goes on', async () => {
    const file = usersFile('bad.txt', 'user_id\nuser-1\nuser-99\nuser-2\nnobody\n');
    let r = await runCli(['recommend', '--model', ials, '--users', file, '--format', 'csv']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: 3 user ids unknown to the model (line 1: "user_id", line 3: "user-99", line 5: "nobody"); line 1 may be a header: remove it; fix them or pass --skip-unknown`);
    r = await runCli(['recommend', '--model', ials, '--users', file, '--format', 'csv', '-k', '1', '--skip-unknown']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped: .*3 user ids unknown to the model \(line 1: "user_id", line 3: "user-99", line 5: "nobody"\)/);
    expect(r.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0])).toEqual(['user-1', 'user-2']);
    const many = usersFile('many.txt', `${Array.from({ length: 14 }, (_, j) => `x${j}`).join('\n')}\nuser-1\n`);
    r = await runCli(['recommend', '--model', ials, '--users', many]);
    expect(r.stderr).toMatch(/14 user ids unknown .*line 10: "x9" and 4 more/);
    expect((await runCli(['recommend', '--model', ials, '--users', usersFile('empty.txt', '\n\n')])).stderr).toMatch(/no known user ids/);
    expect((await runCli(['recommend', '--model', ials, '--users', join(root, 'missing.txt')])).stderr).toMatch(/--users .*missing\.txt: cannot read the user-id file \(ENOENT\)/);
  });

  it('shows a progress bar on stderr and writes --out atomically, refusing an input or a directory', async () => {
    const out = join(root, 'out', 'recs.csv');
    mkdirSync(join(root, 'out'));
    let r = await runCli(['recommend', '--model', ials, '--users', 'all', '--format', 'csv', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/recommend users 12\/12/);
    expect(r.stderr).not.toMatch(/more than the catalogue/); // the default -k 10 > 9 items is clamped silently
    // Every unseen item of the 9, for each user.
    const expected = [...seen.values()].reduce((a, items) => a + 9 - items.size, 0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1 + expected);
    expect(readdirSync(join(root, 'out'))).toEqual(['recs.csv']);
    const file = usersFile('input.txt', 'user-1\n');
    r = await runCli(['recommend', '--model', ials, '--users', file, '--out', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to write the --out file .*input\.txt: .*an input of this run/);
    expect(readFileSync(file, 'utf8')).toBe('user-1\n');
    r = await runCli(['recommend', '--model', ials, '--users', file, '--out', join(root, 'out')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/cannot write the --out file .*out: it is a directory, not a file/)]);
    r = await runCli(['recommend', '--model', ials, '--users', file, '--out', join(root, 'no-such-dir', 'x.csv')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/no-such-dir does not exist/)]);
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });

  it('runs for many users in one real process', async () => {
    const r = await spawnCli(['recommend', '--model', ials, '--users', 'all', '-k', '3', '--format', 'jsonl']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(12);
  });
});

describe('recommend, single user and item', () => {
  it('clamps -k 1e9 to the catalogue (seen items still left out) instead of failing to allocate', async () => {
    const r = await runCli(['recommend', '--model', ials, '--user', 'user-4', '-k', '1e9', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as JsonRow & { k: number };
    expect(o.k).toBe(9);
    expect(o.items).toHaveLength(9 - seen.get('user-4')!.size);
    expect(r.stderr).toMatch(/-k 1e9 is more than the catalogue: showing at most all 9 items/);
    const text = await runCli(['recommend', '--model', ials, '--user', 'user-4', '-k', '100000']);
    expect(text.stdout.split('\n')[0]).toBe('top 9 for user user-4 (ials, seen items excluded):');
    const similar = await runCli(['recommend', '--model', ials, '--item', '101', '-k', '1e9', '--format', 'csv']);
    expect(similar.code).toBe(0);
    expect(similar.stdout.trim().split('\n')).toHaveLength(1 + 8);
    expect(similar.stdout.split('\n')[0]).toBe('item,rank,item,score');
  });

  it('a rating-only model says it cannot rank (exit 2) instead of listing items with equal scores', async () => {
    expect([...RATING_ONLY_MODELS].sort()).toEqual(['global-mean', 'rating-majority', 'rating-sampled', 'rating-uniform']);
    for (const args of [['--user', 'user-1'], ['--users', 'all'], ['--user', 'user-1', '--json']]) {
      const r = await runCli(['recommend', '--model', mean, ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/model "global-mean" .* predicts ratings only: it gives every item the same score, so it cannot rank items/);
    }
  });

  it('flag mistakes are usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['--user', 'user-1', '--users', 'all'], /exactly one of --user, --users and --item/],
      [[], /exactly one of --user, --users and --item/],
      [['--user', 'user-1', '--format', 'xml'], /--format must be one of text, csv, json, jsonl/],
      [['--user', 'user-1', '--json', '--format', 'csv'], /--json and --format csv disagree/],
      [['--user', 'user-1', '-k', '2.5'], /-k must be a positive integer \(got "2\.5"\)/],
      [['--users', 'all', '--skip-unknown'], /--skip-unknown applies to --users FILE only/],
      [['--user', 'nobody'], /unknown user id "nobody" \(the model knows 12 users\)/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(['recommend', '--model', ials, ...args]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(pattern)]);
    }
  });
});
