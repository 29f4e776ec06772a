/**
 * Every writer of the CLI (`eda -o`, `demo -o`, `experiment --report` / `-o`, the search's results file,
 * `train --out`) on the outputs that destroyed or blocked before: a non-model directory, the input file, a
 * symbolic link, a FIFO, a directory given as a file (a file given as a directory for `train`), and an
 * unwritable parent (a path under a regular file, and /proc — root ignores permission bits, so those are the
 * places nobody can write; EACCES itself is covered as an unprivileged user in test/core/safe-write.test.ts).
 * Each case hashes the surrounding tree before and after: a refusal changes nothing, a write changes only its
 * output, and nothing temporary is left behind.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../src/cli/commands/demo.js';
import { buildProgram } from '../../src/cli/main.js';
import { UsageError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/eval/config.js';
import { runSearch } from '../../src/eval/search.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { readManifest } from '../../src/models/persistence.js';
import { createModel } from '../../src/models/index.js';
import { leftovers, mkfifo, treeHash, treeHashExcept } from '../core/tree.js';

const base = mkdtempSync(join(tmpdir(), 'recsys-writers-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs the CLI in-process with stdout and stderr captured. */
async function cli(args: string[]): Promise<string> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'recsys', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return stdout;
}

let root = '';
let n = 0;
const p = (...parts: string[]): string => join(root, ...parts);

beforeEach(() => {
  root = join(base, `case-${n++}`);
  mkdirSync(root);
  // Two groups of users with distinct tastes; a 48-row interactions file.
  const rows = ['user,item,rating'];
  for (let u = 1; u <= 12; u++) for (const it of u <= 6 ? ['a', 'b', 'c', 'd'] : ['w', 'x', 'y', 'z']) rows.push(`u${u},${it},${1 + ((u + it.charCodeAt(0)) % 5)}`);
  writeFileSync(p('ratings.csv'), `${rows.join('\n')}\n`);
  mkdirSync(p('docs'));
  writeFileSync(p('docs', 'notes.txt'), 'my notes\n');
  mkdirSync(p('empty'));
  mkdirSync(p('real'));
  writeFileSync(p('real', 'out.txt'), 'old output\n');
  mkfifo(p('pipe'));
  writeFileSync(p('exp.yaml'), 'dataset: { name: synthetic, users: 60, items: 30, perUser: 8, seed: 1 }\nsplit: { method: leave-last-out }\nmetrics: [hitrate@10]\nbootstrap: 0\nmodels: [popularity]\n');
});

/** Expects `run` to be refused with a UsageError matching `pattern`, changing nothing under the case's root. */
async function refused(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const before = treeHash(root);
  const error = await run().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(pattern);
  expect(treeHash(root)).toEqual(before);
}

/** Runs a writer that should write through `link` (→ real/out.txt): the link stays, its target changes, nothing else. */
async function writesThroughLink(run: (link: string) => Promise<unknown>): Promise<string> {
  symlinkSync(p('real', 'out.txt'), p('link'));
  const before = treeHashExcept(root, 'real/out.txt');
  await run(p('link'));
  expect(readlinkSync(p('link'))).toBe(p('real', 'out.txt'));
  expect(treeHashExcept(root, 'real/out.txt')).toEqual(before);
  expect(leftovers(root)).toEqual([]);
  const text = readFileSync(p('real', 'out.txt'), 'utf8');
  expect(text).not.toBe('old output\n');
  return text;
}

const genericArgs = (): string[] => ['--path', p('ratings.csv'), '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--no-progress'];

/** The file writers: each takes the output path. */
const fileWriters: { name: string; input: () => string; write: (out: string) => Promise<unknown>; written: RegExp }[] = [
  { name: 'eda -o', input: () => p('ratings.csv'), write: (out) => cli(['eda', 'generic', ...genericArgs(), '-o', out]), written: /<h1>EDA: /i },
  {
    name: 'demo -o',
    input: () => p('ratings.csv'),
    write: (out) => runDemo({ dataset: 'generic', loadOptions: { path: p('ratings.csv'), userCol: 'user', itemCol: 'item', valueCol: 'rating' }, out, progress: false, log: () => {}, builders: [] }),
    written: /<h1>recsys demo: /,
  },
  { name: 'experiment --report', input: () => p('exp.yaml'), write: (out) => cli(['experiment', p('exp.yaml'), '--no-progress', '--report', out]), written: /<h2>Model comparison<\/h2>/ },
  { name: 'experiment -o', input: () => p('exp.yaml'), write: (out) => cli(['experiment', p('exp.yaml'), '--no-progress', '--format', 'csv', '-o', out]), written: /popularity/ },
];

