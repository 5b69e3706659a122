//===- CompilerAbi.cpp - entry points for compiled code -------------------===//
//
// Adapts MLIR unranked memrefs to the runtime: checks contiguity and shapes
// and forwards to the C ABI of cprt.h or to the communicator. This file
// holds the sticky error of the compiled-code ABI (cprt_compiler.h):
// compiled code has no way to unwind, so after the first failure every later
// call of the thread returns at once and the runner reports it. Every entry
// point goes through sticky() (CompilerAbiSupport.h). Here: the error
// accessors, the data movement, reductions, matrix products and scans;
// attention is in AttentionAbi.cpp, hybrid attention in HybridCApi.cpp.
//
//===----------------------------------------------------------------------===//
#include "AbiEnums.h"
#include "CompilerAbiSupport.h"

#include "cprt/Context.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"
#include "cprt/Gemm.h"
#include "cprt/LoadBalancer.h"
#include "cprt/SeqScan.h"
#include "cprt/Ulysses.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace cprt;
using namespace cprt::abi;

namespace {

thread_local std::string stickyError;
thread_local bool stickyFailed = false;
cprt_c_sdpa_offload_fn offloadFn = nullptr;
void *offloadUser = nullptr;

int64_t checkedSame(int64_t a, int64_t b, const char *what) {
  check(a == b, std::string("shape mismatch: ") + what);
  return a;
}

// In-flight shifts of this process, by handle.
std::mutex shiftMutex;
std::map<int64_t, CommRequestPtr> shifts;
int64_t nextShift = 1;

template <typename T> T reduce2(T a, T b, int kind) {
  return kind == CPRT_C_REDUCE_SUM   ? a + b
         : kind == CPRT_C_REDUCE_MAX ? std::max(a, b)
                                     : std::min(a, b);
}

template <typename T>
void allReduce(int64_t ri, const cprt_memref *in, int64_t ro,
               const cprt_memref *out, int32_t kind) {
  sticky("all_reduce", [&] {
    check(kind == CPRT_C_REDUCE_SUM || kind == CPRT_C_REDUCE_MAX ||
              kind == CPRT_C_REDUCE_MIN,
          "all_reduce: unknown reduction kind");
    Buffer a = view(ri, in, sizeof(T), "all_reduce input");
    Buffer r = view(ro, out, sizeof(T), "all_reduce output");
    int64_t n = checkedSame(a.numel(), r.numel(), "all_reduce sizes");
    RankContext &c = requireContext();
    int W = c.comm->size();
    std::vector<T> all(size_t(n) * W);
    c.comm->allGather(a.data, all.data(), size_t(n) * sizeof(T));
    T *o = reinterpret_cast<T *>(r.data);
    for (int64_t i = 0; i < n; ++i) {
      T acc = all[i];
      for (int w = 1; w < W; ++w) acc = reduce2(acc, all[size_t(w) * n + i], kind);
      o[i] = acc;
    }
    return CPRT_OK;
  });
}

/// Shape helpers for shard/unshard/all-gather along `dim` of a contiguous
/// tensor: [outer, len, inner].
void splitAt(const Buffer &b, int32_t dim, int64_t &outer, int64_t &len,
             int64_t &inner) {
  check(dim >= 0 && dim < int32_t(b.shape.size()), "dim out of range");
  outer = 1;
  inner = 1;
  for (int32_t i = 0; i < dim; ++i) outer *= b.shape[i];
  len = b.shape[dim];
  for (size_t i = dim + 1; i < b.shape.size(); ++i) inner *= b.shape[i];
}

void shardImpl(int64_t rg, const cprt_memref *g, int64_t rl,
               const cprt_memref *l, int64_t eb, int32_t dim, int32_t bal) {
  sticky("shard", [&] {
    Buffer gb = view(rg, g, eb, "shard input"), lb = view(rl, l, eb, "shard output");
    int64_t outer, S, inner;
    splitAt(gb, dim, outer, S, inner);
    int64_t shape[3] = {outer, S, inner};
    int64_t L = 0;
    cprt_status s = cprt_layout(cprt_balancer(bal), S, nullptr, &L, nullptr);
    if (s != CPRT_OK) return s;
    check(lb.numel() == outer * L * inner,
          "shard: the local tensor does not have the balancer's local length");
    return cprt_shard(gb.data, lb.data, shape, 3, 1, eb, cprt_balancer(bal),
                      nullptr);
  });
}

void unshardImpl(int64_t rl, const cprt_memref *l, int64_t rg,
                 const cprt_memref *g, int64_t eb, int32_t dim, int32_t bal) {
  sticky("unshard", [&] {
    Buffer lb = view(rl, l, eb, "unshard input"), gb = view(rg, g, eb, "unshard output");
    int64_t outer, S, inner;
    splitAt(gb, dim, outer, S, inner);
    int64_t shape[3] = {outer, S, inner};
    return cprt_unshard(lb.data, gb.data, shape, 3, 1, eb, cprt_balancer(bal),
                        nullptr);
  });
}

void allGatherImpl(int64_t ri, const cprt_memref *in, int64_t ro,
                   const cprt_memref *out, int64_t eb, int32_t dim) {
  sticky("all_gather", [&] {
    Buffer a = view(ri, in, eb, "all_gather input"), r = view(ro, out, eb, "all_gather output");
    int64_t outer, len, inner;
    splitAt(a, dim, outer, len, inner);
    RankContext &c = requireContext();
    int W = c.comm->size();
    check(r.numel() == a.numel() * W, "all_gather: output size is not W x input");
    size_t block = size_t(outer * len * inner * eb);
    std::vector<char> all(block * W);
    c.comm->allGather(a.data, all.data(), block);
    size_t row = size_t(len * inner * eb);
    for (int64_t o = 0; o < outer; ++o)
      for (int w = 0; w < W; ++w)
        std::memcpy(r.data + (size_t(o) * W + w) * row,
                    all.data() + size_t(w) * block + size_t(o) * row, row);
    return CPRT_OK;
  });
}

/// cp.seq_to_heads (toHeads) / cp.heads_to_seq through runtime/src/capi/
/// Ulysses.cpp on this rank's communicator.
void ulyssesImpl(bool toHeads, int64_t ri, const cprt_memref *in, int64_t ro,
                 const cprt_memref *out, int64_t eb, int32_t headDim,
                 int32_t seqDim, int32_t bal, int64_t seqLen) {
  sticky(toHeads ? "seq_to_heads" : "heads_to_seq", [&] {
    Buffer a = view(ri, in, eb, "ulysses input");
    Buffer r = view(ro, out, eb, "ulysses output");
    check(bal >= 0 && bal <= 2,
          "ulysses: balancer " + std::to_string(bal) +
              " is not supported (expected none, head_tail or striped)");
    RankContext &c = requireContext();
    int W = c.comm->size();
    ShardLayout layout = makeLayout(Balancer(bal), seqLen, W);
    const Buffer &local = toHeads ? a : r, &heads = toHeads ? r : a;
    int n = int(local.shape.size());
    checkUlyssesShapes(local.shape.data(), n, heads.shape.data(),
                       int(heads.shape.size()), headDim, seqDim, W, seqLen);
    if (toHeads)
      seqToHeads(a.data, r.data, local.shape.data(), n, headDim, seqDim,
                 size_t(eb), layout, *c.comm);
    else
      headsToSeq(a.data, r.data, local.shape.data(), n, headDim, seqDim,
                 size_t(eb), layout, *c.comm);
    return CPRT_OK;
  });
}

int64_t shiftStartImpl(int64_t rs, const cprt_memref *s, int64_t rr,
                       const cprt_memref *r, int64_t eb, int64_t offset) {
  int64_t handle = 0;
  sticky("shift_start", [&] {
    Buffer sb = view(rs, s, eb, "shift send"), rb = view(rr, r, eb, "shift receive");
    checkedSame(sb.numel(), rb.numel(), "shift send/receive sizes");
    RankContext &c = requireContext();
    CommRequestPtr req = c.comm->startShift(sb.data, rb.data,
                                            size_t(sb.numel() * eb), int(offset));
    std::lock_guard<std::mutex> lock(shiftMutex);
    handle = nextShift++;
    shifts[handle] = std::move(req);
    return CPRT_OK;
  });
  return handle;
}


/// Completes the shift `handle` (forgetting it even after a failure).
void shiftWaitImpl(int64_t handle) {
  CommRequestPtr req;
  {
    std::lock_guard<std::mutex> lock(shiftMutex);
    auto it = shifts.find(handle);
    if (it != shifts.end()) {
      req = std::move(it->second);
      shifts.erase(it);
    }
  }
  sticky("shift_wait", [&] {
    check(req != nullptr, "unknown shift handle " + std::to_string(handle));
    req->wait();
    return CPRT_OK;
  });
}

/// (out, lse) = merge((a, la), (b, lb)), all f32; out may alias a or b.
void mergeImpl(MR ra, CM a, MR rla, CM la, MR rb, CM b, MR rlb, CM lb, MR ro,
               CM o, MR rlo, CM lo) {
  sticky("merge_partial", [&] {
    Buffer ab = view(ra, a, 4, "output"), lab = view(rla, la, 4, "lse"),
           bb = view(rb, b, 4, "output_b"), lbb = view(rlb, lb, 4, "lse_b"),
           ob = view(ro, o, 4, "merged output"),
           lob = view(rlo, lo, 4, "merged lse");
    int64_t rows = lab.numel();
    int64_t d = rows ? ab.numel() / rows : 0;
    checkedSame(ab.numel(), bb.numel(), "merge outputs");
    checkedSame(ab.numel(), ob.numel(), "merge destination");
    if (ob.data != ab.data)
      std::memcpy(ob.data, ab.data, size_t(ab.numel()) * 4);
    if (lob.data != lab.data)
      std::memcpy(lob.data, lab.data, size_t(rows) * 4);
    return cprt_merge_partial(reinterpret_cast<float *>(ob.data),
                              reinterpret_cast<float *>(lob.data),
                              reinterpret_cast<const float *>(bb.data),
                              reinterpret_cast<const float *>(lbb.data), rows,
                              d);
  });
}

/// A matrix operand [batch?, rows, cols] of cprt_c_matmul_f32: any row and
/// batch stride, unit stride along the last dim.
GemmOperand gemmOperand(int64_t rank, const cprt_memref *d, const char *what,
                        int64_t &batch, int64_t &rows, int64_t &cols) {
  check(d != nullptr, std::string("compiled code passed a null ") + what);
  check(rank == 2 || rank == 3, std::string("matmul: ") + what +
                                    " has rank " + std::to_string(rank) +
                                    ", expected 2 or 3");
  const int64_t *sizes = d->sizes_and_strides, *strides = sizes + rank;
  check(sizes[rank - 1] <= 1 || strides[rank - 1] == 1,
        std::string("matmul: the last dim of ") + what +
            " is not contiguous (stride " + std::to_string(strides[rank - 1]) +
            ")");
  GemmOperand g;
  g.data = static_cast<float *>(d->aligned) + d->offset;
  rows = sizes[rank - 2];
  cols = sizes[rank - 1];
  g.rowStride = rows <= 1 ? std::max<int64_t>(cols, strides[rank - 2])
                          : strides[rank - 2];
  batch = rank == 3 ? sizes[0] : 1;
  g.batchStride = rank == 3 && sizes[0] > 1 ? strides[0] : 0;
  return g;
}

int rankThreads() {
  RankContext *c = currentContext();
  if (c)
    if (auto *cpu = dynamic_cast<CpuBackend *>(c->backend.get()))
      return cpu->numThreads();
  return hardwareThreads();
}

void matmulImpl(int64_t ra, const cprt_memref *a, int64_t rb,
                const cprt_memref *b, int64_t rc, const cprt_memref *c,
                int32_t flags) {
  sticky("matmul", [&] {
    int64_t ba, ar, ac, bb, br, bc, bcn, M, N;
    GemmOperand ga = gemmOperand(ra, a, "A", ba, ar, ac);
    GemmOperand gb = gemmOperand(rb, b, "B", bb, br, bc);
    GemmOperand gc = gemmOperand(rc, c, "C", bcn, M, N);
    ga.trans = flags & CPRT_C_MATMUL_TRANS_A;
    gb.trans = flags & CPRT_C_MATMUL_TRANS_B;
    const int64_t K = ga.trans ? ar : ac;
    check((ga.trans ? ac : ar) == M && (gb.trans ? br : bc) == N &&
              (gb.trans ? bc : br) == K,
          "matmul: shapes of A, B and C do not form a matrix product");
    check((ba == 1 || ba == bcn) && (bb == 1 || bb == bcn),
          "matmul: batch sizes of A and B must be 1 or C's");
    gemmF32(bcn, M, N, K, ga, gb, gc, flags & CPRT_C_MATMUL_ACCUMULATE,
            rankThreads());
    return CPRT_OK;
  });
}

/// cp.seq_scan (runtime/src/scan/SeqScan.cpp) of `type` elements.
void seqScanImpl(ScanType type, int64_t eb, MR ri, CM in, MR ro, CM out,
                 int32_t dim, int32_t balancer, int64_t seqLen, int32_t kind) {
  sticky("seq_scan", [&] {
    Buffer a = view(ri, in, eb, "seq_scan input");
    Buffer r = view(ro, out, eb, "seq_scan output");
    check(a.shape == r.shape, "seq_scan: input and output shapes differ");
    check(kind == CPRT_C_SCAN_SUM || kind == CPRT_C_SCAN_PROD,
          "seq_scan: unknown combiner " + std::to_string(kind) +
              " (expected 0 sum or 1 product)");
    check(balancer >= 0 && balancer <= 2,
          "seq_scan: balancer " + std::to_string(balancer) +
              " is not supported (expected none, head_tail or striped)");
    int64_t outer, L, inner;
    splitAt(a, dim, outer, L, inner);
    RankContext &c = requireContext();
    ShardLayout layout =
        makeLayout(Balancer(balancer), seqLen, c.comm->size());
    check(layout.localLen == L,
          "seq_scan: dim " + std::to_string(dim) + " has " +
              std::to_string(L) + " positions but the balancer's local "
              "length for seq_len " + std::to_string(seqLen) + " is " +
              std::to_string(layout.localLen));
    seqScan(a.data, r.data, outer, inner, type, ScanKind(kind), layout,
            *c.comm);
    return CPRT_OK;
  });
}

} // namespace

