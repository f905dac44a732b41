/* SPDX-License-Identifier: MIT */
/* Tests for common/bb_buf.c: appends, the hard cap, XML escaping, detach. */
#include "bb_test.h"

#include "bb_buf.h"
#include "bb_err.h"

#include <stdlib.h>
#include <string.h>

static void test_bb_buf_init_is_empty(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.limit, 100);
    bb_buf_cleanup(&b);
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_concatenates_and_terminates(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_append(&b, "abc", 3), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "def"), BB_OK);
    assert_int_equal(bb_buf_append(&b, NULL, 0), BB_OK);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_grows_past_initial_allocation(void **state)
{
    struct bb_buf b;
    char chunk[37];

    memset(chunk, 'q', sizeof(chunk));
    bb_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100; i++)
        assert_int_equal(bb_buf_append(&b, chunk, sizeof(chunk)), BB_OK);
    assert_int_equal(b.len, 3700);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], 'q');
    bb_buf_cleanup(&b);
}

static void test_bb_buf_appendf_formats(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_appendf(&b, "%d-%s", 42, "x"), BB_OK);
    assert_int_equal(bb_buf_appendf(&b, "<%05u>", 7u), BB_OK);
    assert_string_equal(b.data, "42-x<00007>");
    assert_int_equal(b.len, strlen("42-x<00007>"));
    bb_buf_cleanup(&b);
}

static void test_bb_buf_appendf_of_nothing_leaves_empty_string(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_appendf(&b, "%s", ""), BB_OK);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_past_limit_is_too_big_and_unchanged(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 8);
    assert_int_equal(bb_buf_appends(&b, "12345"), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "6789"), BB_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(bb_buf_append(&b, "x", SIZE_MAX), BB_ETOOBIG);
    assert_string_equal(b.data, "12345");
    /* Exactly at the limit is fine. */
    assert_int_equal(bb_buf_appends(&b, "678"), BB_OK);
    assert_int_equal(b.len, 8);
    assert_int_equal(bb_buf_append(&b, "", 0), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "9"), BB_ETOOBIG);
    assert_string_equal(b.data, "12345678");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_appendf_past_limit_is_too_big_and_unchanged(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 6);
    assert_int_equal(bb_buf_appendf(&b, "%s", "abc"), BB_OK);
    assert_int_equal(bb_buf_appendf(&b, "%d", 1234), BB_ETOOBIG);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(bb_buf_appendf(&b, "%d", 123), BB_OK);
    assert_string_equal(b.data, "abc123");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_zero_limit_accepts_only_empty_appends(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 0);
    assert_int_equal(bb_buf_append(&b, "", 0), BB_OK);
    assert_int_equal(bb_buf_append(&b, "a", 1), BB_ETOOBIG);
    assert_int_equal(b.len, 0);
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_xml_escapes_markup(void **state)
{
    static const char in[] = "a&b<c>\"d'e\rf";
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_append_xml(&b, in, strlen(in)), BB_OK);
    assert_string_equal(b.data, "a&amp;b&lt;c&gt;&quot;d&apos;e&#13;f");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_xml_passes_plain_text_and_utf8(void **state)
{
    static const char in[] = "photos/2024/caf\xc3\xa9 1.jpg";
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_appends(&b, "<Key>"), BB_OK);
    assert_int_equal(bb_buf_append_xml(&b, in, strlen(in)), BB_OK);
    assert_int_equal(bb_buf_append_xml(&b, "", 0), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "</Key>"), BB_OK);
    assert_string_equal(b.data, "<Key>photos/2024/caf\xc3\xa9 1.jpg</Key>");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_xml_respects_length(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_append_xml(&b, "a<b&c", 3), BB_OK);
    assert_string_equal(b.data, "a&lt;b");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_append_xml_past_limit_is_too_big_and_unchanged(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 10);
    assert_int_equal(bb_buf_appends(&b, "ab"), BB_OK);
    /* The first escapes fit; the third does not. No half-escaped output. */
    assert_int_equal(bb_buf_append_xml(&b, "<<<", 3), BB_ETOOBIG);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    assert_int_equal(bb_buf_append_xml(&b, "x<", 2), BB_OK);
    assert_string_equal(b.data, "abx&lt;");
    assert_int_equal(bb_buf_append_xml(&b, "xyzw", 4), BB_ETOOBIG);
    assert_string_equal(b.data, "abx&lt;");
    bb_buf_cleanup(&b);
}

static void test_bb_buf_reset_empties_but_keeps_limit(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 4);
    assert_int_equal(bb_buf_appends(&b, "abcd"), BB_OK);
    bb_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(bb_buf_appends(&b, "wxyz"), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "!"), BB_ETOOBIG);
    bb_buf_cleanup(&b);
}

static void test_bb_buf_detach_hands_over_content_and_empties(void **state)
{
    struct bb_buf b;
    size_t len = 0;
    char *p;

    bb_buf_init(&b, 100);
    assert_int_equal(bb_buf_appends(&b, "hello"), BB_OK);
    p = bb_buf_detach(&b, &len);
    assert_string_equal(p, "hello");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(p);

    /* The buffer stays usable with its limit after a detach. */
    assert_int_equal(bb_buf_appends(&b, "again"), BB_OK);
    assert_string_equal(b.data, "again");
    p = bb_buf_detach(&b, NULL);
    assert_string_equal(p, "again");
    free(p);
    bb_buf_cleanup(&b);
}

static void test_bb_buf_detach_of_empty_returns_empty_string(void **state)
{
    struct bb_buf b;
    size_t len = 99;
    char *p;

    bb_buf_init(&b, 100);
    p = bb_buf_detach(&b, &len);
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    bb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bb_buf_init_is_empty),
        cmocka_unit_test(test_bb_buf_append_concatenates_and_terminates),
        cmocka_unit_test(test_bb_buf_append_grows_past_initial_allocation),
        cmocka_unit_test(test_bb_buf_appendf_formats),
        cmocka_unit_test(test_bb_buf_appendf_of_nothing_leaves_empty_string),
        cmocka_unit_test(test_bb_buf_append_past_limit_is_too_big_and_unchanged),
        cmocka_unit_test(test_bb_buf_appendf_past_limit_is_too_big_and_unchanged),
        cmocka_unit_test(test_bb_buf_zero_limit_accepts_only_empty_appends),
        cmocka_unit_test(test_bb_buf_append_xml_escapes_markup),
        cmocka_unit_test(test_bb_buf_append_xml_passes_plain_text_and_utf8),
        cmocka_unit_test(test_bb_buf_append_xml_respects_length),
        cmocka_unit_test(test_bb_buf_append_xml_past_limit_is_too_big_and_unchanged),
        cmocka_unit_test(test_bb_buf_reset_empties_but_keeps_limit),
        cmocka_unit_test(test_bb_buf_detach_hands_over_content_and_empties),
        cmocka_unit_test(test_bb_buf_detach_of_empty_returns_empty_string),
    };

    return cmocka_run_group_tests_name("common/bb_buf", tests, NULL, NULL);
}
