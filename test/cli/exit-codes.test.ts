/**
 * Exit statuses of the `recsys` command: 0 success, 1 a run failed, 2 usage or validation error, 130
 * interrupted — the mapping itself, every command through `run` in this process, and a few real processes
 * (what a shell script sees, SIGINT included).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { errorText, exitCodeFor } from '../../src/cli/main.js';
import { DataFileError } from '../../src/data/errors.js';
import { DatasetNotFoundError } from '../../src/data/paths.js';
import { RunFailedError } from '../../src/cli/errors.js';
import { UsageError } from '../../src/core/errors.js';
import { AbortError } from '../../src/core/progress.js';
import { ConfigError } from '../../src/eval/config.js';
import { ModelDirError } from '../../src/models/model-dir-check.js';
import { runCli, spawnCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-exit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 30 users × 40 items, 8 interactions each, ratings 1..5.
const csv = join(root, 'ratings.csv');
{
  const rows = ['user,item,rating'];
  for (let u = 0; u < 30; u++) for (let j = 0; j < 8; j++) rows.push(`u${u},i${(u * 7 + j * 5) % 40},${1 + ((u + j) % 5)}`);
  writeFileSync(csv, `${rows.join('\n')}\n`);
}
const trainArgs = (out: string, ...extra: string[]): string[] => ['train', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--out', out, ...extra];

/** An experiment config on generated data with these models (YAML flow syntax). */
function config(name: string, models: string): string {
  const path = join(root, `${name}.yaml`);
  writeFileSync(path, `dataset: { name: synthetic, users: 150, items: 80, perUser: 12, seed: 1 }\nsplit: { method: leave-last-out }\nmetrics: [hitrate@10]\nbootstrap: 0\nmodels: ${models}\n`);
  return path;
}

