//===- LowerToRuntime.cpp - cp ops to calls into the cprt runtime ---------===//
//
// Runs on tensors before one-shot bufferization. Each cp op (and each
// upstream shard collective the context-parallel pass emits) becomes a call
// to an entry point of runtime/include/cprt/cprt_compiler.h:
//
//   operands  -> bufferization.to_buffer (read_only), cast to memref<*xT>
//   results   -> memref.alloc, cast to memref<*xT> for the call, then
//                bufferization.to_tensor restrict writable after it
//
// Entry points are named by the element type of their main tensors
// (`_f32`, `_bf16`, ...) because an MLIR symbol has one type. Masks are
// passed as additive f32 tensors of shape [..., Lq, Lkv] (bool masks become
// 0 / -inf, broadcast dims are materialised), positions as i64 and document
// ids as i32. cp.global_position becomes a lookup in a constant table of the
// balancer's layout; cp.flex_attention is decomposed into linalg;
// cp.seq_scan calls the runtime's sequence scan (local scan + exscan);
// cp.seq_to_heads / cp.heads_to_seq call the runtime's Ulysses all-to-all.
//
//===----------------------------------------------------------------------===//

#include "cp/Conversion/Passes.h"
#include "cp/Dialect/CP/IR/CPOps.h"
#include "cp/Utils/ElementCast.h"
#include "RuntimeAbi.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::cp {
#define GEN_PASS_DEF_CPLOWERTORUNTIME
#include "cp/Conversion/Passes.h.inc"
} // namespace mlir::cp

using namespace mlir;
using namespace mlir::cp;

namespace {

// Flags of the attention entry points: the runtime's own constants.
constexpr int32_t kCausal = CPRT_C_CAUSAL, kHasMask = CPRT_C_HAS_MASK,
                  kHasLse = CPRT_C_HAS_LSE, kHasSegments = CPRT_C_HAS_SEGMENTS,
                  kHasPositions = CPRT_C_HAS_POSITIONS;

RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Builds calls into the runtime for one op.
class RuntimeCallBuilder {
public:
  explicit RuntimeCallBuilder(Operation *op)
      : b(op), loc(op->getLoc()), op(op) {}

  /// Suffix of an element type, or failure.
  FailureOr<std::string> suffix(Type t) {
    if (t.isF32())
      return std::string("f32");
    if (t.isBF16())
      return std::string("bf16");
    if (t.isF16())
      return std::string("f16");
    if (t.isF64())
      return std::string("f64");
    if (t.isInteger(1))
      return std::string("i1");
    if (t.isInteger(8))
      return std::string("i8");
    if (t.isInteger(32))
      return std::string("i32");
    if (t.isInteger(64))
      return std::string("i64");
    return op->emitOpError("has element type ")
           << t << " which the runtime does not take";
  }

  /// Suffix of an attention entry point (the query's type: f32/bf16/f16).
  FailureOr<std::string> attentionSuffix(Type t) {
    if (!t.isF32() && !t.isBF16() && !t.isF16())
      return op->emitOpError("the runtime computes attention in f32, bf16 or "
                             "f16, got ")
             << t;
    return suffix(t);
  }

  int64_t elemBytes(Type t) {
    return t.isInteger(1) ? 1 : (t.getIntOrFloatBitWidth() + 7) / 8;
  }

  /// A read-only buffer of `tensor` as an unranked memref.
  Value input(Value tensor) {
    auto t = rtt(tensor);
    auto mt = MemRefType::get(t.getShape(), t.getElementType());
    Value m = bufferization::ToBufferOp::create(b, loc, mt, tensor,
                                                /*read_only=*/true);
    return unranked(m);
  }

  Value unranked(Value m) {
    auto mt = cast<MemRefType>(m.getType());
    return memref::CastOp::create(
        b, loc, UnrankedMemRefType::get(mt.getElementType(), 0), m);
  }

  /// A fresh buffer for a result of type `t`.
  Value alloc(RankedTensorType t) {
    return memref::AllocOp::create(
        b, loc, MemRefType::get(t.getShape(), t.getElementType()));
  }

  /// The tensor holding `buffer` after the calls that write it.
  Value result(Value buffer, Type tensorType) {
    return bufferization::ToTensorOp::create(b, loc, tensorType, buffer,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

  /// Declares (once) and calls `name` with `args`. The declaration goes in
  /// the nearest symbol table of the call, where the call resolves it (a
  /// nested module has its own).
  Operation *call(StringRef name, ValueRange args, TypeRange results = {}) {
    Operation *table = SymbolTable::getNearestSymbolTable(op->getParentOp());
    auto fn = dyn_cast_or_null<func::FuncOp>(
        SymbolTable::lookupSymbolIn(table, name));
    if (!fn) {
      OpBuilder mb = OpBuilder::atBlockEnd(&table->getRegion(0).front());
      fn = func::FuncOp::create(
          mb, loc, name, FunctionType::get(b.getContext(), args.getTypes(), results));
      fn.setPrivate();
    }
    return func::CallOp::create(b, loc, fn, args);
  }

  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 32); }
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 64); }
  Value f64(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                          APFloat(v));
  }

  /// Additive f32 mask of shape [lead..., lq, lkv] from a bool (keep) or
  /// float mask broadcastable to it, in one linalg.generic.
  Value additiveMask(Value mask, int64_t lq, int64_t lkv) {
    auto mt = rtt(mask);
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

  /// A placeholder memref for an absent optional operand.
  Value absent(Type elementType) {
    Value m = memref::AllocaOp::create(b, loc, MemRefType::get({1}, elementType));
    return unranked(m);
  }

  /// Casts an integer/index tensor to `to` (positions i64, documents i32).
  Value castInts(Value t, Type to) { return castElements(b, loc, t, to); }

  OpBuilder b;
  Location loc;
  Operation *op;
};

