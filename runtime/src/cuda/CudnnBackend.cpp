//===- CudnnBackend.cpp - SDPA through cuDNN graphs, flash fallback -------===//
#include "cprt/cuda/CudnnBackend.h"
#include "CudaCheck.h"
#include "FlashKernels.h"
#include "cprt/CpuBackend.h"
#include "cprt/Error.h"

#include <cudnn_frontend.h>

#include <cstring>
#include <map>
#include <string>

namespace cprt {
namespace fe = cudnn_frontend;
using namespace cprt::cuda;

namespace {

enum Uid : int64_t { kQ = 1, kK, kV, kO, kStats, kDO, kDQ, kDK, kDV };

/// One cuDNN sub-problem: rows [q0, q0 + sq) of the queries against keys
/// [0, skv), optionally top-left causal.
struct Sub {
  int64_t B, Hq, Hkv, SqFull, sq, skv, D, q0;
  bool causal;
  float scale;
  DType dt;
};

std::string stridesKey(const int64_t *s) {
  return std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]) + ";";
}

void feCheck(fe::error_t e, const char *what) {
  if (e.is_bad())
    throw Error(ErrorCode::Internal, std::string("cudnn ") + what + ": " + e.get_message());
}

fe::DataType_t ioType(DType t) {
  return t == DType::BF16 ? fe::DataType_t::BFLOAT16 : fe::DataType_t::HALF;
}

/// Owning stream-ordered scratch in a backend's memory.
struct Scratch {
  Scratch(KernelBackend &be, size_t bytes) : be(be), p(bytes ? be.allocate(bytes) : nullptr) {}
  ~Scratch() {
    if (p) be.deallocate(p);
  }
  KernelBackend &be;
  void *p;
};

} // namespace

struct CudnnBackend::Impl {
  cudnnHandle_t handle = nullptr;
  struct Entry {
    std::shared_ptr<fe::graph::Graph> graph; // null: cuDNN refused this shape
    int64_t workspace = 0;
  };
  std::map<std::string, Entry> cache;
  void *ws = nullptr;
  size_t wsCap = 0;

  void *workspace(size_t n, cudaStream_t s) {
    if (n > wsCap) {
      if (ws) {
        CPRT_CUDA_CHECK(cudaStreamSynchronize(s));
        CPRT_CUDA_CHECK(cudaFree(ws));
      }
      CPRT_CUDA_CHECK(cudaMalloc(&ws, n));
      wsCap = n;
    }
    return ws;
  }

