// The Node-API side of the native kernels: CPUID dispatch to the AVX2 or AVX-512 operation table, a thread pool,
// and one generic entry point `call(pool, op, buffers, args, async)` that hands typed arrays to a kernel without
// copying (synchronously on the calling thread, or as napi async work whose worker thread joins the pool).
// Compiled for baseline x86-64: nothing here may use AVX.
#include <cpuid.h>
#include <node_api.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.h"

using recsys::Call;
using recsys::ChunkFn;
using recsys::OpTable;
using recsys::Runner;

namespace {

// ---------------------------------------------------------------------------------------------------------------
// CPU features.

struct Cpu {
  bool avx2 = false, fma = false, avx512f = false, osAvx = false, osAvx512 = false;
  std::string brand;
};

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Cpu detectCpu() {
  Cpu cpu;
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    cpu.fma = (c >> 12) & 1;
    const bool osxsave = (c >> 27) & 1;
    if (osxsave) {
      const uint64_t xcr0 = xgetbv0();
      cpu.osAvx = (xcr0 & 0x6) == 0x6;
      cpu.osAvx512 = (xcr0 & 0xe6) == 0xe6;
    }
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    cpu.avx2 = (b >> 5) & 1;
    cpu.avx512f = (b >> 16) & 1;
  }
  unsigned maxExt = __get_cpuid_max(0x80000000, nullptr);
  if (maxExt >= 0x80000004) {
    char text[49] = {0};
    for (unsigned i = 0; i < 3; i++) {
      unsigned r[4];
      __get_cpuid(0x80000002 + i, &r[0], &r[1], &r[2], &r[3]);
      std::memcpy(text + 16 * i, r, 16);
    }
    cpu.brand = text;
    while (!cpu.brand.empty() && cpu.brand.back() == ' ') cpu.brand.pop_back();
    while (!cpu.brand.empty() && cpu.brand.front() == ' ') cpu.brand.erase(0, 1);
  }
  return cpu;
}

Cpu gCpu;
const OpTable* gTable = nullptr;
std::string gUnavailable;  // why no table was chosen

