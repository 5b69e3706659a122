//===- TMTensorOps.td - the subset of torch-mlir's tm_tensor -*- tablegen -*-===//
//
// torch-mlir's linalg-on-tensors output uses a few ops of its own TMTensor
// dialect where linalg has no equivalent; `torch.cumsum` becomes
// `tm_tensor.scan`. This dialect defines the ops cp meets in exported models
// with the same textual form, so such modules parse, and lowers them to
// upstream ops. Other tm_tensor ops (scatter, sort, topk, attention) are
// refused at parse time with a message that names them.
//
//===----------------------------------------------------------------------===//

#ifndef CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_TD
#define CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def TMTensor_Dialect : Dialect {
  let name = "tm_tensor";
  let cppNamespace = "::mlir::cp::tm_tensor";
  let summary = "The ops of torch-mlir's TMTensor dialect that exported "
                "models use (tm_tensor.scan)";
  let description = [{
    Parses what torch-mlir's FX importer emits for cumulative ops
    (`torch.cumsum`, `torch.cumprod`) in linalg-on-tensors output.
    `--cp-lower-tm-tensor` lowers the ops to `scf.for` over `tensor` and
    `linalg.generic`; `--cp-context-parallel` makes scans along the sequence
    context-parallel (`cp.seq_scan`).
  }];
  let extraClassDeclaration = [{
    /// Other tm_tensor ops get a parse error that names them, rather than
    /// the generic "unknown op".
    std::optional<ParseOpHook>
    getParseOperationHook(::llvm::StringRef opName) const override;
  }];
}

class TMTensor_Op<string mnemonic, list<Trait> traits = []>
    : Op<TMTensor_Dialect, mnemonic, traits>;

def TMTensor_ScanOp : TMTensor_Op<"scan", [RecursiveMemoryEffects]> {
  let summary = "inclusive or exclusive scan along one dimension";
  let description = [{
    Scans `input` along `dimension` with the binary combiner in the region
    (block arguments: the previous output element, then the input element),
    writing every partial result:

    - inclusive: `out[0] = in[0]`, `out[i] = f(out[i-1], in[i])`;
    - exclusive: `out[0] = acc`, `out[i] = f(out[i-1], in[i-1])`.

    `accumulator` has the input's shape without `dimension`; the second
    result is `out[n-1]` when the dimension has more than one element and
    the accumulator operand otherwise (torch-mlir's semantics). The first
    `outs` tensor only gives the result's shape (its values are not read).

    Example (`torch.cumsum(x, dim=1)` as torch-mlir emits it):
    ```mlir
    %r:2 = tm_tensor.scan dimension(1) inclusive(true)
        ins(%x : tensor<2x8xf32>) outs(%o, %acc : tensor<2x8xf32>, tensor<2xf32>) {
    ^bb0(%prev: f32, %in: f32):
      %s = arith.addf %prev, %in : f32
      tm_tensor.yield %s : f32
    } -> tensor<2x8xf32>, tensor<2xf32>
    ```
  }];
  let arguments = (ins I64Attr:$dimension, BoolAttr:$inclusive,
    AnyRankedTensor:$input, AnyRankedTensor:$output,
    AnyRankedTensor:$accumulator);
  let results = (outs AnyRankedTensor:$result,
    AnyRankedTensor:$accumulator_result);
  let regions = (region SizedRegion<1>:$region);
  let assemblyFormat = [{
    `dimension` `(` $dimension `)` `inclusive` `(` $inclusive `)` attr-dict
    `ins` `(` $input `:` type($input) `)`
    `outs` `(` $output `,` $accumulator `:` type($output) `,` type($accumulator) `)`
    $region `->` type($result) `,` type($accumulator_result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scalar combiner applied by the region, when it is one arith op
    /// of both block arguments (e.g. arith.addf); null otherwise.
    ::mlir::Operation *getCombiner();
  }];
}

def TMTensor_YieldOp : TMTensor_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"::mlir::cp::tm_tensor::ScanOp">]> {
  let summary = "yields the combined value of a tm_tensor.scan region";
  let description = [{
    Example:
    ```mlir
    tm_tensor.yield %s : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_TD
