# Fuzz targets. By default each runs under a small random-mutation driver
# as an ordinary test; with -DHAMLET_FUZZ=ON (clang) they link libFuzzer.
option(HAMLET_FUZZ "Build the fuzz targets with libFuzzer (clang)" OFF)
foreach(t entry bundle)
  if(HAMLET_FUZZ)
    add_executable(fuzz_${t} fuzz/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${t} fuzz/fuzz_${t}.c fuzz/driver.c)
    add_test(NAME fuzz_${t} COMMAND fuzz_${t} 20000)
  endif()
  target_link_libraries(fuzz_${t} PRIVATE hamlet_core)
endforeach()