namespace cprt {
bool compilerAbiFailed() { return stickyFailed; }
void compilerAbiFail(const std::string &msg) {
  if (stickyFailed)
    return;
  stickyFailed = true;
  RankContext *c = currentContext();
  stickyError =
      c ? "rank " + std::to_string(c->comm->rank()) + ": " + msg : msg;
}
namespace abi {
cprt_c_sdpa_offload_fn sdpaOffload() { return offloadFn; }
void *sdpaOffloadUser() { return offloadUser; }
} // namespace abi
} // namespace cprt

extern "C" {

void cprt_c_set_sdpa_offload(cprt_c_sdpa_offload_fn fn, void *user) {
  offloadFn = fn;
  offloadUser = user;
}

int32_t cprt_c_failed(void) { return stickyFailed ? 1 : 0; }
const char *cprt_c_error(void) { return stickyError.c_str(); }
void cprt_c_clear_error(void) {
  stickyFailed = false;
  stickyError.clear();
}
int64_t cprt_c_rank(void) {
  RankContext *c = currentContext();
  return c ? c->comm->rank() : 0;
}

void cprt_c_merge_f32(MR ra, CM a, MR rla, CM la, MR rb, CM b, MR rlb, CM lb,
                      MR ro, CM o, MR rlo, CM lo) {
  mergeImpl(ra, a, rla, la, rb, b, rlb, lb, ro, o, rlo, lo);
}

// The data movement: one implementation per family for every suffix (the
// element size is an argument).
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_shard, shardImpl,
                        (MR rg, CM g, MR rl, CM l, int64_t eb, int32_t dim,
                         int32_t bal),
                        (rg, g, rl, l, eb, dim, bal))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_unshard, unshardImpl,
                        (MR rl, CM l, MR rg, CM g, int64_t eb, int32_t dim,
                         int32_t bal),
                        (rl, l, rg, g, eb, dim, bal))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_all_gather, allGatherImpl,
                        (MR ri, CM in, MR ro, CM out, int64_t eb, int32_t dim),
                        (ri, in, ro, out, eb, dim))
