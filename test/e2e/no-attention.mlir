// --pipeline on a module in which nothing is made context-parallel: every
// rank would run the whole module. cp-run refuses (exit 2) unless
// --allow-replicated, which warns and runs it.

// RUN: not %cp-run %S/Inputs/add.mlir --entry add --ranks 2 --pipeline default --random-inputs 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: sh -c '%cp-run %S/Inputs/add.mlir --entry add --ranks 2 --pipeline default --random-inputs --quiet 2>/dev/null; echo exit=$?' | FileCheck %s --check-prefix=RC
// RC: exit=2
// ERR: cp-run: error: no attention was made context-parallel in {{.*}}add.mlir: every rank would run the whole module (run `cp-opt {{.*}} --cp-detect-attention=report-misses=true` to see why attention was not detected); pass --allow-replicated to run it replicated anyway

// RUN: %cp-run %S/Inputs/add.mlir --entry add --ranks 2 --pipeline default --random-inputs --allow-replicated --compare-single-device 2>&1 | FileCheck %s --check-prefix=WARN
// WARN: cp-run: warning: no attention was made context-parallel
// WARN: result #0 vs single device f32(2, 3): {{.*}} ok
