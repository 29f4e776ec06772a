/**
 * The worker-thread pool behind the WebAssembly kernels. Every worker instantiates the same compiled module on
 * the same shared memory; a job is "call exported function F(args…, chunk, scratch) for chunk = 0…n−1", and the
 * workers pull chunk numbers from a shared atomic counter (dynamic load balancing). Jobs are posted through a
 * control block in shared memory with Atomics.notify, and completion is awaited with Atomics.waitAsync, so a job
 * costs no message round trip and the main thread's event loop stays free. Small jobs run synchronously on the
 * main thread's own instance instead (no dispatch latency).
 *
 * The worker is a plain CommonJS script evaluated from a string, so it loads the same way under tsx/vitest
 * (TypeScript sources), from dist/ and from bin/recsys.js without resolving any file.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SharedAllocator } from './allocator.js';
import { wasmApi, type WasmExports, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Control block slots (Int32 indices). */
const SEQ = 0;
const NEXT = 1;
const DONE = 2;
const QUIT = 3;
const FN = 4;
const CHUNKS = 5;
const NARGS = 6;
const STATUS = 7;
const ERROR_LENGTH = 8;
const ACTIVE = 9;
const SCRATCH = 16;
/** Int32 slots in the control block. */
const CONTROL_SLOTS = 64;
/** Most workers the control block has scratch slots for. */
export const MAX_THREADS = CONTROL_SLOTS - SCRATCH;
/** Most arguments of a job. */
const MAX_ARGS = 32;
/**
 * Milliseconds an idle worker polls for the next job before it sleeps (RECSYS_SPIN_MS overrides). Polling only
 * pays when a core is free for it: with as many workers as cores, a polling worker takes the core the main
 * thread needs for the JavaScript between jobs (measured: two-tower training 12.4 s with polling vs 8.3 s
 * without on 2 cores), so the default is 0 there.
 */
export function defaultSpinMs(threads: number): number {
  const env = process.env.RECSYS_SPIN_MS;
  if (env !== undefined && env !== '' && Number.isFinite(Number(env))) return Math.max(0, Number(env));
  return threads < availableParallelism() ? 2 : 0;
}
/** Bytes reserved for a worker's error message. */
const ERROR_BYTES = 1024;

/*
 * Job protocol. SEQ is even while a job is open and odd while the main thread is replacing it. Workers announce
 * themselves in ACTIVE, then re-check SEQ, so the main thread (which makes SEQ odd, then waits for ACTIVE = 0
 * before rewriting the job fields) never changes a job under a worker. A job is finished when DONE (finished
 * chunks) reaches CHUNKS: a worker still asleep when the others have done all chunks does not delay it.
 */
