//===- CostModel.cpp - predicted time of context-parallel strategies ------===//
//
// Formulas: docs/design.md, "Cost model"; topologies: docs/cost-model.md.
// Units: bytes, FLOP, microseconds; a bandwidth of G GB/s moves G·1e3 bytes
// per microsecond.
//
//===----------------------------------------------------------------------===//

#include "cp/Dialect/CP/Transforms/CostModel.h"

#include <algorithm>
#include <cmath>

namespace mlir::cp::cost {

const char *strategyName(Strategy s) {
  switch (s) {
  case Strategy::ring:
    return "ring";
  case Strategy::alltoall:
    return "ring(alltoall)";
  case Strategy::allgather:
    return "ring(allgather)";
  case Strategy::ulysses:
    return "ulysses";
  case Strategy::hybrid:
    return "hybrid";
  }
  return "?";
}

std::string predictionName(const Prediction &p) {
  if (p.strategy == Strategy::hybrid && p.ulyssesSize > 0)
    return "hybrid(U=" + std::to_string(p.ulyssesSize) + ")";
  return strategyName(p.strategy);
}

/// The H200 kernels the runtime's default (auto) backend runs, B=1, H=16,
/// D=128, bf16, no mask: bench/RESULTS.md, "Cost model vs measured",
/// run of 2026-12-02 16:50 UTC (`bench/gpu/bench_gpu.py --seqs
/// 512,...,32768`). Forward: the "ours auto fwd" column (the Hopper wgmma
/// kernel from 1024 tokens on, cuDNN and it tie at 512). Backward: cuDNN's
/// (auto picks it everywhere), from "ours auto f+b" and the forward as
/// 2.5 / (3.5 / f+b - 1 / fwd). The overheads are fitted to the rings over
/// N virtual ranks of the same run and of 15:11 UTC (S = 8K and 32K, N = 2,
/// 4, 8): forward 25 us, backward 80 us per step beyond the kernel (host
/// rendezvous, stream waits, the dK/dV accumulator hop).
static void setH200Kernels(Topology &t) {
  t.kernelHeads = 16;
  t.forward.overheadUs = 25;
  t.forward.tflops = {{512, 146},  {1024, 377},  {2048, 568}, {4096, 633},
                      {8192, 636}, {16384, 638}, {32768, 651}};
  t.backward.overheadUs = 80;
  t.backward.tflops = {{512, 149},  {1024, 371},  {2048, 477}, {4096, 510},
                       {8192, 540}, {16384, 552}, {32768, 548}};
}

/// The three built-ins; share/topologies/<name>.json hold the same (the unit
/// test checks that they parse to these).
std::optional<Topology> builtinTopology(std::string_view name) {
  Topology t;
  t.name = std::string(name);
  t.source = "built-in";
  if (name == "h200-nvlink") {
    // Nodes of 8 H200s (NVLink 4, ~400 GB/s effective per direction: the
    // 2xH200 NCCL run moved a 134 MB KV block in ~0.3 ms); beyond 8 ranks the
    // next node over 400 Gb/s InfiniBand per GPU (50 GB/s).
    t.linkGBps = 400;
    t.latencyUs = 10;
    t.allToAllEfficiency = 0.75;
    t.ranksPerNode = 8;
    t.interNodeGBps = 50;
    t.interNodeLatencyUs = 20;
    t.interNodeAllToAllEfficiency = 0.75;
    setH200Kernels(t);
    t.memoryGBps = 4300; // copy bandwidth measured on the H200 (RESULTS.md)
    return t;
  }
  if (name == "h100-ib") {
    // Nodes of 8 H100s (NVLink ~300 GB/s), 400 Gb/s InfiniBand per GPU
    // (50 GB/s) between nodes. Kernels: the H200's tables; the H100's cuDNN
    // measured 620-629 TFLOP/s forward and ~490-545 backward at 4K-32K
    // tokens (RESULTS.md, 2026-11-24 run 3), within 3% of the H200's (same
    // SMs and clocks); below 4K tokens the H100 was not measured.
    t.linkGBps = 300;
    t.latencyUs = 10;
    t.allToAllEfficiency = 0.75;
    t.ranksPerNode = 8;
    t.interNodeGBps = 50;
    t.interNodeLatencyUs = 20;
    t.interNodeAllToAllEfficiency = 0.75;
    setH200Kernels(t);
    t.memoryGBps = 3000;
    return t;
  }
  if (name == "cpu") {
    // Thread ranks of one host: "links" are memory copies (~10 GB/s per
    // rank), one core per rank at ~50 GFLOP/s (bench/RESULTS.md: the
    // blocked kernel does ~100 GFLOP/s forward on 2 cores, ~0.8x backward);
    // no dependence on the block size measured.
    t.linkGBps = 10;
    t.latencyUs = 5;
    t.allToAllEfficiency = 0.8;
    t.ranksPerNode = 0;
    t.forward = {10, {{1, 0.05}}};
    t.backward = {10, {{1, 0.04}}};
    t.memoryGBps = 10;
    return t;
  }
  return std::nullopt;
}

std::vector<std::string> builtinTopologyNames() {
  return {"h200-nvlink", "h100-ib", "cpu"};
}

bool ulyssesLegal(int64_t hq, int64_t hkv, int64_t ranks, std::string *why) {
  if (ranks <= 1)
    return true;
  if (hq % ranks != 0) {
    if (why)
      *why = std::to_string(hq) + " query heads do not divide over " +
             std::to_string(ranks) + " ranks";
    return false;
  }
  if (hkv <= 0 || (hkv % ranks != 0 && ranks % hkv != 0)) {
    if (why)
      *why = std::to_string(hkv) + " key/value heads neither divide over " +
             std::to_string(ranks) + " ranks nor divide " +
             std::to_string(ranks);
    return false;
  }
  return true;
}

bool hybridLegal(int64_t hq, int64_t hkv, int64_t ranks, int64_t ulyssesSize,
                 std::string *why) {
  if (ulyssesSize <= 1 || ulyssesSize >= ranks || ranks % ulyssesSize != 0) {
    if (why)
      *why = "a Ulysses size of " + std::to_string(ulyssesSize) +
             " does not split " + std::to_string(ranks) +
             " ranks into groups of more than one rank and a ring of more "
             "than one group";
    return false;
  }
  return ulyssesLegal(hq, hkv, ulyssesSize, why);
}

double maskFraction(const Attention &a) {
  switch (a.mask) {
  case MaskKind::full:
    return 1.0;
  case MaskKind::causal:
    return 0.5;
  case MaskKind::window:
    return std::min(1.0, double(std::max<int64_t>(a.window, 1)) /
                             double(std::max<int64_t>(a.seqLen, 1)));
  }
  return 1.0;
}

/// 1 for the forward, 2.5 for the backward (the FlashAttention count).
static double directionFactor(Direction d) {
  return d == Direction::backward ? 2.5 : 1.0;
}

double attentionFlops(const Attention &a) {
  double s = double(a.seqLen);
  return 4.0 * a.batch * a.qHeads * s * s * a.headDim * maskFraction(a) *
         directionFactor(a.direction);
}

double kernelTflops(const KernelTable &table, double tokens) {
  const auto &pts = table.tflops;
  if (pts.empty())
    return 0;
  if (tokens <= pts.front().first)
    return pts.front().second;
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    auto [x0, y0] = pts[i];
    auto [x1, y1] = pts[i + 1];
    if (tokens <= x1)
      return y0 + (y1 - y0) * std::log(tokens / x0) / std::log(x1 / x0);
  }
  return pts.back().second;
}

