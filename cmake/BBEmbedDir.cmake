# bb_embed_dir(<output.c> <symbol> <header> <type> <dir>): generates a C file
# that includes <header> and defines `const <type> <symbol>[]`, one entry
# {name, data, len, etag} per regular file directly in <dir> (names sorted),
# ended by an entry whose name is NULL. The data arrays end with a NUL that
# len does not count; etag is a quoted prefix of the file's SHA-256.
# Files added to or removed from <dir> are seen at the next configure
# (CONFIGURE_DEPENDS); edits to a file regenerate the C file at build time.
function(bb_embed_dir out symbol header type dir)
    file(GLOB files CONFIGURE_DEPENDS LIST_DIRECTORIES false ${dir}/*)
    list(SORT files)
    string(REPLACE ";" "|" packed "${files}")
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYM=${symbol} -DHEADER=${header}
            "-DTYPE=${type}" "-DFILES=${packed}"
            -P ${PROJECT_SOURCE_DIR}/cmake/BBEmbedDirRun.cmake
        DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/BBEmbedDirRun.cmake
        COMMENT "Embedding ${dir}"
        VERBATIM)
endfunction()