bool allStatic(Operation *op) {
  for (Type t : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto st = dyn_cast<ShapedType>(t))
      if (!st.hasStaticShape())
        return false;
  return true;
}

double scaleOf(std::optional<APFloat> s) {
  return s ? s->convertToDouble() : 0.0;
}

//===----------------------------------------------------------------------===//
// Per-op lowerings
//===----------------------------------------------------------------------===//

LogicalResult lowerSDPA(ModuleOp m, SDPAOp op) {
  RuntimeCallBuilder c(op);
  Type et = rtt(op.getQuery()).getElementType();
  FailureOr<std::string> sfx = c.attentionSuffix(et);
  if (failed(sfx))
    return failure();
  auto q = rtt(op.getQuery()), k = rtt(op.getKey());
  int64_t lq = q.getShape()[q.getRank() - 2], lk = k.getShape()[k.getRank() - 2];
  int32_t flags = op.getIsCausal() ? kCausal : 0;
  Value mask = c.absent(c.b.getF32Type());
  if (op.getMask()) {
    flags |= kHasMask;
    mask = c.input(c.additiveMask(op.getMask(), lq, lk));
  }
  Value out = c.alloc(rtt(op.getOutput()));
  Value lse;
  if (op.getLse()) {
    flags |= kHasLse;
    lse = c.alloc(rtt(op.getLse()));
  }
  c.call("cprt_c_sdpa_fwd_" + *sfx,
         {c.input(op.getQuery()), c.input(op.getKey()), c.input(op.getValue()),
          mask, c.unranked(out), lse ? c.unranked(lse) : c.absent(c.b.getF32Type()),
          c.f64(scaleOf(op.getScale())), c.i32(flags)});
  op.getOutput().replaceAllUsesWith(c.result(out, op.getOutput().getType()));
  if (lse)
    op.getLse().replaceAllUsesWith(c.result(lse, op.getLse().getType()));
  op.erase();
  return success();
}

LogicalResult lowerSDPABackward(ModuleOp m, SDPABackwardOp op) {
  RuntimeCallBuilder c(op);
  Type et = rtt(op.getQuery()).getElementType();
  FailureOr<std::string> sfx = c.attentionSuffix(et);
  if (failed(sfx))
    return failure();
  for (Value g : {op.getGradQuery(), op.getGradKey(), op.getGradValue(),
                  op.getGradOutput(), op.getOutput()})
    if (rtt(g).getElementType() != et)
      return op.emitOpError("lowering needs gradients and outputs in the "
                            "query's element type");
  auto q = rtt(op.getQuery()), k = rtt(op.getKey());
  int64_t lq = q.getShape()[q.getRank() - 2], lk = k.getShape()[k.getRank() - 2];
  int32_t flags = op.getIsCausal() ? kCausal : 0;
  Value mask = c.absent(c.b.getF32Type());
  if (op.getMask()) {
    flags |= kHasMask;
    mask = c.input(c.additiveMask(op.getMask(), lq, lk));
  }
  Value dq = c.alloc(rtt(op.getGradQuery())), dk = c.alloc(rtt(op.getGradKey())),
        dv = c.alloc(rtt(op.getGradValue()));
  c.call("cprt_c_sdpa_bwd_" + *sfx,
         {c.input(op.getGradOutput()), c.input(op.getQuery()),
          c.input(op.getKey()), c.input(op.getValue()), c.input(op.getOutput()),
          c.input(op.getLse()), mask, c.unranked(dq), c.unranked(dk),
          c.unranked(dv), c.f64(scaleOf(op.getScale())), c.i32(flags)});
  op.getGradQuery().replaceAllUsesWith(c.result(dq, op.getGradQuery().getType()));
  op.getGradKey().replaceAllUsesWith(c.result(dk, op.getGradKey().getType()));
  op.getGradValue().replaceAllUsesWith(c.result(dv, op.getGradValue().getType()));
  op.erase();
  return success();
}

