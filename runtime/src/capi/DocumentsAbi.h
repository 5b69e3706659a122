//===- DocumentsAbi.h - checks of the per-document ring entries -*- C++ -*-===//
//
// Internal to the runtime (not installed). What cprt_c_ring_docs_* (CPU,
// DocumentsCApi.cpp) and their GPU twins cprt_gpu_ring_docs_*
// (GpuCompiledAbi.cpp) check before the ring: the flags, the shape of the
// whole sequence's document ids, and that the per-document layout of those
// ids has the local length the code was compiled for. They throw
// cprt::Error; the callers' guards turn it into their sticky error.
//
//===----------------------------------------------------------------------===//
#ifndef CPRT_SRC_CAPI_DOCUMENTSABI_H
#define CPRT_SRC_CAPI_DOCUMENTSABI_H

#include "cprt/cprt.h"

#include <cstddef>
#include <cstdint>

namespace cprt::abi {

/// The entry's flags and balancer: per_document_head_tail, document ids
/// given, no explicit mask and no window.
void checkDocumentFlags(int32_t flags, int32_t balancer, int64_t window);

/// The ids buffer has shape [seqLen] (`rank` dims, the first `len0`).
void checkDocumentIdsShape(size_t rank, int64_t len0, int64_t seqLen);

/// The ids of the whole sequence (`ids`, host memory, seqLen of them) as the
/// runtime's mask, after checking that the per-document layout they give
/// has `localLen` tokens per rank.
cprt_mask documentMask(const int32_t *ids, int64_t seqLen, int64_t localLen);

} // namespace cprt::abi

#endif // CPRT_SRC_CAPI_DOCUMENTSABI_H
