# Fuzz targets, one per decoder of what a peer, a file or a user hands us.
# By default each runs under a small random-mutation driver (driver.c) as
# an ordinary test, over its seed corpus in tests/fuzz/corpus/<target>/
# plus mutations; with -DHAMLET_FUZZ=ON (clang, see the top CMakeLists.txt)
# they link libFuzzer instead: ./build.sh fuzz runs them.
set(HAMLET_FUZZ_CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)

# hamlet_fuzz(NAME SOURCES... LIBS libs...): fuzz_NAME from fuzz/fuzz_NAME.c
function(hamlet_fuzz name)
  cmake_parse_arguments(F "" "ITERATIONS" "SOURCES;LIBS" ${ARGN})
  if(NOT F_ITERATIONS)
    set(F_ITERATIONS 20000)
  endif()
  if(HAMLET_FUZZ)
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c ${F_SOURCES})
    target_compile_options(fuzz_${name} PRIVATE
      -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c fuzz/driver.c ${F_SOURCES})
    add_test(NAME fuzz_${name}
      COMMAND fuzz_${name} ${F_ITERATIONS} 1 ${HAMLET_FUZZ_CORPUS}/${name})
    set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT 120)
  endif()
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
endfunction()

hamlet_fuzz(entry LIBS hamlet_core)
hamlet_fuzz(bundle LIBS hamlet_core)
# a bundle's run frame: zstd bounded, compact entries rebuilt (as ENTRIES)
hamlet_fuzz(run LIBS hamlet_proto)
# sealed bundles opened with a fixed recipient key
hamlet_fuzz(seal LIBS hamlet_proto)
if(TARGET hamlet_wire)
  hamlet_fuzz(wire LIBS hamlet_wire)
endif()
# each input costs a few X25519 operations
hamlet_fuzz(noise ITERATIONS 4000 LIBS hamlet_proto)
hamlet_fuzz(negentropy LIBS hamlet_proto)
hamlet_fuzz(summary LIBS hamlet_core)
hamlet_fuzz(cert LIBS hamlet_proto)
# each input costs one or two Ed25519 verifications
hamlet_fuzz(revoke LIBS hamlet_proto)
hamlet_fuzz(forkproof LIBS hamlet_proto)
hamlet_fuzz(move LIBS hamlet_core)
# HOME/own-feeds (daemon/core/node_feeds_file.c)
hamlet_fuzz(own_feeds LIBS hamlet_core)
hamlet_fuzz(rpc_request LIBS hamlet_rpc_client)
if(TARGET hamlet_config)
  hamlet_fuzz(config LIBS hamlet_config)
endif()
# the status page from a client's Accept-Language and ?lang= and any
# status object (daemon/page.c)
if(TARGET hamlet_page)
  hamlet_fuzz(page LIBS hamlet_page)
endif()
# hamlet import's reading of CSV and NDJSON files (cli/import_read.c)
if(TARGET hamlet)
  foreach(t import_csv import_ndjson)
    hamlet_fuzz(${t}
      SOURCES ${CMAKE_SOURCE_DIR}/cli/import_read.c ${CMAKE_SOURCE_DIR}/cli/cli.c
        ${CMAKE_SOURCE_DIR}/cli/cli_json.c ${CMAKE_SOURCE_DIR}/cli/cli_rpc.c
        ${CMAKE_SOURCE_DIR}/cli/stop.c
      LIBS hamlet_core hamlet_rpc_client PkgConfig::JANSSON ${CSV_LIB})
    target_include_directories(fuzz_${t} PRIVATE ${CMAKE_SOURCE_DIR}/cli)
  endforeach()
endif()
