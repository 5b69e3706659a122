//===- Passes.td - tm_tensor passes ------------------------*- tablegen -*-===//

#ifndef CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_TD
#define CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPLowerTMTensor : Pass<"cp-lower-tm-tensor"> {
  let summary = "Lower tm_tensor.scan on tensors to scf.for and linalg.generic";
  let description = [{
    Each `tm_tensor.scan` becomes a loop over the scanned dimension that
    carries the running value (a tensor of the other dims): the first
    element is peeled (`in[0]` when inclusive, the accumulator when
    exclusive), every later step applies the scan's region to the carried
    value and the next input slice in one `linalg.generic` and inserts the
    result into the output. Needs static shapes.

    Example: `tm_tensor.scan dimension(1)` of `tensor<2x8xf32>` becomes
    `scf.for %i = 1 to 8` with `iter_args` of `tensor<2xf32>` (the running
    sum) and `tensor<2x8xf32>` (the output).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // CP_DIALECT_TMTENSOR_TRANSFORMS_PASSES_TD