double lookupTokens(double tokens, double frac, double batchHeads,
                    const Topology &t) {
  double work = frac;
  if (t.kernelHeads > 0)
    work *= batchHeads / t.kernelHeads;
  return tokens * std::sqrt(work);
}

double kernelUs(double flops, double tokens, Direction d, const Topology &t) {
  const KernelTable &k = d == Direction::backward ? t.backward : t.forward;
  double rate = kernelTflops(k, tokens) * 1e6; // FLOP per microsecond
  return k.overheadUs + flops / rate;
}

namespace {

bool crossesNodes(int64_t ranks, const Topology &t) {
  return t.ranksPerNode > 0 && ranks > t.ranksPerNode;
}

/// One point-to-point message of `bytes` to the ring neighbour. With more
/// ranks than a node holds, some ring edge crosses nodes and paces the ring.
/// `allToAll`: sent as an all-to-all, at the links' all-to-all efficiency.
double sendUs(double bytes, int64_t ranks, const Topology &t,
              bool allToAll = false) {
  if (crossesNodes(ranks, t)) {
    double eff = allToAll ? t.interNodeAllToAllEfficiency : 1.0;
    return t.interNodeLatencyUs + bytes / (t.interNodeGBps * eff * 1e3);
  }
  double eff = allToAll ? t.allToAllEfficiency : 1.0;
  return t.latencyUs + bytes / (t.linkGBps * eff * 1e3);
}

/// An all-to-all of a per-rank tensor of `bytes`: (N-1)/N of it leaves, at
/// the all-to-all efficiency of the links; across nodes the intra-node and
/// inter-node parts go in parallel and the slower one counts.
double allToAllUs(double bytes, int64_t ranks, const Topology &t) {
  double n = double(ranks);
  double eff = t.allToAllEfficiency;
  if (!crossesNodes(ranks, t))
    return t.latencyUs + bytes * (n - 1) / n / (t.linkGBps * eff * 1e3);
  double rpn = double(t.ranksPerNode);
  double intra = bytes * (rpn - 1) / n / (t.linkGBps * eff * 1e3);
  double inter = bytes * (n - rpn) / n /
                 (t.interNodeGBps * t.interNodeAllToAllEfficiency * 1e3);
  return t.interNodeLatencyUs + std::max(intra, inter);
}

double memoryUs(double bytes, const Topology &t) {
  return bytes / (t.memoryGBps * 1e3);
}

/// The all-to-alls of Ulysses over `ranks` ranks that each hold `l` tokens:
/// q, k, v to heads and out back (forward); dout, q, out, k, v, lse to heads
/// and dq, dk, dv back (backward). KV heads are replicated up to `ranks`
/// when fewer.
double ulyssesCommUs(const Attention &a, double l, int64_t ranks,
                     const Topology &t) {
  double n = double(ranks);
  double b = double(a.batch), hq = double(a.qHeads), hkv = double(a.kvHeads);
  double d = double(a.headDim), e = double(a.elementBytes);
  double hkvSent = (a.kvHeads % ranks == 0) ? hkv : n;
  double qA = allToAllUs(b * hq * l * d * e, ranks, t);
  double kvA = allToAllUs(b * hkvSent * l * d * e, ranks, t);
  if (a.direction == Direction::forward)
    return 2 * qA + 2 * kvA;
  return 4 * qA + 4 * kvA + allToAllUs(b * hq * l * 4, ranks, t);
}

} // namespace

