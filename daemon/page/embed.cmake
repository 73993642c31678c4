# Turn a file into a C array, so that hamletd carries the status page's
# stylesheet and needs no file at run time (no build step beyond CMake).
#   cmake -DIN=FILE -DOUT=HEADER -DNAME=IDENT -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
get_filename_component(base "${IN}" NAME)
file(WRITE "${OUT}"
  "/* generated from daemon/page/${base} by daemon/page/embed.cmake */\n"
  "static const char ${NAME}[] = {${hex}0x00};\n")