describe.each(fileWriters)('$name', ({ input, write, written }) => {
  it('refuses a non-model directory and an empty directory given as the file', async () => {
    await refused(() => write(p('docs')), /cannot write the (report|table) .*docs: it is a directory, not a file/);
    await refused(() => write(p('empty')), /empty: it is a directory, not a file/);
  });

  it('refuses the input file', async () => {
    await refused(() => write(input()), /refusing to write the (report|table) .*: it is .*, an input of this run/);
  });

  it('writes through a symbolic link and keeps it', async () => {
    expect(await writesThroughLink(write)).toMatch(written);
  });

  it('refuses a FIFO (it stays a FIFO)', async () => {
    await refused(() => write(p('pipe')), /pipe: it is a FIFO \(named pipe\), not a regular file/);
    expect(statSync(p('pipe')).isFIFO()).toBe(true);
  });

  it('refuses a parent that cannot hold files: under a regular file, and /proc (without hanging)', async () => {
    await refused(() => write(p('ratings.csv', 'sub', 'out.html')), /ratings\.csv is a regular file, not a directory/);
    await refused(() => write('/proc/nope/x.html'), /\/proc\/nope\/x\.html: it lies in \/proc, a kernel pseudo file system/);
  }, 20_000);
});

describe('experiment outputs', () => {
  it('--out and --report may not name the same file', async () => {
    await refused(() => cli(['experiment', p('exp.yaml'), '--no-progress', '--report', p('r.html'), '-o', p('r.html')]), /--report and --out name the same file/);
  });
});

describe('search results file', () => {
  const searchYaml = (results: string): string =>
    `dataset: { name: synthetic, users: 60, items: 30, perUser: 8, seed: 1 }\nsplit: { method: leave-last-out }\nmetrics: [hitrate@10]\nbootstrap: 0\n` +
    `search: { model: popularity, strategy: grid, folds: 2, metric: hitrate@10, space: { weighting: [count] }, results: ${JSON.stringify(results)} }\n`;
  /** Runs a search config naming `results`; the config lives beside the case's tree (the tree hash sees only the results). */
  const search = async (results: string): Promise<string> => {
    const config = `${root}-search.yaml`;
    writeFileSync(config, searchYaml(results));
    return cli(['experiment', config, '--no-progress']);
  };

  it('refuses a non-model directory and an empty directory given as the file', async () => {
    await refused(() => search(p('docs')), /search results file .*docs: it is a directory, not a file/);
    await refused(() => search(p('empty')), /empty: it is a directory/);
  });

  it('refuses the config file and, in the library, a data file of the run', async () => {
    const config = `${root}-search.yaml`;
    writeFileSync(config, searchYaml(config));
    const before = readFileSync(config, 'utf8');
    await refused(() => cli(['experiment', config, '--no-progress']), /refusing to write the search results file .*search\.yaml: it is .*search\.yaml, an input of this run/);
    expect(readFileSync(config, 'utf8')).toBe(before);
    const searchConfig = validateConfig({ dataset: 'x', split: { method: 'leave-last-out' }, metrics: ['hitrate@10'], search: { model: 'popularity', strategy: 'grid', folds: 2, metric: 'hitrate@10', space: { weighting: ['count'] }, results: p('ratings.csv') } });
    const dataset = syntheticDataset({ users: 60, items: 30, perUser: 8, seed: 1 });
    dataset.report.files.push(p('ratings.csv'));
    await refused(() => runSearch(searchConfig, { loadDataset: async () => dataset }), /ratings\.csv: it is .*ratings\.csv, an input of this run/);
  });

  it('appends through a symbolic link and keeps it (the old lines stay)', async () => {
    const text = await writesThroughLink(search);
    expect(text.startsWith('old output\n')).toBe(true);
    expect(JSON.parse(text.split('\n')[1]) as { key: string }).toHaveProperty('key', '{"weighting":"count"}');
  });

  it('refuses a FIFO before reading it (reading would block)', async () => {
    await refused(() => search(p('pipe')), /pipe: it is a FIFO \(named pipe\), not a regular file/);
  });

  it('refuses a parent that cannot hold files: under a regular file, and /proc (without hanging)', async () => {
    await refused(() => search(p('ratings.csv', 'r.jsonl')), /ratings\.csv is a regular file, not a directory/);
    await refused(() => search('/proc/nope/r.jsonl'), /it lies in \/proc/);
  }, 20_000);
});

