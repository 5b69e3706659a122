//===- SeqScan.cpp - Scans along a sharded sequence -----------------------===//
//
// The local sequence of every balancer we shard with statically is K
// chunks of equal length c = L / K; chunk k of all ranks together forms
// "round" k, and the original order visits the rounds one after the other,
// the ranks of a round in ascending or descending order:
//
//   none       K = 1   round 0 ascending
//   head_tail  K = 2   round 0 ascending (chunks 0..W-1),
//                      round 1 descending (chunks W..2W-1)
//   striped    K = L   every round ascending (one token per rank)
//
// (checkRounds verifies this against the layout.) With T_q[k] the total of
// chunk k on rank q and Q_q[k] = T_q[0] + ... + T_q[k-1], the prefix of all
// positions before chunk k of rank r is
//
//   sum_q Q_q[k] + sum_{q before r} T_q[k]
//     = sum_{q before r} Q_q[k+1] + sum_{q after r} Q_q[k] + Q_r[k],
//
// so two exclusive scans over ranks of the vector Q[0..K] (one ascending,
// one descending) give every prefix: 2 collectives of (K+1) * outer * inner
// elements, whatever the balancer. Each element is then prefix + its
// chunk-local inclusive scan.
//
//===----------------------------------------------------------------------===//
#include "cprt/SeqScan.h"
#include "cprt/Error.h"

#include <string>
#include <vector>

namespace cprt {
namespace {

struct Rounds {
  int64_t count = 1;             // K
  std::vector<bool> descending;  // per round
};

Rounds roundsOf(const ShardLayout &l) {
  Rounds r;
  switch (l.balancer) {
  case Balancer::None:
    r.count = 1;
    break;
  case Balancer::HeadTail:
    r.count = 2;
    break;
  case Balancer::Striped:
    r.count = l.localLen;
    break;
  default:
    fail(ErrorCode::Invalid,
         std::string("seq_scan: balancer ") + balancerName(l.balancer) +
             " is not supported (expected none, head_tail or striped)");
  }
  check(r.count > 0 && l.localLen % r.count == 0,
        "seq_scan: the local length does not split into the balancer's chunks");
  r.descending.assign(r.count, false);
  if (l.balancer == Balancer::HeadTail)
    r.descending[1] = true;
  return r;
}

/// The original order must visit rounds in turn, each round's ranks in its
/// direction, each chunk front to back: real positions strictly increase.
void checkRounds(const ShardLayout &l, const Rounds &r) {
  const int W = l.worldSize;
  const int64_t c = l.localLen / r.count;
  int64_t last = -1;
  for (int64_t k = 0; k < r.count; ++k)
    for (int i = 0; i < W; ++i) {
      int q = r.descending[k] ? W - 1 - i : i;
      for (int64_t j = k * c; j < (k + 1) * c; ++j) {
        int64_t p = l.localPositions(q)[j];
        if (p < 0)
          continue;
        check(p > last, "seq_scan: internal error: the balancer's layout is "
                        "not a sequence of rounds");
        last = p;
      }
    }
}

template <typename T, typename Acc>
void seqScanTyped(const T *x, T *out, int64_t outer, int64_t inner,
                  ScanType wire, ScanKind kind, const ShardLayout &l,
                  Communicator &comm) {
  const Rounds rounds = roundsOf(l);
  checkRounds(l, rounds);
  const int64_t L = l.localLen, K = rounds.count, c = L / K;
  const int64_t n = outer * inner;
  const int64_t *pos = l.localPositions(comm.rank());
  const Acc id = kind == ScanKind::Sum ? Acc(0) : Acc(1);
  auto op = [&](Acc a, Acc b) { return kind == ScanKind::Sum ? a + b : a * b; };
  // Chunk-local inclusive scans (y) and Q[k] = totals of chunks before k.
  std::vector<Acc> y(size_t(outer * L * inner));
  std::vector<Acc> q(size_t((K + 1) * n), id);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        Acc carry = id;
        for (int64_t j = k * c; j < (k + 1) * c; ++j) {
          size_t at = size_t((o * L + j) * inner + i);
          if (pos[j] >= 0)
            carry = op(carry, Acc(x[at]));
          y[at] = carry;
        }
        size_t e = size_t(o * inner + i);
        q[size_t((k + 1) * n) + e] = op(q[size_t(k * n) + e], carry);
      }
  std::vector<Acc> asc(q.size()), desc(q.size());
  comm.exScan(q.data(), asc.data(), q.size(), wire, kind, /*reverse=*/false);
  comm.exScan(q.data(), desc.data(), q.size(), wire, kind, /*reverse=*/true);
  for (int64_t k = 0; k < K; ++k) {
    const std::vector<Acc> &before = rounds.descending[k] ? desc : asc;
    const std::vector<Acc> &after = rounds.descending[k] ? asc : desc;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        size_t e = size_t(o * inner + i);
        Acc prefix = op(op(before[size_t((k + 1) * n) + e],
                           after[size_t(k * n) + e]),
                        q[size_t(k * n) + e]);
        for (int64_t j = k * c; j < (k + 1) * c; ++j) {
          size_t at = size_t((o * L + j) * inner + i);
          out[at] = T(op(prefix, y[at]));
        }
      }
  }
}

} // namespace

void seqScan(const void *local, void *out, int64_t outer, int64_t inner,
             ScanType type, ScanKind kind, const ShardLayout &layout,
             Communicator &comm) {
  check(layout.worldSize == comm.size(),
        "seq_scan: the layout is for " + std::to_string(layout.worldSize) +
            " ranks but the communicator has " + std::to_string(comm.size()));
  check(kind == ScanKind::Sum || kind == ScanKind::Prod,
        "seq_scan: unknown combiner (expected sum or product)");
  switch (type) {
  case ScanType::F32:
    return seqScanTyped<float, double>(static_cast<const float *>(local),
                                       static_cast<float *>(out), outer, inner,
                                       ScanType::F64, kind, layout, comm);
  case ScanType::F64:
    return seqScanTyped<double, double>(static_cast<const double *>(local),
                                        static_cast<double *>(out), outer,
                                        inner, ScanType::F64, kind, layout,
                                        comm);
  case ScanType::I32:
    return seqScanTyped<int32_t, int64_t>(static_cast<const int32_t *>(local),
                                          static_cast<int32_t *>(out), outer,
                                          inner, ScanType::I64, kind, layout,
                                          comm);
  case ScanType::I64:
    return seqScanTyped<int64_t, int64_t>(static_cast<const int64_t *>(local),
                                          static_cast<int64_t *>(out), outer,
                                          inner, ScanType::I64, kind, layout,
                                          comm);
  }
  fail(ErrorCode::Invalid, "seq_scan: unknown element type");
}

} // namespace cprt
