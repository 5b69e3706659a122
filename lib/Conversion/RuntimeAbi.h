//===- RuntimeAbi.h - The compiler's view of the runtime's C ABI -*- C++ -*-===//
//
// One source of truth between compiler and runtime: the lowerings pass the
// runtime's own constants (runtime/include/cprt/cprt.h and cprt_compiler.h)
// and the dialect's enums are cast to int32_t only where the static_asserts
// below prove that both sides number them alike. A new enum case on either
// side that the other does not know stops the build here.
//
//===----------------------------------------------------------------------===//
#ifndef CP_LIB_CONVERSION_RUNTIMEABI_H
#define CP_LIB_CONVERSION_RUNTIMEABI_H

#include "cp/Dialect/CP/IR/CPOps.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <cstdint>

namespace mlir::cp::abi {

template <typename E> constexpr int32_t value(E e) {
  return static_cast<int32_t>(e);
}

static_assert(value(RotateMethod::allgather) == CPRT_ROTATE_ALLGATHER &&
                  value(RotateMethod::alltoall) == CPRT_ROTATE_ALLTOALL &&
                  value(RotateMethod::ring) == CPRT_ROTATE_RING &&
                  int32_t(getMaxEnumValForRotateMethod()) == CPRT_ROTATE_RING,
              "#cp.rotate and cprt_rotate disagree");
static_assert(
    value(LoadBalancer::none) == CPRT_BALANCE_NONE &&
        value(LoadBalancer::head_tail) == CPRT_BALANCE_HEAD_TAIL &&
        value(LoadBalancer::striped) == CPRT_BALANCE_STRIPED &&
        value(LoadBalancer::per_document_head_tail) ==
            CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL &&
        value(LoadBalancer::ptrr) == CPRT_BALANCE_PTRR &&
        int32_t(getMaxEnumValForLoadBalancer()) == CPRT_BALANCE_PTRR,
    "#cp.balancer and cprt_balancer disagree");
static_assert(value(CausalBehavior::skip) == CPRT_SKIP &&
                  value(CausalBehavior::not_causal) == CPRT_NOT_CAUSAL &&
                  value(CausalBehavior::causal) == CPRT_CAUSAL &&
                  value(CausalBehavior::causal_strict) == CPRT_CAUSAL_STRICT &&
                  value(CausalBehavior::kv_head_half) == CPRT_KV_HEAD_HALF &&
                  value(CausalBehavior::q_tail_half) == CPRT_Q_TAIL_HALF &&
                  int32_t(getMaxEnumValForCausalBehavior()) == CPRT_Q_TAIL_HALF,
              "#cp.causal and cprt_step_causal disagree");
static_assert(value(ScanKind::sum) == CPRT_C_SCAN_SUM &&
                  value(ScanKind::prod) == CPRT_C_SCAN_PROD &&
                  int32_t(getMaxEnumValForScanKind()) == CPRT_C_SCAN_PROD,
              "#cp.scan_kind and the seq_scan entry points disagree");

} // namespace mlir::cp::abi

#endif // CP_LIB_CONVERSION_RUNTIMEABI_H
