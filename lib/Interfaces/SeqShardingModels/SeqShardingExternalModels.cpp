//===- SeqShardingExternalModels.cpp - register all external models -------===//

#include "cp/Interfaces/SeqShardingExternalModels.h"
#include "Models.h"

void mlir::cp::registerSeqShardingExternalModels(DialectRegistry &registry) {
  detail::registerElementwiseModels(registry);
  detail::registerLinalgModels(registry);
  detail::registerTensorModels(registry);
  detail::registerTosaModels(registry);
  detail::registerTMTensorModels(registry);
  detail::registerCPModels(registry);
}
