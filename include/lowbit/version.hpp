// lowbit: the library's version (the project version in CMakeLists.txt; CHANGELOG.md says what
// each one changed).
#pragma once

#define LOWBIT_VERSION_MAJOR 0
#define LOWBIT_VERSION_MINOR 2
#define LOWBIT_VERSION_PATCH 0
// MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons.
#define LOWBIT_VERSION \
  (LOWBIT_VERSION_MAJOR * 10000 + LOWBIT_VERSION_MINOR * 100 + LOWBIT_VERSION_PATCH)
