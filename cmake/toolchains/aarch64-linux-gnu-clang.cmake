# AArch64 Linux with Clang: the aarch64-linux-gnu toolchain (its sysroot, libstdc++, binutils and
# QEMU emulator settings) with clang/clang++ targeting it. scripts/test-arm builds test_neon with
# it, so the dotprod and i8mm kernels are checked under Clang as well as GCC.
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu.cmake)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET ${LOWBIT_ARM_TRIPLET})
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_CXX_COMPILER_TARGET ${LOWBIT_ARM_TRIPLET})
