//===- LoadBalancer.cpp - Permutations, padding and sharding --------------===//
#include "cprt/LoadBalancer.h"
#include "cprt/Error.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

namespace cprt {

static const char *kBalancerNames[] = {"none", "head_tail", "striped",
                                       "per_document_head_tail", "ptrr"};

const char *balancerName(Balancer b) {
  int i = int(b);
  return (i >= 0 && i < 5) ? kBalancerNames[i] : "?";
}

bool parseBalancer(const char *name, Balancer &out) {
  for (int i = 0; i < 5; ++i)
    if (std::string(name) == kBalancerNames[i]) {
      out = Balancer(i);
      return true;
    }
  return false;
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Fills slotToPos from per-rank position lists, padding each to L.
static void fromRankLists(ShardLayout &l,
                          const std::vector<std::vector<int64_t>> &lists) {
  int64_t L = 0;
  for (auto &v : lists) L = std::max<int64_t>(L, v.size());
  l.localLen = L;
  l.slotToPos.assign(l.paddedLen(), -1);
  for (int r = 0; r < l.worldSize; ++r)
    std::copy(lists[r].begin(), lists[r].end(),
              l.slotToPos.begin() + int64_t(r) * L);
}

ShardLayout makeLayout(Balancer b, int64_t S, int W,
                       const BalancerOptions &opts) {
  check(W > 0, "load balancer: world size must be > 0");
  check(S >= 0, "load balancer: negative sequence length");
  ShardLayout l;
  l.balancer = b;
  l.worldSize = W;
  l.seqLen = S;
  // Closed-form balancers work on a "virtual" sequence of K chunks of
  // c = ceil(S / K) slots; chunk k holds n_k real tokens followed by padding.
  // Virtual order keeps the chunk order that the per-step causal behaviours
  // rely on, and spreading the padding over chunks keeps ranks balanced:
  // the S mod K extra tokens go to the head chunks 0..W-1 first, then to the
  // tail chunks 2W-1, 2W-2, ... (one per rank each round).
  auto fromChunks = [&](int64_t K, auto slotOfVirtual) {
    const int64_t c = ceilDiv(S, K), base = K ? S / K : 0, rem = S - base * K;
    std::vector<int64_t> n(K, base);
    for (int64_t e = 0; e < rem; ++e)
      ++n[e < W ? e : K - 1 - (e - W)];
    l.localLen = K * c / W;
    l.slotToPos.assign(K * c, -1);
    int64_t start = 0;
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t o = 0; o < n[k]; ++o)
        l.slotToPos[slotOfVirtual(k * c + o, c)] = start + o;
      start += n[k];
    }
  };
  switch (b) {
  case Balancer::None: {
    fromChunks(W, [](int64_t t, int64_t) { return t; });
    break;
  }
  case Balancer::HeadTail: {
    fromChunks(2 * W, [&](int64_t t, int64_t c) {
      const int64_t chunk = t / c, off = t % c;
      const int64_t r = chunk < W ? chunk : 2 * W - 1 - chunk;
      return r * 2 * c + (chunk < W ? 0 : c) + off;
    });
    break;
  }
  case Balancer::Striped: { // padding is the (virtual) tail: balanced
    const int64_t L = ceilDiv(S, W);
    l.localLen = L;
    l.slotToPos.assign(L * W, -1);
    for (int64_t t = 0; t < S; ++t) l.slotToPos[(t % W) * L + t / W] = t;
    break;
  }
  case Balancer::PerDocumentHeadTail: {
    check(opts.docIds != nullptr || S == 0,
          "per_document_head_tail: document ids are required");
    std::vector<std::vector<int64_t>> lists(W);
    std::vector<int64_t> load(W, 0);
    const int64_t C = 2 * W;
    for (int64_t d0 = 0; d0 < S;) {
      int64_t d1 = d0 + 1;
      while (d1 < S && opts.docIds[d1] == opts.docIds[d0]) ++d1;
      const int64_t n = d1 - d0, base = n / C, rem = n % C;
      // Chunk sizes base or base+1: the extra tokens go to the currently
      // least loaded ranks (first its head chunk, then its tail chunk) so
      // no document length needs to be a multiple of 2W.
      std::vector<int64_t> size(C, base);
      std::vector<int> extraOf(W, 0);
      for (int64_t e = 0; e < rem; ++e) {
        int best = -1;
        for (int r = 0; r < W; ++r)
          if (extraOf[r] < 2 && (best < 0 || load[r] + extraOf[r] <
                                                 load[best] + extraOf[best]))
            best = r;
        ++size[extraOf[best] == 0 ? best : C - 1 - best];
        ++extraOf[best];
      }
      std::vector<int64_t> start(C + 1, d0);
      for (int64_t c = 0; c < C; ++c) start[c + 1] = start[c] + size[c];
      for (int r = 0; r < W; ++r) {
        for (int64_t c : {int64_t(r), C - 1 - r})
          for (int64_t p = start[c]; p < start[c + 1]; ++p)
            lists[r].push_back(p);
        load[r] += size[r] + size[C - 1 - r];
      }
      d0 = d1;
    }
    fromRankLists(l, lists);
    break;
  }
  case Balancer::Ptrr: {
    const int64_t bs = opts.blockSize > 0 ? opts.blockSize : 128;
    const int64_t nB = ceilDiv(S, bs);
    std::vector<int64_t> order(nB);
    std::iota(order.begin(), order.end(), 0);
    auto work = [&](int64_t i) { return opts.blockWork ? opts.blockWork[i] : i + 1; };
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return work(a) > work(c); });
    std::vector<std::vector<int64_t>> blocks(W);
    for (int64_t k = 0; k < nB; ++k) {
      const int64_t round = k / W, idx = k % W;
      const int r = int(round % 2 == 0 ? idx : W - 1 - idx); // snake
      blocks[r].push_back(order[k]);
    }
    const int64_t perRank = ceilDiv(nB, W);
    l.localLen = perRank * bs;
    l.slotToPos.assign(l.paddedLen(), -1);
    for (int r = 0; r < W; ++r) {
      std::sort(blocks[r].begin(), blocks[r].end());
      for (size_t k = 0; k < blocks[r].size(); ++k)
        for (int64_t o = 0; o < bs; ++o) {
          const int64_t p = blocks[r][k] * bs + o;
          if (p < S) l.slotToPos[int64_t(r) * l.localLen + k * bs + o] = p;
        }
    }
    break;
  }
  default:
    fail(ErrorCode::Invalid, "load balancer: unknown balancer " +
                                 std::to_string(int(b)));
  }
  l.posToSlot.assign(S, -1);
  for (int64_t g = 0; g < l.paddedLen(); ++g)
    if (l.slotToPos[g] >= 0) l.posToSlot[l.slotToPos[g]] = g;
  return l;
}

