/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/cli/cli_args.c: durations, times and start
 * positions, each command's flags and defaults, global flags on either side
 * of the command, and the usage errors (exit code 2 in main).
 */
#include "bb_test.h"

#include "bb_err.h"
#include "cli_args.h"

#include <string.h>

/* 2026-11-26T08:00:00Z */
#define NOW 1795680000LL

#define ARGV(...) ((char *const[]){"bucketbridge-cli", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"bucketbridge-cli", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(out, err, ...)                                                                       \
    cli_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), NOW, (out), (err), sizeof(err))

static void test_cli_args_duration_units(void **state)
{
    int64_t ms = -1;
    (void)state;
    assert_int_equal(cli_args_duration_ms("10s", &ms), BB_OK);
    assert_int_equal(ms, 10000);
    assert_int_equal(cli_args_duration_ms("10", &ms), BB_OK);
    assert_int_equal(ms, 10000);
    assert_int_equal(cli_args_duration_ms("250ms", &ms), BB_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(cli_args_duration_ms("1.5m", &ms), BB_OK);
    assert_int_equal(ms, 90000);
    assert_int_equal(cli_args_duration_ms("2h", &ms), BB_OK);
    assert_int_equal(ms, 7200000);
    assert_int_equal(cli_args_duration_ms("0.5", &ms), BB_OK);
    assert_int_equal(ms, 500);
}

static void test_cli_args_duration_rejects_junk(void **state)
{
    int64_t ms = 7;
    (void)state;
    assert_int_equal(cli_args_duration_ms("", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("s", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("-1s", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("10x", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("1.2.3s", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms(".", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("1e3", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("10 s", &ms), BB_EINVAL);
    assert_int_equal(cli_args_duration_ms("999h", &ms), BB_EINVAL); /* over 30 days */
    assert_int_equal(ms, 7);
}

static void test_cli_args_time_forms(void **state)
{
    int64_t t = 0;
    (void)state;
    assert_int_equal(cli_args_time("2026-11-26T08:00:00Z", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("2026-11-26t08:00:00.999z", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("2026-11-26 10:00:00+02:00", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("2026-11-26T03:30:00-0430", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("2026-11-26T08:00:00", NOW, &t), BB_OK); /* UTC */
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("2026-11-26", NOW, &t), BB_OK);
    assert_int_equal(t, NOW - 8 * 3600);
    assert_int_equal(cli_args_time("1795680000", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("now", NOW, &t), BB_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(cli_args_time("-5m", NOW, &t), BB_OK);
    assert_int_equal(t, NOW - 300);
    assert_int_equal(cli_args_time("now-1h", NOW, &t), BB_OK);
    assert_int_equal(t, NOW - 3600);
}

static void test_cli_args_time_rejects_impossible_dates(void **state)
{
    int64_t t = 0;
    (void)state;
    assert_int_equal(cli_args_time("2026-02-31T00:00:00Z", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("2026-13-01T00:00:00Z", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("2026-11-26T24:00:00Z", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("2026-11-26T08:00:00+25:00", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("2026-11-26T08:00Z", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("2026-11-26T08:00:00Zjunk", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("yesterday", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("", NOW, &t), BB_EINVAL);
    assert_int_equal(cli_args_time("1969-12-31T23:59:59Z", NOW, &t), BB_EINVAL);
}

static void test_cli_args_since_normalises(void **state)
{
    char s[CLI_SINCE_MAX];
    (void)state;
    assert_int_equal(cli_args_since("latest", NOW, s, sizeof(s)), BB_OK);
    assert_string_equal(s, "latest");
    assert_int_equal(cli_args_since("earliest", NOW, s, sizeof(s)), BB_OK);
    assert_string_equal(s, "earliest");
    assert_int_equal(cli_args_since("0042", NOW, s, sizeof(s)), BB_OK);
    assert_string_equal(s, "42"); /* digits are a sequence number, not a time */
    assert_int_equal(cli_args_since("2026-11-26T10:00:00+02:00", NOW, s, sizeof(s)), BB_OK);
    assert_string_equal(s, "2026-11-26T08:00:00Z");
    assert_int_equal(cli_args_since("-90s", NOW, s, sizeof(s)), BB_OK);
    assert_string_equal(s, "2026-11-26T07:58:30Z");
    assert_int_equal(cli_args_since("newest", NOW, s, sizeof(s)), BB_EINVAL);
    assert_int_equal(cli_args_since("99999999999999999999999", NOW, s, sizeof(s)), BB_EINVAL);
}

static void test_cli_args_wait_defaults(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}"), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_EVENTS_WAIT);
    assert_string_equal(a.pattern, "{}");
    assert_int_equal(a.count, 1);
    assert_int_equal(a.timeout_ms, CLI_DEFAULT_TIMEOUT_MS);
    assert_string_equal(a.since, "earliest");
    assert_null(a.endpoint);
    assert_null(a.token);
}

static void test_cli_args_wait_all_flags_and_equals_form(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "--endpoint", "http://127.0.0.1:9", "events", "wait",
                           "--pattern={\"source\":[\"x\"]}", "--count", "3", "--timeout=2.5s",
                           "--since", "17", "--token", "t0k", "--ready-file", "/tmp/r.json"),
                     BB_OK);
    assert_string_equal(a.endpoint, "http://127.0.0.1:9");
    assert_string_equal(a.pattern, "{\"source\":[\"x\"]}");
    assert_int_equal(a.count, 3);
    assert_int_equal(a.timeout_ms, 2500);
    assert_string_equal(a.since, "17");
    assert_string_equal(a.token, "t0k");
    assert_string_equal(a.ready_file, "/tmp/r.json");
    assert_null(a.ca_file);
}

static void test_cli_args_ca_is_global(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "--endpoint", "https://127.0.0.1:4567", "--ca", "/d/cert.pem",
                           "events", "seq"),
                     BB_OK);
    assert_string_equal(a.endpoint, "https://127.0.0.1:4567");
    assert_string_equal(a.ca_file, "/d/cert.pem");
    assert_int_equal(PARSE(&a, err, "status", "--ca=/e/cert.pem"), BB_OK);
    assert_string_equal(a.ca_file, "/e/cert.pem");
    assert_int_equal(PARSE(&a, err, "reset", "--ca"), BB_EINVAL);
}

static void test_cli_args_tail_defaults_to_latest(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "events", "tail", "--format", "pretty"), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_EVENTS_TAIL);
    assert_string_equal(a.since, "latest");
    assert_int_equal(a.format, CLI_FORMAT_PRETTY);
    assert_null(a.pattern);
    /* a negative duration as the value of a flag is not a flag */
    assert_int_equal(PARSE(&a, err, "events", "tail", "--since", "-5m"), BB_OK);
    assert_string_equal(a.since, "2026-11-26T07:55:00Z");
}

static void test_cli_args_put_needs_source_and_type(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "events", "put", "--source", "myapp"), BB_EINVAL);
    assert_non_null(strstr(err, "--detail-type"));
    assert_int_equal(PARSE(&a, err, "events", "put", "--source", "myapp", "--detail-type", "T"),
                     BB_OK);
    assert_string_equal(a.detail, "{}");
    assert_int_equal(PARSE(&a, err, "events", "put", "--source", "s", "--detail-type", "T",
                           "--detail", "{\"id\":1}"),
                     BB_OK);
    assert_string_equal(a.detail, "{\"id\":1}");
    assert_null(a.bus);
    assert_int_equal(
        PARSE(&a, err, "events", "put", "--source", "s", "--detail-type", "T", "--bus", "orders"),
        BB_OK);
    assert_string_equal(a.bus, "orders");
    /* --bus belongs to the events commands that name a bus */
    assert_int_equal(PARSE(&a, err, "events", "seq", "--bus", "orders"), BB_EINVAL);
    assert_non_null(strstr(err, "--bus"));
    assert_int_equal(PARSE(&a, err, "status", "--bus", "orders"), BB_EINVAL);
    assert_non_null(strstr(err, "--bus"));
}

static void test_cli_args_tail_and_wait_take_a_bus(void **state)
{
    static const char arn[] = "arn:aws:events:us-east-1:000000000000:event-bus/orders";
    static char eq_arn[] = "--bus=arn:aws:events:us-east-1:000000000000:event-bus/orders";
    char big[CLI_BUS_MAX + 2];
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "events", "tail"), BB_OK);
    assert_null(a.bus);
    assert_int_equal(PARSE(&a, err, "events", "tail", "--bus", "orders"), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_EVENTS_TAIL);
    assert_string_equal(a.bus, "orders");
    assert_string_equal(a.since, "latest");
    /* an ARN is passed on as given; the equals form too */
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}", eq_arn), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_EVENTS_WAIT);
    assert_string_equal(a.bus, arn);
    assert_string_equal(a.since, "earliest");
    /* a global flag after it still parses */
    assert_int_equal(
        PARSE(&a, err, "events", "wait", "--bus", "orders", "--pattern", "{}", "--token", "t0k"),
        BB_OK);
    assert_string_equal(a.bus, "orders");
    assert_string_equal(a.token, "t0k");
    /* empty and over-long values are usage errors */
    assert_int_equal(PARSE(&a, err, "events", "tail", "--bus", ""), BB_EINVAL);
    assert_non_null(strstr(err, "--bus"));
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}", "--bus", big), BB_EINVAL);
    assert_non_null(strstr(err, "--bus"));
    big[CLI_BUS_MAX] = '\0';
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}", "--bus", big), BB_OK);
    assert_int_equal(strlen(a.bus), CLI_BUS_MAX);
    /* and the help of each says so */
    assert_non_null(strstr(cli_args_usage(CLI_CMD_EVENTS_TAIL), "--bus NAME"));
    assert_non_null(strstr(cli_args_usage(CLI_CMD_EVENTS_WAIT), "--bus NAME"));
}

static void test_cli_args_dlq_and_replay(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "dlq", "list"), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_DLQ_LIST);
    assert_int_equal(PARSE(&a, err, "dlq", "show"), BB_EINVAL);
    assert_non_null(strstr(err, "--arn"));
    assert_int_equal(PARSE(&a, err, "dlq", "show", "--arn", "thumbnail-dlq", "--limit", "5"),
                     BB_OK);
    assert_int_equal(a.limit, 5);
    assert_int_equal(PARSE(&a, err, "dlq", "redrive", "--arn", "q"), BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_DLQ_REDRIVE);

    assert_int_equal(
        PARSE(&a, err, "replay", "--archive", "all", "--from", "-10m", "--to", "now", "--wait"),
        BB_OK);
    assert_int_equal(a.cmd, CLI_CMD_REPLAY);
    assert_int_equal(a.from_s, NOW - 600);
    assert_int_equal(a.to_s, NOW);
    assert_int_equal(a.wait, 1);
    assert_int_equal(PARSE(&a, err, "replay", "--archive", "all", "--from", "now", "--to", "-1m"),
                     BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "replay", "--archive", "all", "--from", "now"), BB_EINVAL);
}

static void test_cli_args_usage_errors(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(
        cli_args_parse(1, ARGV("x") /* only argv[0] is read */, NOW, &a, err, sizeof(err)),
        BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "frobnicate"), BB_EINVAL);
    assert_non_null(strstr(err, "frobnicate"));
    assert_int_equal(PARSE(&a, err, "events", "frob"), BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "events"), BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "status", "--bogus"), BB_EINVAL);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(PARSE(&a, err, "status", "--pattern", "{}"), BB_EINVAL);
    assert_non_null(strstr(err, "does not apply"));
    assert_int_equal(PARSE(&a, err, "events", "wait"), BB_EINVAL); /* no pattern */
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}", "--count", "0"),
                     BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "events", "wait", "--pattern", "{}", "--timeout", "0"),
                     BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "events", "tail", "--format", "xml"), BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "events", "tail", "--since"), BB_EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(PARSE(&a, err, "events", "tail", "--timeout", "1s"), BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "reset", "extra", "words"), BB_EINVAL);
    assert_int_equal(PARSE(&a, err, "--wait=1", "replay"), BB_EINVAL); /* no value flag */
}

