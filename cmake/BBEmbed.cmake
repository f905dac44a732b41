# bb_embed(<output.c> <symbol> <input file>): generates a C file defining
# `const char <symbol>[]` with the file's bytes and a terminating NUL.
function(bb_embed out symbol input)
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${out} -DSYM=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/BBEmbedRun.cmake
        DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/BBEmbedRun.cmake
        COMMENT "Embedding ${input}")
endfunction()
