/**
 * Typed access to the WebAssembly JS API. The project compiles against lib ES2022 and @types/node 20, neither
 * of which declares `WebAssembly`, so this module describes the subset the kernel layer uses.
 */

/** A linear memory (shared when created with `shared: true`). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (structured-cloneable to workers). */
export interface WasmModule {
  readonly __brand?: 'WasmModule';
}

/** A global exported by an instance. */
export interface WasmGlobal {
  value: unknown;
}

/** An export: a function, a global or the memory. */
export type WasmExportValue = ((...args: number[]) => number) | WasmGlobal | WasmMemory;

/** An instance's exports. */
export type WasmExports = Record<string, WasmExportValue>;

/** The part of the global `WebAssembly` object used here. */
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: WasmExports };
  Module: { exports(module: WasmModule): { name: string; kind: string }[] };
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

/** The runtime's WebAssembly API. */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
