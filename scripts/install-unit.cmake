# SPDX-License-Identifier: MIT
# Run by `cmake --install` (install(CODE) in the top-level CMakeLists.txt):
# installs scripts/bucketbridge.service into <prefix>/<datadir>/bucketbridge/
# and <prefix>/<BB_SYSTEMD_DIR>/ (lib/systemd/system by default) with
# ExecStart naming <prefix>/<bindir>/bucketbridge, the prefix being the one
# given at install time (--prefix, or /usr under cpack) rather than at
# configure time.
# In: BB_UNIT_SRC, BB_UNIT_TMP (a scratch file), BB_BINDIR, BB_DATADIR,
# BB_SYSTEMD_DIR (optional).
if(IS_ABSOLUTE "${BB_BINDIR}")
    set(_bb_bin "${BB_BINDIR}")
else()
    set(_bb_bin "${CMAKE_INSTALL_PREFIX}/${BB_BINDIR}")
endif()
if(IS_ABSOLUTE "${BB_DATADIR}")
    set(_bb_dest "${BB_DATADIR}/bucketbridge")
else()
    set(_bb_dest "${CMAKE_INSTALL_PREFIX}/${BB_DATADIR}/bucketbridge")
endif()
file(READ "${BB_UNIT_SRC}" _bb_unit)
string(REPLACE "/usr/local/bin/bucketbridge" "${_bb_bin}/bucketbridge" _bb_unit "${_bb_unit}")
# the scratch copy is per destination, so that installs to different
# prefixes at the same time (ctest's ops/install and ops/package) do not
# overwrite each other's ExecStart
get_filename_component(_bb_tmpdir "${BB_UNIT_TMP}" DIRECTORY)
get_filename_component(_bb_tmpname "${BB_UNIT_TMP}" NAME)
string(MD5 _bb_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(BB_UNIT_TMP "${_bb_tmpdir}/${_bb_key}/${_bb_tmpname}")
file(MAKE_DIRECTORY "${_bb_tmpdir}/${_bb_key}")
file(WRITE "${BB_UNIT_TMP}" "${_bb_unit}")
set(_bb_dests "${_bb_dest}")
if(BB_SYSTEMD_DIR)
    if(IS_ABSOLUTE "${BB_SYSTEMD_DIR}")
        list(APPEND _bb_dests "${BB_SYSTEMD_DIR}")
    else()
        list(APPEND _bb_dests "${CMAKE_INSTALL_PREFIX}/${BB_SYSTEMD_DIR}")
    endif()
endif()
foreach(_bb_d IN LISTS _bb_dests)
    file(INSTALL DESTINATION "${_bb_d}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
         WORLD_READ FILES "${BB_UNIT_TMP}")
endforeach()
