// End to end: torch-mlir's export (scripts/gen-scan-fixtures.py) of
// positions = cumsum(mask) * mask - 1 (OPT) as sin features of q, a float
// cumsum of k along the sequence and a cumsum of q over the head dim, into
// causal attention. Context-parallel on 1-4 thread ranks for every
// balancer, compared with the single-device module (which lowers
// tm_tensor.scan to loops).

// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 1 --pipeline "load-balance=head_tail" --random-inputs --seed 600 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 2 --pipeline "load-balance=none" --random-inputs --seed 601 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 2 --pipeline "load-balance=striped" --random-inputs --seed 602 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 3 --pipeline "load-balance=head_tail" --random-inputs --seed 603 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 3 --pipeline "load-balance=striped rotate=alltoall" --random-inputs --seed 604 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 4 --pipeline "load-balance=head_tail" --random-inputs --seed 605 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 4 --pipeline "load-balance=none rotate=allgather" --random-inputs --seed 606 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 4 --pipeline "load-balance=striped" --random-inputs --seed 607 --compare-single-device 2>&1 | FileCheck %s
// 24 positions do not split over 5 ranks: padded slots must not reach the scan.
// RUN: %cp-run %S/Inputs/scan_positions.linalg.mlir --entry scan_positions --ranks 5 --pipeline "load-balance=head_tail pad=true" --random-inputs --seed 608 --compare-single-device 2>&1 | FileCheck %s

// The same module exported to TOSA: each cumsum is a chain of pad + slice
// shifts of the sequence, raised to a scan by cp-raise-tosa-scan.
// RUN: %cp-run %S/Inputs/scan_positions.tosa.mlir --entry scan_positions --ranks 3 --pipeline "load-balance=striped" --random-inputs --seed 610 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.tosa.mlir --entry scan_positions --ranks 4 --pipeline "load-balance=head_tail" --random-inputs --seed 611 --compare-single-device 2>&1 | FileCheck %s
// RUN: %cp-run %S/Inputs/scan_positions.tosa.mlir --entry scan_positions --ranks 2 --pipeline "load-balance=none" --random-inputs --seed 612 --compare-single-device 2>&1 | FileCheck %s
// RUN: cp-opt %S/Inputs/scan_positions.tosa.mlir --cp-pipeline="grid-size=4" | FileCheck %s --check-prefix=IRT
// IRT-NOT: tosa.pad
// IRT-COUNT-2: cp.seq_scan
// IRT: tm_tensor.scan dimension(1) {{.+}} tensor<12x8x1xf32>
// IRT: cp.block_attention

// The pipeline really scans across ranks (not a replicated module).
// RUN: cp-opt %S/Inputs/scan_positions.linalg.mlir --cp-pipeline="grid-size=4" | FileCheck %s --check-prefix=IR
// IR-COUNT-2: cp.seq_scan
// IR: tm_tensor.scan dimension(3)
// IR: cp.block_attention

// CHECK: result #0 vs single device f32(1, 2, 24, 8): max abs err {{.*}} ok
