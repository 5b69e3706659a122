// RUN: cp-opt --help | FileCheck %s

// cp-opt lists the cp dialect, passes and pipeline.
// CHECK: Available Dialects: {{.*}}cp,
// CHECK-DAG: --cp-context-parallel
// CHECK-DAG: --cp-detect-attention
// CHECK-DAG: --cp-expand-ring
// CHECK-DAG: --cp-pipeline
// CHECK-DAG: load-balance