template <typename RingOp>
LogicalResult lowerRing(ModuleOp m, RingOp op, bool backward) {
  RuntimeCallBuilder c(op);
  Type et = rtt(op.getQuery()).getElementType();
  FailureOr<std::string> sfx = c.attentionSuffix(et);
  if (failed(sfx))
    return failure();
  if (op.getBalancer() == LoadBalancer::ptrr)
    return op.emitOpError("ptrr balancing needs a block mask, which the "
                          "lowering does not pass yet");
  auto q = rtt(op.getQuery());
  int64_t lq = q.getShape()[q.getRank() - 2];
  int32_t flags = op.getIsCausal() ? kCausal : 0;
  Value mask = c.absent(c.b.getF32Type());
  if (op.getMask()) {
    flags |= kHasMask;
    mask = c.input(c.additiveMask(op.getMask(), lq, op.getSeqLen()));
  }
  Value seg = c.absent(c.b.getI32Type());
  if (op.getSegmentIds()) {
    flags |= kHasSegments;
    Value s = c.castInts(op.getSegmentIds(), c.b.getI32Type());
    if (rtt(s).getRank() != 1)
      return op.emitOpError("the lowering takes 1-D segment ids");
    seg = c.input(s);
  }
  SmallVector<Value> args;
  SmallVector<std::pair<Value, Value>> results; // (buffer, replaced value)
  if constexpr (std::is_same_v<RingOp, RingAttentionOp>) {
    Value out = c.alloc(rtt(op.getOutput()));
    Value lse;
    if (op.getLse()) {
      flags |= kHasLse;
      lse = c.alloc(rtt(op.getLse()));
    }
    args = {c.input(op.getQuery()), c.input(op.getKey()),
            c.input(op.getValue()), mask, seg, c.unranked(out),
            lse ? c.unranked(lse) : c.absent(c.b.getF32Type())};
    results.push_back({out, op.getOutput()});
    if (lse)
      results.push_back({lse, op.getLse()});
  } else {
    for (Value g : {op.getGradQuery(), op.getGradKey(), op.getGradValue(),
                    op.getGradOutput(), op.getOutput()})
      if (rtt(g).getElementType() != et)
        return op.emitOpError("lowering needs gradients and outputs in the "
                              "query's element type");
    Value dq = c.alloc(rtt(op.getGradQuery())),
          dk = c.alloc(rtt(op.getGradKey())),
          dv = c.alloc(rtt(op.getGradValue()));
    args = {c.input(op.getGradOutput()), c.input(op.getQuery()),
            c.input(op.getKey()), c.input(op.getValue()),
            c.input(op.getOutput()), c.input(op.getLse()), mask, seg,
            c.unranked(dq), c.unranked(dk), c.unranked(dv)};
    results = {{dq, op.getGradQuery()}, {dk, op.getGradKey()},
               {dv, op.getGradValue()}};
  }
  args.append({c.f64(scaleOf(op.getScale())), c.i32(flags),
               c.i32(abi::value(op.getRotate())), c.i32(abi::value(op.getBalancer())),
               c.i64(op.getSeqLen()), c.i64(op.getWindow().value_or(0))});
  c.call((backward ? "cprt_c_ring_bwd_" : "cprt_c_ring_fwd_") + *sfx, args);
  for (auto [buf, v] : results)
    v.replaceAllUsesWith(c.result(buf, v.getType()));
  op.erase();
  return success();
}

template <typename BlockOp>
LogicalResult lowerBlock(ModuleOp m, BlockOp op, bool backward) {
  RuntimeCallBuilder c(op);
  Type et = rtt(op.getQuery()).getElementType();
  FailureOr<std::string> sfx = c.attentionSuffix(et);
  if (failed(sfx))
    return failure();
  auto q = rtt(op.getQuery()), k = rtt(op.getKey());
  int64_t lq = q.getShape()[q.getRank() - 2], lk = k.getShape()[k.getRank() - 2];
  int32_t flags = 0;
  Type f32 = c.b.getF32Type(), i64 = c.b.getI64Type(), i32 = c.b.getI32Type();
  Value mask = c.absent(f32), qp = c.absent(i64), kp = c.absent(i64),
        qs = c.absent(i32), ks = c.absent(i32);
  if (op.getMask()) {
    flags |= kHasMask;
    mask = c.input(c.additiveMask(op.getMask(), lq, lk));
  }
  if (op.getQPositions()) {
    flags |= kHasPositions;
    qp = c.input(c.castInts(op.getQPositions(), i64));
    kp = c.input(c.castInts(op.getKvPositions(), i64));
  }
  if (op.getQSegmentIds()) {
    flags |= kHasSegments;
    qs = c.input(c.castInts(op.getQSegmentIds(), i32));
    ks = c.input(c.castInts(op.getKvSegmentIds(), i32));
  }
  SmallVector<Value> args;
  SmallVector<std::pair<Value, Value>> results;
  if constexpr (std::is_same_v<BlockOp, BlockAttentionOp>) {
    if (!rtt(op.getOutput()).getElementType().isF32())
      return op.emitOpError("lowering needs an f32 partial output");
    Value out = c.alloc(rtt(op.getOutput())), lse = c.alloc(rtt(op.getLse()));
    args = {c.input(op.getQuery()), c.input(op.getKey()), c.input(op.getValue()),
            mask, qp, kp, qs, ks, c.unranked(out), c.unranked(lse)};
    results = {{out, op.getOutput()}, {lse, op.getLse()}};
  } else {
    for (Value g : {op.getGradQuery(), op.getGradKey(), op.getGradValue()})
      if (!rtt(g).getElementType().isF32())
        return op.emitOpError("lowering needs f32 gradient contributions");
    if (rtt(op.getGradOutput()).getElementType() != et ||
        rtt(op.getOutput()).getElementType() != et)
      return op.emitOpError("lowering needs grad_output and output in the "
                            "query's element type");
    Value dq = c.alloc(rtt(op.getGradQuery())),
          dk = c.alloc(rtt(op.getGradKey())),
          dv = c.alloc(rtt(op.getGradValue()));
    args = {c.input(op.getGradOutput()), c.input(op.getQuery()),
            c.input(op.getKey()), c.input(op.getValue()),
            c.input(op.getOutput()), c.input(op.getLse()), mask, qp, kp, qs, ks,
            c.unranked(dq), c.unranked(dk), c.unranked(dv)};
    results = {{dq, op.getGradQuery()}, {dk, op.getGradKey()},
               {dv, op.getGradValue()}};
  }
  args.append({c.f64(scaleOf(op.getScale())), c.i32(flags),
               c.i32(abi::value(op.getCausal())),
               c.i64(op.getWindow().value_or(0))});
  c.call((backward ? "cprt_c_block_bwd_" : "cprt_c_block_fwd_") + *sfx, args);
  for (auto [buf, v] : results)
    v.replaceAllUsesWith(c.result(buf, v.getType()));
  op.erase();
  return success();
}

