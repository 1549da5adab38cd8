# embed_file.cmake - turns a file into a C array so the binary needs no repo
# at run time:  cmake -DIN=file -DOUT=out.c -DNAME=sym -P embed_file.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT}.tmp "/* generated from ${IN} by embed_file.cmake; do not edit */\n"
  "#include <stddef.h>\n"
  "const char ${NAME}[] = {${hex}0};\n"
  "const size_t ${NAME}_len = ${len};\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