void chooseTable() {
  gCpu = detectCpu();
  const bool hasAvx2 = gCpu.avx2 && gCpu.fma && gCpu.osAvx;
  const bool hasAvx512 = hasAvx2 && gCpu.avx512f && gCpu.osAvx512;
  const char* force = std::getenv("RECSYS_NATIVE_ISA");
  std::string want = force ? force : "";
  if (want == "avx512") {
    if (hasAvx512) gTable = recsys_ops_avx512();
    else gUnavailable = "RECSYS_NATIVE_ISA=avx512 but this CPU lacks AVX-512F";
  } else if (want == "avx2") {
    if (hasAvx2) gTable = recsys_ops_avx2();
    else gUnavailable = "RECSYS_NATIVE_ISA=avx2 but this CPU lacks AVX2/FMA";
  } else if (!want.empty()) {
    gUnavailable = "RECSYS_NATIVE_ISA must be avx2 or avx512, got \"" + want + "\"";
  } else if (hasAvx512) {
    gTable = recsys_ops_avx512();
  } else if (hasAvx2) {
    gTable = recsys_ops_avx2();
  } else {
    gUnavailable = "this CPU has neither AVX2+FMA nor AVX-512F";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Thread pool: threads − 1 workers plus the calling thread; chunks handed out by an atomic counter.
//
// A job is published through a sequence number: odd while there is none (the caller may then rewrite the job's
// fields), even while one runs. A worker announces itself in `active_` before it reads the sequence number, and the
// caller, after making it odd again, waits until `active_` is 0, so a worker never reads a job's fields while they
// are rewritten (the two sides each write one variable and then read the other, all sequentially consistent: at
// least one of them sees the other's write). After a job, workers spin on the sequence number for a bounded time
// (RECSYS_NATIVE_SPIN_US, default 200 µs) before sleeping on a condition variable: waking a sleeping vCPU takes
// tens of µs to milliseconds here, as long as a whole 256³ GEMM. The caller likewise spins a bounded time for the
// workers still running its last chunks before it sleeps.

enum : long { DEFAULT_SPIN_US = 200, MAX_SPIN_US = 1000000 };

/** Microseconds from RECSYS_NATIVE_SPIN_US (0 = never spin), else the default. */
long spinMicrosFromEnv() {
  const char* v = std::getenv("RECSYS_NATIVE_SPIN_US");
  if (!v || !*v) return DEFAULT_SPIN_US;
  char* end = nullptr;
  const long us = std::strtol(v, &end, 10);
  return (end && *end == 0 && us >= 0 && us <= MAX_SPIN_US) ? us : DEFAULT_SPIN_US;
}

/**
 * One step of a bounded spin: a pause, and from the 1024th step on a sched_yield every 16th, so a spinning thread
 * that shares a core with the thread it waits for (more runnable threads than free cores) hands it the core.
 */
inline void spinStep(unsigned i) {
  __builtin_ia32_pause();
  if (i >= 1024 && (i & 15) == 15) sched_yield();
}

class Pool {
 public:
  Pool(int threads, long spinUs) : threads_(threads < 1 ? 1 : threads), spin_(std::chrono::microseconds(spinUs)) {
    for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { loop(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() const { return threads_; }
  long spinMicros() const { return static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(spin_).count()); }
  /** Chunks run by the workers (not the calling thread) since the pool started. */
  uint64_t workerChunks() const { return workerChunks_.load(std::memory_order_relaxed); }

  /** fn(ctx, c) for every chunk; jobs are serialized; returns when every chunk has run. */
  void run(long chunks, ChunkFn fn, void* ctx) {
    std::lock_guard<std::mutex> serial(jobMutex_);
    // seq_ is odd and no worker is active: the fields are ours.
    fn_ = fn;
    ctx_ = ctx;
    chunks_ = chunks;
    next_.store(0, std::memory_order_relaxed);
    seq_.fetch_add(1);  // even: published
    if (sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lk(m_); }
      wake_.notify_all();
    }
    work(false);
    seq_.fetch_add(1);  // odd: no worker starts on it any more
    // Every chunk is taken; wait for the workers still running theirs.
    const auto until = std::chrono::steady_clock::now() + spin_;
    for (unsigned i = 0; active_.load() != 0; i++) {
      spinStep(i);
      if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) {
        std::unique_lock<std::mutex> lk(m_);
        joinWaiting_.store(true);
        done_.wait(lk, [&] { return active_.load() == 0; });
        joinWaiting_.store(false);
        break;
      }
    }
  }

  static void trampoline(void* self, long chunks, ChunkFn fn, void* ctx) { static_cast<Pool*>(self)->run(chunks, fn, ctx); }

 private:
  void work(bool worker) {
    for (;;) {
      long c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      fn_(ctx_, c);
      if (worker) workerChunks_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  /** A job other than `seen` is published. */
  bool posted(uint64_t seen) const {
    const uint64_t s = seq_.load();
    return (s & 1) == 0 && s != seen;
  }

  void loop() {
    uint64_t seen = 1;
    for (;;) {
      // Spin a while for the next job, then sleep.
      const auto until = std::chrono::steady_clock::now() + spin_;
      bool ready = false;
      for (unsigned i = 0; !stop_.load(std::memory_order_relaxed); i++) {
        if (posted(seen)) {
          ready = true;
          break;
        }
        spinStep(i);
        if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) break;
      }
      if (!ready) {
        std::unique_lock<std::mutex> lk(m_);
        sleepers_.fetch_add(1);
        wake_.wait(lk, [&] { return stop_.load() || posted(seen); });
        sleepers_.fetch_sub(1);
      }
      if (stop_.load()) return;
      active_.fetch_add(1);
      const uint64_t s = seq_.load();
      if ((s & 1) == 0 && s != seen) work(true);
      seen = s;  // odd: the job was over before we got to it; wait for the next
      if (active_.fetch_sub(1) == 1 && joinWaiting_.load()) {
        { std::lock_guard<std::mutex> lk(m_); }
        done_.notify_all();
      }
    }
  }

  int threads_;
  std::chrono::steady_clock::duration spin_;
  std::vector<std::thread> workers_;
  std::mutex jobMutex_;
  // The job: written by the caller only while seq_ is odd and active_ is 0.
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  long chunks_ = 0;
  std::atomic<long> next_{0};
  std::atomic<uint64_t> seq_{1};
  std::atomic<int> active_{0};
  // Sleeping.
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> joinWaiting_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> workerChunks_{0};
};

void serialFor(void*, long chunks, ChunkFn fn, void* ctx) {
  for (long c = 0; c < chunks; c++) fn(ctx, c);
}

// ---------------------------------------------------------------------------------------------------------------
// N-API glue.

#define CHECK(env, expr)                                                   \
  do {                                                                     \
    if ((expr) != napi_ok) {                                               \
      napi_throw_error((env), nullptr, "recsys native: N-API call failed: " #expr); \
      return nullptr;                                                      \
    }                                                                      \
  } while (0)

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return nullptr;
}

int gOpCount = 0;

/** A present but empty typed array still gets a non-null pointer (an empty candidate list ≠ no list). */
double gEmpty[8];

struct AsyncCall {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref keep = nullptr;
  Call call;
  recsys::OpFn fn = nullptr;
  Pool* pool = nullptr;
  int status = 0;
};

void poolFinalize(napi_env, void* data, void*) { delete static_cast<Pool*>(data); }

Pool* poolOf(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) return nullptr;
  return static_cast<Pool*>(p);
}

/** createPool(threads, spinMicros?): spinMicros defaults to RECSYS_NATIVE_SPIN_US, else 200. */
napi_value createPool(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t threads = 1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1 || threads > 1024) {
    return throwError(env, "recsys native: createPool(threads) needs a thread count in 1..1024");
  }
  long spinUs = spinMicrosFromEnv();
  napi_valuetype spinType = napi_undefined;
  if (argc >= 2) CHECK(env, napi_typeof(env, argv[1], &spinType));
  if (spinType != napi_undefined) {
    double us = -1;
    if (spinType != napi_number || napi_get_value_double(env, argv[1], &us) != napi_ok || !(us >= 0 && us <= MAX_SPIN_US)) {
      return throwError(env, "recsys native: createPool(threads, spinMicros) needs spinMicros in 0..1000000");
    }
    spinUs = static_cast<long>(us);
  }
  Pool* pool = new Pool(threads, spinUs);
  napi_value ext;
  CHECK(env, napi_create_external(env, pool, poolFinalize, nullptr, &ext));
  return ext;
}

/** poolStats(pool): { threads, spinMicros, workerChunks }. */
napi_value poolStats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Pool* pool = argc >= 1 ? poolOf(env, argv[0]) : nullptr;
  if (!pool) return throwError(env, "recsys native: not a pool");
  napi_value obj, v;
  CHECK(env, napi_create_object(env, &obj));
  CHECK(env, napi_create_int32(env, pool->threads(), &v));
  CHECK(env, napi_set_named_property(env, obj, "threads", v));
  CHECK(env, napi_create_double(env, static_cast<double>(pool->spinMicros()), &v));
  CHECK(env, napi_set_named_property(env, obj, "spinMicros", v));
  CHECK(env, napi_create_double(env, static_cast<double>(pool->workerChunks()), &v));
  CHECK(env, napi_set_named_property(env, obj, "workerChunks", v));
  return obj;
}