LogicalResult lowerMerge(ModuleOp m, MergePartialOp op) {
  RuntimeCallBuilder c(op);
  for (Value v : op->getOperands())
    if (!rtt(v).getElementType().isF32())
      return op.emitOpError("lowering merges f32 partial results");
  Value out = c.alloc(rtt(op.getMergedOutput())),
        lse = c.alloc(rtt(op.getMergedLse()));
  c.call("cprt_c_merge_f32",
         {c.input(op.getOutput()), c.input(op.getLse()),
          c.input(op.getOutputB()), c.input(op.getLseB()), c.unranked(out),
          c.unranked(lse)});
  op.getMergedOutput().replaceAllUsesWith(
      c.result(out, op.getMergedOutput().getType()));
  op.getMergedLse().replaceAllUsesWith(c.result(lse, op.getMergedLse().getType()));
  op.erase();
  return success();
}

/// In-flight shifts: the buffers a shift_wait needs.
struct PendingShift {
  SmallVector<Value> handles, sends, recvs;
  SmallVector<std::string> suffixes;
};

LogicalResult lowerShiftStart(ModuleOp m, ShiftStartOp op,
                              DenseMap<Value, PendingShift> &pending) {
  // The wait completes the shift and frees its send buffer: without one the
  // start would stay behind, naming a grid the lowering removes.
  Value token = op.getToken();
  if (token.use_empty() ||
      !llvm::all_of(token.getUsers(), llvm::IsaPred<ShiftWaitOp>))
    return op.emitOpError("expected its token to be used by cp.shift_wait "
                          "only (a shift never waited on stays pending)");
  RuntimeCallBuilder c(op);
  PendingShift p;
  for (Value in : op.getInputs()) {
    auto t = rtt(in);
    FailureOr<std::string> sfx = c.suffix(t.getElementType());
    if (failed(sfx))
      return failure();
    // The send buffer is a private copy that stays alive until the wait.
    Value send = c.alloc(t);
    Value src = bufferization::ToBufferOp::create(
        c.b, c.loc, MemRefType::get(t.getShape(), t.getElementType()), in,
        /*read_only=*/true);
    memref::CopyOp::create(c.b, c.loc, src, send);
    Value recv = c.alloc(t);
    Operation *call = c.call("cprt_c_shift_start_" + *sfx,
                             {c.unranked(send), c.unranked(recv),
                              c.i64(c.elemBytes(t.getElementType())),
                              c.i64(op.getOffset())},
                             {c.b.getI64Type()});
    p.handles.push_back(call->getResult(0));
    p.sends.push_back(send);
    p.recvs.push_back(recv);
    p.suffixes.push_back(*sfx);
  }
  pending[op.getToken()] = std::move(p);
  return success();
}

LogicalResult lowerShiftWait(ModuleOp m, ShiftWaitOp op,
                             DenseMap<Value, PendingShift> &pending) {
  auto it = pending.find(op.getToken());
  if (it == pending.end())
    return op.emitOpError("expected the token of a cp.shift_start in the same "
                          "function");
  RuntimeCallBuilder c(op);
  PendingShift &p = it->second;
  for (auto [i, res] : llvm::enumerate(op.getResults())) {
    c.call("cprt_c_shift_wait_" + p.suffixes[i],
           {p.handles[i], c.unranked(p.sends[i])});
    res.replaceAllUsesWith(c.result(p.recvs[i], res.getType()));
  }
  Operation *start = op.getToken().getDefiningOp();
  op.erase();
  if (start && start->use_empty())
    start->erase();
  return success();
}

