//===- TMTensorOps.h - torch-mlir's tm_tensor subset ------------*- C++ -*-===//

#ifndef CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_H
#define CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_H

#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "cp/Dialect/TMTensor/IR/TMTensorOps.h.inc"

#endif // CP_DIALECT_TMTENSOR_IR_TMTENSOROPS_H