  Entry &graph(const std::string &key, bool backward, const Sub &s, const int64_t *qS,
               const int64_t *kS, const int64_t *vS, const int64_t *oS, const int64_t *doS,
               const int64_t *dqS, const int64_t *dkS, const int64_t *dvS) {
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    Entry e;
    try {
      auto g = std::make_shared<fe::graph::Graph>();
      g->set_io_data_type(ioType(s.dt))
          .set_intermediate_data_type(fe::DataType_t::FLOAT)
          .set_compute_data_type(fe::DataType_t::FLOAT);
      auto mk = [&](const char *n, int64_t uid, int64_t h, int64_t rows, const int64_t *st) {
        return g->tensor(fe::graph::Tensor_attributes()
                             .set_name(n)
                             .set_uid(uid)
                             .set_dim({s.B, h, rows, s.D})
                             .set_stride({st[0], st[1], st[2], 1}));
      };
      auto Q = mk("Q", kQ, s.Hq, s.sq, qS);
      auto K = mk("K", kK, s.Hkv, s.skv, kS);
      auto V = mk("V", kV, s.Hkv, s.skv, vS);
      // Stats are packed [B, Hq, sq] (cuDNN's layout); sub-views copy them.
      const std::vector<int64_t> statDim{s.B, s.Hq, s.sq, 1},
          statStride{s.Hq * s.sq, s.sq, 1, 1};
      if (!backward) {
        auto opts = fe::graph::SDPA_attributes()
                        .set_name("sdpa")
                        .set_generate_stats(true)
                        .set_attn_scale(s.scale);
        if (s.causal) opts.set_causal_mask(true);
        auto outs = g->sdpa(Q, K, V, opts);
        outs[0]->set_output(true).set_uid(kO).set_dim({s.B, s.Hq, s.sq, s.D})
            .set_stride({oS[0], oS[1], oS[2], 1});
        outs[1]->set_output(true).set_uid(kStats).set_data_type(fe::DataType_t::FLOAT)
            .set_dim(statDim).set_stride(statStride);
      } else {
        auto O = mk("O", kO, s.Hq, s.sq, oS);
        auto dO = mk("dO", kDO, s.Hq, s.sq, doS);
        auto St = g->tensor(fe::graph::Tensor_attributes()
                                .set_name("Stats")
                                .set_uid(kStats)
                                .set_dim(statDim)
                                .set_stride(statStride)
                                .set_data_type(fe::DataType_t::FLOAT));
        auto opts = fe::graph::SDPA_backward_attributes().set_name("sdpa_bwd").set_attn_scale(
            s.scale);
        if (s.causal) opts.set_causal_mask(true);
        auto grads = g->sdpa_backward(Q, K, V, O, dO, St, opts);
        grads[0]->set_output(true).set_uid(kDQ).set_dim({s.B, s.Hq, s.sq, s.D})
            .set_stride({dqS[0], dqS[1], dqS[2], 1});
        grads[1]->set_output(true).set_uid(kDK).set_dim({s.B, s.Hkv, s.skv, s.D})
            .set_stride({dkS[0], dkS[1], dkS[2], 1});
        grads[2]->set_output(true).set_uid(kDV).set_dim({s.B, s.Hkv, s.skv, s.D})
            .set_stride({dvS[0], dvS[1], dvS[2], 1});
      }
      feCheck(g->build(handle, {fe::HeurMode_t::A}), "build");
      feCheck(g->get_workspace_size(e.workspace), "workspace");
      e.graph = g;
    } catch (const Error &) {
      e.graph = nullptr; // unsupported here: the flash kernels take it
    }
    return cache.emplace(key, e).first->second;
  }
};

CudnnBackend::CudnnBackend(cudaStream_t stream, int device)
    : CudaBackend(stream, device), impl_(std::make_unique<Impl>()) {
  const cudnnStatus_t st = cudnnCreate(&impl_->handle);
  if (st != CUDNN_STATUS_SUCCESS)
    fail(ErrorCode::Internal, std::string("cudnnCreate: ") + cudnnGetErrorString(st));
}

CudnnBackend::~CudnnBackend() {
  cudaStreamSynchronize(stream());
  if (impl_->ws) cudaFree(impl_->ws);
  cudnnDestroy(impl_->handle);
}

