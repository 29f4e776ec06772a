// Shared declarations of the native kernels: the call record passed from JavaScript, the parallel runner and the
// per-ISA operation table. Kept free of C++ standard-library templates: the ISA-specific translation units are
// compiled with -mavx2/-mavx512f and must not emit (weak, linker-merged) instantiations of library code that the
// baseline code could end up calling on a CPU without those instructions.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace recsys {

/** Typed-array operands: data pointer and length in elements (0 / null for an absent optional operand). */
struct Buf {
  void* p;
  size_t n;
};

enum { MAX_BUFS = 16, MAX_ARGS = 48 };

/** One kernel call: buffers in the order the JavaScript side passed them, then numeric arguments. */
struct Call {
  Buf b[MAX_BUFS];
  int nb;
  double a[MAX_ARGS];
  int na;
};

typedef void (*ChunkFn)(void* ctx, long chunk);

/** Runs fn(ctx, c) for c = 0…chunks−1, on `threads` threads (the calling one included) or serially. */
struct Runner {
  int threads;
  void* self;
  void (*pfor)(void* self, long chunks, ChunkFn fn, void* ctx);
};

/** A kernel: returns 0 or a kernel-specific nonzero status (e.g. 1 + the index of a failing system). */
typedef int (*OpFn)(const Call& call, const Runner& run);

struct OpEntry {
  const char* name;
  OpFn fn;
};

/** The operations of one ISA build, terminated by a null name. */
struct OpTable {
  const char* isa;
  const char* flags;
  int mr, nr, kc, mc, nc;
  const OpEntry* ops;
};

}  // namespace recsys

extern "C" const recsys::OpTable* recsys_ops_avx2();
extern "C" const recsys::OpTable* recsys_ops_avx512();
