//===- RuntimeCalls.h - The runtime entry table and call builder -*- C++ -*-===//
//
// One place that knows every runtime entry point compiled code calls: its
// family's name stem, the element types it comes in and its parameter list
// (runtime/include/cprt/cprt_compiler.h; the enum values passed are checked
// in RuntimeAbi.h). RuntimeCallBuilder turns a cp op's tensors into the
// call's buffers, declares the entry (once, in the nearest symbol table of
// the call) with the signature from the table, and calls it, in the manner
// of upstream GPUToLLVM's FunctionCallBuilder.
//
//===----------------------------------------------------------------------===//
#ifndef CP_LIB_CONVERSION_RUNTIMECALLS_H
#define CP_LIB_CONVERSION_RUNTIMECALLS_H

#include "cp/Conversion/CPToRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::cp::runtime {

/// A parameter of a runtime entry point.
enum class Param : uint8_t {
  Buf,    // memref<*xT>, T the entry's element type
  BufF32, // memref<*xf32> (masks, LSE, partial outputs)
  BufI32, // memref<*xi32> (document ids)
  BufI64, // memref<*xi64> (positions)
  I32,
  I64,
  F64,
  Flags,  // i32, CPRT_C_* attention flags
  Handle, // i64, a shift in flight
};

/// One family of entry points: `<prefix><stem>_<suffix>`.
struct EntrySpec {
  RuntimeEntry entry;
  StringLiteral stem;
  /// The element-type suffixes the runtime defines; empty: no suffix.
  ArrayRef<StringLiteral> suffixes;
  ArrayRef<Param> params;
  /// Returns an i64 (cprt_c_rank, the shift handle) instead of nothing.
  bool returnsI64;
};

const EntrySpec &spec(RuntimeEntry entry);

/// The family and suffix of a `cprt_c_*` symbol, if it names an entry.
std::optional<std::pair<RuntimeEntry, std::string>>
parseHostSymbol(StringRef name);

/// The suffix naming element type `t` (`f32`, `bf16`, ..., `i64`), or "".
std::string suffixOf(Type t);

/// The function type of `spec` for element type `elem`.
FunctionType functionType(MLIRContext *ctx, const EntrySpec &spec, Type elem);

/// Builds the buffers and the runtime calls that replace one op. Every
/// failure is reported at the op.
class RuntimeCallBuilder {
public:
  RuntimeCallBuilder(ConversionPatternRewriter &b, Operation *op,
                     const RuntimeTarget &target)
      : b(b), loc(op->getLoc()), op(op), target(target) {}

  /// The suffix of an element type the runtime's data movement takes, or
  /// an error.
  FailureOr<std::string> suffix(Type t);
  /// The suffix of an attention entry (the query's type: f32/bf16/f16).
  FailureOr<std::string> attentionSuffix(Type t);
  /// Refuses attention flags the target does not take.
  LogicalResult checkAttentionFlags(int32_t flags);

  int64_t elemBytes(Type t) {
    return t.isInteger(1) ? 1 : (t.getIntOrFloatBitWidth() + 7) / 8;
  }

  /// A read-only buffer of `tensor` as an unranked memref.
  Value input(Value tensor);
  Value unranked(Value memref);
  /// A fresh buffer for a result of type `t`.
  Value alloc(RankedTensorType t);
  /// The tensor holding `buffer` after the calls that write it.
  Value result(Value buffer, Type tensorType);
  /// A placeholder buffer for an absent optional operand.
  Value absent(Type elementType);
  /// Additive f32 mask [lead..., lq, lkv] from a bool (keep) or float mask
  /// broadcastable to it.
  Value additiveMask(Value mask, int64_t lq, int64_t lkv);
  /// Additive f32 mask [lead..., S, S] (the query's rank) of document ids
  /// `seg` ([S], or [B, S] with B the query's first dim): 0 where the ids
  /// of query and key match, -inf elsewhere; plus `mask` when given (as
  /// for additiveMask). Single-device attention has no document operand.
  Value documentMask(Value seg, Value mask, int64_t queryRank);
  /// An integer/index tensor cast to `to` (positions i64, documents i32).
  Value castInts(Value t, Type to);

  Value i32(int64_t v);
  Value i64(int64_t v);
  Value f64(double v);

  /// Declares (once) and calls the target's `entry` for element type
  /// `elem` with `args`, which must match the table's signature.
  FailureOr<func::CallOp> call(RuntimeEntry entry, Type elem, ValueRange args);
  /// The declaration of `name` with `type` in the nearest symbol table of
  /// the op, created if missing; an error if the name is taken otherwise.
  FailureOr<func::FuncOp> declare(StringRef name, FunctionType type);

  ConversionPatternRewriter &b;
  Location loc;
  Operation *op;
  const RuntimeTarget &target;
};

} // namespace mlir::cp::runtime

#endif // CP_LIB_CONVERSION_RUNTIMECALLS_H
