//===- RuntimeCalls.cpp - The runtime entry table and call builder --------===//

#include "RuntimeCalls.h"
#include "cp/Utils/ElementCast.h"
#include "cprt/cprt_compiler.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

using namespace mlir;
using namespace mlir::cp;
using namespace mlir::cp::runtime;

//===----------------------------------------------------------------------===//
// The table (cprt_compiler.h, in its order)
//===----------------------------------------------------------------------===//

namespace {
using P = Param;
constexpr StringLiteral kAttention[] = {"f32", "bf16", "f16"};
constexpr StringLiteral kMovement[] = {"f32", "bf16", "f16", "f64",
                                       "i1",  "i8",   "i32", "i64"};
constexpr StringLiteral kNumeric[] = {"f32", "f64", "i32", "i64"};
constexpr StringLiteral kF32[] = {"f32"};

// (q, k, v, mask, out, lse, scale, flags)
constexpr Param kSdpaFwd[] = {P::Buf, P::Buf, P::Buf,    P::BufF32,
                              P::Buf, P::BufF32, P::F64, P::Flags};
// (dout, q, k, v, out, lse, mask, dq, dk, dv, scale, flags)
constexpr Param kSdpaBwd[] = {P::Buf,    P::Buf, P::Buf, P::Buf,
                              P::Buf,    P::BufF32, P::BufF32, P::Buf,
                              P::Buf,    P::Buf, P::F64, P::Flags};
// (q, k, v, mask, seg, out, lse, scale, flags, rotate, balancer, seq_len,
//  window)
constexpr Param kRingFwd[] = {P::Buf,    P::Buf,    P::Buf, P::BufF32, P::BufI32,
                              P::Buf,    P::BufF32, P::F64, P::Flags,  P::I32,
                              P::I32,    P::I64,    P::I64};
// (dout, q, k, v, out, lse, mask, seg, dq, dk, dv, scale, flags, rotate,
//  balancer, seq_len, window)
constexpr Param kRingBwd[] = {
    P::Buf, P::Buf, P::Buf, P::Buf,   P::Buf, P::BufF32, P::BufF32, P::BufI32,
    P::Buf, P::Buf, P::Buf, P::F64,   P::Flags, P::I32,  P::I32,    P::I64,
    P::I64};
// (q, k, v, mask, q_pos, kv_pos, q_seg, kv_seg, out, lse, scale, flags,
//  step, window)
constexpr Param kBlockFwd[] = {
    P::Buf,    P::Buf,    P::Buf,    P::BufF32, P::BufI64, P::BufI64, P::BufI32,
    P::BufI32, P::BufF32, P::BufF32, P::F64,    P::Flags,  P::I32,    P::I64};
// (dout, q, k, v, out, lse, mask, q_pos, kv_pos, q_seg, kv_seg, dq, dk, dv,
//  scale, flags, step, window)
constexpr Param kBlockBwd[] = {
    P::Buf,    P::Buf,    P::Buf,    P::Buf,    P::Buf,    P::BufF32,
    P::BufF32, P::BufI64, P::BufI64, P::BufI32, P::BufI32, P::BufF32,
    P::BufF32, P::BufF32, P::F64,    P::Flags,  P::I32,    P::I64};
// (out_a, lse_a, out_b, lse_b, out, lse)
constexpr Param kMerge[] = {P::Buf, P::Buf, P::Buf, P::Buf, P::Buf, P::Buf};
// (send, recv, elem_bytes, offset) -> handle
constexpr Param kShiftStart[] = {P::Buf, P::Buf, P::I64, P::I64};
// (handle, send)
constexpr Param kShiftWait[] = {P::Handle, P::Buf};
// (in, out, elem_bytes, dim, balancer)
constexpr Param kShard[] = {P::Buf, P::Buf, P::I64, P::I32, P::I32};
// (in, out, elem_bytes, dim)
constexpr Param kAllGather[] = {P::Buf, P::Buf, P::I64, P::I32};
// (in, out, kind)
constexpr Param kAllReduce[] = {P::Buf, P::Buf, P::I32};
// (in, out, elem_bytes, head_dim, seq_dim, balancer, seq_len)
constexpr Param kUlysses[] = {P::Buf, P::Buf, P::I64, P::I32,
                              P::I32, P::I32, P::I64};
// (in, out, dim, balancer, seq_len, kind)
constexpr Param kSeqScan[] = {P::Buf, P::Buf, P::I32, P::I32, P::I64, P::I32};
// (q, k, v, out, lse, scale, flags, rotate, balancer, seq_len, window,
//  ulysses_size, ring_size)
constexpr Param kHybridFwd[] = {P::Buf,   P::Buf, P::Buf, P::Buf, P::BufF32,
                                P::F64,   P::Flags, P::I32, P::I32, P::I64,
                                P::I64,   P::I64, P::I64};
// (dout, q, k, v, out, lse, dq, dk, dv, scale, flags, rotate, balancer,
//  seq_len, window, ulysses_size, ring_size)
constexpr Param kHybridBwd[] = {
    P::Buf, P::Buf, P::Buf, P::Buf,  P::Buf,   P::BufF32, P::Buf, P::Buf, P::Buf,
    P::F64, P::Flags, P::I32, P::I32, P::I64, P::I64,    P::I64, P::I64};
// (docs, out, seq_len)
constexpr Param kDocumentPositions[] = {P::BufI32, P::BufI64, P::I64};
// (in, out, elem_bytes, dim, balancer, docs)
constexpr Param kShardDocs[] = {P::Buf, P::Buf, P::I64, P::I32, P::I32,
                                P::BufI32};

//===----------------------------------------------------------------------===//
// The parameter lists above are the C prototypes of cprt_compiler.h: an
// unranked memref is (int64_t rank, const cprt_memref *), scalars are
// themselves. A prototype that changes on either side stops the build here.
//===----------------------------------------------------------------------===//

template <Param P> struct CParams {
  using type = std::tuple<int64_t, const cprt_memref *>; // Buf*
};
template <> struct CParams<Param::I32> { using type = std::tuple<int32_t>; };
template <> struct CParams<Param::Flags> { using type = std::tuple<int32_t>; };
template <> struct CParams<Param::I64> { using type = std::tuple<int64_t>; };
template <> struct CParams<Param::Handle> { using type = std::tuple<int64_t>; };
template <> struct CParams<Param::F64> { using type = std::tuple<double>; };

template <typename F> struct CPrototype;
template <typename R, typename... A> struct CPrototype<R(A...)> {
  using result = R;
  using args = std::tuple<A...>;
};

template <const auto &Params, size_t... I>
auto cArgs(std::index_sequence<I...>)
    -> decltype(std::tuple_cat(
        std::declval<typename CParams<Params[I]>::type>()...));

/// Whether the table's `Params` (and result) are the prototype `Fn`.
template <const auto &Params, typename Fn, typename Result = void>
constexpr bool isPrototype() {
  using Args = decltype(cArgs<Params>(
      std::make_index_sequence<std::size(Params)>()));
  return std::is_same_v<Args, typename CPrototype<Fn>::args> &&
         std::is_same_v<Result, typename CPrototype<Fn>::result>;
}

static_assert(std::is_same_v<decltype(cprt_c_rank), int64_t()>);
static_assert(isPrototype<kSdpaFwd, decltype(cprt_c_sdpa_fwd_f32)>());
static_assert(isPrototype<kSdpaBwd, decltype(cprt_c_sdpa_bwd_bf16)>());
static_assert(isPrototype<kRingFwd, decltype(cprt_c_ring_fwd_f16)>());
static_assert(isPrototype<kRingBwd, decltype(cprt_c_ring_bwd_f32)>());
static_assert(isPrototype<kBlockFwd, decltype(cprt_c_block_fwd_f32)>());
static_assert(isPrototype<kBlockBwd, decltype(cprt_c_block_bwd_f32)>());
static_assert(isPrototype<kMerge, decltype(cprt_c_merge_f32)>());
static_assert(isPrototype<kShiftStart, decltype(cprt_c_shift_start_i64),
                          int64_t>());
static_assert(isPrototype<kShiftWait, decltype(cprt_c_shift_wait_i1)>());
static_assert(isPrototype<kShard, decltype(cprt_c_shard_f32)>());
static_assert(isPrototype<kShard, decltype(cprt_c_unshard_bf16)>());
static_assert(isPrototype<kAllGather, decltype(cprt_c_all_gather_i8)>());
static_assert(isPrototype<kAllReduce, decltype(cprt_c_all_reduce_f64)>());
static_assert(isPrototype<kUlysses, decltype(cprt_c_seq_to_heads_f32)>());
static_assert(isPrototype<kUlysses, decltype(cprt_c_heads_to_seq_f16)>());
static_assert(isPrototype<kSeqScan, decltype(cprt_c_seq_scan_i32)>());
static_assert(isPrototype<kHybridFwd, decltype(cprt_c_hybrid_fwd_bf16)>());
static_assert(isPrototype<kHybridBwd, decltype(cprt_c_hybrid_bwd_f32)>());
// The per-document ring takes the ring's parameters (seg: the whole ids).
static_assert(isPrototype<kRingFwd, decltype(cprt_c_ring_docs_fwd_bf16)>());
static_assert(isPrototype<kRingBwd, decltype(cprt_c_ring_docs_bwd_f32)>());
static_assert(isPrototype<kDocumentPositions,
                          decltype(cprt_c_document_positions)>());
static_assert(isPrototype<kShardDocs, decltype(cprt_c_shard_docs_f32)>());
static_assert(isPrototype<kShardDocs, decltype(cprt_c_unshard_docs_i1)>());

using E = RuntimeEntry;
const EntrySpec kEntries[] = {
    {E::Rank, "rank", {}, {}, true},
    {E::SdpaFwd, "sdpa_fwd", kAttention, kSdpaFwd, false},
    {E::SdpaBwd, "sdpa_bwd", kAttention, kSdpaBwd, false},
    {E::RingFwd, "ring_fwd", kAttention, kRingFwd, false},
    {E::RingBwd, "ring_bwd", kAttention, kRingBwd, false},
    {E::BlockFwd, "block_fwd", kAttention, kBlockFwd, false},
    {E::BlockBwd, "block_bwd", kAttention, kBlockBwd, false},
    {E::Merge, "merge", kF32, kMerge, false},
    {E::ShiftStart, "shift_start", kMovement, kShiftStart, true},
    {E::ShiftWait, "shift_wait", kMovement, kShiftWait, false},
    {E::Shard, "shard", kMovement, kShard, false},
    {E::Unshard, "unshard", kMovement, kShard, false},
    {E::AllGather, "all_gather", kMovement, kAllGather, false},
    {E::AllReduce, "all_reduce", kNumeric, kAllReduce, false},
    {E::SeqToHeads, "seq_to_heads", kMovement, kUlysses, false},
    {E::HeadsToSeq, "heads_to_seq", kMovement, kUlysses, false},
    {E::SeqScan, "seq_scan", kNumeric, kSeqScan, false},
    {E::HybridFwd, "hybrid_fwd", kAttention, kHybridFwd, false},
    {E::HybridBwd, "hybrid_bwd", kAttention, kHybridBwd, false},
    {E::RingDocsFwd, "ring_docs_fwd", kAttention, kRingFwd, false},
    {E::RingDocsBwd, "ring_docs_bwd", kAttention, kRingBwd, false},
    {E::DocumentPositions, "document_positions", {}, kDocumentPositions,
     false},
    {E::ShardDocs, "shard_docs", kMovement, kShardDocs, false},
    {E::UnshardDocs, "unshard_docs", kMovement, kShardDocs, false},
};
} // namespace

