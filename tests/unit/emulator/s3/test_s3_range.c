/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_range.c: Range headers as S3 reads them (single
 * satisfiable ranges, ranges ignored, unsatisfiable ranges) and the ETag
 * lists of If-Match / If-None-Match. */
#include "bb_test.h"

#include "s3_range.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static void assert_range(const char *v, uint64_t size, uint64_t want_first, uint64_t want_last)
{
    uint64_t first = 777;
    uint64_t last = 777;
    int rc = s3_range_parse(v, size, &first, &last);

    if (rc != 1)
        fail_msg("\"%s\" on %llu bytes: rc %d, want 1", v ? v : "(null)", (unsigned long long)size,
                 rc);
    if (first != want_first || last != want_last)
        fail_msg("\"%s\" on %llu bytes: [%llu, %llu], want [%llu, %llu]", v,
                 (unsigned long long)size, (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)want_first, (unsigned long long)want_last);
}

static void assert_range_rc(const char *v, uint64_t size, int want)
{
    uint64_t first = 777;
    uint64_t last = 777;
    int rc = s3_range_parse(v, size, &first, &last);

    if (rc != want)
        fail_msg("\"%s\" on %llu bytes: rc %d, want %d", v ? v : "(null)", (unsigned long long)size,
                 rc, want);
}

#define WHOLE(v, size) assert_range_rc(v, size, 0)
#define UNSATISFIABLE(v, size) assert_range_rc(v, size, -1)

/* ---- satisfiable ---- */

static void test_s3_range_parse_reads_first_and_last(void **state)
{
    assert_range("bytes=0-9", 100, 0, 9);
    assert_range("bytes=10-19", 100, 10, 19);
    assert_range("bytes=0-0", 100, 0, 0);
    assert_range("bytes=99-99", 100, 99, 99);
    assert_range("bytes=0-99", 100, 0, 99);
    assert_range("bytes=5-5", 6, 5, 5);
}

static void test_s3_range_parse_reads_an_open_range(void **state)
{
    assert_range("bytes=5-", 100, 5, 99);
    assert_range("bytes=0-", 100, 0, 99);
    assert_range("bytes=99-", 100, 99, 99);
    assert_range("bytes=0-", 1, 0, 0);
}

static void test_s3_range_parse_reads_a_suffix(void **state)
{
    assert_range("bytes=-5", 100, 95, 99);
    assert_range("bytes=-1", 100, 99, 99);
    assert_range("bytes=-100", 100, 0, 99);
}

static void test_s3_range_parse_clamps_a_suffix_longer_than_the_object(void **state)
{
    assert_range("bytes=-500", 100, 0, 99);
    assert_range("bytes=-2", 1, 0, 0);
    assert_range("bytes=-1000000000000", 10, 0, 9);
}

static void test_s3_range_parse_clamps_last_beyond_the_end(void **state)
{
    assert_range("bytes=0-100", 100, 0, 99);
    assert_range("bytes=90-1000", 100, 90, 99);
    assert_range("bytes=0-1000000000000000000", 10, 0, 9);
}

static void test_s3_range_parse_handles_large_objects(void **state)
{
    uint64_t big = (uint64_t)5 << 40; /* 5 TiB, the S3 maximum */

    assert_range("bytes=5497558138870-", big, 5497558138870ull, big - 1);
    assert_range("bytes=-1", big, big - 1, big - 1);
}

/* ---- unsatisfiable: 416 ---- */

static void test_s3_range_parse_start_past_the_end_is_unsatisfiable(void **state)
{
    UNSATISFIABLE("bytes=100-", 100);
    UNSATISFIABLE("bytes=100-200", 100);
    UNSATISFIABLE("bytes=1000-2000", 100);
    UNSATISFIABLE("bytes=1-", 1);
}

static void test_s3_range_parse_any_range_of_an_empty_object_is_unsatisfiable(void **state)
{
    UNSATISFIABLE("bytes=0-", 0);
    UNSATISFIABLE("bytes=0-0", 0);
    UNSATISFIABLE("bytes=0-9", 0);
    UNSATISFIABLE("bytes=-5", 0);
}

static void test_s3_range_parse_zero_length_suffix_is_unsatisfiable(void **state)
{
    UNSATISFIABLE("bytes=-0", 100);
    UNSATISFIABLE("bytes=-0", 0);
    UNSATISFIABLE("bytes=-000", 100);
}

/* ---- ignored: the whole object ---- */

static void test_s3_range_parse_without_a_header_serves_everything(void **state)
{
    WHOLE(NULL, 100);
    WHOLE(NULL, 0);
}

static void test_s3_range_parse_ignores_last_before_first(void **state)
{
    /* AWS serves the whole object with 200 here */
    WHOLE("bytes=1-0", 100);
    WHOLE("bytes=50-10", 100);
}

static void test_s3_range_parse_ignores_multiple_ranges(void **state)
{
    WHOLE("bytes=0-1,5-6", 100);
    WHOLE("bytes=0-1, 5-6", 100);
    WHOLE("bytes=-5,0-1", 100);
    WHOLE("bytes=0-9,", 100);
}

