// End to end (CPU): the hand-written per-rank ring over packed documents
// (Inputs/doc_ring.mlir.in: ring attention with document ids, shards and
// unshards inside) on 1-4 thread ranks against its single-device form
// (Inputs/doc_mask.mlir: cp.sdpa with the same-document mask) on the same
// random inputs. The GPU path runs the same modules
// (scripts/gpu-compiled.sh, case documents).

// RUN: sed -e 's/NRANKS/1/g' -e 's/LOCAL/48/g' %S/Inputs/doc_ring.mlir.in > %t.1.mlir
// RUN: sed -e 's/NRANKS/2/g' -e 's/LOCAL/24/g' %S/Inputs/doc_ring.mlir.in > %t.2.mlir
// RUN: sed -e 's/NRANKS/3/g' -e 's/LOCAL/16/g' %S/Inputs/doc_ring.mlir.in > %t.3.mlir
// RUN: sed -e 's/NRANKS/4/g' -e 's/LOCAL/12/g' %S/Inputs/doc_ring.mlir.in > %t.4.mlir
// RUN: %cp-run %t.1.mlir --entry doc_ring --ranks 1 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 601 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %t.2.mlir --entry doc_ring --ranks 2 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 602 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %t.3.mlir --entry doc_ring --ranks 3 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 603 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %t.4.mlir --entry doc_ring --ranks 4 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 604 --compare-single-device 2>&1 | FileCheck %s

// CHECK: result #0 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