const EntrySpec &runtime::spec(RuntimeEntry entry) {
  for (const EntrySpec &s : kEntries)
    if (s.entry == entry)
      return s;
  llvm_unreachable("every RuntimeEntry has a row in kEntries");
}

std::optional<std::pair<RuntimeEntry, std::string>>
runtime::parseHostSymbol(StringRef name) {
  if (!name.consume_front("cprt_c_"))
    return std::nullopt;
  for (const EntrySpec &s : kEntries) {
    StringRef rest = name;
    if (!rest.consume_front(s.stem))
      continue;
    if (s.suffixes.empty() && rest.empty())
      return std::make_pair(s.entry, std::string());
    if (rest.consume_front("_") && llvm::is_contained(s.suffixes, rest))
      return std::make_pair(s.entry, rest.str());
  }
  return std::nullopt;
}

std::string runtime::suffixOf(Type t) {
  if (t.isF32() || t.isBF16() || t.isF16() || t.isF64())
    return t.isF32() ? "f32" : t.isBF16() ? "bf16" : t.isF16() ? "f16" : "f64";
  for (unsigned w : {1u, 8u, 32u, 64u})
    if (t.isInteger(w))
      return "i" + std::to_string(w);
  return "";
}

FunctionType runtime::functionType(MLIRContext *ctx, const EntrySpec &s,
                                   Type elem) {
  Builder b(ctx);
  auto buf = [&](Type t) { return UnrankedMemRefType::get(t, 0); };
  SmallVector<Type> params;
  for (Param p : s.params) {
    switch (p) {
    case Param::Buf:
      params.push_back(buf(elem));
      break;
    case Param::BufF32:
      params.push_back(buf(b.getF32Type()));
      break;
    case Param::BufI32:
      params.push_back(buf(b.getI32Type()));
      break;
    case Param::BufI64:
      params.push_back(buf(b.getI64Type()));
      break;
    case Param::I32:
    case Param::Flags:
      params.push_back(b.getI32Type());
      break;
    case Param::I64:
    case Param::Handle:
      params.push_back(b.getI64Type());
      break;
    case Param::F64:
      params.push_back(b.getF64Type());
      break;
    }
  }
  SmallVector<Type> results;
  if (s.returnsI64)
    results.push_back(b.getI64Type());
  return FunctionType::get(ctx, params, results);
}

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

