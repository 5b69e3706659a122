# CTest driver (cp.install.consumer): installs the build into a fresh
# prefix, configures and builds examples/consumer against it with
# find_package(cp), and runs the consumer and the installed tools (they
# must find LLVM's shared libraries through their install RPATH).
#   cmake -DCP_BINARY_DIR=... -DCP_SOURCE_DIR=... -DWORK_DIR=... -P TestConsumer.cmake
cmake_minimum_required(VERSION 3.20)
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

step(${CMAKE_COMMAND} --install "${CP_BINARY_DIR}" --prefix "${prefix}")
foreach(f lib/cmake/cp/cpConfig.cmake include/cp/InitAll.h
          include/cprt/cprt.h include/cprt/cprt_compiler.h)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
set(gen "")
if(GENERATOR)
  set(gen -G "${GENERATOR}")
endif()
step(${CMAKE_COMMAND} -S "${CP_SOURCE_DIR}/examples/consumer" -B "${build}"
     ${gen} "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${build}" -j 2)
execute_process(COMMAND "${build}/cp-consumer" RESULT_VARIABLE rc
  OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "cp-consumer: ok")
  message(FATAL_ERROR "cp-consumer failed (${rc})")
endif()

# The installed tools start without LD_LIBRARY_PATH.
execute_process(COMMAND "${prefix}/bin/cp-opt" --help
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "cp-context-parallel")
  message(FATAL_ERROR "installed cp-opt --help failed (${rc}): ${err}")
endif()
if(EXISTS "${prefix}/bin/cp-run")
  step("${prefix}/bin/cp-run"
       "${CP_SOURCE_DIR}/test/Fixtures/Inputs/sdpa_causal_f32.linalg.mlir"
       --entry sdpa_causal_f32 --ranks 2 --pipeline default
       --random-inputs --seed 3 --compare-single-device --quiet)
endif()
message(STATUS "installed tools: ok")
