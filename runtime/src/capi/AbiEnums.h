//===- AbiEnums.h - the C ABI's integers against the C++ enums -*- C++ -*-===//
//
// Internal to the runtime (not installed). The C ABI (cprt.h,
// cprt_compiler.h) passes enumerations as int32_t; the runtime casts them to
// its C++ enums after a range check. The static_asserts below prove that
// both sides number every case alike, so a case added or renumbered on one
// side stops the build (the compiler checks the dialect's enums against the
// same C constants in lib/Conversion/RuntimeAbi.h). Flags, reduction kinds
// and the matmul flags have no C++ twin: the runtime reads the C constants
// themselves.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SRC_CAPI_ABIENUMS_H
#define CPRT_SRC_CAPI_ABIENUMS_H

#include "cprt/Attention.h"
#include "cprt/Communicator.h"
#include "cprt/Error.h"
#include "cprt/LoadBalancer.h"
#include "cprt/RingAttention.h"
#include "cprt/cprt.h"
#include "cprt/cprt_compiler.h"

#include <cstdint>

namespace cprt::abi {

static_assert(int32_t(ErrorCode::Ok) == CPRT_OK &&
                  int32_t(ErrorCode::Invalid) == CPRT_ERR_INVALID &&
                  int32_t(ErrorCode::Comm) == CPRT_ERR_COMM &&
                  int32_t(ErrorCode::Timeout) == CPRT_ERR_TIMEOUT &&
                  int32_t(ErrorCode::Internal) == CPRT_ERR_INTERNAL,
              "ErrorCode and cprt_status disagree");
static_assert(int32_t(DType::F32) == CPRT_F32 &&
                  int32_t(DType::BF16) == CPRT_BF16 &&
                  int32_t(DType::F16) == CPRT_F16,
              "DType and cprt_dtype disagree");
static_assert(int32_t(RotateMethod::AllGather) == CPRT_ROTATE_ALLGATHER &&
                  int32_t(RotateMethod::AllToAll) == CPRT_ROTATE_ALLTOALL &&
                  int32_t(RotateMethod::Ring) == CPRT_ROTATE_RING,
              "RotateMethod and cprt_rotate disagree");
static_assert(int32_t(Balancer::None) == CPRT_BALANCE_NONE &&
                  int32_t(Balancer::HeadTail) == CPRT_BALANCE_HEAD_TAIL &&
                  int32_t(Balancer::Striped) == CPRT_BALANCE_STRIPED &&
                  int32_t(Balancer::PerDocumentHeadTail) ==
                      CPRT_BALANCE_PER_DOCUMENT_HEAD_TAIL &&
                  int32_t(Balancer::Ptrr) == CPRT_BALANCE_PTRR,
              "Balancer and cprt_balancer disagree");
static_assert(int32_t(StepCausal::Skip) == CPRT_SKIP &&
                  int32_t(StepCausal::NotCausal) == CPRT_NOT_CAUSAL &&
                  int32_t(StepCausal::Causal) == CPRT_CAUSAL &&
                  int32_t(StepCausal::CausalStrict) == CPRT_CAUSAL_STRICT &&
                  int32_t(StepCausal::KvHeadHalf) == CPRT_KV_HEAD_HALF &&
                  int32_t(StepCausal::QTailHalf) == CPRT_Q_TAIL_HALF,
              "StepCausal and cprt_step_causal disagree");
static_assert(int32_t(ScanKind::Sum) == CPRT_C_SCAN_SUM &&
                  int32_t(ScanKind::Prod) == CPRT_C_SCAN_PROD,
              "ScanKind and the seq_scan entry points disagree");

/// True if `v` is a single bit.
constexpr bool oneBit(int32_t v) { return v > 0 && (v & (v - 1)) == 0; }

// The flags are tested bit by bit: each must be its own bit.
static_assert(oneBit(CPRT_C_CAUSAL) && oneBit(CPRT_C_HAS_MASK) &&
                  oneBit(CPRT_C_HAS_LSE) && oneBit(CPRT_C_HAS_SEGMENTS) &&
                  oneBit(CPRT_C_HAS_POSITIONS) && oneBit(CPRT_C_GQA) &&
                  (CPRT_C_CAUSAL | CPRT_C_HAS_MASK | CPRT_C_HAS_LSE |
                   CPRT_C_HAS_SEGMENTS | CPRT_C_HAS_POSITIONS | CPRT_C_GQA) ==
                      63,
              "the attention flags must be distinct bits");
static_assert(oneBit(CPRT_C_MATMUL_TRANS_A) &&
                  oneBit(CPRT_C_MATMUL_TRANS_B) &&
                  oneBit(CPRT_C_MATMUL_ACCUMULATE) &&
                  (CPRT_C_MATMUL_TRANS_A | CPRT_C_MATMUL_TRANS_B |
                   CPRT_C_MATMUL_ACCUMULATE) == 7,
              "the matmul flags must be distinct bits");

} // namespace cprt::abi

#endif // CPRT_SRC_CAPI_ABIENUMS_H