namespace {

bool eligible(const AttentionParams &p, DType qt) {
  const AttentionShape &s = p.shape;
  return p.mask.isTrivial() && (qt == DType::BF16 || qt == DType::F16) &&
         (s.headDim == 64 || s.headDim == 128) && s.seqQ > 1 && s.seqKV > 1 && s.batch > 0 &&
         (p.stepCausal == StepCausal::NotCausal || p.stepCausal == StepCausal::Causal ||
          p.stepCausal == StepCausal::KvHeadHalf || p.stepCausal == StepCausal::QTailHalf);
}

Sub subProblem(const AttentionParams &p, DType dt) {
  const AttentionShape &s = p.shape;
  Sub u{s.batch, s.headsQ, s.headsKV, s.seqQ, s.seqQ, s.seqKV, s.headDim, 0,
        p.stepCausal == StepCausal::Causal, p.effectiveScale(), dt};
  if (p.stepCausal == StepCausal::KvHeadHalf) u.skv = s.seqKV / 2;
  if (p.stepCausal == StepCausal::QTailHalf) {
    u.q0 = s.seqQ / 2;
    u.sq = s.seqQ - u.q0;
  }
  return u;
}

std::string subKey(const char *dir, const Sub &u) {
  std::string k = dir;
  for (int64_t x : {u.B, u.Hq, u.Hkv, u.SqFull, u.sq, u.skv, u.D, int64_t(u.causal), int64_t(u.dt)})
    k += std::to_string(x) + ",";
  uint32_t sb;
  std::memcpy(&sb, &u.scale, 4);
  return k + std::to_string(sb) + "|";
}

char *rowsAt(const TensorView &v, int64_t row) {
  return static_cast<char *>(v.data) + row * v.stride[2] * int64_t(dtypeSize(v.dtype));
}

/// True when v is the packed [B, h, s, d] layout.
bool packed(const TensorView &v, int64_t h, int64_t s, int64_t d) {
  return v.stride[0] == h * s * d && v.stride[1] == s * d && v.stride[2] == d;
}

void contiguousStrides(int64_t h, int64_t s, int64_t d, int64_t *st) {
  st[0] = h * s * d;
  st[1] = s * d;
  st[2] = d;
}

} // namespace

void CudnnBackend::forward(const AttentionParams &p, const ForwardArgs &a) {
  validateParams(p);
  if (a.accumulate)
    check(a.out.dtype == DType::F32,
          std::string("cudnn attention: accumulate needs an fp32 out, got ") +
              dtypeName(a.out.dtype));
  if (!eligible(p, a.q.dtype) || a.k.dtype != a.q.dtype || a.v.dtype != a.q.dtype ||
      !(a.out.dtype == a.q.dtype || a.out.dtype == DType::F32)) {
    ++fallbackCalls_;
    return CudaBackend::forward(p, a);
  }
  const Sub u = subProblem(p, a.q.dtype);
  // Accumulate (out is fp32 then): cuDNN writes its typed scratch and packed
  // stats, one merge kernel reads them into (out, lse); rows outside the
  // sub-view (q_tail_half's head rows) are not touched.
  const bool acc = a.accumulate;
  const bool direct = a.out.dtype == a.q.dtype && !acc;
  int64_t oS[3];
  if (direct)
    std::memcpy(oS, a.out.stride, sizeof oS);
  else
    contiguousStrides(u.Hq, u.sq, u.D, oS);
  const std::string key = subKey("f", u) + stridesKey(a.q.stride) + stridesKey(a.k.stride) +
                          stridesKey(a.v.stride) + stridesKey(oS);
  Impl::Entry &e =
      impl_->graph(key, false, u, a.q.stride, a.k.stride, a.v.stride, oS, nullptr, nullptr,
                   nullptr, nullptr);
  if (!e.graph) {
    ++fallbackCalls_;
    return CudaBackend::forward(p, a);
  }
  ++cudnnCalls_;
  if (u.q0 > 0 && !acc) { // rows [0, q0) see nothing: out 0, lse -inf
    AttentionParams z = p;
    z.stepCausal = StepCausal::Skip;
    z.shape.seqQ = u.q0;
    // The kernel writes a packed [B, Hq, q0] LSE; copy it into the rows.
    Scratch head(*this, size_t(u.B * u.Hq * u.q0) * 4);
    ForwardArgs za = a;
    za.lse = static_cast<float *>(head.p);
    CudaBackend::forward(z, za);
    CPRT_CUDA_CHECK(cudaMemcpy2DAsync(a.lse, size_t(u.SqFull) * 4, head.p, size_t(u.q0) * 4,
                                      size_t(u.q0) * 4, size_t(u.B * u.Hq),
                                      cudaMemcpyDeviceToDevice, stream()));
  }
  const size_t elems = size_t(u.B * u.Hq * u.sq * u.D);
  Scratch typed(*this, direct ? 0 : elems * 2);
  const bool packedStats = u.q0 > 0 || acc;
  Scratch stats(*this, packedStats ? size_t(u.B * u.Hq * u.sq) * 4 : 0);
  std::unordered_map<int64_t, void *> pack{
      {kQ, rowsAt(a.q, u.q0)},
      {kK, a.k.data},
      {kV, a.v.data},
      {kO, direct ? static_cast<void *>(rowsAt(a.out, u.q0)) : typed.p},
      {kStats, packedStats ? stats.p : a.lse}};
  if (cudnnSetStream(impl_->handle, stream()) != CUDNN_STATUS_SUCCESS)
    fail(ErrorCode::Internal, "cudnnSetStream failed");
  feCheck(e.graph->execute(impl_->handle, pack,
                           impl_->workspace(size_t(e.workspace), stream())),
          "execute forward");
  if (acc) { // typed partial + packed stats merged into rows [q0, Sq)
    launchMergeTyped(static_cast<float *>(a.out.data), a.out.stride, a.lse, u.SqFull, u.q0,
                     typed.p, int(a.q.dtype), static_cast<const float *>(stats.p), u.B, u.Hq,
                     u.sq, u.D, stream());
    return;
  }
  if (u.q0 > 0) // packed stats -> rows [q0, Sq) of every (b, h)
    CPRT_CUDA_CHECK(cudaMemcpy2DAsync(a.lse + u.q0, size_t(u.SqFull) * 4, stats.p,
                                      size_t(u.sq) * 4, size_t(u.sq) * 4, size_t(u.B * u.Hq),
                                      cudaMemcpyDeviceToDevice, stream()));
  if (!direct) { // typed scratch -> fp32 rows [q0, Sq) of out
    if (u.q0 == 0 && packed(a.out, u.Hq, u.sq, u.D)) {
      launchToF32(typed.p, int(a.q.dtype), static_cast<float *>(a.out.data), int64_t(elems), 0,
                  stream());
      return;
    }
    Scratch f32(*this, elems * 4);
    launchToF32(typed.p, int(a.q.dtype), static_cast<float *>(f32.p), int64_t(elems), 0,
                stream());
    launchStoreScaled(static_cast<float *>(f32.p), rowsAt(a.out, u.q0), 0, a.out.stride, u.B,
                      u.Hq, u.sq, u.D, 1.f, 0, stream());
  }
}