const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, controlPtr, argsPtr, errorPtr, errorBytes, id, names } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(memory.buffer, controlPtr, ${CONTROL_SLOTS});
const args = new Float64Array(memory.buffer, argsPtr, ${MAX_ARGS});
parentPort.postMessage('ready');
const SPIN_MS = workerData.spinMs;
let seen = 0; // the control block starts zeroed: a job opened before this worker started is still seen
const leave = () => {
  if (Atomics.sub(ctrl, ${ACTIVE}, 1) === 1) Atomics.notify(ctrl, ${ACTIVE});
};
for (;;) {
  // Spin briefly before sleeping: back-to-back jobs then find the worker awake (waking a sleeping thread costs
  // milliseconds on this VM's idle vCPUs, more than a typical job).
  const spinUntil = Date.now() + SPIN_MS;
  while (Atomics.load(ctrl, ${SEQ}) === seen && Date.now() < spinUntil);
  while (Atomics.load(ctrl, ${SEQ}) === seen) Atomics.wait(ctrl, ${SEQ}, seen, 1000);
  seen = Atomics.load(ctrl, ${SEQ});
  if (Atomics.load(ctrl, ${QUIT}) !== 0) break;
  if ((seen & 1) !== 0) continue; // being replaced: wait for it to open
  Atomics.add(ctrl, ${ACTIVE}, 1);
  if (Atomics.load(ctrl, ${SEQ}) !== seen) {
    leave();
    continue;
  }
  const fn = exports_[names[ctrl[${FN}]]];
  const chunks = ctrl[${CHUNKS}];
  const call = Array.from(args.subarray(0, ctrl[${NARGS}]));
  const chunkArg = call.length;
  call.push(0, ctrl[${SCRATCH} + id]);
  for (;;) {
    const c = Atomics.add(ctrl, ${NEXT}, 1);
    if (c >= chunks) break;
    call[chunkArg] = c;
    try {
      const status = fn(...call);
      if (status !== 0) {
        for (;;) {
          const old = Atomics.load(ctrl, ${STATUS});
          if ((old !== 0 && old <= status) || Atomics.compareExchange(ctrl, ${STATUS}, old, status) === old) break;
        }
      }
    } catch (err) {
      const text = new TextEncoder().encode(String((err && err.stack) || err)).slice(0, errorBytes);
      if (Atomics.compareExchange(ctrl, ${ERROR_LENGTH}, 0, text.length || 1) === 0) {
        new Uint8Array(memory.buffer, errorPtr, errorBytes).set(text);
      }
    }
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === chunks) Atomics.notify(ctrl, ${DONE});
  }
  leave();
}
`;

/** A numeric export of the kernel module. */
type KernelFunction = (...args: number[]) => number;

/** Atomics.waitAsync (ES2024; present in Node >= 16). */
interface WaitAsyncResult {
  async: boolean;
  value: Promise<string> | string;
}
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult }).waitAsync;

/** A job for {@link WorkerPool.run}. */
export interface Job {
  /** Export name of the chunked kernel. */
  fn: string;
  /** Arguments before (chunk, scratch). */
  args: number[];
  /** Number of chunks. */
  chunks: number;
  /** Scratch bytes every executing thread needs. */
  scratchBytes: number;
  /** Run on the worker threads (true) or synchronously on the main thread (false). */
  parallel: boolean;
}

/** Thrown when a worker trapped (a bug or an out-of-bounds access), carrying the worker's message. */
export class KernelTrapError extends Error {}

/** Runs chunked kernel jobs on the main thread or the workers; one job at a time (callers queue). */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly argsView: Float64Array;
  private readonly controlPtr: number;
  private readonly argsPtr: number;
  private readonly errorPtr: number;
  private readonly names: string[];
  private readonly local: WasmExports;
  private readonly workerScratch: number[] = [];
  private localScratch = 0;
  private scratchSize = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set when a worker died: no job can complete any more. */
  private broken: string | undefined;

  /** Instantiates the module on the main thread and starts `threads` workers on it. */
  constructor(
    private readonly module: WasmModule,
    private readonly memory: WasmMemory,
    private readonly allocator: SharedAllocator,
    /** Number of worker threads. */
    readonly threads: number,
  ) {
    if (threads < 1 || threads > MAX_THREADS) throw new RangeError(`linalg: threads must be in 1..${MAX_THREADS}, got ${threads}`);
    this.local = new wasmApi.Instance(module, { env: { memory } }).exports;
    this.names = wasmApi.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    this.controlPtr = allocator.alloc(CONTROL_SLOTS * 4);
    this.argsPtr = allocator.alloc(MAX_ARGS * 8);
    this.errorPtr = allocator.alloc(ERROR_BYTES);
    this.control = new Int32Array(allocator.buffer, this.controlPtr, CONTROL_SLOTS);
    this.control.fill(0);
    this.argsView = new Float64Array(allocator.buffer, this.argsPtr, MAX_ARGS);
    const ready: Promise<void>[] = [];
    for (let id = 0; id < threads; id++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module,
          memory,
          controlPtr: this.controlPtr,
          argsPtr: this.argsPtr,
          errorPtr: this.errorPtr,
          errorBytes: ERROR_BYTES,
          id,
          names: this.names,
          spinMs: defaultSpinMs(threads),
        },
      });
      worker.unref();
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`linalg: worker ${id} exited with code ${code} while starting`)));
        }),
      );
      worker.on('error', (err) => {
        this.broken ??= `worker ${id} failed: ${err.message}`;
      });
      worker.on('exit', (code) => {
        if (!this.closed) this.broken ??= `worker ${id} exited with code ${code}`;
      });
      this.workers.push(worker);
    }
    this.ready = Promise.all(ready).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** Resolves once every worker has instantiated the module (rejects if one failed to start). */
  readonly ready: Promise<void>;

  /** The main thread's instance exports (for small synchronous helpers). */
  get exports(): WasmExports {
    return this.local;
  }

  /** Runs a job after the ones already queued; resolves to the smallest nonzero status any chunk returned, or 0. */
  run(job: Job): Promise<number> {
    const result = this.queue.then(() => this.execute(job));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    Atomics.store(this.control, QUIT, 1);
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Makes every thread's scratch region at least `bytes` long (kept across jobs, so repeated calls reuse it). */
  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratchSize) return;
    const size = Math.max(bytes, Math.ceil(this.scratchSize * 1.5));
    if (this.localScratch) this.allocator.free(this.localScratch);
    for (const p of this.workerScratch) this.allocator.free(p);
    this.workerScratch.length = 0;
    this.localScratch = this.allocator.alloc(size);
    for (let t = 0; t < this.threads; t++) {
      const p = this.allocator.alloc(size);
      this.workerScratch.push(p);
      this.control[SCRATCH + t] = p;
    }
    this.scratchSize = size;
  }

  private async execute(job: Job): Promise<number> {
    if (this.closed) throw new Error('linalg: the kernels were closed');
    if (this.broken) throw new Error(`linalg: the worker pool is broken (${this.broken})`);
    if (job.args.length > MAX_ARGS) throw new RangeError(`linalg: job ${job.fn} has ${job.args.length} arguments, at most ${MAX_ARGS}`);
    const fnIndex = this.names.indexOf(job.fn);
    if (fnIndex < 0) throw new Error(`linalg: the kernel module has no function ${job.fn}`);
    if (job.chunks <= 0) return 0;
    if (!job.parallel) {
      this.ensureScratch(job.scratchBytes);
      return this.executeLocal(job);
    }
    const c = this.control;
    for (const w of this.workers) w.ref();
    try {
      // Close the previous job and wait for workers still inside it (they leave as soon as they find no chunk).
      Atomics.add(c, SEQ, 1);
      await this.waitFor(job.fn, ACTIVE, (active) => active === 0);
      this.ensureScratch(job.scratchBytes);
      this.argsView.set(job.args);
      c[FN] = fnIndex;
      c[CHUNKS] = job.chunks;
      c[NARGS] = job.args.length;
      Atomics.store(c, NEXT, 0);
      Atomics.store(c, DONE, 0);
      Atomics.store(c, STATUS, 0);
      Atomics.store(c, ERROR_LENGTH, 0);
      Atomics.add(c, SEQ, 1);
      Atomics.notify(c, SEQ);
      await this.waitFor(job.fn, DONE, (done) => done >= job.chunks);
    } finally {
      for (const w of this.workers) w.unref();
    }
    const errorLength = Atomics.load(c, ERROR_LENGTH);
    if (errorLength > 0) {
      const text = new TextDecoder().decode(new Uint8Array(this.allocator.buffer, this.errorPtr, errorLength).slice());
      throw new KernelTrapError(`linalg: ${job.fn} failed in a worker: ${text}`);
    }
    return Atomics.load(c, STATUS);
  }

  /** Awaits `ready(control[slot])` with Atomics.waitAsync; fails when a worker died. */
  private async waitFor(fn: string, slot: number, ready: (value: number) => boolean): Promise<void> {
    for (;;) {
      const value = Atomics.load(this.control, slot);
      if (ready(value)) return;
      if (this.broken) throw new Error(`linalg: ${fn} cannot finish: ${this.broken}`);
      const wait = waitAsync(this.control, slot, value, 1000);
      if (wait.async) await wait.value;
    }
  }

  private executeLocal(job: Job): number {
    const fn = this.local[job.fn] as KernelFunction;
    const call = [...job.args, 0, this.localScratch];
    const chunkArg = job.args.length;
    let worst = 0;
    for (let chunk = 0; chunk < job.chunks; chunk++) {
      call[chunkArg] = chunk;
      const status = fn(...call);
      if (status !== 0 && (worst === 0 || status < worst)) worst = status;
    }
    return worst;
  }
}
