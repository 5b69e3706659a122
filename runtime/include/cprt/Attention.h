//===- Attention.h - Shared attention types of the cp runtime ---*- C++ -*-===//
//
// Types shared by every kernel backend (CPU now, CUDA later), the ring
// scheduler and the C ABI. Keep this header dependency-free (C++17 standard
// library only) so the GPU build can include it as is.
//
// Layout: tensors are [B, H, S, D] with element strides (contiguous BHSD is
// {H*S*D, S*D, D, 1}); the innermost (D) stride must be 1. LSE is fp32
// [B, Hq, Sq] contiguous.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_ATTENTION_H
#define CPRT_ATTENTION_H

#include <cstddef>
#include <cstdint>
#include <utility>

namespace cprt {

/// Storage element type. Values match the C ABI enum cprt_dtype.
enum class DType : int32_t { F32 = 0, BF16 = 1, F16 = 2 };

inline size_t dtypeSize(DType t) { return t == DType::F32 ? 4 : 2; }
const char *dtypeName(DType t);

/// Per-step causal behaviour of one block attention inside a ring (local
/// indices of the query block i in [0,Sq) and of the KV block j in [0,Skv)).
/// Names match the MLIR dialect enum `#cp.causal<...>` and the C ABI values.
enum class StepCausal : int32_t {
  Skip = 0,         ///< nothing visible: out = 0, lse = -inf, no compute.
  NotCausal = 1,    ///< full block.
  Causal = 2,       ///< top-left diagonal: key j visible iff j <= i.
  CausalStrict = 3, ///< key j visible iff j < i (striped, source > rank).
  KvHeadHalf = 4,   ///< all queries vs keys [0, Skv/2), full.
  QTailHalf = 5,    ///< queries [Sq/2, Sq) vs all keys, full; others empty.
};
const char *stepCausalName(StepCausal c);
/// Parses the dialect spelling ("skip", "not_causal", ...); returns false if
/// the name is unknown.
bool parseStepCausal(const char *name, StepCausal &out);

/// A strided 4-D view [B, H, S, D] of storage elements of type `dtype`.
struct TensorView {
  void *data = nullptr;
  DType dtype = DType::F32;
  int64_t stride[4] = {0, 0, 0, 1}; ///< in elements; stride[3] must be 1.

  static TensorView contiguous(void *data, DType dtype, int64_t h, int64_t s,
                               int64_t d) {
    TensorView v;
    v.data = data;
    v.dtype = dtype;
    v.stride[0] = h * s * d;
    v.stride[1] = s * d;
    v.stride[2] = d;
    v.stride[3] = 1;
    return v;
  }
};

/// Problem shape. Hq must be a multiple of Hkv (GQA: query head h reads KV
/// head h / (Hq / Hkv); KV heads are never expanded).
struct AttentionShape {
  int64_t batch = 1;
  int64_t headsQ = 1;
  int64_t headsKV = 1;
  int64_t seqQ = 0;
  int64_t seqKV = 0;
  int64_t headDim = 0;
};

/// Masking beyond the per-step behaviour. Everything here is expressed in
/// *positions*: the position of local query row i is qPos[i] (or i when qPos
/// is null), of local key j is kvPos[j] (or j). A negative position marks a
/// padding token: a padded key is never visible, a padded query row is fully
/// masked. All conditions are ANDed with each other and with StepCausal.
struct MaskSpec {
  const int64_t *qPos = nullptr;  ///< [Sq] or null (= local index)
  const int64_t *kvPos = nullptr; ///< [Skv] or null (= local index)

  /// Causal by position: key at position k visible iff k <= p.
  bool causal = false;
  /// Sliding window (> 0 enables; implies causal): p - w < k <= p.
  int64_t windowLeft = 0;

  /// Document ids indexed by position (packed sequences): a query sees only
  /// keys of its own document. Length docLen (positions must be < docLen).
  const int32_t *docIds = nullptr;
  int64_t docLen = 0;

  /// Boolean keep-mask (nonzero = keep) or additive fp32 mask, indexed
  /// [b, h, p, k] by *positions*: element offset b*bStride + h*hStride +
  /// p*rowStride + k. Use bStride/hStride = 0 to broadcast over B / H.
  const uint8_t *boolMask = nullptr;
  const float *addMask = nullptr;
  int64_t maskBStride = 0;
  int64_t maskHStride = 0;
  int64_t maskRowStride = 0;

  bool hasPositions() const { return qPos || kvPos; }
  bool isTrivial() const {
    return !qPos && !kvPos && !causal && windowLeft <= 0 && !docIds &&
           !boolMask && !addMask;
  }
};

/// Everything a kernel backend needs for one (block) attention call.
struct AttentionParams {
  AttentionShape shape;
  float scale = 0.0f; ///< 0 means 1/sqrt(headDim).
  StepCausal stepCausal = StepCausal::NotCausal;
  MaskSpec mask;