template <typename ShardLikeOp>
LogicalResult lowerShard(ModuleOp m, ShardLikeOp op, bool unshard) {
  RuntimeCallBuilder c(op);
  if (op.getBalancer() == LoadBalancer::per_document_head_tail ||
      op.getBalancer() == LoadBalancer::ptrr || op.getDocumentIds())
    return op.emitOpError("the lowering shards with none, head_tail or "
                          "striped balancing");
  if (op.getBlockSize() && *op.getBlockSize() != 1)
    return op.emitOpError("the runtime's striped balancing uses blocks of 1");
  auto t = rtt(op.getResult());
  FailureOr<std::string> sfx = c.suffix(t.getElementType());
  if (failed(sfx))
    return failure();
  Value out = c.alloc(t);
  c.call(std::string(unshard ? "cprt_c_unshard_" : "cprt_c_shard_") + *sfx,
         {c.input(op.getInput()), c.unranked(out),
          c.i64(c.elemBytes(t.getElementType())), c.i32(op.getDim()),
          c.i32(abi::value(op.getBalancer()))});
  op.getResult().replaceAllUsesWith(c.result(out, t));
  op.erase();
  return success();
}

/// cp.seq_to_heads / cp.heads_to_seq -> cprt_c_seq_to_heads_<T> /
/// cprt_c_heads_to_seq_<T>(in, out, elem_bytes, head_dim, seq_dim, balancer,
/// seq_len): one all-to-all plus the balancer's positions in the runtime.
template <typename UlyssesOp>
LogicalResult lowerUlysses(ModuleOp m, UlyssesOp op, StringRef entry) {
  RuntimeCallBuilder c(op);
  auto t = rtt(op.getResult());
  FailureOr<std::string> sfx = c.suffix(t.getElementType());
  if (failed(sfx))
    return failure();
  Value out = c.alloc(t);
  c.call((entry + *sfx).str(),
         {c.input(op.getInput()), c.unranked(out),
          c.i64(c.elemBytes(t.getElementType())), c.i32(op.getHeadDim()),
          c.i32(op.getSeqDim()), c.i32(abi::value(op.getBalancer())),
          c.i64(op.getSeqLen())});
  op.getResult().replaceAllUsesWith(c.result(out, t));
  op.erase();
  return success();
}

LogicalResult lowerGlobalPosition(ModuleOp m, GlobalPositionOp op,
                                  SymbolTableCollection &symbols) {
  shard::GridOp grid = shard::getGridOrNull(op, op.getGridAttr(), symbols);
  SmallVector<int16_t> axes(op.getGridAxes());
  if (axes.empty())
    for (int16_t i = 0; i < grid.getRank(); ++i)
      axes.push_back(i);
  int64_t world = shard::collectiveProcessGroupSize(axes, grid.getShape());
  if (ShapedType::isDynamic(world))
    return op.emitOpError("needs a grid of static size");
  std::optional<int64_t> localLen = localSeqLen(
      op.getSeqLen(), world, op.getBalancer(), op.getBlockSize(), true);
  // The whole layout as a constant table: table[rank * L + local].
  SmallVector<int64_t> table;
  for (int64_t r = 0; r < world; ++r)
    for (int64_t j = 0; j < *localLen; ++j)
      table.push_back(globalPosition(j, r, op.getSeqLen(), world,
                                     op.getBalancer(), op.getBlockSize(),
                                     op.getPad()));
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto tt = RankedTensorType::get({(int64_t)table.size()}, b.getIndexType());
  Value cst = arith::ConstantOp::create(
      b, loc, tt, DenseElementsAttr::get(tt, ArrayRef<int64_t>(table)));
  Value cL = arith::ConstantIndexOp::create(b, loc, *localLen);
  Value base = arith::MulIOp::create(b, loc, op.getRank(), cL);
  Value idx = arith::AddIOp::create(b, loc, base, op.getLocal());
  Value pos = tensor::ExtractOp::create(b, loc, cst, ValueRange{idx});
  op.getResult().replaceAllUsesWith(pos);
  op.erase();
  return success();
}

LogicalResult lowerProcessIndex(ModuleOp m, shard::ProcessLinearIndexOp op) {
  RuntimeCallBuilder c(op);
  Operation *call = c.call("cprt_c_rank", {}, {c.b.getI64Type()});
  Value idx = arith::IndexCastOp::create(c.b, c.loc, c.b.getIndexType(),
                                         call->getResult(0));
  op.getResult().replaceAllUsesWith(idx);
  op.erase();
  return success();
}

LogicalResult lowerAllGather(ModuleOp m, shard::AllGatherOp op) {
  RuntimeCallBuilder c(op);
  auto t = rtt(op.getResult());
  FailureOr<std::string> sfx = c.suffix(t.getElementType());
  if (failed(sfx))
    return failure();
  Value out = c.alloc(t);
  c.call("cprt_c_all_gather_" + *sfx,
         {c.input(op.getInput()), c.unranked(out),
          c.i64(c.elemBytes(t.getElementType())),
          c.i32(op.getGatherAxis().getSExtValue())});
  op.getResult().replaceAllUsesWith(c.result(out, t));
  op.erase();
  return success();
}

