# SPDX-License-Identifier: MIT
# CPACK_PRE_BUILD_SCRIPTS of the Debian package (cmake/BBPackage.cmake): run
# by cpack on the staging tree, before the .deb is made. Debian wants the
# man pages gzipped and a changelog.gz in /usr/share/doc/<package>/; the
# `cmake --install` layout keeps plain files. gzip -n: no name or time in
# the header, so the package's bytes do not depend on when it was built.
# In: CPACK_TEMPORARY_INSTALL_DIRECTORY (set by cpack), CPACK_BB_CHANGELOG
# (packaging/debian/changelog, set in cmake/BBPackage.cmake).
file(GLOB_RECURSE _bb_pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man1/*.1")
foreach(_bb_p IN LISTS _bb_pages)
    execute_process(COMMAND gzip -9nf "${_bb_p}" RESULT_VARIABLE _bb_rc)
    if(NOT _bb_rc EQUAL 0)
        message(FATAL_ERROR "gzip ${_bb_p} failed")
    endif()
endforeach()
file(GLOB_RECURSE _bb_copyright "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/doc/bucketbridge/copyright")
foreach(_bb_c IN LISTS _bb_copyright)
    get_filename_component(_bb_docdir "${_bb_c}" DIRECTORY)
    configure_file("${CPACK_BB_CHANGELOG}" "${_bb_docdir}/changelog" COPYONLY)
    execute_process(COMMAND gzip -9nf "${_bb_docdir}/changelog" RESULT_VARIABLE _bb_rc)
    if(NOT _bb_rc EQUAL 0)
        message(FATAL_ERROR "gzip ${_bb_docdir}/changelog failed")
    endif()
endforeach()
if(NOT _bb_pages OR NOT _bb_copyright)
    message(FATAL_ERROR "no man pages or no doc dir under ${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
endif()
