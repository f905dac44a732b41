# FindInotifyTools: libinotifytools (inotify-tools), which ships no .pc file.
# Defines the IMPORTED target InotifyTools::InotifyTools.
find_path(INOTIFYTOOLS_INCLUDE_DIR inotifytools/inotifytools.h)
find_library(INOTIFYTOOLS_LIBRARY NAMES inotifytools)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(InotifyTools DEFAULT_MSG INOTIFYTOOLS_LIBRARY
    INOTIFYTOOLS_INCLUDE_DIR)
if(InotifyTools_FOUND AND NOT TARGET InotifyTools::InotifyTools)
    add_library(InotifyTools::InotifyTools UNKNOWN IMPORTED)
    set_target_properties(InotifyTools::InotifyTools PROPERTIES
        IMPORTED_LOCATION ${INOTIFYTOOLS_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${INOTIFYTOOLS_INCLUDE_DIR})
endif()
mark_as_advanced(INOTIFYTOOLS_INCLUDE_DIR INOTIFYTOOLS_LIBRARY)