RuntimeTarget RuntimeTarget::host() { return RuntimeTarget(); }

bool RuntimeTarget::provides(RuntimeEntry entry) const {
  return provided.empty() || llvm::is_contained(provided, entry) ||
         llvm::is_contained(hostOnly, entry);
}

std::optional<std::string> RuntimeTarget::symbol(RuntimeEntry entry,
                                                 StringRef suffix) const {
  if (!provides(entry))
    return std::nullopt;
  std::string name = llvm::is_contained(hostOnly, entry) ? "cprt_c_" : prefix;
  name += spec(entry).stem.str();
  if (!suffix.empty())
    name += ("_" + suffix).str();
  return name;
}

//===----------------------------------------------------------------------===//
// RuntimeCallBuilder
//===----------------------------------------------------------------------===//

FailureOr<std::string> RuntimeCallBuilder::suffix(Type t) {
  std::string s = suffixOf(t);
  if (s.empty())
    return op->emitOpError("has element type ")
           << t << " which the runtime does not take";
  return s;
}

FailureOr<std::string> RuntimeCallBuilder::attentionSuffix(Type t) {
  if (!t.isF32() && !t.isBF16() && !t.isF16())
    return op->emitOpError("the runtime computes attention in f32, bf16 or "
                           "f16, got ")
           << t;
  return suffixOf(t);
}

