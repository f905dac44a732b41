# SPDX-License-Identifier: MIT
# CPack: a Debian 12 package from a build tree (docs/operations.md,
# "Debian package"):
#
#   cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DBB_BENCH=OFF
#   cmake --build build-pkg -j2
#   (cd build-pkg && cpack -G DEB)       # bucketbridge_<version>_<arch>.deb
#
# Files go under /usr (the install rules of the top-level CMakeLists.txt:
# binaries, man pages, docs, the unit in /usr/lib/systemd/system). Depends
# comes from dpkg-shlibdeps on the binaries (the Debian packages of the
# libraries they link), plus passwd for the postinst's useradd. Included
# from the top-level CMakeLists.txt after the install rules.
# cpack packages what is built; it does not rebuild first (its "preinstall"
# step would otherwise build `all`, so ctest -R ops/package would compile).
# `cmake --install` never builds either.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bucketbridge)
set(CPACK_PACKAGE_VENDOR "the bucketbridge authors")
set(CPACK_PACKAGE_CONTACT "the bucketbridge authors <bucketbridge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "local S3 + EventBridge emulator")
set(CPACK_PACKAGE_DESCRIPTION
    "One small daemon that developers run on a laptop or in CI to build and test an
upload to S3 -> EventBridge rule -> consumers pipeline with no AWS account and
no network: an S3-compatible store on plain directories, a directory watcher,
an event bus with EventBridge semantics, WebSocket delivery, thumbnail and
logger consumers, and a live event viewer.")
# install with DESTDIR=<staging> and the prefix /usr, so that paths written
# at install time (the unit's ExecStart) name /usr, not the staging dir
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "awscli, python3-boto3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# stripped binaries, gzipped man pages and a changelog.gz, as Debian wants
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS "${PROJECT_SOURCE_DIR}/cmake/BBPackagePreBuild.cmake")
set(CPACK_BB_CHANGELOG "${PROJECT_SOURCE_DIR}/packaging/debian/changelog")
include(CPack)
