/**
 * `recsys spark als` without a real Spark: a stand-in Python (RECSYS_PYTHON) answers the environment probe with
 * the real python3 and then plays a scripted job (a failure, or a job that runs until cancelled), and the
 * environment checks are run against PATHs and Pythons that lack Java or pyspark.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkSparkEnvironment, findJava } from '../../src/sparkjob/environment.js';
import { runCli, spawnCli } from '../cli/helpers.js';
import { rejection } from '../rejection.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-spark-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let realPython: string | null = null;
try {
  // The interpreter itself (not a pyenv shim, which needs PATH).
  realPython = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || null;
} catch {
  realPython = null;
}

const csv = join(root, 'events.csv');
writeFileSync(csv, 'user,item,rating\na,x,1\na,y,2\nb,y,1\nb,z,3\nc,x,1\n');
const work = join(root, 'work');
mkdirSync(work);
const data = ['--input', csv, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--work-dir', work];

/** A stand-in Python: the probe (`-c ...`) runs on the real python3; the job is the scripted `FAKE_SPARK` mode. */
function fakePython(): string {
  const file = join(root, 'fake-python.sh');
  writeFileSync(file, [
    '#!/bin/sh',
    `if [ "$1" = "-c" ]; then exec "${realPython}" "$@"; fi`,
    'case "$FAKE_SPARK" in',
    '  fail)',
    '    echo "26/12/01 11:00:00 INFO SparkContext: Running Spark version 4.3.0" >&2',
    '    echo "java.lang.OutOfMemoryError: Java heap space" >&2',
    '    echo \'{"event": "start", "sparkVersion": "4.3.0"}\'',
    '    echo \'{"event": "error", "message": "Py4JJavaError: An error occurred while calling o71.fit"}\'',
    '    exit 1;;',
    '  crash)',
    '    echo "Segmentation fault" >&2; kill -9 $$;;',
    '  hang)',
    '    trap \'touch "$FAKE_MARK"; echo "{\\"event\\": \\"cancelled\\", \\"message\\": \\"interrupted\\"}"; exit 130\' TERM',
    '    echo \'{"event": "start", "sparkVersion": "4.3.0"}\'',
    '    echo \'{"event": "progress", "phase": "stages", "done": 1, "total": 4}\'',
    '    while true; do sleep 0.1; done;;',
    'esac',
    'exit 9',
  ].join('\n'));
  chmodSync(file, 0o755);
  return file;
}

const saved = { RECSYS_PYTHON: process.env.RECSYS_PYTHON, FAKE_SPARK: process.env.FAKE_SPARK, FAKE_MARK: process.env.FAKE_MARK, PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A directory on PATH with a stub `java`, so the Java check passes wherever the test runs. */
function stubJavaDir(): string {
  const dir = join(root, 'bin-with-java');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'java'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'java'), 0o755);
  }
  return dir;
}