LogicalResult RuntimeCallBuilder::checkAttentionFlags(int32_t flags) {
  if (flags & target.refusedAttentionFlags)
    return op->emitError(target.refusedFlagsMessage);
  return success();
}

Value RuntimeCallBuilder::input(Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  auto mt = MemRefType::get(t.getShape(), t.getElementType());
  Value m = bufferization::ToBufferOp::create(b, loc, mt, tensor,
                                              /*read_only=*/true);
  return unranked(m);
}

Value RuntimeCallBuilder::unranked(Value m) {
  auto mt = cast<MemRefType>(m.getType());
  return memref::CastOp::create(
      b, loc, UnrankedMemRefType::get(mt.getElementType(), 0), m);
}

Value RuntimeCallBuilder::alloc(RankedTensorType t) {
  return memref::AllocOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()));
}

Value RuntimeCallBuilder::result(Value buffer, Type tensorType) {
  return bufferization::ToTensorOp::create(b, loc, tensorType, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

Value RuntimeCallBuilder::absent(Type elementType) {
  // At the start of the function (its allocation scope), not in a loop
  // body where each iteration would grow the stack.
  OpBuilder::InsertionGuard guard(b);
  if (Operation *scope =
          op->getParentWithTrait<OpTrait::AutomaticAllocationScope>())
    b.setInsertionPointToStart(&scope->getRegion(0).front());
  Value m =
      memref::AllocaOp::create(b, loc, MemRefType::get({1}, elementType));
  return unranked(m);
}

Value RuntimeCallBuilder::castInts(Value t, Type to) {
  return castElements(b, loc, t, to);
}

Value RuntimeCallBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, v, 32);
}
Value RuntimeCallBuilder::i64(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, v, 64);
}
Value RuntimeCallBuilder::f64(double v) {
  return arith::ConstantFloatOp::create(b, loc, b.getF64Type(), APFloat(v));
}

