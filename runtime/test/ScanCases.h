//===- ScanCases.h - exscan and sequence-scan checks on any transport -----===//
//
// Shared by the thread-communicator GoogleTest (ScanTest.cpp) and the MPI
// program (ScanMpiMain.cpp): every rank runs the same cases and the function
// returns this rank's failures (empty = pass). Inputs are random from a seed
// that rank 0 draws fresh each run and shares; results are compared with a
// serial float64 (or exact integer) reference.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_TEST_SCANCASES_H
#define CPRT_TEST_SCANCASES_H

#include "cprt/Communicator.h"
#include "cprt/LoadBalancer.h"
#include "cprt/SeqScan.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cprt::test {

inline uint64_t sharedSeed(Communicator &c) {
  uint64_t mine = std::random_device{}();
  mine = (mine << 32) ^ std::random_device{}();
  std::vector<uint64_t> all(c.size());
  c.allGather(&mine, all.data(), sizeof mine);
  return all[0];
}

/// Values that keep products finite and sums away from cancellation only
/// by chance: floats in [0.5, 1.5] for products, [-2, 2] for sums; small
/// nonzero integers.
template <typename T> T drawValue(std::mt19937_64 &rng, ScanKind kind) {
  if constexpr (std::is_floating_point_v<T>) {
    if (kind == ScanKind::Prod)
      return T(std::uniform_real_distribution<double>(0.5, 1.5)(rng));
    return T(std::uniform_real_distribution<double>(-2.0, 2.0)(rng));
  } else {
    if (kind == ScanKind::Prod)
      return T(std::uniform_int_distribution<int>(1, 2)(rng));
    return T(std::uniform_int_distribution<int>(-1000, 1000)(rng));
  }
}

template <typename T> bool closeTo(T got, double want) {
  if constexpr (std::is_floating_point_v<T>) {
    double tol = (std::is_same_v<T, float> ? 2e-6 : 1e-12) * (1 + std::abs(want));
    return std::abs(double(got) - want) <= tol; // false for NaN
  } else {
    return double(got) == want;
  }
}

template <typename T>
void checkExScan(Communicator &c, ScanType type, ScanKind kind, bool reverse,
                 size_t count, uint64_t seed, std::ostream &err) {
  const int W = c.size(), r = c.rank();
  std::mt19937_64 rng(seed);
  std::vector<std::vector<T>> all(W, std::vector<T>(count));
  for (auto &block : all)
    for (T &v : block) v = drawValue<T>(rng, kind);
  std::vector<T> got(count, T(-7));
  c.exScan(all[r].data(), got.data(), count, type, kind, reverse);
  for (size_t i = 0; i < count; ++i) {
    double want = kind == ScanKind::Sum ? 0.0 : 1.0;
    for (int q = 0; q < W; ++q) {
      bool before = reverse ? q > r : q < r;
      if (before)
        want = kind == ScanKind::Sum ? want + double(all[q][i])
                                     : want * double(all[q][i]);
    }
    if (!closeTo(got[i], want)) {
      err << "exscan type " << int(type) << " kind " << int(kind)
          << (reverse ? " reverse" : "") << " W=" << W << " rank " << r
          << " element " << i << ": got " << double(got[i]) << ", want "
          << want << " (seed " << seed << ")\n";
      return;
    }
  }
}

/// Shards a random [outer, S, inner] tensor, scans it on every rank, gathers
/// the result and compares it with the serial scan. Padding slots are
/// filled with garbage first: they must not reach real positions.
template <typename T>
void checkSeqScan(Communicator &c, ScanType type, ScanKind kind, Balancer bal,
                  int64_t S, uint64_t seed, std::ostream &err) {
  const int W = c.size(), r = c.rank();
  const int64_t outer = 2, inner = 3;
  std::mt19937_64 rng(seed);
  std::vector<T> x(size_t(outer * S * inner));
  for (T &v : x) v = drawValue<T>(rng, kind);
  ShardLayout l = makeLayout(bal, S, W);
  const int64_t L = l.localLen;
  std::vector<T> local(size_t(outer * L * inner)), out(local.size());
  const int64_t shape[3] = {outer, S, inner};
  shardBuffer(x.data(), local.data(), shape, 3, 1, sizeof(T), l, r);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < L; ++j)
      if (l.localPositions(r)[j] < 0)
        for (int64_t i = 0; i < inner; ++i)
          local[size_t((o * L + j) * inner + i)] =
              std::is_floating_point_v<T> ? T(NAN) : T(123456);
  seqScan(local.data(), out.data(), outer, inner, type, kind, l, c);
  std::vector<T> gathered(out.size() * W), global(x.size());
  c.allGather(out.data(), gathered.data(), out.size() * sizeof(T));
  unshardBuffer(gathered.data(), global.data(), shape, 3, 1, sizeof(T), l);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double want = kind == ScanKind::Sum ? 0.0 : 1.0;
      for (int64_t p = 0; p < S; ++p) {
        size_t at = size_t((o * S + p) * inner + i);
        want = kind == ScanKind::Sum ? want + double(x[at])
                                     : want * double(x[at]);
        if (!closeTo(global[at], want)) {
          err << "seq_scan type " << int(type) << " kind " << int(kind)
              << " balancer " << balancerName(bal) << " W=" << W << " S=" << S
              << " position " << p << " (outer " << o << ", inner " << i
              << "): got " << double(global[at]) << ", want " << want
              << " (seed " << seed << ")\n";
          return;
        }
      }
    }
}

/// Every case on this communicator; returns this rank's failures.
inline std::string runScanCases(Communicator &c) {
  std::ostringstream err;
  const uint64_t seed = sharedSeed(c);
  const int W = c.size();
  for (ScanKind kind : {ScanKind::Sum, ScanKind::Prod})
    for (bool reverse : {false, true})
      for (size_t count : {size_t(0), size_t(1), size_t(7)}) {
        checkExScan<float>(c, ScanType::F32, kind, reverse, count, seed, err);
        checkExScan<double>(c, ScanType::F64, kind, reverse, count, seed + 1, err);
        checkExScan<int32_t>(c, ScanType::I32, kind, reverse, count, seed + 2, err);
        checkExScan<int64_t>(c, ScanType::I64, kind, reverse, count, seed + 3, err);
      }
  // Lengths that split evenly for every balancer, and ones that need padding.
  for (Balancer bal : {Balancer::None, Balancer::HeadTail, Balancer::Striped})
    for (int64_t S : {int64_t(2 * W * 3), int64_t(7 * W + 3), int64_t(1)}) {
      checkSeqScan<float>(c, ScanType::F32, ScanKind::Sum, bal, S, seed + 4, err);
      checkSeqScan<double>(c, ScanType::F64, ScanKind::Prod, bal, S, seed + 5, err);
      checkSeqScan<int32_t>(c, ScanType::I32, ScanKind::Sum, bal, S, seed + 6, err);
      checkSeqScan<int64_t>(c, ScanType::I64, ScanKind::Sum, bal, S, seed + 7, err);
      checkSeqScan<float>(c, ScanType::F32, ScanKind::Prod, bal, S, seed + 8, err);
    }
  return err.str();
}

} // namespace cprt::test

#endif // CPRT_TEST_SCANCASES_H