void executeCall(napi_env, void* data) {
  AsyncCall* c = static_cast<AsyncCall*>(data);
  Runner run{c->pool->threads(), c->pool, &Pool::trampoline};
  c->status = c->fn(c->call, run);
}

void completeCall(napi_env env, napi_status status, void* data) {
  AsyncCall* c = static_cast<AsyncCall*>(data);
  napi_value result;
  if (status == napi_ok) {
    napi_create_int32(env, c->status, &result);
    napi_resolve_deferred(env, c->deferred, result);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "recsys native: async work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &result);
    napi_reject_deferred(env, c->deferred, result);
  }
  napi_delete_reference(env, c->keep);
  napi_delete_async_work(env, c->work);
  delete c;
}

/** call(pool, op, buffers, args: Float64Array, mode: boolean | 0 | 1 | 2): number | Promise<number>. */
napi_value callOp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) return throwError(env, "recsys native: call(pool, op, buffers, args, async)");
  Pool* pool = poolOf(env, argv[0]);
  if (!pool) return throwError(env, "recsys native: not a pool");
  int32_t op = -1;
  if (napi_get_value_int32(env, argv[1], &op) != napi_ok || op < 0 || op >= gOpCount) return throwError(env, "recsys native: unknown op");
  Call call;
  std::memset(&call, 0, sizeof(call));
  uint32_t nb = 0;
  CHECK(env, napi_get_array_length(env, argv[2], &nb));
  if (nb > recsys::MAX_BUFS) return throwError(env, "recsys native: too many buffers");
  call.nb = static_cast<int>(nb);
  for (uint32_t i = 0; i < nb; i++) {
    napi_value el;
    CHECK(env, napi_get_element(env, argv[2], i, &el));
    bool isTyped = false;
    CHECK(env, napi_is_typedarray(env, el, &isTyped));
    if (!isTyped) continue;  // null / undefined: an absent optional operand
    napi_typedarray_type type;
    size_t length;
    void* data;
    CHECK(env, napi_get_typedarray_info(env, el, &type, &length, &data, nullptr, nullptr));
    call.b[i].p = (data && length > 0) ? data : static_cast<void*>(gEmpty);
    call.b[i].n = length;
  }
  {
    napi_typedarray_type type;
    size_t length;
    void* data;
    bool isTyped = false;
    CHECK(env, napi_is_typedarray(env, argv[3], &isTyped));
    if (!isTyped) return throwError(env, "recsys native: args must be a Float64Array");
    CHECK(env, napi_get_typedarray_info(env, argv[3], &type, &length, &data, nullptr, nullptr));
    if (type != napi_float64_array || length > recsys::MAX_ARGS) return throwError(env, "recsys native: args must be a Float64Array of at most 48 values");
    if (length > 0) std::memcpy(call.a, data, length * sizeof(double));
    call.na = static_cast<int>(length);
  }
  // Mode: false / 0 = on the calling thread alone; true / 1 = async work on the pool; 2 = on the calling thread
  // joined by the pool's workers (no libuv hop: for calls of a millisecond or two).
  int32_t mode = 0;
  napi_valuetype modeType;
  CHECK(env, napi_typeof(env, argv[4], &modeType));
  if (modeType == napi_boolean) {
    bool async = false;
    CHECK(env, napi_get_value_bool(env, argv[4], &async));
    mode = async ? 1 : 0;
  } else if (modeType != napi_number || napi_get_value_int32(env, argv[4], &mode) != napi_ok || mode < 0 || mode > 2) {
    return throwError(env, "recsys native: call mode must be a boolean or 0, 1, 2");
  }
  recsys::OpFn fn = gTable->ops[op].fn;
  if (mode != 1) {
    Runner serial{1, nullptr, &serialFor};
    Runner joined{pool->threads(), pool, &Pool::trampoline};
    napi_value result;
    CHECK(env, napi_create_int32(env, fn(call, mode == 2 ? joined : serial), &result));
    return result;
  }
  AsyncCall* c = new AsyncCall();
  c->call = call;
  c->fn = fn;
  c->pool = pool;
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &c->deferred, &promise));
  CHECK(env, napi_create_reference(env, argv[2], 1, &c->keep));
  CHECK(env, napi_create_string_utf8(env, gTable->ops[op].name, NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, nullptr, name, executeCall, completeCall, c, &c->work));
  CHECK(env, napi_queue_async_work(env, c->work));
  return promise;
}