static void test_cli_args_help_anywhere(void **state)
{
    struct cli_args a;
    char err[256];
    (void)state;
    assert_int_equal(PARSE(&a, err, "--help"), BB_OK);
    assert_true(a.help);
    assert_int_equal(a.cmd, CLI_CMD_NONE);
    assert_non_null(strstr(cli_args_usage(a.cmd), "events wait"));
    /* --help needs none of the command's required flags */
    assert_int_equal(PARSE(&a, err, "events", "wait", "-h"), BB_OK);
    assert_true(a.help);
    assert_int_equal(a.cmd, CLI_CMD_EVENTS_WAIT);
    assert_non_null(strstr(cli_args_usage(a.cmd), "--since"));
    assert_int_equal(PARSE(&a, err, "dlq", "--help"), BB_OK);
    assert_non_null(strstr(cli_args_usage(a.cmd), "redrive"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_args_duration_units),
        cmocka_unit_test(test_cli_args_duration_rejects_junk),
        cmocka_unit_test(test_cli_args_time_forms),
        cmocka_unit_test(test_cli_args_time_rejects_impossible_dates),
        cmocka_unit_test(test_cli_args_since_normalises),
        cmocka_unit_test(test_cli_args_wait_defaults),
        cmocka_unit_test(test_cli_args_wait_all_flags_and_equals_form),
        cmocka_unit_test(test_cli_args_ca_is_global),
        cmocka_unit_test(test_cli_args_tail_defaults_to_latest),
        cmocka_unit_test(test_cli_args_put_needs_source_and_type),
        cmocka_unit_test(test_cli_args_tail_and_wait_take_a_bus),
        cmocka_unit_test(test_cli_args_dlq_and_replay),
        cmocka_unit_test(test_cli_args_usage_errors),
        cmocka_unit_test(test_cli_args_help_anywhere),
    };

    return cmocka_run_group_tests_name("consumers/cli/cli_args", tests, NULL, NULL);
}
