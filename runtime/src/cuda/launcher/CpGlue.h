/*===- CpGlue.h - What cprt-gpu-run needs from a compiled module ---------===*
 *
 * CMake generates the definitions (cp_glue_<entry>.c) from the header that
 * `cp-run --emit-header` wrote: the tensor tables and a call of
 * `_mlir_ciface_<entry>` with one memref descriptor pointer per argument and
 * out-param.
 *
 *===----------------------------------------------------------------------===*/
#ifndef CPRT_CP_GLUE_H
#define CPRT_CP_GLUE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CP_AOT_COMMON
typedef struct cp_aot_tensor {
  const char *dtype;
  int32_t elem_bytes;
  int32_t rank;
  int64_t local_shape[8];
  int64_t global_shape[8];
  int32_t shard_dim;
  int32_t balancer;
  int64_t seq_len;
} cp_aot_tensor;
#endif

extern const cp_aot_tensor *cp_glue_inputs, *cp_glue_outputs;
extern const int cp_glue_num_inputs, cp_glue_num_outputs, cp_glue_grid_size;
extern const char *cp_glue_entry;
/* The input holding the whole sequence's document ids that
 * per_document_head_tail shardings are laid out by (the header's
 * <ENTRY>_DOCUMENTS_INPUT), or -1. */
extern const int cp_glue_documents_input;
/* args: inputs then outputs, each a pointer to a memref descriptor. */
void cp_glue_call(void **args);

#ifdef __cplusplus
}
#endif

#endif