  float effectiveScale() const;
};

/// Forward: out [B,Hq,Sq,D] (any dtype), lse fp32 [B,Hq,Sq] contiguous.
struct ForwardArgs {
  TensorView q, k, v, out;
  float *lse = nullptr;
  /// Accumulate ("merge into") mode, used by the ring for every computed step
  /// after the first. `out` must be F32 and hold a normalised partial result
  /// whose LSE is in `lse` (rows with lse = -inf hold 0). This block's result
  /// (o_b, lse_b) is merged into (out, lse) in the logaddexp form:
  ///   lse' = logaddexp(lse, lse_b),
  ///   out' = out * exp(lse - lse') + o_b * exp(lse_b - lse').
  /// Rows the block cannot see (lse_b = -inf: rows outside the step's range,
  /// Skip, q_tail_half's head rows, fully masked rows) are left bit-for-bit
  /// unchanged, out and lse. Never NaN (both -inf stays -inf, out unchanged).
  /// Every backend honours it (forwardAccumulateViaMerge is a generic
  /// fallback: forward into a scratch, then mergePartial).
  bool accumulate = false;
};

/// Backward from the *global* (merged) out and lse of the forward.
/// dq/dk/dv may be any dtype; with `accumulate` they must be F32 and the
/// gradients are added to their current contents (ring accumulators).
struct BackwardArgs {
  TensorView dout, q, k, v, out;
  const float *lse = nullptr;
  TensorView dq, dk, dv;
  bool accumulate = false;
  /// Optional precomputed rowsum(dout * out) fp32 [B,Hq,Sq] (saves work when
  /// a ring calls backward W times with the same dout/out).
  const float *delta = nullptr;
};

/// A kernel backend (CPU now; CUDA flash / cuDNN later). Implementations
/// throw cprt::Error on invalid arguments.
///
/// Tensor data (TensorView::data, lse, delta, the buffers below) lives in the
/// backend's memory space; MaskSpec arrays (positions, doc ids, masks) are
/// always host memory (a device backend stages them, e.g. cached by pointer).
/// The ring scheduler only touches tensor memory through this interface, so
/// a device backend runs the same schedule. The memory operations have host
/// implementations by default (KernelBackend.cpp).
class KernelBackend {
public:
  virtual ~KernelBackend() = default;
  virtual const char *name() const = 0;
  virtual void forward(const AttentionParams &p, const ForwardArgs &a) = 0;
  virtual void backward(const AttentionParams &p, const BackwardArgs &a) = 0;
  /// In-place merge of a partial result b into a (fp32 out [rows, D] and
  /// lse [rows]); finite when either lse is -inf.
  virtual void mergePartial(float *out, float *lse, const float *outB,
                            const float *lseB, int64_t rows, int64_t d) = 0;

  /// delta[b,h,i] = sum_d dout[b,h,i,d] * out[b,h,i,d] in fp32 ([B,Hq,Sq]).
  virtual void attentionDelta(const AttentionShape &s, const TensorView &dout,
                              const TensorView &out, float *delta);

  // Memory in the backend's space (host for the CPU backend).
  virtual void *allocate(size_t bytes);
  virtual void deallocate(void *ptr);
  virtual void copy(void *dst, const void *src, size_t bytes);
  /// `rows` copies of `width` bytes: row i from src + i*spitch to
  /// dst + i*dpitch (cudaMemcpy2D's contract; pitches >= width).
  virtual void copy2D(void *dst, size_t dpitch, const void *src,
                      size_t spitch, size_t width, size_t rows);
  /// Sets `bytes` bytes at dst to zero.
  virtual void zero(void *dst, size_t bytes);
  virtual void fillF32(float *dst, float value, size_t n);
  /// dst[i] += src[i]
  virtual void addF32(float *dst, const float *src, size_t n);
  /// Element conversion between storage types (fp32 <-> bf16 / fp16 / same).
  virtual void convert(const void *src, DType srcType, void *dst,
                       DType dstType, size_t n);
};

/// Generic accumulate-mode forward for any backend (`a.accumulate` set):
/// computes the block into fp32 scratch (be.allocate) with a plain forward,
/// then be.mergePartial into (a.out, a.lse). Needs a.out F32 with rows
/// contiguous ([.., .., S, D] with stride[2] == D). Throws cprt::Error on
/// invalid arguments.
void forwardAccumulateViaMerge(KernelBackend &be, const AttentionParams &p,
                               const ForwardArgs &a);

/// Owning buffer in a backend's memory space.
class BackendBuffer {
public:
  BackendBuffer() = default;
  BackendBuffer(KernelBackend &be, size_t bytes)
      : be_(&be), ptr_(bytes ? be.allocate(bytes) : nullptr), bytes_(bytes) {}
  BackendBuffer(const BackendBuffer &) = delete;
  BackendBuffer &operator=(const BackendBuffer &) = delete;
  BackendBuffer(BackendBuffer &&o) noexcept { swap(o); }
  BackendBuffer &operator=(BackendBuffer &&o) noexcept {
    swap(o);
    return *this;
  }
  ~BackendBuffer() {
    if (ptr_) be_->deallocate(ptr_);
  }
  void swap(BackendBuffer &o) noexcept {
    std::swap(be_, o.be_);
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
  }
  void *data() const { return ptr_; }
  char *bytes() const { return static_cast<char *>(ptr_); }
  float *f32() const { return static_cast<float *>(ptr_); }
  size_t size() const { return bytes_; }

private:
  KernelBackend *be_ = nullptr;
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

} // namespace cprt

#endif // CPRT_ATTENTION_H
