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