LogicalResult lowerAllReduce(ModuleOp m, shard::AllReduceOp op) {
  RuntimeCallBuilder c(op);
  auto t = rtt(op.getResult());
  if (t.getElementType() != rtt(op.getInput()).getElementType())
    return op.emitOpError("the lowering reduces in the input's element type");
  FailureOr<std::string> sfx = c.suffix(t.getElementType());
  if (failed(sfx))
    return failure();
  if (*sfx != "f32" && *sfx != "f64" && *sfx != "i32" && *sfx != "i64")
    return op.emitOpError("the runtime all-reduces f32, f64, i32 or i64");
  int32_t kind;
  switch (op.getReduction()) {
  case shard::ReductionKind::Sum:
    kind = CPRT_C_REDUCE_SUM;
    break;
  case shard::ReductionKind::Max:
    kind = CPRT_C_REDUCE_MAX;
    break;
  case shard::ReductionKind::Min:
    kind = CPRT_C_REDUCE_MIN;
    break;
  default:
    return op.emitOpError("the runtime all-reduces with sum, max or min");
  }
  Value out = c.alloc(t);
  c.call("cprt_c_all_reduce_" + *sfx,
         {c.input(op.getInput()), c.unranked(out), c.i32(kind)});
  op.getResult().replaceAllUsesWith(c.result(out, t));
  op.erase();
  return success();
}

/// cp.seq_scan -> cprt_c_seq_scan_<T>(in, out, dim, balancer, seq_len, kind).
LogicalResult lowerSeqScan(ModuleOp m, SeqScanOp op) {
  RuntimeCallBuilder c(op);
  auto t = rtt(op.getResult());
  FailureOr<std::string> sfx = c.suffix(t.getElementType());
  if (failed(sfx))
    return failure();
  Value out = c.alloc(t);
  c.call("cprt_c_seq_scan_" + *sfx,
         {c.input(op.getInput()), c.unranked(out), c.i32(op.getDim()),
          c.i32(abi::value(op.getBalancer())), c.i64(op.getSeqLen()),
          c.i32(abi::value(op.getKind()))});
  op.getResult().replaceAllUsesWith(c.result(out, t));
  op.erase();
  return success();
}

LogicalResult lowerFlex(ModuleOp m, FlexAttentionOp op);

