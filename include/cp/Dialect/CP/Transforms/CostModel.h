//===- CostModel.h - predicted time of context-parallel strategies -*- C++ -*-===//
//
// A closed-form model of one attention op distributed over N ranks by each
// strategy the compiler knows (ring attention with its three KV rotations,
// and Ulysses). Pure C++ (no MLIR): cp-context-parallel's strategy=auto and
// cp-plan call it on the shapes of the attention ops; the unit test
// (test/Unit/CostModelTest.cpp) checks it against hand-computed numbers.
// The formulas are documented in docs/design.md ("Cost model"), the
// topologies (built-ins and JSON files) in docs/cost-model.md.
//
//===----------------------------------------------------------------------===//
#ifndef CP_DIALECT_CP_TRANSFORMS_COSTMODEL_H
#define CP_DIALECT_CP_TRANSFORMS_COSTMODEL_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlir::cp::cost {

/// Which positions a query attends to.
enum class MaskKind {
  full,   ///< every key (also a dense mask or a flex mask_mod: no skipping)
  causal, ///< keys j <= i: half the work
  window, ///< `window` keys per query (sliding window)
};

/// Forward attention or its backward (dq, dk, dv).
enum class Direction { forward, backward };

/// How a ring's sequence positions are permuted (the pass's load-balance).
enum class Balance { none, head_tail, striped };

/// The distributions the model predicts.
enum class Strategy {
  ring,      ///< ring attention, rotate=ring: point-to-point shifts, overlapped
  alltoall,  ///< ring attention, rotate=alltoall: each shift is an all-to-all
  allgather, ///< ring attention, rotate=allgather: KV all-gathered once
  ulysses,   ///< all-to-all to head shards, local attention, all-to-all back
  hybrid,    ///< Ulysses over groups of U consecutive ranks x ring over N/U
};
constexpr Strategy kAllStrategies[] = {Strategy::ring, Strategy::alltoall,
                                       Strategy::allgather, Strategy::ulysses};
const char *strategyName(Strategy s);

/// One attention op: query [B, Hq, S, D], key/value [B, Hkv, S, D].
struct Attention {
  int64_t batch = 1;   ///< product of the dims before the heads
  int64_t qHeads = 1;  ///< Hq
  int64_t kvHeads = 1; ///< Hkv (GQA when < Hq)
  int64_t seqLen = 1;  ///< S (queries = keys: self attention)
  int64_t headDim = 64;
  int64_t elementBytes = 2; ///< bytes per element of q, k, v, out
  MaskKind mask = MaskKind::full;
  int64_t window = 0; ///< keys per query for MaskKind::window
  Direction direction = Direction::forward;
};

/// One attention kernel's speed: a per-call fixed cost and a table of
/// throughput by block size, interpolated linearly in log(tokens) between
/// entries and clamped to the first / last entry outside them.
struct KernelTable {
  double overheadUs = 0; ///< fixed cost per call (launch, ring-step sync)
  /// (block size in tokens, TFLOP/s), block sizes strictly increasing.
  std::vector<std::pair<double, double>> tflops;
};

/// The machine: links, kernel speed, memory. Bandwidths in GB/s (1e9 B/s)
/// per rank and direction, times in microseconds, throughput in TFLOP/s.
/// A built-in (builtinTopology) or a JSON file (loadTopology; the schema is
/// in docs/cost-model.md).
struct Topology {
  std::string name;
  std::string source;           ///< "built-in" or the file it was read from
  double linkGBps = 0;          ///< rank-to-rank inside a node
  double latencyUs = 0;         ///< per message or collective round
  double allToAllEfficiency = 1;///< fraction of the link an all-to-all reaches
  int64_t ranksPerNode = 0;     ///< 0: every rank in one node
  double interNodeGBps = 0;     ///< per rank between nodes
  double interNodeLatencyUs = 0;
  double interNodeAllToAllEfficiency = 1; ///< the same between nodes
  KernelTable forward;          ///< the forward attention kernel
  KernelTable backward;         ///< the backward (dq, dk, dv) kernel
  /// Batch x heads of the calls the kernel tables were measured with; a call
  /// with other batch x heads is looked up at the block of equal work (see
  /// lookupTokens). 0: the heads do not enter the lookup.
  double kernelHeads = 0;
  double memoryGBps = 0;        ///< merges, accumulator adds
};

