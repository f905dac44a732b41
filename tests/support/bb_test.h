/* SPDX-License-Identifier: MIT */
/*
 * bb_test: helpers shared by the cmocka unit tests: temporary directories,
 * fixture paths. Include after the cmocka prerequisites.
 */
#ifndef BB_TESTS_SUPPORT_BB_TEST_H
#define BB_TESTS_SUPPORT_BB_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/** Creates a fresh temporary directory; returns a new string (free()). */
char *bb_test_tmpdir(void);
/** Removes @dir recursively. */
void bb_test_rmrf(const char *dir);
/** Returns a new string: the path of @rel under the fixtures directory. */
char *bb_test_fixture(const char *rel);

#endif
