# -*- Python -*-
# lit configuration for the cp compiler tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "CP"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "Unit", "HF"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.cp_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.cp_tools_dir, config.llvm_tools_dir]
tools = ["cp-opt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The GPU lowering (cp-lower-to-llvm{target=cuda}) assembles kernels with the
# CUDA toolkit's ptxas (no GPU needed): tests that go that far need it.
import shutil as _shutil
if _shutil.which("ptxas") or os.path.exists("/usr/local/cuda/bin/ptxas") or \
        os.path.exists(os.path.join(os.environ.get("CUDA_ROOT", "/nonexistent"), "bin", "ptxas")):
    config.available_features.add("ptxas")
