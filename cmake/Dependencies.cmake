# Every third-party dependency, found once. Debian 12 packages (scripts/install-deps).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED CONFIG)
find_package(date REQUIRED CONFIG)
find_package(prometheus-cpp REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

# libcsv (RFC 4180 parser): no CMake package, plain header + library.
find_path(CSV_INCLUDE_DIR csv.h REQUIRED)
find_library(CSV_LIBRARY NAMES csv REQUIRED)
add_library(libcsv::csv UNKNOWN IMPORTED)
set_target_properties(libcsv::csv PROPERTIES IMPORTED_LOCATION ${CSV_LIBRARY}
                                             INTERFACE_INCLUDE_DIRECTORIES ${CSV_INCLUDE_DIR})

# libphonenumber: on Debian 12 the -dev package cannot sit beside Boost 1.81, so
# scripts/install-deps unpacks its headers into .deps/libphonenumber; a system install wins.
find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h
          HINTS ${CMAKE_SOURCE_DIR}/.deps/libphonenumber/usr/include REQUIRED)
find_library(PHONENUMBER_LIBRARY NAMES phonenumber libphonenumber.so.8 REQUIRED
             PATHS /usr/lib/x86_64-linux-gnu /usr/lib NO_CMAKE_PATH)
find_package(Protobuf REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
add_library(libphonenumber::phonenumber UNKNOWN IMPORTED)
set_target_properties(libphonenumber::phonenumber PROPERTIES
  IMPORTED_LOCATION ${PHONENUMBER_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES "${PHONENUMBER_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "protobuf::libprotobuf;ICU::uc;ICU::i18n")
# Headers unpacked into a project folder are still third-party: no warnings from them.
set_target_properties(libphonenumber::phonenumber PROPERTIES
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${PHONENUMBER_INCLUDE_DIR}")
