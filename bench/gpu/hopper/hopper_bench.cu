//===- hopper_bench.cu - Check and time the sm_90a attention forward ------===//
//
// Standalone: a correctness sweep of cprt::cuda::hopper::attentionForward
// against an fp32 reference computed on the GPU by a simple separate kernel
// (fresh random inputs per case, poisoned outputs, NaN never passes), then a
// timing sweep (B=1, H=16, causal and not) against the mma.sync kernel of
// FlashForward.cu, for each element type / head dim of --configs (default
// bf16:128; at the other configurations every variant digit runs kernel 8).
// Build: bench/gpu/hopper/build.sh.
//
// Usage: hopper_bench [--no-check] [--no-time] [--variants 1,2,3,4,5,6,7,8,9]
//                     [--sizes 4096,8192,16384,32768] [--reps N] [--seed N]
//                     [--rounds N]   (correctness rounds, fresh inputs each)
//                     [--configs bf16:128,fp16:128,bf16:64,fp16:64,bf16:256,fp16:256]
// Variants: see launchVariant in runtime/src/cuda/hopper/HopperAttention.cu.
//
//===----------------------------------------------------------------------===//
#include "HopperAttention.h"
#include "FlashKernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace hp = cprt::cuda::hopper;

#define CK(x)                                                                                  \
  do {                                                                                         \
    cudaError_t e_ = (x);                                                                      \
    if (e_ != cudaSuccess) {                                                                   \
      std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__,    \
                  #x);                                                                         \
      std::exit(2);                                                                            \
    }                                                                                          \
  } while (0)

namespace {

__device__ uint32_t hash32(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return uint32_t(x);
}

/// Element type and head dim of one sweep (FwdArgs::dtype: 1 = bf16, 2 = fp16).
struct Config {
  int dtype = 1;
  int D = 128;
};
Config gCfg; // the configuration being checked / timed

__device__ __forceinline__ float ld16(const void *p, int64_t i, int dtype) {
  return dtype == 2 ? __half2float(static_cast<const __half *>(p)[i])
                    : __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
}

/// Uniform in [-amp, amp), stored as bf16 (dtype 1) or fp16 (dtype 2).
__global__ void fill16(void *p, int64_t n, uint64_t seed, float amp, int dtype) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float u = hash32(seed * 0x9E3779B97F4A7C15ULL + uint64_t(i)) * (1.f / 4294967296.f);
    const float x = (2.f * u - 1.f) * amp;
    if (dtype == 2)
      static_cast<__half *>(p)[i] = __float2half_rn(x);
    else
      static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(x);
  }
}
__global__ void fillF32(float *p, int64_t n, uint64_t seed, float lo, float hi) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float u = hash32(seed * 0x9E3779B97F4A7C15ULL + uint64_t(i)) * (1.f / 4294967296.f);
    p[i] = lo + (hi - lo) * u;
  }
}

struct Case {
  const char *name;
  int64_t B, Hq, Hkv, Sq, Skv;
  int diag;
  int64_t diagShift, rowBegin, kEnd; // kEnd -1: Skv
  int accumulate;
  float amp;
};

/// fp32 reference: one warp per query row (lane: D / 32 columns), online
/// softmax over visible keys.
__global__ void refKernel(const void *q, const void *k, const void *v, float *out, float *lse,
                          Case c, float scale, Config cfg) {
  const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= c.B * c.Hq * c.Sq) return;
  const int D = cfg.D, per = D / 32;
  const int64_t i = row % c.Sq, bh = row / c.Sq, b = bh / c.Hq, h = bh % c.Hq;
  const int64_t bhk = b * c.Hkv + h / (c.Hq / c.Hkv);
  const int64_t kEnd = c.kEnd < 0 ? c.Skv : c.kEnd;
  float qv[8], acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, m = -INFINITY, l = 0.f;
  for (int d = 0; d < per; ++d) qv[d] = ld16(q, row * D + lane * per + d, cfg.dtype);
  const bool rowVis = i >= c.rowBegin;
  for (int64_t j = 0; rowVis && j < kEnd; ++j) {
    if (c.diag && j > i - c.diagShift) break;
    const int64_t kr = (bhk * c.Skv + j) * D + lane * per;
    float dot = 0.f;
    for (int d = 0; d < per; ++d) dot += qv[d] * ld16(k, kr + d, cfg.dtype);
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffff, dot, o);
    const float s = dot * scale, mNew = fmaxf(m, s);
    const float a = expf(m - mNew), pj = expf(s - mNew);
    for (int d = 0; d < per; ++d) acc[d] = acc[d] * a + pj * ld16(v, kr + d, cfg.dtype);
    l = l * a + pj;
    m = mNew;
  }
  for (int d = 0; d < per; ++d) out[row * D + lane * per + d] = l > 0.f ? acc[d] / l : 0.f;
  if (lane == 0) lse[row] = l > 0.f ? m + logf(l) : -INFINITY;
}