Prediction predict(const Attention &a, Strategy s, int64_t ranks,
                   Balance balance, const Topology &t) {
  Prediction p;
  p.strategy = s;
  Direction dir = a.direction;
  bool bwd = dir == Direction::backward;
  double frac = maskFraction(a);
  double bh = double(a.batch) * double(a.qHeads); // batch x heads of a call
  if (ranks <= 1) {
    p.computeUs = p.totalUs = kernelUs(
        attentionFlops(a), lookupTokens(double(a.seqLen), frac, bh, t), dir, t);
    return p;
  }
  if (s == Strategy::hybrid)
    return bestHybrid(a, ranks, balance, t);
  if (s == Strategy::ulysses && !ulyssesLegal(a.qHeads, a.kvHeads, ranks,
                                               &p.whyIllegal)) {
    p.legal = false;
    return p;
  }
  double n = double(ranks);
  double b = double(a.batch), hq = double(a.qHeads), hkv = double(a.kvHeads);
  double d = double(a.headDim), e = double(a.elementBytes);
  double l = std::ceil(double(a.seqLen) / n); // local sequence length

  if (s == Strategy::ulysses) {
    p.commUs = ulyssesCommUs(a, l, ranks, t);
    // The whole sequence, Hq/N heads per rank.
    p.computeUs = kernelUs(attentionFlops(a) / n,
                           lookupTokens(double(a.seqLen), frac, bh / n, t),
                           dir, t);
    p.totalUs = p.commUs + p.computeUs;
    return p;
  }

  // Rings: N steps of an L x L block per rank.
  double blockFlops = 4.0 * b * hq * l * l * d * directionFactor(dir);
  std::vector<double> steps(ranks);
  if (a.mask == MaskKind::causal && balance == Balance::none) {
    // Contiguous blocks: the last rank computes its diagonal (half a block)
    // and N-1 full blocks; the others wait for it.
    steps[0] = kernelUs(blockFlops / 2, lookupTokens(l, 0.5, bh, t), dir, t);
    for (int64_t i = 1; i < ranks; ++i)
      steps[i] = kernelUs(blockFlops, lookupTokens(l, 1, bh, t), dir, t);
  } else {
    // Balanced (head_tail, striped, or no causal mask): every step does the
    // mask's fraction of a block.
    for (int64_t i = 0; i < ranks; ++i)
      steps[i] =
          kernelUs(blockFlops * frac, lookupTokens(l, frac, bh, t), dir, t);
  }
  for (double c : steps)
    p.computeUs += c;
  // KV block per step; the backward also moves the fp32 dK/dV accumulators.
  double kvBytes = 2 * b * hkv * l * d * (bwd ? e + 4 : e);
  // Merges: forward reads and writes the fp32 accumulator (and LSE) and
  // reads the partial; backward adds dQ and dK/dV in fp32.
  double mergeBytes = bwd ? b * hq * l * d * 8 + 2 * b * hkv * l * d * 8
                          : b * hq * l * (d * (8 + e) + 8);
  p.mergeUs = n * memoryUs(mergeBytes, t);

  if (s == Strategy::allgather) {
    // All-gather KV first (N-1 ring rounds), then every block without
    // overlap; the backward reduce-scatters the fp32 dK/dV afterwards.
    double gather = (n - 1) * sendUs(2 * b * hkv * l * d * e, ranks, t);
    double scatter =
        bwd ? (n - 1) * sendUs(2 * b * hkv * l * d * 4, ranks, t) : 0;
    p.commUs = gather + scatter;
    p.totalUs = p.commUs + p.computeUs + p.mergeUs;
    return p;
  }
  // rotate=ring (or alltoall, a shift spelled as an all-to-all at its
  // efficiency): the shift for step i+1 overlaps step i's block.
  double x = s == Strategy::alltoall
                 ? sendUs(kvBytes, ranks, t, /*allToAll=*/true)
                 : sendUs(kvBytes, ranks, t);
  p.commUs = (n - 1) * x;
  double total = 0;
  for (int64_t i = 0; i + 1 < ranks; ++i)
    total += std::max(steps[i], x);
  total += steps[ranks - 1];
  p.totalUs = total + p.mergeUs;
  return p;
}

