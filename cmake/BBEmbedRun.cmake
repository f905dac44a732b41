# Script mode helper for bb_embed(): IN, OUT, SYM.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n    "
    bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/BBEmbedRun.cmake. Do not edit. */\n"
    "const char ${SYM}[] = {\n    ${bytes}0x00};\n")