Value RuntimeCallBuilder::additiveMask(Value mask, int64_t lq, int64_t lkv) {
  auto mt = cast<RankedTensorType>(mask.getType());
  Type f32 = b.getF32Type();
  SmallVector<int64_t> outShape(mt.getShape());
  if (outShape.size() < 2)
    outShape.insert(outShape.begin(), 2 - outShape.size(), 1);
  outShape[outShape.size() - 2] = lq;
  outShape.back() = lkv;
  if (mt.getElementType().isF32() && llvm::equal(outShape, mt.getShape()))
    return mask;
  int64_t rank = outShape.size();
  SmallVector<AffineExpr> inExprs;
  for (int64_t i = rank - mt.getRank(); i < rank; ++i)
    inExprs.push_back(mt.getShape()[i - (rank - mt.getRank())] == 1 &&
                              outShape[i] != 1
                          ? b.getAffineConstantExpr(0)
                          : b.getAffineDimExpr(i));
  auto outT = RankedTensorType::get(outShape, f32);
  Value init = tensor::EmptyOp::create(b, loc, outShape, f32);
  SmallVector<AffineMap> maps = {
      AffineMap::get(rank, 0, inExprs, b.getContext()),
      b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Type et = mt.getElementType();
  auto g = linalg::GenericOp::create(
      b, loc, outT, ValueRange{mask}, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = args[0];
        if (et.isInteger(1)) {
          Value zero = arith::ConstantFloatOp::create(nb, l, nb.getF32Type(),
                                                      APFloat(0.0f));
          Value ninf = arith::ConstantFloatOp::create(
              nb, l, nb.getF32Type(), APFloat(-INFINITY));
          v = arith::SelectOp::create(nb, l, v, zero, ninf);
        } else if (et.getIntOrFloatBitWidth() < 32) {
          v = arith::ExtFOp::create(nb, l, f32, v);
        } else if (!et.isF32()) {
          v = arith::TruncFOp::create(nb, l, f32, v);
        }
        linalg::YieldOp::create(nb, l, v);
      });
  return g.getResult(0);
}