describe.skipIf(!realPython)('spark als with a stand-in job', () => {
  it('a failing Spark job: its error and the useful stderr lines are shown, exit 1, no model directory, staging removed', async () => {
    process.env.RECSYS_PYTHON = fakePython();
    process.env.FAKE_SPARK = 'fail';
    process.env.PATH = `${stubJavaDir()}:${saved.PATH ?? ''}`;
    delete process.env.JAVA_HOME;
    const out = join(root, 'failed-model');
    const r = await runCli(['spark', 'als', ...data, '--out', out]);
    if (r.stderr.includes('pyspark package is not installed')) return; // this python3 has no pyspark: covered below
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Spark job failed: Py4JJavaError: An error occurred while calling o71\.fit/);
    expect(r.stderr).toMatch(/java\.lang\.OutOfMemoryError: Java heap space/);
    expect(r.stderr).not.toMatch(/INFO SparkContext/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it('a job that dies without reporting: exit 1 naming the signal', async () => {
    process.env.RECSYS_PYTHON = fakePython();
    process.env.FAKE_SPARK = 'crash';
    process.env.PATH = `${stubJavaDir()}:${saved.PATH ?? ''}`;
    delete process.env.JAVA_HOME;
    const out = join(root, 'crashed-model');
    const r = await runCli(['spark', 'als', ...data, '--out', out]);
    if (r.stderr.includes('pyspark package is not installed')) return;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the job was killed by SIGKILL without reporting an error[\s\S]*Segmentation fault/);
    expect(existsSync(out)).toBe(false);
  });

  it('Ctrl-C while Spark runs: the job is told to cancel, exit 130, nothing written', async () => {
    process.env.RECSYS_PYTHON = fakePython();
    process.env.FAKE_SPARK = 'hang';
    const mark = join(root, 'told-to-cancel');
    process.env.FAKE_MARK = mark;
    process.env.PATH = `${stubJavaDir()}:${saved.PATH ?? ''}`;
    delete process.env.JAVA_HOME;
    const out = join(root, 'cancelled-model');
    let sent = false;
    const r = await spawnCli(['spark', 'als', ...data, '--out', out, '--progress'], (text, child) => {
      if (!sent && text.includes('stages')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    if (r.stderr.includes('pyspark package is not installed')) return;
    expect(sent).toBe(true);
    expect(existsSync(mark)).toBe(true); // the job got SIGTERM (and would cancel its Spark jobs), not only the kill after the grace period
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Spark training interrupted; the Spark job was cancelled and nothing was saved/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  }, 60_000);
});

describe('what Spark needs, and what to install when it is missing', () => {
  it('no Java: JAVA_HOME unset and no java on PATH', () => {
    const empty = join(root, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    expect(() => findJava({ PATH: empty })).toThrow(/Spark needs Java: no `java` on PATH and JAVA_HOME is not set; install a Java runtime \(Spark 4 needs Java 17 or 21/);
    expect(() => findJava({ PATH: empty, JAVA_HOME: join(root, 'no-jdk') })).toThrow(/JAVA_HOME is .*no-jdk, but .*bin\/java does not exist/);
    expect(findJava({ PATH: stubJavaDir() })).toBe(join(stubJavaDir(), 'java'));
  });

  it('no Python', async () => {
    const e = await rejection(checkSparkEnvironment({ ...process.env, RECSYS_PYTHON: join(root, 'no-such-python') }));
    expect(e.message).toMatch(/no-such-python was not found; install Python 3 and `pip install pyspark`, or set RECSYS_PYTHON/);
  });

  it.skipIf(!realPython)('a Python without pyspark (site-packages off)', async () => {
    const bare = join(root, 'bare-python.sh');
    writeFileSync(bare, `#!/bin/sh\nexec "${realPython}" -S "$@"\n`);
    chmodSync(bare, 0o755);
    const e = await rejection(checkSparkEnvironment({ ...process.env, RECSYS_PYTHON: bare }));
    expect(e.message).toMatch(/the pyspark package is not installed for .*bare-python\.sh; install it with `.*bare-python\.sh -m pip install pyspark`/);
  });

  it.skipIf(!realPython)('the CLI stops with exit 1 and the message before loading any data; no model directory', async () => {
    const empty = join(root, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    process.env.RECSYS_PYTHON = fakePython();
    process.env.PATH = empty;
    delete process.env.JAVA_HOME;
    const out = join(root, 'no-java-model');
    const r = await runCli(['spark', 'als', ...data, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/recsys: (Spark needs Java|the pyspark package is not installed)/);
    expect(r.stderr).not.toMatch(/cleaning report/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad flags are usage errors (exit 2) before Spark is looked for', async () => {
    process.env.RECSYS_PYTHON = join(root, 'no-such-python');
    const out = join(root, 'm');
    expect((await runCli(['spark', 'als', ...data, '--out', out, '--param', 'rank=0'])).stderr).toMatch(/spark als: rank must be an integer >= 1/);
    const r = await runCli(['spark', 'als', ...data, '--out', out, '--shuffle-partitions', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shuffle-partitions must be a positive integer/);
    expect((await runCli(['spark', 'als', ...data, '--out', out, '--conf', 'novalue'])).code).toBe(2);
    expect((await runCli(['spark', 'als', ...data, '--out', out, '--param', 'factors=3'])).code).toBe(2);
  });
});
