/**
 * Finds and loads the native kernel addon built by `npm run build:native` (build/recsys_native.node at the package
 * root, two levels above src/linalg/ or three above dist/src/linalg/), and types its three functions.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildPath } from './build-path.js';

/** An opaque thread-pool handle of the addon. */
export type NativePool = { readonly __nativePool: unique symbol };

/** A typed array handed to a kernel without copying, or null for an absent optional operand. */
export type NativeBuffer = Float32Array | Int32Array | Uint32Array | Float64Array | Uint8Array | null;

/** What the addon reports about itself and the CPU. */
export interface NativeInfo {
  /** 'avx2' or 'avx512'; '' when no kernel table fits this CPU (see `unavailable`). */
  isa: string;
  unavailable: string;
  /** Compiler flags of the chosen ISA's translation unit. */
  isaFlags: string;
  cpu: string;
  avx2: boolean;
  avx512f: boolean;
  compiler: string;
  hardwareThreads: number;
  /** GEMM register tile and cache blocks. */
  mr: number;
  nr: number;
  kc: number;
  mc: number;
  nc: number;
  ops: string[];
}

/** What a pool reports about itself. */
export interface NativePoolStats {
  threads: number;
  /** How long its workers spin after a job before sleeping. */
  spinMicros: number;
  /** Chunks run by the workers (not by the calling threads) since the pool started. */
  workerChunks: number;
}

/** The addon's exports (native/src/addon.cpp). */
export interface NativeAddon {
  info(): NativeInfo;
  /**
   * A pool of threads − 1 workers (the calling thread is the last one). After a job its workers spin for
   * `spinMicros` µs (default: RECSYS_NATIVE_SPIN_US, else 200; 0 = sleep at once) before sleeping.
   */
  createPool(threads: number, spinMicros?: number): NativePool;
  /**
   * Runs op on the calling thread alone (`false` / 0: returns its status), as async work on the pool (`true` / 1:
   * a promise of it), or on the calling thread joined by the pool's workers (2: returns its status).
   */
  call(pool: NativePool, op: number, buffers: NativeBuffer[], args: Float64Array, mode: boolean | 0 | 1 | 2): number | Promise<number>;
  poolStats(pool: NativePool): NativePoolStats;
}

/** Build metadata written next to the addon by scripts/build-native.mjs. */
export interface NativeBuildInfo {
  compiler: string;
  flags: { common: string[]; units: Record<string, string[]>; link: string[] };
  builtAt: string;
  seconds: number;
}

/** Path of a file in build/ (default the addon), or undefined when it does not exist. */
export function nativeBuildPath(file = 'recsys_native.node'): string | undefined {
  return buildPath(file);
}

let loaded: NativeAddon | undefined;

/** Loads the addon; throws a message saying why when it is missing or does not fit this CPU. */
export function loadNativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const path = nativeBuildPath();
  if (!path) throw new Error('linalg: the native kernels are not built (build/recsys_native.node; run `npm run build:native`)');
  const addon: NativeAddon = createRequire(import.meta.url)(path);
  const info = addon.info();
  if (!info.isa) throw new Error(`linalg: the native kernels cannot run here: ${info.unavailable}`);
  loaded = addon;
  return addon;
}

/** The build metadata, when present. */
export function nativeBuildInfo(): NativeBuildInfo | undefined {
  const path = nativeBuildPath('recsys_native.json');
  if (!path) return undefined;
  const parsed: NativeBuildInfo = JSON.parse(readFileSync(path, 'utf8'));
  return parsed;
}
