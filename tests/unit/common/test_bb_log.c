/* SPDX-License-Identifier: MIT */
/* Tests for common/bb_log.c: value quoting, the sink seam, level filtering. */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_log.h"

#include <stdio.h>
#include <string.h>

struct capture {
    int count;
    enum bb_log_level level;
    char line[4096];
};

static struct capture cap;
static int side_effects;

static void capture_line(enum bb_log_level level, const char *line, void *arg)
{
    struct capture *c = arg;

    c->count++;
    c->level = level;
    snprintf(c->line, sizeof(c->line), "%s", line);
}

static int setup(void **state)
{
    memset(&cap, 0, sizeof(cap));
    side_effects = 0;
    bb_log_set_sink(capture_line, &cap);
    bb_log_set_level(BB_LOG_LEVEL_INFO);
    return 0;
}

static int teardown(void **state)
{
    bb_log_set_sink(NULL, NULL);
    bb_log_set_level(BB_LOG_LEVEL_INFO);
    return 0;
}

static int bump(void)
{
    return ++side_effects;
}

static const char *quote(char *out, size_t outlen, const char *s)
{
    return bb_log_quote(out, outlen, s, strlen(s));
}

static void test_bb_log_quote_wraps_plain_text_in_quotes(void **state)
{
    char out[64];

    assert_string_equal(quote(out, sizeof(out), "a/b c.jpg"), "\"a/b c.jpg\"");
    assert_string_equal(quote(out, sizeof(out), ""), "\"\"");
}

static void test_bb_log_quote_escapes_control_bytes_as_hex(void **state)
{
    char out[64];

    assert_string_equal(quote(out, sizeof(out), "a\nb"), "\"a\\x0ab\"");
    assert_string_equal(quote(out, sizeof(out), "\r\t\x1b\x7f"), "\"\\x0d\\x09\\x1b\\x7f\"");
    assert_string_equal(bb_log_quote(out, sizeof(out), "x\0y", 3), "\"x\\x00y\"");
}

static void test_bb_log_quote_escapes_quotes_and_backslashes(void **state)
{
    char out[64];

    assert_string_equal(quote(out, sizeof(out), "say \"hi\""), "\"say \\\"hi\\\"\"");
    assert_string_equal(quote(out, sizeof(out), "c:\\dir"), "\"c:\\\\dir\"");
}

static void test_bb_log_quote_passes_utf8_through(void **state)
{
    char out[64];

    assert_string_equal(quote(out, sizeof(out), "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

static void test_bb_log_quote_injected_newline_cannot_fake_a_line(void **state)
{
    char out[128];

    quote(out, sizeof(out), "k\nts=x level=error msg=\"pwned\"");
    assert_null(strchr(out, '\n'));
    assert_string_equal(out, "\"k\\x0ats=x level=error msg=\\\"pwned\\\"\"");
}

static void test_bb_log_quote_truncates_long_values_with_ellipsis(void **state)
{
    char long_in[200];
    char out[32];
    size_t n;

    memset(long_in, 'a', sizeof(long_in) - 1);
    long_in[sizeof(long_in) - 1] = '\0';
    quote(out, sizeof(out), long_in);
    n = strlen(out);
    assert_true(n <= sizeof(out) - 1);
    assert_int_equal(out[0], '"');
    assert_string_equal(out + n - 4, "...\"");
}

static void test_bb_log_quote_never_overruns_any_buffer_size(void **state)
{
    static const char *const inputs[] = {
        "plain text that goes on for a while",
        "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
        "\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\",
        "ab\x01\x02\"\\cd\x7f",
    };
    char out[64];

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        for (size_t outlen = 0; outlen < 48; outlen++) {
            memset(out, '#', sizeof(out));
            quote(out, outlen, inputs[i]);
            for (size_t k = outlen; k < sizeof(out); k++)
                assert_int_equal(out[k], '#');
            if (outlen > 0)
                assert_true(strlen(out) < outlen);
        }
    }
}

static void test_bb_log_quote_tiny_buffer_gives_empty_string(void **state)
{
    char out[4] = "zzz";

    assert_string_equal(quote(out, sizeof(out), "abc"), "");
}

static void test_bb_log_write_sink_captures_level_mod_and_msg(void **state)
{
    bb_log_write(BB_LOG_LEVEL_WARN, "s3", "signature mismatch", "bucket=%s n=%d", "raw", 3);
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.level, BB_LOG_LEVEL_WARN);
    assert_memory_equal(cap.line, "ts=", 3);
    assert_non_null(
        strstr(cap.line, " level=warn mod=s3 msg=\"signature mismatch\" bucket=raw n=3"));
    assert_null(strchr(cap.line, '\n'));
}

static void test_bb_log_write_without_tail_ends_at_msg(void **state)
{
    static const char want[] = " msg=\"open failed\"";
    size_t n;

    bb_log_write(BB_LOG_LEVEL_ERROR, "db", "open failed", NULL);
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.level, BB_LOG_LEVEL_ERROR);
    n = strlen(cap.line);
    assert_true(n > strlen(want));
    assert_string_equal(cap.line + n - strlen(want), want);
    assert_non_null(strstr(cap.line, " level=error mod=db "));
}