describe('exitCodeFor', () => {
  it('maps each kind of ending onto its status', () => {
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0'))).toBe(0);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toBe(2);
    expect(exitCodeFor(new CommanderError(1, 'commander.missingMandatoryOptionValue', 'x'))).toBe(2);
    expect(exitCodeFor(new UsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new ConfigError('c.yaml: split.method: must be one of'))).toBe(2);
    expect(exitCodeFor(new ModelDirError('m/model.json: not valid JSON'))).toBe(2);
    expect(exitCodeFor(new DataFileError('events.csv', 'line 3, field "rating": not a number', { line: 3, field: 'rating' }))).toBe(2);
    expect(exitCodeFor(new DatasetNotFoundError('ml-1m', 'ratings.dat', ['/x'], 'data set "ml-1m": ratings.dat not found'))).toBe(2);
    expect(exitCodeFor(new AbortError('interrupted'))).toBe(130);
    expect(exitCodeFor(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))).toBe(130);
    expect(exitCodeFor(new RunFailedError('1 of 3 models failed'))).toBe(1);
    expect(exitCodeFor(new Error('anything else'))).toBe(1);
    expect(exitCodeFor('a string')).toBe(1);
  });

  it('prints one line per error, nothing for commander (it printed already), a stack for internal bugs', () => {
    expect(errorText(new UsageError('bad flag'))).toBe('recsys: bad flag\n');
    expect(errorText(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe('');
    expect(errorText(new TypeError('x is undefined'))).toMatch(/^recsys: x is undefined\nTypeError: x is undefined\n\s+at /);
  });
});

describe('every command, in process', () => {
  it('help and version are 0; unknown options, commands and missing options are 2', async () => {
    expect((await runCli(['--help'])).code).toBe(0);
    expect((await runCli(['--version'])).code).toBe(0);
    expect((await runCli(['train', '--help'])).code).toBe(0);
    expect((await runCli(['--bogus'])).code).toBe(2);
    expect((await runCli(['trian'])).code).toBe(2);
    expect((await runCli(['train', '--model', 'ials'])).code).toBe(2);
    expect((await runCli(['experiment'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/Exit status: 0 success, 1 a run failed .*2 usage or validation error, 130 interrupted/);
  });

  it('train: bad model, hyperparameter, flag or filter is 2; running out of memory is 1 with a sentence', async () => {
    const out = join(root, 'never');
    let r = await runCli(trainArgs(out, '--model', 'ials', '--param', 'factorz=3'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ials: unknown hyperparameter "factorz"/)]);
    r = await runCli(trainArgs(out, '--model', 'alss'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/unknown model "alss"/)]);
    r = await runCli(trainArgs(out, '--model', 'ials', '--min-value', 'abc'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--min-value must be a number/)]);
    r = await runCli(trainArgs(out, '--model', 'ials', '--min-value', '100'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-value 100: filter value >= 100 removes all 240 interactions; nothing is left/);
    r = await runCli(['train', '--model', 'ials', '--out', out]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/give --dataset NAME or --input FILE/)]);
    r = await runCli(trainArgs(out, '--model', 'ials', '--param', 'factors=1000000000'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ials \(factors=1000000000\) on 30 users × 40 items: out of memory: it needs an array of 30,000,000,000 values \(120\.0 GB as float32\)/);
    expect(r.stderr).not.toMatch(/^recsys: Invalid typed array length/m);
    expect(existsSync(out)).toBe(false);
  });

  it('train then recommend succeed with 0; a bad user, -k or model directory is 2', async () => {
    const model = join(root, 'pop');
    expect((await runCli(trainArgs(model, '--model', 'popularity'))).code).toBe(0);
    expect((await runCli(['recommend', '--model', model, '--user', 'u1'])).code).toBe(0);
    expect((await runCli(['recommend', '--model', model, '--user', 'nobody'])).code).toBe(2);
    expect((await runCli(['recommend', '--model', model, '--user', 'u1', '-k', '0'])).code).toBe(2);
    expect((await runCli(['recommend', '--model', model, '--user', 'u1', '--item', 'i1'])).code).toBe(2);
    expect((await runCli(['recommend', '--model', join(root, 'nothing-here'), '--user', 'u1'])).code).toBe(2);
  });

  it('experiment: a typo in the last model is 2 before any data is loaded', async () => {
    const r = await runCli(['experiment', config('typo', '[random, popularity, { model: ials, params: { factorz: 3 } }]'), '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models: "ials": ials: unknown hyperparameter "factorz"/);
    expect(r.stderr).not.toMatch(/data set/);
    expect(r.stdout).toBe('');
    expect((await runCli(['experiment', config('fmt', '[random]'), '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['experiment', join(root, 'missing.yaml')])).code).toBe(2);
  });

  it('experiment: a model failing at fit time stops the run with 1; --keep-going runs the rest, still 1', async () => {
    const cfg = config('fails', '[popularity, { label: svd, model: pure-svd, params: { factors: 1000 } }, random]');
    let r = await runCli(['experiment', cfg, '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/popularity/);
    expect(r.stdout).toMatch(/svd: failed: pure-svd: factors 1000 exceeds/);
    expect(r.stdout).toMatch(/stopped after "svd" failed; not run: random/);
    expect(r.stderr).toMatch(/recsys: 1 of 3 models failed: svd \(pure-svd: factors 1000 exceeds .*\); not run: random \(--keep-going runs the rest\)/);
    r = await runCli(['experiment', cfg, '--no-progress', '--keep-going', '--format', 'csv']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('random,'))).toHaveLength(1);
    expect(r.stderr).toMatch(/recsys: 1 of 3 models failed: svd/);
    expect(r.stderr).not.toMatch(/not run/);
    expect((await runCli(['experiment', config('ok', '[random, popularity]'), '--no-progress'])).code).toBe(0);
  });

  it('search: a parameter a model rejects is 2 up front; a failing trial is 1', async () => {
    const search = (name: string, space: string): string => {
      const path = join(root, `${name}.yaml`);
      writeFileSync(path, `dataset: { name: synthetic, users: 150, items: 80, perUser: 12, seed: 1 }\nsplit: { method: leave-last-out }\nmetrics: [hitrate@10]\nbootstrap: 0\nmodels: [popularity]\nsearch: { model: pure-svd, metric: hitrate@10, folds: 2, space: ${space} }\n`);
      return path;
    };
    let r = await runCli(['experiment', search('s-bad', '{ factors: [2, -1] }'), '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/search: trial 2 of 2 \(\{"factors":-1\}\): pure-svd: factors must be/);
    r = await runCli(['experiment', search('s-fail', '{ factors: [2, 500, 3] }'), '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/stopped after a failure \(1 not run\)/);
    expect(r.stderr).toMatch(/1 of 3 trials failed \(first: \{"factors":500\}: .*exceeds/);
    r = await runCli(['experiment', search('s-fail', '{ factors: [2, 500, 3] }'), '--no-progress', '--keep-going']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/3 of 3 trials .*1 failed/);
  });
});

describe('a real process', () => {
  it('exits 2 on a usage error and 1 on a failed run, with one line on stderr', async () => {
    const usage = await spawnCli(['recommend', '--model', 'x', '--usr', 'u1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown option '--usr'/);
    const failed = await spawnCli(trainArgs(join(root, 'oom'), '--model', 'bpr', '--param', 'factors=1000000000'));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/\nrecsys: bpr \(factors=1000000000\) on 30 users × 40 items: out of memory: it needs an array of 30,000,000,000 values \(120\.0 GB as float32\)[^\n]*\n$/);
  });

  it('exits 130 when interrupted with Ctrl-C (SIGINT), saving nothing', async () => {
    const out = join(root, 'interrupted');
    let sent = false;
    const r = await spawnCli(trainArgs(out, '--model', 'ials', '--param', 'iterations=1000000', '--param', 'factors=8'), (text, child) => {
      if (!sent && /training ials/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/stopping after the current step/);
    expect(r.stderr).toMatch(/recsys: training interrupted; nothing saved/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 0 on success', async () => {
    const model = join(root, 'ok-model');
    const r = await spawnCli(trainArgs(model, '--model', 'item-knn'));
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/fitted item-knn .* saved to/)]);
  });
});
