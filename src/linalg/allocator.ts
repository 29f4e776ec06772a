/**
 * A first-fit free-list allocator over a (shared) WebAssembly memory. Everything below `base` (the module's
 * static data and the control block) is reserved. Freed blocks coalesce with their neighbours, so a sequence of
 * calls that allocates and frees the same sizes reuses the same addresses and never grows the memory.
 */

import type { WasmMemory } from './wasm-api.js';

/** Bytes in a WebAssembly page. */
const PAGE = 65536;
/** wasm32 addresses stop at 4 GiB. */
export const MAX_MEMORY_BYTES = 65536 * PAGE;
/** Alignment of every block (a cache line; also enough for v128 and f64). */
const ALIGN = 64;

interface FreeBlock {
  start: number;
  size: number;
}

/** Formats a byte count for error messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/** The allocator; addresses are byte offsets into `memory`. */
export class SharedAllocator {
  private readonly free_: FreeBlock[] = [];
  private readonly live = new Map<number, number>();
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private inUse = 0;

  /** Manages memory from `base` (rounded up to the alignment) to the end of the memory, growing it on demand. */
  constructor(
    private readonly memory: WasmMemory,
    base: number,
  ) {
    const start = Math.ceil(base / ALIGN) * ALIGN;
    const end = memory.buffer.byteLength;
    if (end > start) this.free_.push({ start, size: end - start });
    this.buffers.add(memory.buffer);
  }

  /** The memory's current buffer (a new object after each growth; older views stay valid). */
  get buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /** Bytes currently handed out. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Size of the memory in bytes. */
  get bytesReserved(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (rounded up to 64) and returns the address; grows the memory when no free block fits. */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`linalg allocator: invalid size ${bytes}`);
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let index = this.free_.findIndex((b) => b.size >= size);
    if (index < 0) index = this.grow(size);
    const block = this.free_[index];
    const start = block.start;
    if (block.size === size) this.free_.splice(index, 1);
    else {
      block.start += size;
      block.size -= size;
    }
    this.live.set(start, size);
    this.inUse += size;
    return start;
  }

  /** Returns a block to the free list. */
  free(address: number): void {
    const size = this.live.get(address);
    if (size === undefined) throw new RangeError(`linalg allocator: address ${address} is not an allocated block (double free?)`);
    this.live.delete(address);
    this.inUse -= size;
    // Insert sorted by start, then merge with the neighbours.
    let lo = 0;
    let hi = this.free_.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free_[mid].start < address) lo = mid + 1;
      else hi = mid;
    }
    this.free_.splice(lo, 0, { start: address, size });
    const next = this.free_[lo + 1];
    if (next && address + size === next.start) {
      this.free_[lo].size += next.size;
      this.free_.splice(lo + 1, 1);
    }
    const prev = this.free_[lo - 1];
    if (prev && prev.start + prev.size === address) {
      prev.size += this.free_[lo].size;
      this.free_.splice(lo, 1);
    }
  }

  /** True when `address` starts a live block. */
  isBlock(address: number): boolean {
    return this.live.has(address);
  }

  /** The address of `view` when it lives in this memory (then kernels may use it in place), else undefined. */
  addressOf(view: ArrayBufferView): number | undefined {
    if (!this.buffers.has(view.buffer)) return undefined;
    return view.byteOffset;
  }

  /** Grows the memory so that a free block of `size` bytes exists at its end; returns that block's index. */
  private grow(size: number): number {
    const end = this.memory.buffer.byteLength;
    const last = this.free_[this.free_.length - 1];
    const tail = last && last.start + last.size === end ? last.size : 0;
    const missing = size - tail;
    const pages = Math.ceil(missing / PAGE);
    if (end + pages * PAGE > MAX_MEMORY_BYTES) {
      throw new RangeError(
        `linalg: cannot allocate ${formatBytes(size)}: shared memory would grow to ${formatBytes(end + pages * PAGE)}, ` +
          `beyond wasm32's 4 GiB limit (${formatBytes(this.inUse)} in use)`,
      );
    }
    try {
      this.memory.grow(pages);
    } catch (err) {
      throw new RangeError(
        `linalg: cannot allocate ${formatBytes(size)}: growing shared memory from ${formatBytes(end)} by ${formatBytes(pages * PAGE)} failed ` +
          `(${err instanceof Error ? err.message : String(err)})`,
      );
    }
    this.buffers.add(this.memory.buffer);
    if (tail > 0) {
      last.size += pages * PAGE;
      return this.free_.length - 1;
    }
    this.free_.push({ start: end, size: pages * PAGE });
    return this.free_.length - 1;
  }
}