static void test_s3_range_parse_ignores_garbage(void **state)
{
    WHOLE("", 100);
    WHOLE("bytes=", 100);
    WHOLE("bytes=-", 100);
    WHOLE("bytes=abc", 100);
    WHOLE("bytes=a-b", 100);
    WHOLE("bytes=0-9x", 100);
    WHOLE("bytes=0", 100);
    WHOLE("bytes=--5", 100);
    WHOLE("bytes=0--5", 100);
    WHOLE("bytes=+1-2", 100);
    WHOLE("items=0-9", 100);
    WHOLE("0-9", 100);
    WHOLE("bytes 0-9", 100);
}

/* Numbers past 2^64 are never read as a smaller number: a huge start is
 * never served, a huge last or suffix can only mean the whole object. */
static void test_s3_range_parse_never_serves_a_range_from_an_overflowing_number(void **state)
{
    static const struct {
        const char *v;
        int huge_start;
    } cases[] = {
        {"bytes=99999999999999999999999-", 1},
        {"bytes=18446744073709551616-", 1},
        {"bytes=36893488147419103232-36893488147419103233", 1},
        {"bytes=0-99999999999999999999999", 0},
        {"bytes=-99999999999999999999999", 0},
        {"bytes=-18446744073709551617", 0},
    };
    uint64_t first;
    uint64_t last;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = s3_range_parse(cases[i].v, 100, &first, &last);
        if (rc == 1 && (cases[i].huge_start || first != 0 || last != 99))
            fail_msg("\"%s\": served [%llu, %llu]", cases[i].v, (unsigned long long)first,
                     (unsigned long long)last);
    }
}

/* ---- ETag lists ---- */

static void test_s3_range_etag_matches_quoted_and_unquoted(void **state)
{
    const char *etag = "d41d8cd98f00b204e9800998ecf8427e";

    assert_true(s3_range_etag_matches("\"d41d8cd98f00b204e9800998ecf8427e\"", etag));
    assert_true(s3_range_etag_matches("d41d8cd98f00b204e9800998ecf8427e", etag));
    assert_true(s3_range_etag_matches("  \"d41d8cd98f00b204e9800998ecf8427e\"  ", etag));
}

static void test_s3_range_etag_matches_weak_tags(void **state)
{
    assert_true(s3_range_etag_matches("W/\"abc\"", "abc"));
    assert_true(s3_range_etag_matches("W/abc", "abc"));
}

static void test_s3_range_etag_matches_star(void **state)
{
    assert_true(s3_range_etag_matches("*", "abc"));
    assert_true(s3_range_etag_matches(" * ", "abc"));
    assert_true(s3_range_etag_matches("\"x\", *", "abc"));
}

static void test_s3_range_etag_matches_any_of_several(void **state)
{
    assert_true(s3_range_etag_matches("\"x\", \"abc\"", "abc"));
    assert_true(s3_range_etag_matches("\"abc\",\"x\"", "abc"));
    assert_true(s3_range_etag_matches("\"x\" , W/\"y\" , abc", "abc"));
    assert_true(s3_range_etag_matches(",,\"abc\",,", "abc"));
}

static void test_s3_range_etag_matches_nothing_else(void **state)
{
    assert_false(s3_range_etag_matches("", "abc"));
    assert_false(s3_range_etag_matches(" , ", "abc"));
    assert_false(s3_range_etag_matches("\"x\", \"y\"", "abc"));
    assert_false(s3_range_etag_matches("\"abcd\"", "abc"));
    assert_false(s3_range_etag_matches("\"ab\"", "abc"));
    assert_false(s3_range_etag_matches("abcd", "abc"));
    assert_false(s3_range_etag_matches("\"ABC\"", "abc"));
    assert_false(s3_range_etag_matches("**", "abc"));
    assert_false(s3_range_etag_matches("\"abc\"x", "abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_range_parse_reads_first_and_last),
        cmocka_unit_test(test_s3_range_parse_reads_an_open_range),
        cmocka_unit_test(test_s3_range_parse_reads_a_suffix),
        cmocka_unit_test(test_s3_range_parse_clamps_a_suffix_longer_than_the_object),
        cmocka_unit_test(test_s3_range_parse_clamps_last_beyond_the_end),
        cmocka_unit_test(test_s3_range_parse_handles_large_objects),
        cmocka_unit_test(test_s3_range_parse_start_past_the_end_is_unsatisfiable),
        cmocka_unit_test(test_s3_range_parse_any_range_of_an_empty_object_is_unsatisfiable),
        cmocka_unit_test(test_s3_range_parse_zero_length_suffix_is_unsatisfiable),
        cmocka_unit_test(test_s3_range_parse_without_a_header_serves_everything),
        cmocka_unit_test(test_s3_range_parse_ignores_last_before_first),
        cmocka_unit_test(test_s3_range_parse_ignores_multiple_ranges),
        cmocka_unit_test(test_s3_range_parse_ignores_garbage),
        cmocka_unit_test(test_s3_range_parse_never_serves_a_range_from_an_overflowing_number),
        cmocka_unit_test(test_s3_range_etag_matches_quoted_and_unquoted),
        cmocka_unit_test(test_s3_range_etag_matches_weak_tags),
        cmocka_unit_test(test_s3_range_etag_matches_star),
        cmocka_unit_test(test_s3_range_etag_matches_any_of_several),
        cmocka_unit_test(test_s3_range_etag_matches_nothing_else),
    };

    return cmocka_run_group_tests_name("emulator/s3/s3_range", tests, NULL, NULL);
}
