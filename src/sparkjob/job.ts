/**
 * Running the PySpark job (spark/als_job.py, shipped with the package) on a JSON spec: `python3 als_job.py
 * SPEC` (or `spark-submit --master M als_job.py SPEC`) in its own process group. Its stdout is JSON lines
 * (`start`, `progress` with stages done/total, `done`, `error`, `cancelled`); Spark's log on stderr is kept
 * (its tail is shown when the job fails). Aborting the signal sends SIGTERM to the job, which cancels its
 * Spark jobs and exits; one still running after the grace period is killed with its whole process group.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortError, type Progress } from '../core/progress.js';

/** File name of the job inside the package's `spark/` folder. */
export const JOB_FILE = 'als_job.py';

/** What a job does: fit one model, cross-validate a grid, or compute ROEM of a fixed case (tests). */
export type JobMode = 'fit' | 'search' | 'roem-selftest';

/** The JSON spec the job reads (see the docstring of spark/als_job.py). */
export interface JobSpec {
  mode: JobMode;
  master: string;
  appName: string;
  conf: Record<string, string>;
  input?: string;
  /** Directory the job creates for its factors and result.json. */
  output: string;
  als?: Record<string, unknown>;
  search?: Record<string, unknown>;
  case?: Record<string, unknown>;
  logLevel?: string;
}

/** Path of spark/als_job.py, found from this module whether it runs from src/ or dist/src/. */
export function jobPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, 'spark', JOB_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`spark/${JOB_FILE} is missing from the recsys installation (looked upwards from ${dirname(fileURLToPath(import.meta.url))})`);
}

/** Session settings for a small run: shuffle partitions, driver memory, any extra `--conf key=value`. */
export function sparkConf(options: { shufflePartitions: number; driverMemory: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    'spark.sql.shuffle.partitions': String(options.shufflePartitions),
    'spark.driver.memory': options.driverMemory,
    'spark.ui.enabled': 'false',
    'spark.ui.showConsoleProgress': 'false',
    ...options.extra,
  };
}

/** A Spark job failed: its message (and stderr tail). The CLI exits 1. */
export class SparkJobError extends Error {
  override name = 'SparkJobError';
}

/** How to run the job. */
export interface RunJobOptions {
  python: string;
  /** Run through this spark-submit instead of `python job.py` (pyspark then comes with the Spark install). */
  sparkSubmit?: string;
  signal?: AbortSignal;
  /** Stages done/total as the job reports them. */
  onProgress?: (p: Progress) => void;
  /** Each line the job or Spark prints that is not a JSON event (verbose runs print them). */
  onLog?: (line: string) => void;
  /** Milliseconds between SIGTERM and killing the process group (default 15000). */
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** What a finished job reported. */
export interface JobOutcome {
  /** The job's result.json. */
  result: Record<string, unknown>;
  sparkVersion: string;
  seconds: number;
}

interface JobEvent {
  event: string;
  [key: string]: unknown;
}

function parseEvent(line: string): JobEvent | null {
  if (!line.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && typeof (v as { event?: unknown }).event === 'string' ? (v as JobEvent) : null;
  } catch {
    return null;
  }
}

/** Last lines of Spark's stderr worth showing: the Python traceback and Java exceptions, not INFO chatter. */
function stderrTail(lines: string[]): string {
  const useful = lines.filter((l) => l.trim() !== '' && !/^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d (INFO|WARN) /.test(l) && !/^\s*(WARNING|Setting default log level|To adjust logging level)/.test(l));
  return useful.slice(-12).join('\n');
}

/** Writes `spec` beside its output directory and runs the job; see the module comment. */
export async function runJob(spec: JobSpec, specFile: string, options: RunJobOptions): Promise<JobOutcome> {
  writeFileSync(specFile, JSON.stringify(spec, null, 2));
  const job = jobPath();
  const [cmd, args] = options.sparkSubmit ? [options.sparkSubmit, ['--master', spec.master, job, specFile]] : [options.python, [job, specFile]];
  const env = { ...(options.env ?? process.env), PYSPARK_PYTHON: options.python, PYTHONUNBUFFERED: '1' };
  const t0 = performance.now();
  if (options.signal?.aborted) throw new AbortError('Spark job cancelled before it started');
  return new Promise<JobOutcome>((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const errLines: string[] = [];
    let error: JobEvent | null = null;
    let cancelled = false;
    let sparkVersion = '';
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(killGroup, options.graceMs ?? 15_000);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    process.once('exit', killGroup); // never leave a JVM behind
    const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        rest += d;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          each(rest.slice(0, nl).replace(/\r$/, ''));
          rest = rest.slice(nl + 1);
        }
      });
      stream.on('end', () => {
        if (rest) each(rest);
      });
    };
    lines(child.stdout, (line) => {
      const ev = parseEvent(line);
      if (!ev) {
        options.onLog?.(line);
        return;
      }
      if (ev.event === 'start') sparkVersion = String(ev.sparkVersion ?? '');
      else if (ev.event === 'progress') options.onProgress?.({ phase: String(ev.phase ?? 'stages'), done: Number(ev.done), total: Number(ev.total) });
      else if (ev.event === 'error') error = ev;
      else if (ev.event === 'cancelled') cancelled = true;
    });
    lines(child.stderr, (line) => {
      errLines.push(line);
      if (errLines.length > 400) errLines.splice(0, errLines.length - 400);
      options.onLog?.(line);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(new SparkJobError(`cannot start the Spark job (${cmd}): ${e.code === 'ENOENT' ? 'not found' : e.message}`));
    });
    const cleanup = (): void => {
      options.signal?.removeEventListener('abort', onAbort);
      process.off('exit', killGroup);
      if (killTimer) clearTimeout(killTimer);
    };
    child.on('close', (code, signal) => {
      cleanup();
      killGroup(); // a JVM the job left behind
      const seconds = (performance.now() - t0) / 1000;
      if (cancelled || options.signal?.aborted) {
        reject(new AbortError('Spark job cancelled'));
        return;
      }
      const resultFile = join(spec.output, 'result.json');
      if (code === 0 && existsSync(resultFile)) {
        const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
        resolve({ result, sparkVersion: sparkVersion || String(result.sparkVersion ?? ''), seconds });
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with status ${String(code)}`;
      const message = error ? String(error.message) : `the job ${how} without reporting an error`;
      const tail = stderrTail(errLines);
      reject(new SparkJobError(`Spark job failed: ${message}${tail ? `\n--- Spark stderr (last lines) ---\n${tail}` : ''}`));
    });
  });
}