napi_value setString(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  napi_create_string_utf8(env, value.c_str(), value.size(), &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

void setNumber(napi_env env, napi_value obj, const char* key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

void setBool(napi_env env, napi_value obj, const char* key, bool value) {
  napi_value v;
  napi_get_boolean(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

/** info(): the chosen ISA (or why none), CPU features, micro-kernel shape, op names, compiler. */
napi_value getInfo(napi_env env, napi_callback_info) {
  napi_value obj;
  CHECK(env, napi_create_object(env, &obj));
  setString(env, obj, "isa", gTable ? gTable->isa : "");
  setString(env, obj, "unavailable", gUnavailable);
  setString(env, obj, "isaFlags", gTable ? gTable->flags : "");
  setString(env, obj, "cpu", gCpu.brand);
  setBool(env, obj, "avx2", gCpu.avx2 && gCpu.fma && gCpu.osAvx);
  setBool(env, obj, "avx512f", gCpu.avx512f && gCpu.osAvx512);
  setString(env, obj, "compiler", __VERSION__);
  setNumber(env, obj, "hardwareThreads", std::thread::hardware_concurrency());
  if (gTable) {
    setNumber(env, obj, "mr", gTable->mr);
    setNumber(env, obj, "nr", gTable->nr);
    setNumber(env, obj, "kc", gTable->kc);
    setNumber(env, obj, "mc", gTable->mc);
    setNumber(env, obj, "nc", gTable->nc);
  }
  napi_value names;
  CHECK(env, napi_create_array(env, &names));
  for (int i = 0; i < gOpCount; i++) {
    napi_value s;
    napi_create_string_utf8(env, gTable->ops[i].name, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, names, i, s);
  }
  napi_set_named_property(env, obj, "ops", names);
  return obj;
}

}  // namespace

NAPI_MODULE_INIT() {
  static std::once_flag once;
  std::call_once(once, [] {
    chooseTable();
    if (gTable)
      while (gTable->ops[gOpCount].name) gOpCount++;
  });
  napi_property_descriptor props[] = {
      {"info", nullptr, getInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"createPool", nullptr, createPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"call", nullptr, callOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolStats", nullptr, poolStats, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, 4, props);
  return exports;
}