/// The built-in topologies: "h200-nvlink", "h100-ib", "cpu".
std::optional<Topology> builtinTopology(std::string_view name);
std::vector<std::string> builtinTopologyNames();

/// A built-in name, or else the path of a JSON topology file. On failure
/// returns nullopt and sets `error` to a message naming the file and the
/// JSON path of the bad field (`kernel.forward.tflops[2][1]: ...`).
std::optional<Topology> loadTopology(std::string_view nameOrPath,
                                     std::string &error);

/// Parses the JSON text of a topology file; `fileName` only goes into the
/// messages and Topology::source.
std::optional<Topology> parseTopology(std::string_view json,
                                      std::string_view fileName,
                                      std::string &error);

/// `t` as a JSON topology file (the schema loadTopology reads back).
std::string topologyToJSON(const Topology &t);

/// Whether Ulysses can distribute `hq` query / `hkv` key/value heads over
/// `ranks` (Hq % N == 0, and Hkv % N == 0 or N % Hkv == 0); `why` says why not.
bool ulyssesLegal(int64_t hq, int64_t hkv, int64_t ranks,
                  std::string *why = nullptr);

/// Whether the hybrid strategy with Ulysses groups of `ulyssesSize` ranks
/// (a ring of ranks / ulyssesSize groups) fits: 1 < U < N, U divides N, and
/// the heads pass ulyssesLegal over U; `why` says why not.
bool hybridLegal(int64_t hq, int64_t hkv, int64_t ranks, int64_t ulyssesSize,
                 std::string *why = nullptr);

/// Floating-point operations of the whole (single-device) attention:
/// 4·B·Hq·S²·D times the mask's fraction, 2.5x that for the backward.
double attentionFlops(const Attention &a);

/// Fraction of the S x S scores that the mask keeps (1, 1/2, min(1, w/S)).
double maskFraction(const Attention &a);

/// Throughput in TFLOP/s of `table` for a block of `tokens` tokens.
double kernelTflops(const KernelTable &table, double tokens);

/// The block size at which a call of `batchHeads` (batch x heads) blocks of
/// `tokens` x `tokens` scores, of which the fraction `frac` is computed, is
/// looked up: the side of the square block with the tables' kernelHeads
/// that does the same work, tokens·sqrt(frac·batchHeads / kernelHeads)
/// (without the heads factor when kernelHeads is 0).
double lookupTokens(double tokens, double frac, double batchHeads,
                    const Topology &t);

/// Time of one kernel call doing `flops` on a block looked up at `tokens`
/// tokens (lookupTokens): the table's overhead plus flops at its throughput
/// there.
double kernelUs(double flops, double tokens, Direction d, const Topology &t);

/// The model's answer for one strategy.
struct Prediction {
  Strategy strategy = Strategy::ring;
  int64_t ulyssesSize = 0; ///< the group size U of Strategy::hybrid
  bool legal = true;
  std::string whyIllegal;
  double totalUs = 0;   ///< predicted time of the slowest rank
  double computeUs = 0; ///< kernel time of the slowest rank (all calls)
  double commUs = 0;    ///< communication time, overlapped or not
  double mergeUs = 0;   ///< merges / accumulator adds (memory bound)
};

/// Predicts `s` for `a` over `ranks` ranks of `t` with `balance` (rings only).
/// ranks == 1 is the single-device attention for every strategy.
Prediction predict(const Attention &a, Strategy s, int64_t ranks,
                   Balance balance, const Topology &t);

/// The hybrid strategy with Ulysses groups of `ulyssesSize` ranks: the
/// all-to-all inside a group (U consecutive ranks: the fast links), then a
/// ring of N/U ranks over Hq/U heads of S/(N/U)-token blocks.
Prediction predictHybrid(const Attention &a, int64_t ranks,
                         int64_t ulyssesSize, Balance balance,
                         const Topology &t);

/// The fastest legal hybrid over every U with 1 < U < N dividing N (not
/// legal, with the reason, when none fits).
Prediction bestHybrid(const Attention &a, int64_t ranks, Balance balance,
                      const Topology &t);

/// Every strategy of kAllStrategies, in that order, then bestHybrid.
std::vector<Prediction> predictAll(const Attention &a, int64_t ranks,
                                   Balance balance, const Topology &t);

/// "ring", "ulysses", ..., "hybrid(U=2)".
std::string predictionName(const Prediction &p);

} // namespace mlir::cp::cost

#endif // CP_DIALECT_CP_TRANSFORMS_COSTMODEL_H
