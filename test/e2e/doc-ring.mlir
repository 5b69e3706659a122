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

// Forward + backward (@doc_ring_bwd: the ring's backward with document ids
// against cp.sdpa_backward with the mask).
// RUN: %cp-run %t.2.mlir --entry doc_ring_bwd --ranks 2 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 605 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BWD
// RUN: %cp-run %t.3.mlir --entry doc_ring_bwd --ranks 3 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 606 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BWD
// RUN: %cp-run %t.4.mlir --entry doc_ring_bwd --ranks 4 --reference %S/Inputs/doc_mask.mlir --random-inputs --seed 607 --compare-single-device 2>&1 | FileCheck %s --check-prefix=BWD

// CHECK: result #0 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
// BWD: result #0 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
// BWD: result #1 vs single device f32(1, 4, 48, 16): max abs err {{.*}} ok
// BWD: result #2 vs single device f32(1, 2, 48, 16): max abs err {{.*}} ok
// BWD: result #3 vs single device f32(1, 2, 48, 16): max abs err {{.*}} ok
