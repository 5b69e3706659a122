//===- DetectExpr.h - tensor expressions for detection ---------*- C++ -*-===//
//
// A value-semantics view of tensor IR used by --cp-detect-attention: a tensor
// read at an affine map of "root" dims is expanded, through every
// elementwise producer (linalg ops with parallel iterators, named linalg
// elementwise ops, TOSA elementwise ops, arith on tensors), transposes,
// broadcasts and reshapes, into one scalar expression tree over the root
// dims. Reductions become `Reduce` nodes over one extra dim. What cannot be
// looked through (contractions, function arguments, ...) stays a `Leaf`.
//
// The point: linalg generics (fused or not), named linalg ops and TOSA all
// produce the same tree, so the attention matcher is written once and can
// compare sub-expressions structurally (e.g. "the max is taken over the same
// scores that are exponentiated").
//
//===----------------------------------------------------------------------===//

#ifndef CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPR_H
#define CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPR_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace mlir::cp::detect {

/// Scalar functions, normalised over arith/math and TOSA.
enum class Fn {
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Min,
  Exp,
  Tanh,
  Neg,
  Recip,
  Rsqrt,
  Sqrt,
  ExtF,
  TruncF,
  SIToFP,
  FPToSI,
  IntCast,
  CmpF,
  CmpI,
  Select,
  AndI,
  OrI,
  XOrI,
  AddI,
  SubI,
  MulI,
  Unknown
};

struct Expr {
  enum Kind { Leaf, Const, Index, Op, Reduce, Softmax } kind;
  /// Scalar element type of the expression.
  Type type;
  /// Leaf: `tensor` read at `map` (root dims -> tensor indices).
  Value tensor;
  AffineMap map;
  /// Const: the value (booleans and integers in `ival`).
  double fval = 0;
  int64_t ival = 0;
  /// Index: the position along a root dim (an affine expr of root dims).
  AffineExpr index;
  /// Op / Reduce (combiner): the function and, for comparisons, the
  /// predicate (arith::CmpFPredicate / CmpIPredicate as an integer).
  Fn fn = Fn::Unknown;
  int64_t pred = 0;
  /// Softmax: the root dim normalised over.
  unsigned dim = 0;
  /// Op: operands. Reduce: the body, in a space of one more dim (the last
  /// one is reduced). Softmax: the input.
  llvm::SmallVector<const Expr *, 3> args;
  /// The tensors (and maps) whose expansion gave this node, innermost
  /// first: lets the matcher "refold" a sub-expression into an SSA tensor.
  llvm::SmallVector<std::pair<Value, AffineMap>, 2> srcs;

  bool isConst(double v) const { return kind == Const && fval == v; }
  bool isOp(Fn f) const { return kind == Op && fn == f; }
};

/// A space of root dims with their sizes (ShapedType::kDynamic if unknown).
using Sizes = llvm::SmallVector<int64_t, 6>;

/// Simplifies `e` knowing 0 <= d_i < sizes[i]: unit dims become 0,
/// `(a*c + r) floordiv c` and `mod c` fold when 0 <= r < c.
AffineExpr simplifyWithRanges(AffineExpr e, ArrayRef<int64_t> sizes);
AffineMap simplifyWithRanges(AffineMap m, ArrayRef<int64_t> sizes);

class ExprBuilder {
public:
  explicit ExprBuilder(MLIRContext *ctx) : ctx(ctx) {}

  /// The expansion of `v` read at `map` (root dims of `sizes` -> indices).
  const Expr *expand(Value v, AffineMap map, ArrayRef<int64_t> sizes);

  /// `e` with dims renamed: root dim i of `e`'s space becomes `sub[i]`, an
  /// expression over a space of `sizes`.
  const Expr *rename(const Expr *e, ArrayRef<AffineExpr> sub,
                     ArrayRef<int64_t> sizes);

  const Expr *makeConst(Type t, double f, int64_t i);
  const Expr *makeOp(Fn fn, Type t, ArrayRef<const Expr *> args,
                     int64_t pred = 0);

  /// Operations the expansion looked through (candidates for erasure once
  /// the root is replaced).
  llvm::DenseSet<Operation *> visited;

  MLIRContext *getContext() const { return ctx; }

private:
  Expr *alloc(Expr::Kind k, Type t);
  const Expr *expandImpl(Value v, AffineMap map, ArrayRef<int64_t> sizes);
  const Expr *expandLinalg(Operation *op, unsigned resultNo, AffineMap map,
                           ArrayRef<int64_t> sizes);
  const Expr *expandTosa(Operation *op, AffineMap map, ArrayRef<int64_t> sizes);

  struct LinalgBody;
  /// Maps a linalg op's loops onto the reader's space (its reduced loop onto
  /// a new trailing dim); false if the result is not read as a projection.
  bool substituteLoops(LinalgBody &lb, unsigned resultNo,
                       ArrayRef<int64_t> sizes);
  /// The expansion of the scalar `s` of a linalg op's body.
  const Expr *linalgScalar(LinalgBody &lb, Value s);
  /// The expansion of a linalg reduction yielding `yielded`.
  const Expr *expandLinalgReduction(LinalgBody &lb, Value yielded,
                                    ArrayRef<int64_t> sizes);
  /// A TOSA elementwise operand `in` of `result`, with size-1 broadcasting;
  /// null if the ranks differ.
  const Expr *tosaOperand(Value in, Value result, AffineMap map,
                          ArrayRef<int64_t> sizes);
  /// `fn` applied elementwise to the TOSA op's operands `ins`.
  const Expr *tosaElementwise(Operation *op, Fn fn, ArrayRef<Value> ins,
                              AffineMap map, ArrayRef<int64_t> sizes,
                              int64_t pred = 0);
  /// The expansion of an elementwise TOSA op; null if `op` is not one.
  const Expr *expandTosaElementwise(Operation *op, AffineMap map,
                                    ArrayRef<int64_t> sizes);
  /// The expansion of tosa.tile, transpose and reduce_*; null for others.
  const Expr *expandTosaStructural(Operation *op, AffineMap map,
                                   ArrayRef<int64_t> sizes);
  const Expr *leaf(Value v, AffineMap map);

  MLIRContext *ctx;
  std::deque<Expr> arena;
  std::map<std::tuple<void *, void *, std::vector<int64_t>>, const Expr *> memo;
};

/// Structural equality (leaves by value and map).
bool equal(const Expr *a, const Expr *b);

/// True if `e` reads root dim `d` anywhere (leaf maps and indices).
bool usesDim(const Expr *e, unsigned d);

/// True if `e` is made only of constants, positions and dense constant
/// tensors: a mask computed from positions.
bool isPositional(const Expr *e);

/// A scalar value of the interpreter.
struct Scalar {
  bool isFloat = false;
  double f = 0;
  int64_t i = 0;
};

/// Evaluates a positional expression at `point` (one value per root dim).
std::optional<Scalar> evaluate(const Expr *e, ArrayRef<int64_t> point);

/// Emits a positional integer/boolean expression as arith ops with `dims`
/// (index values) for the root dims; nullptr if some node has no emitter.
Value emitScalar(OpBuilder &b, Location loc, const Expr *e,
                 ArrayRef<Value> dims);

/// Debug print.
std::string toString(const Expr *e);

} // namespace mlir::cp::detect

#endif // CP_LIB_DIALECT_CP_TRANSFORMS_DETECTEXPR_H