static void test_bb_log_write_quotes_msg(void **state)
{
    bb_log_write(BB_LOG_LEVEL_INFO, "t", "two\nlines", NULL);
    assert_int_equal(cap.count, 1);
    assert_null(strchr(cap.line, '\n'));
    assert_non_null(strstr(cap.line, "msg=\"two\\x0alines\""));
}

static void test_bb_log_macros_filter_below_level(void **state)
{
    bb_log_set_level(BB_LOG_LEVEL_WARN);
    BB_LOG_INFO("t", "hidden", "n=%d", 1);
    BB_LOG_DEBUG("t", "hidden", "n=%d", 2);
    assert_int_equal(cap.count, 0);
    BB_LOG_WARN("t", "shown", "n=%d", 3);
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.level, BB_LOG_LEVEL_WARN);
    BB_LOG_ERROR("t", "shown", "n=%d", 4);
    assert_int_equal(cap.count, 2);
    assert_non_null(strstr(cap.line, "level=error"));
    assert_non_null(strstr(cap.line, "n=4"));
}

static void test_bb_log_macros_skip_argument_evaluation_when_filtered(void **state)
{
    bb_log_set_level(BB_LOG_LEVEL_INFO);
    BB_LOG_DEBUG("t", "m", "n=%d", bump());
    assert_int_equal(side_effects, 0);
    assert_int_equal(cap.count, 0);
    BB_LOG_INFO("t", "m", "n=%d", bump());
    assert_int_equal(side_effects, 1);
    assert_int_equal(cap.count, 1);
}

static void test_bb_log_set_level_name_accepts_known_names(void **state)
{
    assert_int_equal(bb_log_set_level_name("debug"), BB_OK);
    assert_int_equal(bb_log_level_current, BB_LOG_LEVEL_DEBUG);
    BB_LOG_DEBUG("t", "now shown", "n=%d", 1);
    assert_int_equal(cap.count, 1);
    assert_int_equal(bb_log_set_level_name("error"), BB_OK);
    assert_int_equal(bb_log_level_current, BB_LOG_LEVEL_ERROR);
    BB_LOG_WARN("t", "hidden", "n=%d", 1);
    assert_int_equal(cap.count, 1);
}

static void test_bb_log_set_level_name_rejects_unknown_and_keeps_level(void **state)
{
    bb_log_set_level(BB_LOG_LEVEL_WARN);
    assert_int_equal(bb_log_set_level_name("loud"), BB_EINVAL);
    assert_int_equal(bb_log_set_level_name(""), BB_EINVAL);
    assert_int_equal(bb_log_level_current, BB_LOG_LEVEL_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bb_log_quote_wraps_plain_text_in_quotes),
        cmocka_unit_test(test_bb_log_quote_escapes_control_bytes_as_hex),
        cmocka_unit_test(test_bb_log_quote_escapes_quotes_and_backslashes),
        cmocka_unit_test(test_bb_log_quote_passes_utf8_through),
        cmocka_unit_test(test_bb_log_quote_injected_newline_cannot_fake_a_line),
        cmocka_unit_test(test_bb_log_quote_truncates_long_values_with_ellipsis),
        cmocka_unit_test(test_bb_log_quote_never_overruns_any_buffer_size),
        cmocka_unit_test(test_bb_log_quote_tiny_buffer_gives_empty_string),
        cmocka_unit_test_setup_teardown(test_bb_log_write_sink_captures_level_mod_and_msg, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_write_without_tail_ends_at_msg, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_write_quotes_msg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_macros_filter_below_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_macros_skip_argument_evaluation_when_filtered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_set_level_name_accepts_known_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bb_log_set_level_name_rejects_unknown_and_keeps_level,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("common/bb_log", tests, NULL, NULL);
}
