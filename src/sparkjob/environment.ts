/**
 * What running Spark needs on this machine: a Python 3 with the `pyspark` package (and numpy, which pyspark.ml
 * imports) and a Java runtime. Checked before any data is loaded, so a missing piece fails in a second with a
 * message saying what to install. `RECSYS_PYTHON` names the Python executable (default `python3`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Spark cannot run here; the message says what to install. The CLI exits 1. */
export class SparkUnavailableError extends Error {
  override name = 'SparkUnavailableError';
}

/** What {@link checkSparkEnvironment} found. */
export interface SparkEnvironment {
  /** The Python executable that runs the job. */
  python: string;
  /** The java executable Spark will start. */
  java: string;
  pysparkVersion: string;
}

/** The Python executable: `RECSYS_PYTHON`, else `python3`. */
export function pythonExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env.RECSYS_PYTHON && env.RECSYS_PYTHON.trim() !== '' ? env.RECSYS_PYTHON : 'python3';
}

/** An executable named `name` on `PATH`, or undefined. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The java executable Spark uses: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH. */
export function findJava(env: NodeJS.ProcessEnv = process.env): string {
  const install = 'install a Java runtime (Spark 4 needs Java 17 or 21, e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME';
  if (env.JAVA_HOME) {
    const java = join(env.JAVA_HOME, 'bin', 'java');
    if (!existsSync(java)) throw new SparkUnavailableError(`Spark needs Java: JAVA_HOME is ${env.JAVA_HOME}, but ${java} does not exist; ${install}`);
    return java;
  }
  const java = onPath('java', env);
  if (!java) throw new SparkUnavailableError(`Spark needs Java: no \`java\` on PATH and JAVA_HOME is not set; ${install}`);
  return java;
}

/** Runs `cmd args`; resolves with its exit code and output (code null when it could not start: `error`). */
function probe(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const PYSPARK_PROBE = [
  'import sys',
  'try:',
  '    import pyspark',
  'except ImportError:',
  '    print("missing pyspark"); sys.exit(3)',
  'try:',
  '    import numpy',
  'except ImportError:',
  '    print("missing numpy"); sys.exit(3)',
  'print(pyspark.__version__)',
].join('\n');

/** Checks Python + pyspark + numpy and Java; throws {@link SparkUnavailableError} saying what to install. */
export async function checkSparkEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<SparkEnvironment> {
  const python = pythonExecutable(env);
  const r = await probe(python, ['-c', PYSPARK_PROBE], env);
  if (r.code === null) {
    const why = r.error?.code === 'ENOENT' ? 'was not found' : `could not be started (${r.error?.code ?? r.error?.message ?? 'unknown error'})`;
    throw new SparkUnavailableError(`Spark runs through Python, but ${python} ${why}; install Python 3 and \`pip install pyspark\`, or set RECSYS_PYTHON to a Python that has pyspark`);
  }
  const out = r.stdout.trim();
  if (r.code === 3 && out === 'missing pyspark') throw new SparkUnavailableError(`the pyspark package is not installed for ${python}; install it with \`${python} -m pip install pyspark\` (or set RECSYS_PYTHON to a Python that has it)`);
  if (r.code === 3 && out === 'missing numpy') throw new SparkUnavailableError(`pyspark.ml needs numpy, which is not installed for ${python}; install it with \`${python} -m pip install numpy\``);
  if (r.code !== 0) throw new SparkUnavailableError(`${python} failed while importing pyspark (exit ${r.code}): ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
  const java = findJava(env);
  return { python, java, pysparkVersion: out };
}
