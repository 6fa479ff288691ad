# Cross-compiling lowbit for 32-bit Arm Linux (Armv7-A with NEON, hard float)
# with Debian's GNU cross toolchain.
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/armv7-linux-gnueabihf.cmake
# ctest runs every test binary through LOWBIT_ARM_EMULATOR (default: QEMU user mode as a Cortex-A7,
# an Armv7-A core with NEON and VFPv4). Another core, for instance:
#   -DLOWBIT_ARM_EMULATOR="qemu-arm;-cpu;cortex-a15;-L;/usr/arm-linux-gnueabihf"
# or change it later with `cmake -D...` on the same build tree: nothing recompiles, the tests
# relink so that Catch2's test discovery runs again under the new emulator.
# Libraries for the target (cpuinfo) are searched under LOWBIT_ARM_PREFIX (see scripts/arm-deps).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7-a)

set(LOWBIT_ARM_TRIPLET arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${LOWBIT_ARM_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${LOWBIT_ARM_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${LOWBIT_ARM_TRIPLET})

# Debian's armhf default (-march=armv7-a+fp, VFPv3-D16) has no NEON: ask for it explicitly.
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=neon -mfloat-abi=hard")

set(LOWBIT_ARM_EMULATOR "qemu-arm;-cpu;cortex-a7;-L;/usr/${LOWBIT_ARM_TRIPLET}"
    CACHE STRING "Command (a CMake list) that runs target binaries on the build machine")
set(CMAKE_CROSSCOMPILING_EMULATOR ${LOWBIT_ARM_EMULATOR})

set(LOWBIT_ARM_PREFIX "" CACHE PATH "Unpacked armhf packages (a .../usr folder), e.g. from scripts/arm-deps")
if(LOWBIT_ARM_PREFIX)
  list(APPEND CMAKE_PREFIX_PATH ${LOWBIT_ARM_PREFIX})
endif()