StepCausal stepCausalFor(Balancer b, bool causal, int W, int r, int i) {
  if (!causal) return StepCausal::NotCausal;
  const int s = ((r - i) % W + W) % W;
  switch (b) {
  case Balancer::None:
    if (i == 0) return StepCausal::Causal;
    return s < r ? StepCausal::NotCausal : StepCausal::Skip;
  case Balancer::HeadTail:
    if (i == 0) return StepCausal::Causal;
    return i <= r ? StepCausal::KvHeadHalf : StepCausal::QTailHalf;
  case Balancer::Striped:
    return s <= r ? StepCausal::Causal : StepCausal::CausalStrict;
  default:
    return StepCausal::NotCausal;
  }
}

bool stepCausalIsExact(Balancer b) {
  return b == Balancer::None || b == Balancer::HeadTail ||
         b == Balancer::Striped;
}

static void splitShape(const int64_t *shape, int ndim, int dim,
                       size_t elemBytes, int64_t &outer, size_t &inner) {
  check(dim >= 0 && dim < ndim, "shard: dim out of range");
  outer = 1;
  inner = elemBytes;
  for (int d = 0; d < dim; ++d) outer *= shape[d];
  for (int d = dim + 1; d < ndim; ++d) inner *= size_t(shape[d]);
}

void shardBuffer(const void *global, void *local, const int64_t *shape,
                 int ndim, int dim, size_t elemBytes, const ShardLayout &l,
                 int rank) {
  check(shape[dim] == l.seqLen,
        "shard: buffer has " + std::to_string(shape[dim]) +
            " elements along dim " + std::to_string(dim) +
            " but the layout is for sequence length " +
            std::to_string(l.seqLen));
  check(rank >= 0 && rank < l.worldSize, "shard: rank out of range");
  int64_t outer;
  size_t inner;
  splitShape(shape, ndim, dim, elemBytes, outer, inner);
  const char *src = static_cast<const char *>(global);
  char *dst = static_cast<char *>(local);
  const int64_t *pos = l.localPositions(rank);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < l.localLen; ++i) {
      char *d = dst + (o * l.localLen + i) * inner;
      if (pos[i] < 0) std::memset(d, 0, inner);
      else std::memcpy(d, src + (o * l.seqLen + pos[i]) * inner, inner);
    }
}

void unshardBuffer(const void *gathered, void *global, const int64_t *shape,
                   int ndim, int dim, size_t elemBytes, const ShardLayout &l) {
  check(shape[dim] == l.seqLen, "unshard: global dim " + std::to_string(dim) +
                                    " must equal the sequence length " +
                                    std::to_string(l.seqLen));
  int64_t outer;
  size_t inner;
  splitShape(shape, ndim, dim, elemBytes, outer, inner);
  const char *src = static_cast<const char *>(gathered);
  char *dst = static_cast<char *>(global);
  const int64_t L = l.localLen;
  for (int64_t p = 0; p < l.seqLen; ++p) {
    const int64_t g = l.posToSlot[p], r = g / L, i = g % L;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + (o * l.seqLen + p) * inner,
                  src + ((r * outer + o) * L + i) * inner, inner);
  }
}

} // namespace cprt
