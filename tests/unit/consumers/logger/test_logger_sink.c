/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/logger/logger_sink.c: the daily file name, appends
 * that are whole lines, rotation at UTC midnight, and writing on after the
 * file, or its whole directory, was removed or replaced.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "logger_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-01-02T23:59:59.500Z */
#define LATE 1767398399500LL

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = bb_xcalloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static char *file_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = bb_xmalloc(n);

    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void assert_file(const char *path, const char *want)
{
    char *got = slurp(path);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_logger_sink_path_is_daily(void **state)
{
    struct logger_sink *s = logger_sink_new("/x/logs");
    char *p = logger_sink_path(s, LATE);

    assert_string_equal(p, "/x/logs/processing-2026-01-02.jsonl");
    free(p);
    p = logger_sink_path(s, LATE + 500);
    assert_string_equal(p, "/x/logs/processing-2026-01-03.jsonl");
    free(p);
    logger_sink_free(s);
}

static void test_logger_sink_write_creates_dirs_and_appends_lines(void **state)
{
    char *tmp = bb_test_tmpdir();
    char *dir = file_in(tmp, "data/.bucketbridge/logs");
    char *path = file_in(dir, "processing-2026-01-02.jsonl");
    struct logger_sink *s = logger_sink_new(dir);

    assert_int_equal(logger_sink_write(s, LATE, "{\"a\":1}", 7), BB_OK);
    assert_int_equal(logger_sink_write(s, LATE, "{\"b\":2}", 7), BB_OK);
    assert_file(path, "{\"a\":1}\n{\"b\":2}\n");
    logger_sink_free(s);

    /* a second sink (a second logger process) appends to the same file */
    s = logger_sink_new(dir);
    assert_int_equal(logger_sink_write(s, LATE, "{\"c\":3}", 7), BB_OK);
    assert_file(path, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
    logger_sink_free(s);
    free(path);
    free(dir);
    bb_test_rmrf(tmp);
    free(tmp);
}

static void test_logger_sink_rotates_at_utc_midnight(void **state)
{
    char *tmp = bb_test_tmpdir();
    char *day1 = file_in(tmp, "processing-2026-01-02.jsonl");
    char *day2 = file_in(tmp, "processing-2026-01-03.jsonl");
    struct logger_sink *s = logger_sink_new(tmp);

    assert_int_equal(logger_sink_write(s, LATE, "one", 3), BB_OK);
    assert_int_equal(logger_sink_write(s, LATE + 499, "two", 3), BB_OK);
    assert_int_equal(logger_sink_write(s, LATE + 500, "three", 5), BB_OK);
    assert_file(day1, "one\ntwo\n");
    assert_file(day2, "three\n");
    logger_sink_free(s);
    free(day1);
    free(day2);
    bb_test_rmrf(tmp);
    free(tmp);
}

static void test_logger_sink_survives_removal(void **state)
{
    char *tmp = bb_test_tmpdir();
    char *dir = file_in(tmp, "logs");
    char *path = file_in(dir, "processing-2026-01-02.jsonl");
    char *moved = file_in(tmp, "old.jsonl");
    struct logger_sink *s = logger_sink_new(dir);

    assert_int_equal(logger_sink_write(s, LATE, "before", 6), BB_OK);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(logger_sink_write(s, LATE, "after rm", 8), BB_OK);
    assert_file(path, "after rm\n");

    /* renamed away (logrotate's way): a new file takes the name */
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(logger_sink_write(s, LATE, "after mv", 8), BB_OK);
    assert_file(path, "after mv\n");
    assert_file(moved, "after rm\n");

    /* the whole directory removed */
    bb_test_rmrf(dir);
    assert_int_equal(logger_sink_write(s, LATE, "after rm -r", 11), BB_OK);
    assert_file(path, "after rm -r\n");
    logger_sink_free(s);
    free(moved);
    free(path);
    free(dir);
    bb_test_rmrf(tmp);
    free(tmp);
}

static void test_logger_sink_reports_unwritable_dir(void **state)
{
    char *tmp = bb_test_tmpdir();
    char *blocker = file_in(tmp, "file");
    char *dir = file_in(blocker, "logs");
    struct logger_sink *s = logger_sink_new(dir);
    FILE *f = fopen(blocker, "w");

    assert_non_null(f);
    fclose(f);
    assert_true(logger_sink_write(s, LATE, "x", 1) < 0); /* a file where a dir must be */
    logger_sink_free(s);
    free(dir);
    free(blocker);
    bb_test_rmrf(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logger_sink_path_is_daily),
        cmocka_unit_test(test_logger_sink_write_creates_dirs_and_appends_lines),
        cmocka_unit_test(test_logger_sink_rotates_at_utc_midnight),
        cmocka_unit_test(test_logger_sink_survives_removal),
        cmocka_unit_test(test_logger_sink_reports_unwritable_dir),
    };

    return cmocka_run_group_tests_name("consumers/logger/logger_sink", tests, NULL, NULL);
}