describe('train --out', () => {
  const train = (out: string, ...extra: string[]): Promise<string> =>
    cli(['train', '--input', p('ratings.csv'), '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--model', 'popularity', '--out', out, ...extra]);

  it('refuses a directory that is not a model (today it deleted its contents), even with --force', async () => {
    await refused(() => train(p('docs')), /refusing to write the model directory .*docs: it exists and is not a model directory \(no model\.json with a known modelType\); it holds notes\.txt/);
    await refused(() => train(p('docs'), '--force'), /docs: it exists and is not a model directory/);
    mkdirSync(p('other'));
    writeFileSync(p('other', 'model.json'), JSON.stringify({ modelType: 'not-a-recsys-model', arrays: [] }));
    await refused(() => train(p('other'), '--force'), /other: it exists and is not a model directory/);
  });

  it('refuses the input file, a folder containing it, and a path inside the data set folder', async () => {
    await refused(() => train(p('ratings.csv')), /refusing to write the model directory .*ratings\.csv: it is .*ratings\.csv, an input of this run/);
    await refused(() => train(root, '--force'), /it contains .*ratings\.csv, an input of this run/);
    mkdirSync(p('set'));
    writeFileSync(p('set', 'ratings.csv'), readFileSync(p('ratings.csv')));
    const dataset = ['--dataset', 'ml-latest-small', '--path', p('set'), '--model', 'popularity'];
    await refused(() => cli(['train', ...dataset, '--out', p('set', 'model')]), /set\/model: it lies inside .*set, an input of this run/);
    await refused(() => cli(['train', ...dataset, '--out', p('set')]), /set: it is .*set, an input of this run/);
  });

  it('refuses a path inside the data set folder found by the loader (the embedded sample)', async () => {
    const folder = resolve('data', 'kuairec-sample');
    const before = treeHash(folder);
    const error = await cli(['train', '--dataset', 'kuairec-sample', '--model', 'popularity', '--out', join(folder, 'model')]).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/kuairec-sample\/model: it lies inside .*kuairec-sample, an input of this run/);
    expect(treeHash(folder)).toEqual(before);
  });

  it('replaces an existing model only with --force, and never one holding files it did not write', async () => {
    await train(p('m'));
    const first = treeHash(p('m'));
    await refused(() => train(p('m')), /refusing to replace the model directory .*m: it already holds one; pass --force to replace it/);
    const others = treeHashExcept(root, 'm');
    await train(p('m'), '--force');
    expect(treeHashExcept(root, 'm')).toEqual(others);
    expect(Object.keys(treeHash(p('m'))).sort()).toEqual(Object.keys(first).sort());
    expect((await readManifest(p('m'))).modelType).toBe('popularity');
    expect(leftovers(root)).toEqual([]);
    writeFileSync(p('m', 'README.txt'), 'my notes about this model\n');
    await refused(() => train(p('m'), '--force'), /besides its own files it holds README\.txt, which the program did not write/);
  });

  it('an empty directory is fine', async () => {
    await train(p('empty'));
    expect((await readManifest(p('empty'))).modelType).toBe('popularity');
  });

  it('writes through a symbolic link to a model directory (with --force) and keeps the link', async () => {
    await train(p('real-model'));
    symlinkSync('real-model', p('model-link'));
    await refused(() => train(p('model-link')), /model-link \(a symbolic link to .*real-model\): it already holds one; pass --force/);
    const before = treeHashExcept(root, 'real-model');
    await train(p('model-link'), '--force');
    expect(lstatSync(p('model-link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(p('model-link'))).toBe('real-model');
    expect(treeHashExcept(root, 'real-model')).toEqual(before);
    expect((await readManifest(p('real-model'))).modelType).toBe('popularity');
    expect(leftovers(root)).toEqual([]);
    symlinkSync('docs', p('docs-link'));
    await refused(() => train(p('docs-link'), '--force'), /docs-link \(a symbolic link to .*docs\): it exists and is not a model directory/);
  });

  it('refuses a FIFO and a file given as the directory (today both were deleted)', async () => {
    await refused(() => train(p('pipe')), /pipe: it is a FIFO \(named pipe\), not a directory/);
    await refused(() => train(p('docs', 'notes.txt')), /notes\.txt: it is a regular file, not a directory/);
  });

  it('refuses a parent that cannot hold files: under a regular file, and /proc (without hanging)', async () => {
    await refused(() => train(p('docs', 'notes.txt', 'model')), /notes\.txt is a regular file, not a directory/);
    await refused(() => train('/proc/nope/model'), /it lies in \/proc/);
  }, 20_000);
});

describe('model save in the library', () => {
  it('refuses a non-model directory and a file; replaces an earlier model', async () => {
    const { syntheticDataset: gen } = await import('../../src/eval/synthetic.js');
    const model = createModel('popularity');
    await model.fit(gen({ users: 30, items: 20, perUser: 5, seed: 3 }).interactions);
    await refused(() => model.save!(p('docs')), /docs: it exists and is not a model directory/);
    await refused(() => model.save!(p('ratings.csv')), /ratings\.csv: it is a regular file, not a directory/);
    await model.save!(p('m'));
    await model.save!(p('m'));
    expect((await readManifest(p('m'))).modelType).toBe('popularity');
    expect(leftovers(root)).toEqual([]);
  });
});
