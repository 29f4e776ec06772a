// Entry point of build/kernels.wasm: every exported kernel. Chunked kernels take (…, chunk, scratch) last and
// return 0 on success or a positive status the host turns into an error.
export { gemmChunk, gemmBlock, gramChunk, GEMM_SCRATCH_BYTES, MR, NR } from './gemm';
export { choleskySolveChunk, solveScratchBytes, factorDiagonalBlock, invertLowerBlock, copyBlock, fillUpper } from './solve';
export { alsChunk, alsScratchBytes } from './als';
export { csrMatmulChunk, transposeChunk, sparseGramChunk } from './sparse';
export { dotF32, axpyF32, rowNormsF32, normalizeRowsF32 } from './vector';
export { adamChunk, multinomialChunk, dropoutCsrF32, tanhChunk } from './nn';
export { bprChunk } from './bpr';
export { topkChunk, topkScratchBytes, scoreTopKChunk, scoreTopKScratchBytes, ITEM_BLOCK } from './topk';

/** First byte after the module's static data: the host allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