Value RuntimeCallBuilder::documentMask(Value seg, Value mask,
                                       int64_t queryRank) {
  auto st = cast<RankedTensorType>(seg.getType());
  int64_t s = st.getShape().back(), rank = std::max<int64_t>(queryRank, 2);
  SmallVector<int64_t> shape(rank, 1);
  shape[rank - 2] = shape[rank - 1] = s;
  if (st.getRank() == 2)
    shape[0] = st.getShape()[0];
  Value am;
  RankedTensorType mt;
  if (mask) {
    am = additiveMask(mask, s, s);
    mt = cast<RankedTensorType>(am.getType());
    for (int64_t i = 0; i < mt.getRank() - 2; ++i) {
      int64_t o = rank - mt.getRank() + i;
      shape[o] = std::max(shape[o], mt.getShape()[i]);
    }
  }
  MLIRContext *ctx = b.getContext();
  AffineExpr dq = b.getAffineDimExpr(rank - 2),
             dk = b.getAffineDimExpr(rank - 1);
  auto idsAt = [&](AffineExpr pos) {
    SmallVector<AffineExpr> e;
    if (st.getRank() == 2)
      e.push_back(st.getShape()[0] == 1 ? b.getAffineConstantExpr(0)
                                        : b.getAffineDimExpr(0));
    e.push_back(pos);
    return AffineMap::get(rank, 0, e, ctx);
  };
  SmallVector<AffineMap> maps = {idsAt(dq), idsAt(dk)};
  SmallVector<Value> ins = {seg, seg};
  if (am) {
    SmallVector<AffineExpr> e;
    for (int64_t i = 0; i < mt.getRank(); ++i) {
      int64_t o = rank - mt.getRank() + i;
      e.push_back(mt.getShape()[i] == 1 && shape[o] != 1
                      ? b.getAffineConstantExpr(0)
                      : b.getAffineDimExpr(o));
    }
    maps.push_back(AffineMap::get(rank, 0, e, ctx));
    ins.push_back(am);
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Type f32 = b.getF32Type();
  Value init = tensor::EmptyOp::create(b, loc, shape, f32);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto g = linalg::GenericOp::create(
      b, loc, RankedTensorType::get(shape, f32), ins, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value same = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                           args[0], args[1]);
        Value zero = arith::ConstantFloatOp::create(nb, l, nb.getF32Type(),
                                                    APFloat(0.0f));
        Value ninf = arith::ConstantFloatOp::create(nb, l, nb.getF32Type(),
                                                    APFloat(-INFINITY));
        Value v = arith::SelectOp::create(nb, l, same, zero, ninf);
        if (args.size() > 3)
          v = arith::AddFOp::create(nb, l, v, args[2]);
        linalg::YieldOp::create(nb, l, v);
      });
  return g.getResult(0);
}

FailureOr<func::FuncOp> RuntimeCallBuilder::declare(StringRef name,
                                                    FunctionType type) {
  Operation *table = SymbolTable::getNearestSymbolTable(op->getParentOp());
  Operation *existing = SymbolTable::lookupSymbolIn(table, name);
  if (auto fn = dyn_cast_or_null<func::FuncOp>(existing)) {
    if (fn.getFunctionType() == type)
      return fn;
    return op->emitOpError("calls runtime entry '")
           << name << "' as " << type << ", but the module declares it as "
           << fn.getFunctionType();
  }
  if (existing)
    return op->emitOpError("calls runtime entry '")
           << name << "', but the module has another symbol of that name";
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(&table->getRegion(0).front());
  auto fn = func::FuncOp::create(b, loc, name, type);
  fn.setPrivate();
  return fn;
}

FailureOr<func::CallOp>
RuntimeCallBuilder::call(RuntimeEntry entry, Type elem, ValueRange args) {
  const EntrySpec &s = spec(entry);
  std::string sfx;
  if (!s.suffixes.empty()) {
    sfx = suffixOf(elem);
    if (!llvm::is_contained(s.suffixes, sfx))
      return op->emitOpError("has no runtime entry '")
             << s.stem << "' for " << elem << " (it takes "
             << llvm::join(s.suffixes, ", ") << ")";
  }
  std::optional<std::string> name = target.symbol(entry, sfx);
  if (!name)
    return op->emitOpError(target.missingEntryMessage);
  FunctionType type = functionType(b.getContext(), s, elem);
  assert(TypeRange(args) == type.getInputs() &&
         "arguments disagree with the runtime entry table");
  FailureOr<func::FuncOp> fn = declare(*name, type);
  if (failed(fn))
    return failure();
  return func::CallOp::create(b, loc, *fn, args);
}