Prediction predictHybrid(const Attention &a, int64_t ranks,
                         int64_t ulyssesSize, Balance balance,
                         const Topology &t) {
  Prediction p;
  p.strategy = Strategy::hybrid;
  p.ulyssesSize = ulyssesSize;
  if (!hybridLegal(a.qHeads, a.kvHeads, ranks, ulyssesSize, &p.whyIllegal)) {
    p.legal = false;
    return p;
  }
  // The all-to-alls inside a group of U consecutive ranks (of one node when
  // U fits one), each rank holding S/N tokens.
  double commUs = ulyssesCommUs(
      a, std::ceil(double(a.seqLen) / double(ranks)), ulyssesSize, t);
  // The ring of R = N/U groups: each rank holds Hq/U heads (Hkv/U, or one
  // replicated head) of S/R tokens; ring neighbours are U ranks apart, so
  // the ring leaves the node when the whole grid does.
  int64_t r = ranks / ulyssesSize;
  Attention ra = a;
  ra.qHeads = a.qHeads / ulyssesSize;
  ra.kvHeads = a.kvHeads % ulyssesSize == 0 ? a.kvHeads / ulyssesSize : 1;
  Topology rt = t;
  if (t.ranksPerNode > 0)
    rt.ranksPerNode = std::max<int64_t>(1, t.ranksPerNode / ulyssesSize);
  Prediction ring = predict(ra, Strategy::ring, r, balance, rt);
  p.computeUs = ring.computeUs;
  p.mergeUs = ring.mergeUs;
  p.commUs = commUs + ring.commUs;
  p.totalUs = commUs + ring.totalUs;
  return p;
}

Prediction bestHybrid(const Attention &a, int64_t ranks, Balance balance,
                      const Topology &t) {
  std::optional<Prediction> best;
  for (int64_t u = 2; u < ranks; ++u) {
    if (ranks % u != 0)
      continue;
    Prediction p = predictHybrid(a, ranks, u, balance, t);
    if (p.legal && (!best || p.totalUs < best->totalUs))
      best = p;
  }
  if (best)
    return *best;
  Prediction p;
  p.strategy = Strategy::hybrid;
  p.legal = false;
  p.whyIllegal = "no Ulysses group size 1 < U < " + std::to_string(ranks) +
                 " divides the ranks and fits " + std::to_string(a.qHeads) +
                 " query and " + std::to_string(a.kvHeads) +
                 " key/value heads";
  return p;
}

std::vector<Prediction> predictAll(const Attention &a, int64_t ranks,
                                   Balance balance, const Topology &t) {
  std::vector<Prediction> out;
  for (Strategy s : kAllStrategies)
    out.push_back(predict(a, s, ranks, balance, t));
  out.push_back(bestHybrid(a, ranks, balance, t));
  return out;
}

} // namespace mlir::cp::cost
