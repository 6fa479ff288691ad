# Cross-compiling lowbit for 64-bit Arm Linux (Armv8-A baseline)
# with Debian's GNU cross toolchain.
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# ctest runs every test binary through LOWBIT_ARM_EMULATOR (default: QEMU user mode emulating the
# newest CPU it knows). Pick an older core to prove the baseline code uses nothing newer:
#   -DLOWBIT_ARM_EMULATOR="qemu-aarch64;-cpu;cortex-a53;-L;/usr/aarch64-linux-gnu"
# or change it later with `cmake -D...` on the same build tree: nothing recompiles, the tests
# relink so that Catch2's test discovery runs again under the new emulator.
# Libraries for the target (cpuinfo) are searched under LOWBIT_ARM_PREFIX (see scripts/arm-deps).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LOWBIT_ARM_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${LOWBIT_ARM_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${LOWBIT_ARM_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${LOWBIT_ARM_TRIPLET})

# Baseline Armv8-A: the dotprod and i8mm kernels enable their extensions per function.
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")

set(LOWBIT_ARM_EMULATOR "qemu-aarch64;-cpu;max;-L;/usr/${LOWBIT_ARM_TRIPLET}"
    CACHE STRING "Command (a CMake list) that runs target binaries on the build machine")
set(CMAKE_CROSSCOMPILING_EMULATOR ${LOWBIT_ARM_EMULATOR})

set(LOWBIT_ARM_PREFIX "" CACHE PATH "Unpacked arm64 packages (a .../usr folder), e.g. from scripts/arm-deps")
if(LOWBIT_ARM_PREFIX)
  list(APPEND CMAKE_PREFIX_PATH ${LOWBIT_ARM_PREFIX})
endif()