/// A bf16 (dtype 1) or fp16 (dtype 2) bit pattern as a float.
float h2f(uint16_t b, int dtype) {
  if (dtype == 2) {
    __half_raw r;
    r.x = b;
    return __half2float(__half(r));
  }
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct Buffers {
  void *q = nullptr, *k = nullptr, *v = nullptr;
  void *out = nullptr;
  float *lse = nullptr, *refOut = nullptr, *refLse = nullptr;
};

/// Expected accumulate result on the host: merge of the partial with the reference.
void hostMerge(std::vector<float> &out, std::vector<float> &lse, const std::vector<float> &ro,
               const std::vector<float> &rl, int D) {
  const size_t rows = lse.size();
  for (size_t r = 0; r < rows; ++r) {
    const float b = rl[r], a = lse[r];
    if (b == -INFINITY) continue;
    if (a == -INFINITY) {
      for (int d = 0; d < D; ++d) out[r * D + d] = ro[r * D + d];
      lse[r] = b;
      continue;
    }
    const float mx = std::max(a, b), ln = mx + std::log1p(std::exp(std::min(a, b) - mx));
    const float wa = std::exp(a - ln), wb = std::exp(b - ln);
    for (int d = 0; d < D; ++d) out[r * D + d] = wa * out[r * D + d] + wb * ro[r * D + d];
    lse[r] = ln;
  }
}

struct CheckResult {
  double relErr = 0, lseErr = 0;
  int64_t bad = 0; // NaN / wrong empty rows
  bool ok = false;
};

CheckResult compare(const std::vector<float> &got, const std::vector<float> &gotLse,
                    const std::vector<float> &ref, const std::vector<float> &refLse) {
  CheckResult r;
  double num = 0, den = 0;
  for (size_t x = 0; x < ref.size(); ++x) {
    if (!std::isfinite(got[x])) {
      ++r.bad;
      continue;
    }
    num += (got[x] - ref[x]) * double(got[x] - ref[x]);
    den += double(ref[x]) * ref[x];
  }
  for (size_t x = 0; x < refLse.size(); ++x) {
    if (refLse[x] == -INFINITY) {
      if (gotLse[x] != -INFINITY) ++r.bad;
    } else if (!std::isfinite(gotLse[x])) {
      ++r.bad;
    } else {
      r.lseErr = std::max(r.lseErr, double(std::fabs(gotLse[x] - refLse[x])));
    }
  }
  r.relErr = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  r.ok = r.bad == 0 && r.relErr <= 1e-2 && r.lseErr <= 1e-2;
  return r;
}

bool runCase(const Case &c, int variant, uint64_t seed, bool print) {
  const Config cfg = gCfg;
  const int D = cfg.D;
  const int64_t nq = c.B * c.Hq * c.Sq * D, nkv = c.B * c.Hkv * c.Skv * D;
  const int64_t rows = c.B * c.Hq * c.Sq;
  Buffers bf;
  CK(cudaMalloc(&bf.q, nq * 2));
  CK(cudaMalloc(&bf.k, nkv * 2));
  CK(cudaMalloc(&bf.v, nkv * 2));
  CK(cudaMalloc(&bf.out, nq * 4));
  CK(cudaMalloc(&bf.lse, rows * 4));
  CK(cudaMalloc(&bf.refOut, nq * 4));
  CK(cudaMalloc(&bf.refLse, rows * 4));
  fill16<<<1024, 256>>>(bf.q, nq, seed * 3 + 1, c.amp, cfg.dtype);
  fill16<<<1024, 256>>>(bf.k, nkv, seed * 3 + 2, c.amp, cfg.dtype);
  fill16<<<1024, 256>>>(bf.v, nkv, seed * 3 + 3, 1.f, cfg.dtype);
  CK(cudaGetLastError());
  const float scale = 1.f / std::sqrt(float(D));
  refKernel<<<unsigned((rows * 32 + 255) / 256), 256>>>(bf.q, bf.k, bf.v, bf.refOut, bf.refLse, c,
                                                        scale, cfg);
  CK(cudaGetLastError());
  std::vector<float> partOut, partLse;
  if (c.accumulate) {
    fillF32<<<1024, 256>>>(static_cast<float *>(bf.out), nq, seed * 3 + 4, -1.f, 1.f);
    fillF32<<<1024, 256>>>(bf.lse, rows, seed * 3 + 5, -1.f, 3.f);
    CK(cudaGetLastError());
    partOut.resize(nq);
    partLse.resize(rows);
    CK(cudaMemcpy(partLse.data(), bf.lse, rows * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(partOut.data(), bf.out, nq * 4, cudaMemcpyDeviceToHost));
    for (int64_t r = 0; r < rows; r += 7) { // some empty partial rows (lse -inf, out 0)
      partLse[r] = -INFINITY;
      std::fill(partOut.begin() + r * D, partOut.begin() + r * D + D, 0.f);
    }
    CK(cudaMemcpy(bf.lse, partLse.data(), rows * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(bf.out, partOut.data(), nq * 4, cudaMemcpyHostToDevice));
  } else {
    CK(cudaMemset(bf.out, 0xFF, nq * 2)); // NaN poison
    CK(cudaMemset(bf.lse, 0xFF, rows * 4));
  }
  hp::FwdArgs a;
  a.q = bf.q; a.k = bf.k; a.v = bf.v; a.out = bf.out; a.lse = bf.lse;
  a.B = c.B; a.Hq = c.Hq; a.Hkv = c.Hkv; a.Sq = c.Sq; a.Skv = c.Skv; a.D = D;
  a.dtype = cfg.dtype;
  a.scale = scale;
  a.accumulate = c.accumulate;
  a.rowBegin = c.rowBegin; a.kEnd = c.kEnd; a.diag = c.diag; a.diagShift = c.diagShift;
  a.variant = variant;
  if (const char *why = hp::unsupportedReason(a)) {
    std::printf("  %-28s v%-2d UNSUPPORTED: %s\n", c.name, variant, why);
    return false;
  }
  CK(hp::attentionForward(a, nullptr));
  CK(cudaDeviceSynchronize());
  std::vector<float> got(nq), gotLse(rows), ref(nq), refLse(rows);
  if (c.accumulate) {
    CK(cudaMemcpy(got.data(), bf.out, nq * 4, cudaMemcpyDeviceToHost));
  } else {
    std::vector<uint16_t> g16(nq);
    CK(cudaMemcpy(g16.data(), bf.out, nq * 2, cudaMemcpyDeviceToHost));
    for (int64_t x = 0; x < nq; ++x) got[x] = h2f(g16[x], cfg.dtype);
  }
  CK(cudaMemcpy(gotLse.data(), bf.lse, rows * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(ref.data(), bf.refOut, nq * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(refLse.data(), bf.refLse, rows * 4, cudaMemcpyDeviceToHost));
  if (c.accumulate) {
    hostMerge(partOut, partLse, ref, refLse, D);
    ref.swap(partOut);
    refLse.swap(partLse);
  }
  const CheckResult r = compare(got, gotLse, ref, refLse);
  if (print)
    std::printf("  %-28s v%-2d rel %.2e  lse %.2e  bad %lld  %s\n", c.name, variant, r.relErr,
                r.lseErr, (long long)r.bad, r.ok ? "PASS" : "FAIL");
  std::fflush(stdout);
  CK(cudaFree(bf.q)); CK(cudaFree(bf.k)); CK(cudaFree(bf.v)); CK(cudaFree(bf.out));
  CK(cudaFree(bf.lse)); CK(cudaFree(bf.refOut)); CK(cudaFree(bf.refLse));
  return r.ok;
}

std::vector<int> parseList(const char *s) {
  std::vector<int> v;
  for (const char *p = s; *p;) {
    v.push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return v;
}

int checkSweep(const std::vector<int> &variants, uint64_t seed) {
  const Case cases[] = {
      {"tiny 1x2x128", 1, 2, 2, 128, 128, 0, 0, 0, -1, 0, 1.f},
      {"ragged 2x3x1000", 2, 3, 3, 1000, 1000, 0, 0, 0, -1, 0, 1.f},
      {"ragged causal 2x3x1000", 2, 3, 3, 1000, 1000, 1, 0, 0, -1, 0, 1.f},
      {"gqa 1x4/2x2048", 1, 4, 2, 2048, 2048, 0, 0, 0, -1, 0, 1.f},
      {"causal 1x4x2048", 1, 4, 4, 2048, 2048, 1, 0, 0, -1, 0, 1.f},
      {"sq!=skv 1x2x777x1500", 1, 2, 2, 777, 1500, 0, 0, 0, -1, 0, 1.f},
      {"step 1x2x1024 rb300 ke900", 1, 2, 2, 1024, 1024, 1, 200, 300, 900, 0, 1.f},
      {"causal big-scores 1x8x4096", 1, 8, 8, 4096, 4096, 1, 0, 0, -1, 0, 4.f},
      {"acc causal 1x3x1000", 1, 3, 3, 1000, 1000, 1, 0, 0, -1, 1, 1.f},
      {"acc step 1x2x1024", 1, 2, 2, 1024, 1024, 1, 200, 300, 900, 1, 1.f},
      {"acc full 2x2x2048", 2, 2, 2, 2048, 2048, 0, 0, 0, -1, 1, 1.f},
  };
  int fails = 0, n = 0;
  std::printf("== correctness, %s D=%d (fp32 GPU reference; rel Frobenius <= 1e-2, "
              "|dLSE| <= 1e-2)\n", gCfg.dtype == 2 ? "fp16" : "bf16", gCfg.D);
  // Layout self-check: the swapped V descriptor must fail where the default passes.
  std::printf("  [diag] swapped V descriptor strides (expected FAIL):\n");
  runCase(cases[0], 12, seed, true);
  for (const Case &c : cases)
    for (int v : variants) {
      ++n;
      fails += !runCase(c, v, seed + 101 * n, true);
    }
  std::printf("correctness: %d/%d passed\n", n - fails, n);
  return fails;
}

float medianMs(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Median ms of each launcher; the launchers are interleaved (one launch of
/// each per round) so that clock and temperature drift hits all alike.
std::vector<float> timeInterleaved(const std::vector<std::function<void()>> &fns, int reps) {
  for (int w = 0; w < 2; ++w)
    for (auto &f : fns) f();
  CK(cudaDeviceSynchronize());
  const size_t n = fns.size();
  std::vector<cudaEvent_t> ev(2 * n * reps);
  for (auto &e : ev) CK(cudaEventCreate(&e));
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < n; ++i) {
      CK(cudaEventRecord(ev[2 * (r * n + i)]));
      fns[i]();
      CK(cudaEventRecord(ev[2 * (r * n + i) + 1]));
    }
  CK(cudaDeviceSynchronize());
  std::vector<float> med(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> ms(reps);
    for (int r = 0; r < reps; ++r)
      CK(cudaEventElapsedTime(&ms[r], ev[2 * (r * n + i)], ev[2 * (r * n + i) + 1]));
    med[i] = medianMs(ms);
  }
  for (auto &e : ev) CK(cudaEventDestroy(e));
  return med;
}

void timeSweep(const std::vector<int> &variants, const std::vector<int> &sizes, int reps,
               uint64_t seed) {
  const int64_t B = 1, H = 16, D = gCfg.D;
  const int64_t maxS = *std::max_element(sizes.begin(), sizes.end());
  const int64_t n = B * H * maxS * D;
  void *q, *k, *v, *o;
  float *lse;
  CK(cudaMalloc(&q, n * 2)); CK(cudaMalloc(&k, n * 2)); CK(cudaMalloc(&v, n * 2));
  CK(cudaMalloc(&o, n * 2)); CK(cudaMalloc(&lse, B * H * maxS * 4));
  fill16<<<2048, 256>>>(q, n, seed + 11, 1.f, gCfg.dtype);
  fill16<<<2048, 256>>>(k, n, seed + 12, 1.f, gCfg.dtype);
  fill16<<<2048, 256>>>(v, n, seed + 13, 1.f, gCfg.dtype);
  CK(cudaGetLastError());
  std::printf("\n== timing: B=1 H=16 D=%d %s, median of %d launches each (events, "
              "kernels interleaved), TFLOP/s = 4*B*H*S^2*D/t (halved for causal)\n",
              int(D), gCfg.dtype == 2 ? "fp16" : "bf16", reps);
  std::printf("| S | causal | mma.sync (FlashForward) |");
  for (int vv : variants) std::printf(" hopper v%d |", vv);
  std::printf("\n|---|---|---|");
  for (size_t x = 0; x < variants.size(); ++x) std::printf("---|");
  std::printf("\n");
  for (int S : sizes)
    for (int causal = 0; causal < 2; ++causal) {
      const double flops = 4.0 * B * H * double(S) * S * D * (causal ? 0.5 : 1.0);
      cprt::cuda::FwdLaunch fl{};
      fl.q = q; fl.k = k; fl.v = v; fl.out = o; fl.lse = lse;
      const int64_t st[3] = {H * S * D, S * D, D};
      for (int x = 0; x < 3; ++x) fl.qS[x] = fl.kS[x] = fl.vS[x] = fl.oS[x] = st[x];
      fl.B = B; fl.Hq = fl.Hkv = H; fl.Sq = fl.Skv = S; fl.D = D;
      fl.scale = 1.f / std::sqrt(float(D));
      fl.inType = fl.outType = gCfg.dtype;
      fl.step.kEnd = S;
      fl.step.diag = causal;
      std::vector<std::function<void()>> fns;
      fns.push_back([fl] { cprt::cuda::launchFlashForward(fl, nullptr); });
      for (int vv : variants) {
        hp::FwdArgs a;
        a.q = q; a.k = k; a.v = v; a.out = o; a.lse = lse;
        a.B = B; a.Hq = a.Hkv = H; a.Sq = a.Skv = S; a.D = D;
        a.dtype = gCfg.dtype;
        a.scale = fl.scale;
        a.diag = causal;
        a.variant = vv;
        fns.push_back([a] { CK(hp::attentionForward(a, nullptr)); });
      }
      const std::vector<float> ms = timeInterleaved(fns, reps);
      std::printf("| %d | %s |", S, causal ? "yes" : "no");
      for (float m : ms) std::printf(" %.0f |", flops / m * 1e-9);
      std::printf("\n");
      std::fflush(stdout);
    }
  CK(cudaFree(q)); CK(cudaFree(k)); CK(cudaFree(v)); CK(cudaFree(o)); CK(cudaFree(lse));
}

} // namespace

int main(int argc, char **argv) {
  bool check = true, timing = true;
  std::vector<int> variants = {1, 2, 3, 4, 5, 6, 7, 8, 9}, sizes = {4096, 8192, 16384, 32768};
  int rounds = 3;
  std::vector<Config> configs = {Config{}};
  int reps = 15;
  uint64_t seed = 12345;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--no-check") check = false;
    else if (s == "--no-time") timing = false;
    else if (s == "--variants" && i + 1 < argc) variants = parseList(argv[++i]);
    else if (s == "--sizes" && i + 1 < argc) sizes = parseList(argv[++i]);
    else if (s == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (s == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (s == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (s == "--configs" && i + 1 < argc) {
      configs.clear();
      for (const char *p = argv[++i]; *p;) { // type:dim,type:dim,...
        Config c;
        c.dtype = std::strncmp(p, "fp16", 4) == 0 ? 2 : 1;
        while (*p && *p != ':') ++p;
        if (*p == ':') c.D = std::atoi(++p);
        configs.push_back(c);
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    }
    else {
      std::printf("unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, cc %d.%d, seed %llu\n", prop.name, prop.multiProcessorCount,
              prop.major, prop.minor, (unsigned long long)seed);
  int fails = 0;
  for (const Config &c : configs) {
    gCfg = c;
    for (int r = 0; check && r < rounds; ++r) fails += checkSweep(variants, seed + 1000003 * r);
    if (timing) timeSweep(variants, sizes, reps, seed);
  }
  return fails ? 1 : 0;
}
