# Install rules and the CMake package (find_package(lowbit)).
include(CMakePackageConfigHelpers)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/lowbit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS lowbit EXPORT lowbitTargets)
if(TARGET lowbit_compiled AND LOWBIT_IS_TOP_LEVEL)
  install(TARGETS lowbit_compiled EXPORT lowbitTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(EXPORT lowbitTargets NAMESPACE lowbit:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lowbit)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lowbitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lowbitConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lowbit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lowbitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/lowbitConfig.cmake ${PROJECT_BINARY_DIR}/lowbitConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/lowbitDependencies.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lowbit)

# pkg-config: lowbit.pc (header-only) and, with the compile-once library, lowbit-compiled.pc.
# cpuinfo, when this build found it, is named so consumers get the same detection.
set(LOWBIT_PC_REQUIRES "")
set(LOWBIT_PC_CFLAGS "")
if(TARGET lowbit_cpuinfo)
  set(LOWBIT_PC_REQUIRES "libcpuinfo")
  set(LOWBIT_PC_CFLAGS "-DLOWBIT_HAVE_CPUINFO=1")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/lowbit.pc.in ${PROJECT_BINARY_DIR}/lowbit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lowbit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET lowbit_compiled AND LOWBIT_IS_TOP_LEVEL)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/lowbit-compiled.pc.in
                 ${PROJECT_BINARY_DIR}/lowbit-compiled.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/lowbit-compiled.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
