//===- TMTensorDialect.h - torch-mlir's tm_tensor subset --------*- C++ -*-===//

#ifndef CP_DIALECT_TMTENSOR_IR_TMTENSORDIALECT_H
#define CP_DIALECT_TMTENSOR_IR_TMTENSORDIALECT_H

#include "mlir/IR/Dialect.h"

#include "cp/Dialect/TMTensor/IR/TMTensorDialect.h.inc"

#endif // CP_DIALECT_TMTENSOR_IR_TMTENSORDIALECT_H
