//===- RingAttention.cpp - Ring schedule forward / backward ---------------===//
#include "cprt/RingAttention.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>

namespace cprt {

static const char *kRotateNames[] = {"allgather", "alltoall", "ring"};

const char *rotateName(RotateMethod m) {
  int i = int(m);
  return (i >= 0 && i < 3) ? kRotateNames[i] : "?";
}

bool parseRotate(const char *name, RotateMethod &out) {
  for (int i = 0; i < 3; ++i)
    if (std::string(name) == kRotateNames[i]) {
      out = RotateMethod(i);
      return true;
    }
  return false;
}

bool blockHasWork(const AttentionParams &p) {
  const int64_t sq = p.shape.seqQ, skv = p.shape.seqKV;
  int64_t q0 = 0, q1 = sq, k1 = skv;
  switch (p.stepCausal) {
  case StepCausal::Skip: return false;
  case StepCausal::KvHeadHalf: k1 = skv / 2; break;
  case StepCausal::QTailHalf: q0 = sq / 2; break;
  default: break;
  }
  if (q0 >= q1 || k1 <= 0 || p.shape.batch == 0) return false;
  const MaskSpec &m = p.mask;
  if (!m.hasPositions() && !m.causal && m.windowLeft <= 0 && !m.docIds)
    return true; // step ranges are non-empty (causal_strict: sq > 1 needed)
  auto qp = [&](int64_t i) { return m.qPos ? m.qPos[i] : i; };
  auto kp = [&](int64_t j) { return m.kvPos ? m.kvPos[j] : j; };
  // Valid query positions grouped by document, sorted.
  std::map<int32_t, std::vector<int64_t>> qs;
  for (int64_t i = q0; i < q1; ++i) {
    const int64_t x = qp(i);
    if (x >= 0) qs[m.docIds ? m.docIds[x] : 0].push_back(x);
  }
  if (qs.empty()) return false;
  for (auto &e : qs) std::sort(e.second.begin(), e.second.end());
  const bool causal = m.causal || m.windowLeft > 0;
  for (int64_t j = 0; j < k1; ++j) {
    const int64_t x = kp(j);
    if (x < 0) continue;
    auto it = qs.find(m.docIds ? m.docIds[x] : 0);
    if (it == qs.end()) continue;
    if (!causal) return true;
    auto lb = std::lower_bound(it->second.begin(), it->second.end(), x);
    if (lb == it->second.end()) continue; // every query is before the key
    if (m.windowLeft > 0 && !(*lb < x + m.windowLeft)) continue;
    return true;
  }
  return false;
}

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

/// What every step shares: validated shapes, the positional mask and sizes.
struct RingSetup {
  int W, r;
  int64_t L, B, Hq, Hkv, D;
  size_t es, kvElems, qElems, rows;
  bool usePositions;
  AttentionParams base;

  RingSetup(Communicator &comm, const ShardLayout &layout,
            const RingOptions &opts, const AttentionShape &local, DType dt) {
    W = comm.size();
    r = comm.rank();
    check(layout.worldSize == W,
          "ring attention: layout is for " + std::to_string(layout.worldSize) +
              " ranks but the communicator has " + std::to_string(W));
    L = layout.localLen;
    check(local.seqQ == L && local.seqKV == L,
          "ring attention: local sequence length must be the layout's " +
              std::to_string(L) + ", got q " + std::to_string(local.seqQ) +
              " / kv " + std::to_string(local.seqKV));
    check(!opts.mask.qPos && !opts.mask.kvPos && !opts.mask.causal,
          "ring attention: positions and causality come from the layout and "
          "opts.causal, not the mask");
    B = local.batch; Hq = local.headsQ; Hkv = local.headsKV; D = local.headDim;
    es = dtypeSize(dt);
    kvElems = size_t(B * Hkv * L * D);
    qElems = size_t(B * Hq * L * D);
    rows = size_t(B * Hq * L);
    base.shape = local;
    base.scale = opts.scale;
    base.mask = opts.mask;
    const bool exact = stepCausalIsExact(layout.balancer);
    base.mask.causal = opts.causal && !exact;
    usePositions = layout.hasPadding() || base.mask.causal ||
                   opts.mask.windowLeft > 0 || opts.mask.docIds ||
                   opts.mask.boolMask || opts.mask.addMask;
    if (usePositions) base.mask.qPos = layout.localPositions(r);
    validateParams(base);
  }