void CudnnBackend::backward(const AttentionParams &p, const BackwardArgs &a) {
  validateParams(p);
  const DType dt = a.q.dtype;
  const bool gradsTyped = a.dq.dtype == dt && a.dk.dtype == dt && a.dv.dtype == dt;
  const bool gradsF32 =
      a.dq.dtype == DType::F32 && a.dk.dtype == DType::F32 && a.dv.dtype == DType::F32;
  if (!eligible(p, dt) || a.k.dtype != dt || a.v.dtype != dt || a.dout.dtype != dt ||
      a.out.dtype != dt || !(gradsTyped || gradsF32)) {
    ++fallbackCalls_;
    return CudaBackend::backward(p, a);
  }
  const Sub u = subProblem(p, dt);
  const bool direct = gradsTyped && !a.accumulate;
  int64_t dqS[3], dkS[3], dvS[3];
  if (direct) {
    std::memcpy(dqS, a.dq.stride, sizeof dqS);
    std::memcpy(dkS, a.dk.stride, sizeof dkS);
    std::memcpy(dvS, a.dv.stride, sizeof dvS);
  } else {
    contiguousStrides(u.Hq, u.sq, u.D, dqS);
    contiguousStrides(u.Hkv, u.skv, u.D, dkS);
    contiguousStrides(u.Hkv, u.skv, u.D, dvS);
  }
  const std::string key = subKey("b", u) + stridesKey(a.q.stride) + stridesKey(a.k.stride) +
                          stridesKey(a.v.stride) + stridesKey(a.out.stride) +
                          stridesKey(a.dout.stride) + stridesKey(dqS) + stridesKey(dkS) +
                          stridesKey(dvS);
  Impl::Entry &e = impl_->graph(key, true, u, a.q.stride, a.k.stride, a.v.stride, a.out.stride,
                                a.dout.stride, dqS, dkS, dvS);
  if (!e.graph) {
    ++fallbackCalls_;
    return CudaBackend::backward(p, a);
  }
  ++cudnnCalls_;
  if (!a.accumulate && (u.q0 > 0 || u.skv < p.shape.seqKV)) {
    // Parts cuDNN does not write get zero gradients.
    AttentionParams z = p;
    z.stepCausal = StepCausal::Skip;
    CudaBackend::backward(z, a);
  }
  const size_t nq = size_t(u.B * u.Hq * u.sq * u.D), nkv = size_t(u.B * u.Hkv * u.skv * u.D);
  Scratch tq(*this, direct ? 0 : nq * 2), tk(*this, direct ? 0 : nkv * 2),
      tv(*this, direct ? 0 : nkv * 2);
  Scratch stats(*this, u.q0 > 0 ? size_t(u.B * u.Hq * u.sq) * 4 : 0);
  if (u.q0 > 0) // rows [q0, Sq) of the LSE -> packed stats
    CPRT_CUDA_CHECK(cudaMemcpy2DAsync(stats.p, size_t(u.sq) * 4, a.lse + u.q0,
                                      size_t(u.SqFull) * 4, size_t(u.sq) * 4,
                                      size_t(u.B * u.Hq), cudaMemcpyDeviceToDevice, stream()));
  std::unordered_map<int64_t, void *> pack{
      {kQ, rowsAt(a.q, u.q0)},
      {kK, a.k.data},
      {kV, a.v.data},
      {kO, rowsAt(a.out, u.q0)},
      {kDO, rowsAt(a.dout, u.q0)},
      {kStats, u.q0 > 0 ? stats.p : const_cast<float *>(a.lse)},
      {kDQ, direct ? static_cast<void *>(rowsAt(a.dq, u.q0)) : tq.p},
      {kDK, direct ? a.dk.data : tk.p},
      {kDV, direct ? a.dv.data : tv.p}};
  if (cudnnSetStream(impl_->handle, stream()) != CUDNN_STATUS_SUCCESS)
    fail(ErrorCode::Internal, "cudnnSetStream failed");
  feCheck(e.graph->execute(impl_->handle, pack,
                           impl_->workspace(size_t(e.workspace), stream())),
          "execute backward");
  if (!direct) { // typed scratch -> fp32 views (+= with accumulate)
    Scratch f32(*this, std::max(nq, nkv) * 4);
    auto store = [&](void *src, size_t n, const TensorView &dst, int64_t row0, int64_t h,
                     int64_t rows) {
      if (row0 == 0 && dst.dtype == DType::F32 && packed(dst, h, rows, u.D) &&
          (&dst == &a.dq ? rows == p.shape.seqQ : rows == p.shape.seqKV)) {
        launchToF32(src, int(dt), static_cast<float *>(dst.data), int64_t(n), a.accumulate,
                    stream());
        return;
      }
      launchToF32(src, int(dt), static_cast<float *>(f32.p), int64_t(n), 0, stream());
      launchStoreScaled(static_cast<float *>(f32.p), rowsAt(dst, row0), int(dst.dtype),
                        dst.stride, u.B, h, rows, u.D, 1.f, a.accumulate, stream());
    };
    store(tq.p, nq, a.dq, u.q0, u.Hq, u.sq);
    store(tk.p, nkv, a.dk, 0, u.Hkv, u.skv);
    store(tv.p, nkv, a.dv, 0, u.Hkv, u.skv);
  }
}

} // namespace cprt