CPRT_C_ENTRIES_MOVEMENT(int64_t, cprt_c_shift_start, shiftStartImpl,
                        (MR rs, CM s, MR rr, CM r, int64_t eb, int64_t offset),
                        (rs, s, rr, r, eb, offset))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_shift_wait, shiftWaitImpl,
                        (int64_t handle, MR, CM), (handle))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_seq_to_heads, ulyssesImpl,
                        (MR ri, CM in, MR ro, CM out, int64_t eb, int32_t hd,
                         int32_t sd, int32_t bal, int64_t seq_len),
                        (true, ri, in, ro, out, eb, hd, sd, bal, seq_len))
CPRT_C_ENTRIES_MOVEMENT(void, cprt_c_heads_to_seq, ulyssesImpl,
                        (MR ri, CM in, MR ro, CM out, int64_t eb, int32_t hd,
                         int32_t sd, int32_t bal, int64_t seq_len),
                        (false, ri, in, ro, out, eb, hd, sd, bal, seq_len))

void cprt_c_all_reduce_f32(MR ri, CM in, MR ro, CM out, int32_t kind) {
  allReduce<float>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_f64(MR ri, CM in, MR ro, CM out, int32_t kind) {
  allReduce<double>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_i32(MR ri, CM in, MR ro, CM out, int32_t kind) {
  allReduce<int32_t>(ri, in, ro, out, kind);
}
void cprt_c_all_reduce_i64(MR ri, CM in, MR ro, CM out, int32_t kind) {
  allReduce<int64_t>(ri, in, ro, out, kind);
}

void cprt_c_matmul_f32(MR ra, CM a, MR rb, CM b, MR rc, CM c, int32_t flags) {
  matmulImpl(ra, a, rb, b, rc, c, flags);
}

void cprt_c_seq_scan_f32(MR ri, CM in, MR ro, CM out, int32_t dim,
                         int32_t balancer, int64_t seq_len, int32_t kind) {
  seqScanImpl(ScanType::F32, 4, ri, in, ro, out, dim, balancer, seq_len, kind);
}
void cprt_c_seq_scan_f64(MR ri, CM in, MR ro, CM out, int32_t dim,
                         int32_t balancer, int64_t seq_len, int32_t kind) {
  seqScanImpl(ScanType::F64, 8, ri, in, ro, out, dim, balancer, seq_len, kind);
}
void cprt_c_seq_scan_i32(MR ri, CM in, MR ro, CM out, int32_t dim,
                         int32_t balancer, int64_t seq_len, int32_t kind) {
  seqScanImpl(ScanType::I32, 4, ri, in, ro, out, dim, balancer, seq_len, kind);
}
void cprt_c_seq_scan_i64(MR ri, CM in, MR ro, CM out, int32_t dim,
                         int32_t balancer, int64_t seq_len, int32_t kind) {
  seqScanImpl(ScanType::I64, 8, ri, in, ro, out, dim, balancer, seq_len, kind);
}

} // extern "C"