  AttentionParams step(const ShardLayout &layout, const RingOptions &opts,
                       int i) const {
    AttentionParams p = base;
    const int s = ((r - i) % W + W) % W;
    p.stepCausal = stepCausalFor(layout.balancer, opts.causal, W, r, i);
    if (usePositions) p.mask.kvPos = layout.localPositions(s);
    return p;
  }
};

/// Rotates packed KV blocks (in the backend's memory): either shifted one
/// hop per step or gathered once.
class KvRotation {
public:
  KvRotation(Communicator &comm, KernelBackend &be, RotateMethod m,
             const void *k, const void *v, size_t kvBytes, RingStats &stats)
      : comm(comm), method(m), bytes(2 * kvBytes), stats(stats),
        cur(be, 2 * kvBytes) {
    be.copy(cur.bytes(), k, kvBytes);
    be.copy(cur.bytes() + kvBytes, v, kvBytes);
    if (m == RotateMethod::AllGather) {
      all = BackendBuffer(be, bytes * comm.size());
      comm.startAllGather(cur.data(), all.data(), bytes)->wait();
      ++stats.commOps;
    } else {
      next = BackendBuffer(be, bytes);
    }
  }
  /// KV block of step i (source (r - i) mod W).
  const char *block(int i) const {
    if (method == RotateMethod::AllGather) {
      const int W = comm.size(), s = ((comm.rank() - i) % W + W) % W;
      return all.bytes() + size_t(s) * bytes;
    }
    return cur.bytes();
  }
  /// Posts the shift that brings the next step's block (overlaps compute).
  void startNext() {
    if (method == RotateMethod::AllGather) return;
    req = shift(cur.data(), next.data(), bytes, comm, method);
    ++stats.commOps;
  }
  void finishNext() {
    if (!req) return;
    req->wait();
    req.reset();
    cur.swap(next);
  }
  static CommRequestPtr shift(const void *send, void *recv, size_t bytes,
                              Communicator &comm, RotateMethod m) {
    return m == RotateMethod::AllToAll
               ? comm.startShiftViaAllToAll(send, recv, bytes, 1)
               : comm.startShift(send, recv, bytes, 1);
  }

private:
  Communicator &comm;
  RotateMethod method;
  size_t bytes;
  RingStats &stats;
  BackendBuffer cur, next, all;
  CommRequestPtr req;
};

} // namespace

RingStats ringAttentionForward(Communicator &comm, KernelBackend &kernel,
                               const ShardLayout &layout,
                               const RingOptions &opts,
                               const AttentionShape &local, DType dt,
                               const void *q, const void *k, const void *v,
                               void *out, float *lse) {
  RingSetup st(comm, layout, opts, local, dt);
  RingStats stats;
  const size_t kvBytes = st.kvElems * st.es;
  KvRotation rot(comm, kernel, opts.rotate, k, v, kvBytes, stats);
  auto args = [&](int i, void *o, DType ot, bool accumulate) {
    const char *kv = rot.block(i);
    ForwardArgs a;
    a.q = TensorView::contiguous(const_cast<void *>(q), dt, st.Hq, st.L, st.D);
    a.k = TensorView::contiguous(const_cast<char *>(kv), dt, st.Hkv, st.L, st.D);
    a.v = TensorView::contiguous(const_cast<char *>(kv) + kvBytes, dt, st.Hkv, st.L, st.D);
    a.out = TensorView::contiguous(o, ot, st.Hq, st.L, st.D);
    a.lse = lse;
    a.accumulate = accumulate;
    return a;
  };

  // One rank, one computed step: the block is the result (typed out, no
  // fp32 accumulator, no final conversion).
  if (st.W == 1) {
    AttentionParams p = st.step(layout, opts, 0);
    if (blockHasWork(p)) {
      kernel.forward(p, args(0, out, dt, false));
      ++stats.stepsComputed;
      return stats;
    }
  }

  // The first computed step writes (acc, lse); every later one merges into
  // them inside the forward (accumulate mode: no partial buffer, no separate
  // merge pass).
  BackendBuffer acc(kernel, st.qElems * 4);
  bool first = true;
  for (int i = 0; i < st.W; ++i) {
    if (i + 1 < st.W) rot.startNext(); // overlap the next shift with compute
    AttentionParams p = st.step(layout, opts, i);
    if (blockHasWork(p)) {
      kernel.forward(p, args(i, acc.data(), DType::F32, !first));
      first = false;
      ++stats.stepsComputed;
    } else {
      ++stats.stepsSkipped;
    }
    if (i + 1 < st.W) rot.finishNext();
  }
  if (first) { // nothing visible at all: out 0, lse -inf
    kernel.fillF32(acc.f32(), 0.f, st.qElems);
    kernel.fillF32(lse, kNegInf, st.rows);
  }
  kernel.convert(acc.data(), DType::F32, out, dt, st.qElems);
  return stats;
}