struct LowerToRuntimePass
    : cp::impl::CPLowerToRuntimeBase<LowerToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbols;
    // Flex attention first: its regions may hold cp.global_position ops.
    SmallVector<FlexAttentionOp> flex;
    module.walk([&](FlexAttentionOp op) { flex.push_back(op); });
    for (FlexAttentionOp op : flex)
      if (failed(lowerFlex(module, op)))
        return signalPassFailure();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<CPDialect>(op->getDialect()) ||
          isa<shard::ProcessLinearIndexOp, shard::AllGatherOp,
              shard::AllReduceOp>(op))
        ops.push_back(op);
    });
    DenseMap<Value, PendingShift> pending;
    for (Operation *op : ops) {
      if (!allStatic(op)) {
        op->emitOpError("the lowering needs static shapes");
        return signalPassFailure();
      }
      LogicalResult r =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](SDPAOp o) { return lowerSDPA(module, o); })
              .Case([&](SDPABackwardOp o) { return lowerSDPABackward(module, o); })
              .Case([&](RingAttentionOp o) { return lowerRing(module, o, false); })
              .Case([&](RingAttentionBackwardOp o) {
                return lowerRing(module, o, true);
              })
              .Case([&](BlockAttentionOp o) { return lowerBlock(module, o, false); })
              .Case([&](BlockAttentionBackwardOp o) {
                return lowerBlock(module, o, true);
              })
              .Case([&](MergePartialOp o) { return lowerMerge(module, o); })
              .Case([&](ShiftStartOp o) {
                return lowerShiftStart(module, o, pending);
              })
              .Case([&](ShiftWaitOp o) { return lowerShiftWait(module, o, pending); })
              .Case([&](ShardOp o) { return lowerShard(module, o, false); })
              .Case([&](SeqScanOp o) { return lowerSeqScan(module, o); })
              .Case([&](UnshardOp o) { return lowerShard(module, o, true); })
              .Case([&](SeqToHeadsOp o) {
                return lowerUlysses(module, o, "cprt_c_seq_to_heads_");
              })
              .Case([&](HeadsToSeqOp o) {
                return lowerUlysses(module, o, "cprt_c_heads_to_seq_");
              })
              .Case([&](GlobalPositionOp o) {
                return lowerGlobalPosition(module, o, symbols);
              })
              .Case([&](shard::ProcessLinearIndexOp o) {
                return lowerProcessIndex(module, o);
              })
              .Case([&](shard::AllGatherOp o) { return lowerAllGather(module, o); })
              .Case([&](shard::AllReduceOp o) { return lowerAllReduce(module, o); })
              .Default([](Operation *o) {
                return o->emitOpError("has no lowering to the runtime");
              });
      if (failed(r))
        return signalPassFailure();
    }
    // The grids are not needed at run time.
    SmallVector<shard::GridOp> grids;
    module.walk([&](shard::GridOp grid) { grids.push_back(grid); });
    for (shard::GridOp grid : grids)
      grid.erase();
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Flex attention: decomposed into linalg on f32 scores (O(Lq x Lkv) memory;
// the modifiers are inlined where each score is computed).
//===----------------------------------------------------------------------===//

namespace {

/// Inlines the single block of `region` at `b`, mapping its arguments to
/// `args`; returns the value its cp.yield yields.
Value inlineModifier(OpBuilder &b, Region &region, ValueRange args) {
  IRMapping map;
  Block &block = region.front();
  for (auto [arg, v] : llvm::zip(block.getArguments(), args))
    map.map(arg, v);
  for (Operation &inner : block.without_terminator())
    b.clone(inner, map);
  return map.lookup(cast<YieldOp>(block.getTerminator()).getValues()[0]);
}

/// A rank-3 flex op ([B*H, S, D]: torch-mlir folds batch and heads when a
/// model has one KV head) as the rank-4 [1, B*H, S, D] op, when its
/// modifiers read neither the batch nor the head index (kv head x / group
/// is right for the folded dim too). Returns the new op, or failure (with a
/// diagnostic) when a modifier reads the batch or head index.
FailureOr<FlexAttentionOp> unfoldRank3Flex(FlexAttentionOp op) {
  auto unusedBH = [](Region &r, unsigned first) {
    return r.empty() || (r.getArgument(first).use_empty() &&
                         r.getArgument(first + 1).use_empty());
  };
  if (!unusedBH(op.getMaskMod(), 0) || !unusedBH(op.getScoreMod(), 1))
    return op.emitOpError("reads the batch or head index in a modifier of "
                          "rank-3 [B*H, S, D] attention; the lowering takes "
                          "[B, H, S, D]");
  OpBuilder b(op);
  Location loc = op.getLoc();
  ReassociationIndices first = {0, 1};
  SmallVector<ReassociationIndices> r4 = {first, {2}, {3}},
                                    r3 = {first, {2}};
  auto lead1 = [](RankedTensorType t) {
    SmallVector<int64_t> shape = {1};
    llvm::append_range(shape, t.getShape());
    return t.clone(shape);
  };
  auto expand = [&](Value x) -> Value {
    return tensor::ExpandShapeOp::create(b, loc, lead1(rtt(x)), x, r4);
  };
  Type lseTy = op.getLse() ? Type(lead1(rtt(op.getLse()))) : Type();
  auto unfolded = FlexAttentionOp::create(
      b, loc, lead1(rtt(op.getOutput())), lseTy, expand(op.getQuery()),
      expand(op.getKey()), expand(op.getValue()), op.getScaleAttr(),
      op.getEnableGqaAttr());
  unfolded.getMaskMod().takeBody(op.getMaskMod());
  unfolded.getScoreMod().takeBody(op.getScoreMod());
  op.getOutput().replaceAllUsesWith(tensor::CollapseShapeOp::create(
      b, loc, op.getOutput().getType(), unfolded.getOutput(), r4));
  if (op.getLse())
    op.getLse().replaceAllUsesWith(tensor::CollapseShapeOp::create(
        b, loc, op.getLse().getType(), unfolded.getLse(), r3));
  op.erase();
  return unfolded;
}

LogicalResult lowerFlex(ModuleOp m, FlexAttentionOp op) {
  auto q = rtt(op.getQuery()), k = rtt(op.getKey()), v = rtt(op.getValue());
  if (q.getRank() == 3 && rtt(op.getKey()).getRank() == 3 &&
      rtt(op.getValue()).getRank() == 3) {
    FailureOr<FlexAttentionOp> unfolded = unfoldRank3Flex(op);
    if (failed(unfolded))
      return failure();
    return lowerFlex(m, *unfolded);
  }
  if (q.getRank() != 4 || !q.hasStaticShape() || !k.hasStaticShape() ||
      !v.hasStaticShape())
    return op.emitOpError("the lowering decomposes flex attention on static "
                          "[B, H, S, D] tensors");
  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  int64_t B = q.getDimSize(0), Hq = q.getDimSize(1), Lq = q.getDimSize(2),
          D = q.getDimSize(3), Hkv = k.getDimSize(1), Lk = k.getDimSize(2),
          Dv = v.getDimSize(3);
  int64_t group = Hq / Hkv;
  double scale = op.getScale() ? op.getScale()->convertToDouble()
                               : 1.0 / std::sqrt((double)D);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto par = utils::IteratorType::parallel, red = utils::IteratorType::reduction;
  auto toF32 = [&](OpBuilder &nb, Location l, Value x) -> Value {
    if (x.getType() == f32)
      return x;
    return arith::ExtFOp::create(nb, l, f32, x);
  };
  auto filled = [&](ArrayRef<int64_t> shape, float value) {
    Value e = tensor::EmptyOp::create(b, loc, shape, f32);
    Value c = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                             APFloat(value));
    return linalg::FillOp::create(b, loc, c, e).getResult(0);
  };
  Value ninf = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              APFloat(-INFINITY));
  Value zero = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                              APFloat(0.0f));
  Value scaleV = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                                APFloat((float)scale));
  AffineExpr kvHead = d(1).floorDiv(group);

  // scores[b,h,i,j] = sum_d q[b,h,i,d] k[b,h/g,j,d]
  auto scoresT = RankedTensorType::get({B, Hq, Lq, Lk}, f32);
  Value scores =
      linalg::GenericOp::create(
          b, loc, scoresT, ValueRange{op.getQuery(), op.getKey()},
          ValueRange{filled({B, Hq, Lq, Lk}, 0.0f)},
          ArrayRef<AffineMap>{
              AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
              AffineMap::get(5, 0, {d(0), kvHead, d(3), d(4)}, ctx),
              AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
          ArrayRef<utils::IteratorType>{par, par, par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value p = arith::MulFOp::create(nb, l, toF32(nb, l, a[0]),
                                            toF32(nb, l, a[1]));
            linalg::YieldOp::create(nb, l,
                                    ValueRange{arith::AddFOp::create(nb, l, a[2], p)});
          })
          .getResult(0);

  // Modifiers: score_mod on the scaled score, then mask_mod.
  auto id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  Value modded =
      linalg::GenericOp::create(
          b, loc, scoresT, ValueRange{scores},
          ValueRange{tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{B, Hq, Lq, Lk}, f32)},
          ArrayRef<AffineMap>{id4, id4},
          ArrayRef<utils::IteratorType>{par, par, par, par},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            SmallVector<Value> idx;
            for (int i = 0; i < 4; ++i)
              idx.push_back(linalg::IndexOp::create(nb, l, i));
            Value s = arith::MulFOp::create(nb, l, a[0], scaleV);
            if (!op.getScoreMod().empty())
              s = inlineModifier(nb, op.getScoreMod(),
                                 {s, idx[0], idx[1], idx[2], idx[3]});
            if (!op.getMaskMod().empty()) {
              Value keep = inlineModifier(nb, op.getMaskMod(), idx);
              s = arith::SelectOp::create(nb, l, keep, s, ninf);
            }
            linalg::YieldOp::create(nb, l, ValueRange{s});
          })
          .getResult(0);

  auto rowMap5 = AffineMap::get(5, 0, {d(0), d(1), d(2)}, ctx);
  auto rowMap4 = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  auto rowT = RankedTensorType::get({B, Hq, Lq}, f32);
  // Row max and sum of exp (fully masked rows: max -inf, sum 0).
  Value rowMax =
      linalg::GenericOp::create(
          b, loc, rowT, ValueRange{modded}, ValueRange{filled({B, Hq, Lq}, -INFINITY)},
          ArrayRef<AffineMap>{id4, rowMap4},
          ArrayRef<utils::IteratorType>{par, par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::MaximumFOp::create(nb, l, a[0], a[1])});
          })
          .getResult(0);
  auto expOf = [&](OpBuilder &nb, Location l, Value s, Value mx) -> Value {
    Value isInf = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, mx, ninf);
    Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, s, mx));
    return arith::SelectOp::create(nb, l, isInf, zero, e);
  };
  Value rowSum =
      linalg::GenericOp::create(
          b, loc, rowT, ValueRange{modded, rowMax},
          ValueRange{filled({B, Hq, Lq}, 0.0f)},
          ArrayRef<AffineMap>{id4, rowMap4, rowMap4},
          ArrayRef<utils::IteratorType>{par, par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value e = expOf(nb, l, a[0], a[1]);
            linalg::YieldOp::create(nb, l,
                                    ValueRange{arith::AddFOp::create(nb, l, a[2], e)});
          })
          .getResult(0);
  // out[b,h,i,e] = sum_j p[b,h,i,j] v[b,h/g,j,e]
  auto outF32T = RankedTensorType::get({B, Hq, Lq, Dv}, f32);
  Value outF32 =
      linalg::GenericOp::create(
          b, loc, outF32T, ValueRange{modded, rowMax, rowSum, op.getValue()},
          ValueRange{filled({B, Hq, Lq, Dv}, 0.0f)},
          ArrayRef<AffineMap>{
              AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx), rowMap5,
              rowMap5, AffineMap::get(5, 0, {d(0), kvHead, d(4), d(3)}, ctx),
              AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
          ArrayRef<utils::IteratorType>{par, par, par, par, red},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value e = expOf(nb, l, a[0], a[1]);
            Value empty = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                                a[2], zero);
            Value p = arith::SelectOp::create(
                nb, l, empty, zero, arith::DivFOp::create(nb, l, e, a[2]));
            Value pv = arith::MulFOp::create(nb, l, p, toF32(nb, l, a[3]));
            linalg::YieldOp::create(nb, l,
                                    ValueRange{arith::AddFOp::create(nb, l, a[4], pv)});
          })
          .getResult(0);
  Value out = outF32;
  auto outT = rtt(op.getOutput());
  if (outT.getElementType() != f32)
    out = castElements(b, loc, outF32, outT.getElementType());
  op.getOutput().replaceAllUsesWith(out);
  if (op.getLse()) {
    auto id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    Value lse =
        linalg::GenericOp::create(
            b, loc, rowT, ValueRange{rowMax, rowSum},
            ValueRange{tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{B, Hq, Lq}, f32)},
            ArrayRef<AffineMap>{id3, id3, id3},
            ArrayRef<utils::IteratorType>{par, par, par},
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value empty = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
              Value lg = arith::AddFOp::create(
                  nb, l, a[0], math::LogOp::create(nb, l, a[1]));
              linalg::YieldOp::create(
                  nb, l, ValueRange{arith::SelectOp::create(nb, l, empty, ninf, lg)});
            })
            .getResult(0);
    op.getLse().replaceAllUsesWith(lse);
  }
  op.erase();
  (void)m;
  return success();
}

} // namespace
