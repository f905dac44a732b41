# FindLibS3: libs3 (Debian's libs3-dev), which ships no .pc file.
# Defines the IMPORTED target LibS3::LibS3.
find_path(LIBS3_INCLUDE_DIR libs3.h)
find_library(LIBS3_LIBRARY NAMES s3)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibS3 DEFAULT_MSG LIBS3_LIBRARY LIBS3_INCLUDE_DIR)
if(LibS3_FOUND AND NOT TARGET LibS3::LibS3)
    add_library(LibS3::LibS3 UNKNOWN IMPORTED)
    set_target_properties(LibS3::LibS3 PROPERTIES
        IMPORTED_LOCATION ${LIBS3_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${LIBS3_INCLUDE_DIR})
endif()
mark_as_advanced(LIBS3_INCLUDE_DIR LIBS3_LIBRARY)