RingStats ringAttentionBackward(Communicator &comm, KernelBackend &kernel,
                                const ShardLayout &layout,
                                const RingOptions &opts,
                                const AttentionShape &local, DType dt,
                                const void *dout, const void *q, const void *k,
                                const void *v, const void *out,
                                const float *lse, void *dq, void *dk,
                                void *dv) {
  RingSetup st(comm, layout, opts, local, dt);
  RingStats stats;
  const size_t kvBytes = st.kvElems * st.es;
  KvRotation rot(comm, kernel, opts.rotate, k, v, kvBytes, stats);

  auto view = [&](const void *ptr, int64_t h) {
    return TensorView::contiguous(const_cast<void *>(ptr), dt, h, st.L, st.D);
  };
  auto fview = [&](float *ptr, int64_t h) {
    return TensorView::contiguous(ptr, DType::F32, h, st.L, st.D);
  };
  // delta = rowsum(dout * out) once, shared by all W steps.
  BackendBuffer delta(kernel, st.rows * 4), dqAcc(kernel, st.qElems * 4);
  kernel.attentionDelta(local, view(dout, st.Hq), view(out, st.Hq), delta.f32());
  kernel.fillF32(dqAcc.f32(), 0.f, st.qElems);
  const size_t n = st.kvElems; // floats in dk (and in dv)
  const bool gather = opts.rotate == RotateMethod::AllGather;
  // Ring: tmp = this step's contribution; bufA/bufB alternate as the
  // travelling accumulator being sent / being received.
  // Allgather: one accumulator per source, reduce-scattered at the end.
  BackendBuffer tmp, bufA, bufB, all;
  if (gather) {
    all = BackendBuffer(kernel, 2 * n * st.W * 4);
    kernel.fillF32(all.f32(), 0.f, 2 * n * st.W);
  } else {
    tmp = BackendBuffer(kernel, 2 * n * 4);
    bufA = BackendBuffer(kernel, 2 * n * 4);
    bufB = BackendBuffer(kernel, 2 * n * 4);
  }
  CommRequestPtr dkvReq;
  float *sendBuf = bufA.f32(), *recvBuf = bufB.f32();

  for (int i = 0; i < st.W; ++i) {
    const int s = ((st.r - i) % st.W + st.W) % st.W;
    if (i + 1 < st.W) rot.startNext();
    AttentionParams p = st.step(layout, opts, i);
    const bool work = blockHasWork(p);
    float *dkv = gather ? all.f32() + size_t(s) * 2 * n : tmp.f32();
    if (!gather && (work || i == 0)) kernel.fillF32(tmp.f32(), 0.f, 2 * n);
    if (work) {
      const char *kv = rot.block(i);
      BackwardArgs a;
      a.dout = view(dout, st.Hq);
      a.q = view(q, st.Hq);
      a.k = view(kv, st.Hkv);
      a.v = view(kv + kvBytes, st.Hkv);
      a.out = view(out, st.Hq);
      a.lse = lse;
      a.delta = delta.f32();
      a.dq = fview(dqAcc.f32(), st.Hq);
      a.dk = fview(dkv, st.Hkv);
      a.dv = fview(dkv + n, st.Hkv);
      a.accumulate = true;
      kernel.backward(p, a);
      ++stats.stepsComputed;
    } else {
      ++stats.stepsSkipped;
    }
    if (!gather) {
      // The accumulator of block s arrived from r-1 (posted last step); add
      // this rank's share and pass it on to r+1. After W hops it is home.
      if (i == 0) {
        kernel.copy(sendBuf, tmp.data(), 2 * n * 4);
      } else {
        dkvReq->wait();
        if (work) kernel.addF32(recvBuf, tmp.f32(), 2 * n);
        std::swap(sendBuf, recvBuf);
      }
      dkvReq = KvRotation::shift(sendBuf, recvBuf, 2 * n * sizeof(float), comm,
                                 opts.rotate);
      ++stats.commOps;
    }
    if (i + 1 < st.W) rot.finishNext();
  }
  const float *dkvOwn;
  BackendBuffer mine;
  if (gather) {
    mine = BackendBuffer(kernel, 2 * n * 4);
    comm.startReduceScatterSumF32(all.f32(), mine.f32(), 2 * n)->wait();
    ++stats.commOps;
    dkvOwn = mine.f32();
  } else {
    dkvReq->wait();
    dkvOwn = recvBuf;
  }
  kernel.convert(dqAcc.data(), DType::F32, dq, dt, st.qElems);
  kernel.convert(dkvOwn, DType::F32, dk, dt, n);
  kernel.convert(dkvOwn + n, DType::F32, dv, dt, n);
  return stats;
}

} // namespace cprt
