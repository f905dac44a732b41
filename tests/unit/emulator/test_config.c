/* SPDX-License-Identifier: MIT */
/* Tests for emulator/config.c: the embedded defaults, every JSON key, errors
 * that name the bad key, the file loader and the --listen / --auth forms. */
#include "bb_test.h"

#include "config.h"
#include "config_print.h"

#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static int apply(struct config *c, const char *json, char *err, size_t errlen)
{
    err[0] = '\0';
    return config_apply_json(c, json, strlen(json), err, errlen);
}

static void assert_apply_ok(struct config *c, const char *json)
{
    char err[256];
    int rc = apply(c, json, err, sizeof(err));

    if (rc != BB_OK)
        fail_msg("%s: rc %d (%s)", json, rc, err);
}

/* The JSON is refused and the message contains @named. */
static void assert_apply_refused(const char *json, const char *named)
{
    struct config c;
    char err[256];
    int rc;

    config_init(&c);
    rc = apply(&c, json, err, sizeof(err));
    if (rc != BB_EINVAL)
        fail_msg("%s: rc %d, want BB_EINVAL", json, rc);
    if (strstr(err, named) == NULL)
        fail_msg("%s: message \"%s\" does not name \"%s\"", json, err, named);
    config_cleanup(&c);
}

/* ---- defaults ---- */

static void test_config_init_fills_the_embedded_defaults(void **state)
{
    struct config c;

    config_init(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 4566);
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.region, "us-east-1");
    assert_string_equal(c.account_id, "000000000000");
    assert_true(c.auth_enabled);
    assert_string_equal(c.access_key, "test");
    assert_string_equal(c.secret_key, "test");
    assert_false(c.durability_full);
    assert_string_equal(c.log_level, "info");
    assert_true(c.max_skew_s > 0);
    assert_int_equal(c.nbuckets, 2);
    assert_string_equal(c.buckets[0].name, "my-raw-images");
    assert_string_equal(c.buckets[1].name, "my-thumbnails");
    assert_true(c.buckets[0].eventbridge);
    assert_true(c.buckets[1].eventbridge);
    config_cleanup(&c);
}

static void test_config_default_json_applies_cleanly(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, config_default_json);
    assert_int_equal(c.listen_port, 4566);
    assert_int_equal(c.nbuckets, 2);
    config_cleanup(&c);
}

/* ---- every key ---- */

static void test_config_apply_json_sets_every_key(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, "{\"listen\": \"0.0.0.0:9000\","
                        " \"data_dir\": \"/var/lib/bb\","
                        " \"region\": \"eu-west-1\","
                        " \"account_id\": \"123456789012\","
                        " \"auth\": {\"access_key\": \"AKID\", \"secret_key\": \"s3cr3t\"},"
                        " \"durability\": \"full\","
                        " \"log_level\": \"debug\","
                        " \"buckets\": [{\"name\": \"one-bucket\", \"eventbridge\": false},"
                        "               {\"name\": \"two.bucket\", \"eventbridge\": true},"
                        "               \"three-bucket\"]}");
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.data_dir, "/var/lib/bb");
    assert_string_equal(c.region, "eu-west-1");
    assert_string_equal(c.account_id, "123456789012");
    assert_true(c.auth_enabled);
    assert_string_equal(c.access_key, "AKID");
    assert_string_equal(c.secret_key, "s3cr3t");
    assert_true(c.durability_full);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.nbuckets, 3);
    assert_string_equal(c.buckets[0].name, "one-bucket");
    assert_false(c.buckets[0].eventbridge);
    assert_string_equal(c.buckets[1].name, "two.bucket");
    assert_true(c.buckets[1].eventbridge);
    assert_string_equal(c.buckets[2].name, "three-bucket");
    config_cleanup(&c);
}

static void test_config_apply_json_keeps_keys_not_given(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, "{\"region\": \"ap-south-1\"}");
    assert_string_equal(c.region, "ap-south-1");
    assert_int_equal(c.listen_port, 4566);
    assert_string_equal(c.data_dir, "./data");
    assert_int_equal(c.nbuckets, 2);
    assert_apply_ok(&c, "{}");
    assert_string_equal(c.region, "ap-south-1");
    config_cleanup(&c);
}

static void test_config_apply_json_turns_auth_off_and_durability_back(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, "{\"auth\": \"none\"}");
    assert_false(c.auth_enabled);
    assert_apply_ok(&c, "{\"auth\": {\"access_key\": \"k\", \"secret_key\": \"s\"}}");
    assert_true(c.auth_enabled);
    assert_apply_ok(&c, "{\"durability\": \"full\"}");
    assert_true(c.durability_full);
    assert_apply_ok(&c, "{\"durability\": \"fast\"}");
    assert_false(c.durability_full);
    config_cleanup(&c);
}

static void test_config_apply_json_replaces_the_bucket_list(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, "{\"buckets\": [\"only-one\"]}");
    assert_int_equal(c.nbuckets, 1);
    assert_string_equal(c.buckets[0].name, "only-one");
    assert_apply_ok(&c, "{\"buckets\": []}");
    assert_int_equal(c.nbuckets, 0);
    config_cleanup(&c);
}

static void test_config_apply_json_takes_every_log_level(void **state)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    struct config c;
    char json[64];

    config_init(&c);
    for (size_t i = 0; i < 4; i++) {
        snprintf(json, sizeof(json), "{\"log_level\": \"%s\"}", levels[i]);
        assert_apply_ok(&c, json);
        assert_string_equal(c.log_level, levels[i]);
    }
    config_cleanup(&c);
}

static void test_config_apply_json_takes_64_buckets_but_not_65(void **state)
{
    char json[4096];
    size_t n = 0;
    struct config c;
    char err[256];

    n += (size_t)snprintf(json + n, sizeof(json) - n, "{\"buckets\": [");
    for (int i = 0; i < CONFIG_MAX_BUCKETS; i++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"bucket-%d\"", i ? "," : "", i);
    snprintf(json + n, sizeof(json) - n, "]}");
    config_init(&c);
    assert_apply_ok(&c, json);
    assert_int_equal(c.nbuckets, CONFIG_MAX_BUCKETS);
    assert_string_equal(c.buckets[63].name, "bucket-63");
    config_cleanup(&c);

    snprintf(json + n, sizeof(json) - n, ",\"bucket-64\"]}");
    config_init(&c);
    assert_int_equal(apply(&c, json, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "buckets"));
    config_cleanup(&c);
}

/* ---- errors name the key ---- */

static void test_config_apply_json_refuses_unknown_keys(void **state)
{
    assert_apply_refused("{\"bogus\": 1}", "bogus");
    assert_apply_refused("{\"region\": \"us-east-1\", \"bogus\": true}", "bogus");
    assert_apply_refused("{\"Listen\": \"127.0.0.1:1\"}", "Listen");
    assert_apply_refused("{\"auth\": {\"access_key\": \"a\", \"secret_key\": \"b\", "
                         "\"session_token\": \"t\"}}",
                         "session_token");
    assert_apply_refused("{\"buckets\": [{\"name\": \"abc\", \"colour\": \"red\"}]}", "colour");
}

static void test_config_apply_json_refuses_a_bad_port(void **state)
{
    assert_apply_refused("{\"listen\": \"127.0.0.1:99999\"}", "listen");
    assert_apply_refused("{\"listen\": \"127.0.0.1:http\"}", "listen");
    assert_apply_refused("{\"listen\": \"127.0.0.1:\"}", "listen");
    assert_apply_refused("{\"listen\": 4566}", "listen");
    assert_apply_refused("{\"listen\": \"\"}", "listen");
}

static void test_config_apply_json_refuses_a_bad_bucket_name(void **state)
{
    assert_apply_refused("{\"buckets\": [\"Bad_Name\"]}", "Bad_Name");
    assert_apply_refused("{\"buckets\": [\"ok-bucket\", \"ab\"]}", "buckets");
    assert_apply_refused("{\"buckets\": [{\"name\": \"192.168.5.4\"}]}", "192.168.5.4");
    assert_apply_refused("{\"buckets\": [{\"eventbridge\": true}]}", "buckets");
    assert_apply_refused("{\"buckets\": [42]}", "buckets");
    assert_apply_refused("{\"buckets\": \"my-raw-images\"}", "buckets");
}

static void test_config_apply_json_refuses_account_id_not_12_digits(void **state)
{
    assert_apply_refused("{\"account_id\": \"123\"}", "account_id");
    assert_apply_refused("{\"account_id\": \"1234567890123\"}", "account_id");
    assert_apply_refused("{\"account_id\": \"12345678901a\"}", "account_id");
    assert_apply_refused("{\"account_id\": 123456789012}", "account_id");
    assert_apply_refused("{\"account_id\": \"\"}", "account_id");
}

static void test_config_apply_json_refuses_a_bad_durability(void **state)
{
    assert_apply_refused("{\"durability\": \"sometimes\"}", "durability");
    assert_apply_refused("{\"durability\": true}", "durability");
    assert_apply_refused("{\"durability\": \"FULL\"}", "durability");
}

static void test_config_apply_json_refuses_other_bad_values(void **state)
{
    assert_apply_refused("{\"log_level\": \"verbose\"}", "log_level");
    assert_apply_refused("{\"data_dir\": 5}", "data_dir");
    assert_apply_refused("{\"data_dir\": \"\"}", "data_dir");
    assert_apply_refused("{\"region\": null}", "region");
    assert_apply_refused("{\"auth\": \"sometimes\"}", "auth");
    assert_apply_refused("{\"auth\": {\"access_key\": \"a\"}}", "secret_key");
    assert_apply_refused("{\"auth\": {\"access_key\": \"\", \"secret_key\": \"b\"}}", "access_key");
}

static void test_config_apply_json_checks_consumer_idle_seconds(void **state)
{
    struct config c;

    config_init(&c);
    assert_apply_ok(&c, "{\"consumers\": [{\"name\": \"t\", \"command\": \"x\", "
                        "\"idle_seconds\": 2.5}]}");
    assert_non_null(strstr(c.consumers_json, "idle_seconds"));
    config_cleanup(&c);
    assert_apply_refused("{\"consumers\": [{\"name\": \"t\", \"command\": \"x\", "
                         "\"idle_seconds\": -1}]}",
                         "consumers[0].idle_seconds");
    assert_apply_refused("{\"consumers\": [{\"name\": \"t\", \"command\": \"x\"}, "
                         "{\"name\": \"u\", \"command\": \"y\", \"idle_seconds\": \"5\"}]}",
                         "consumers[1].idle_seconds");
    assert_apply_refused("{\"consumers\": [{\"name\": \"t\", \"command\": \"x\", "
                         "\"idle\": 5}]}",
                         "consumers[0].idle");
}

static void test_config_apply_json_sets_the_http_limits(void **state)
{
    struct config c;

    config_init(&c);
    assert_int_equal(c.http_max_connections, 16384);
    assert_int_equal(c.http_head_timeout_s, 15);
    assert_int_equal(c.http_body_timeout_s, 60);
    assert_int_equal(c.http_idle_timeout_s, 120);
    assert_apply_ok(&c, "{\"http\": {\"max_connections\": 64, \"head_timeout_seconds\": 2, "
                        "\"body_timeout_seconds\": 3, \"idle_timeout_seconds\": 4}}");
    assert_int_equal(c.http_max_connections, 64);
    assert_int_equal(c.http_head_timeout_s, 2);
    assert_int_equal(c.http_body_timeout_s, 3);
    assert_int_equal(c.http_idle_timeout_s, 4);
    assert_apply_ok(&c, "{\"http\": {\"head_timeout_seconds\": 9}}");
    assert_int_equal(c.http_head_timeout_s, 9);
    assert_int_equal(c.http_max_connections, 64); /* keys not given are kept */
    config_cleanup(&c);
    assert_apply_refused("{\"http\": {\"max_connections\": 0}}", "http.max_connections");
    assert_apply_refused("{\"http\": {\"head_timeout_seconds\": \"5\"}}",
                         "http.head_timeout_seconds");
    assert_apply_refused("{\"http\": {\"body_timeout_seconds\": 3601}}",
                         "http.body_timeout_seconds");
    assert_apply_refused("{\"http\": {\"keepalive\": 1}}", "http.keepalive");
    assert_apply_refused("{\"http\": 5}", "http");
}

static void test_config_apply_json_refuses_what_is_not_an_object(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(apply(&c, "", err, sizeof(err)), BB_EINVAL);
    assert_true(err[0] != '\0');
    assert_int_equal(apply(&c, "[1, 2]", err, sizeof(err)), BB_EINVAL);
    assert_int_equal(apply(&c, "{\"region\": ", err, sizeof(err)), BB_EINVAL);
    assert_int_equal(apply(&c, "\"listen\"", err, sizeof(err)), BB_EINVAL);
    config_cleanup(&c);
}

/* ---- the file ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_config_load_file_applies_the_file(void **state)
{
    char *dir = bb_test_tmpdir();
    char *path = NULL;
    struct config c;
    char err[256];

    assert_true(asprintf(&path, "%s/bb.json", dir) > 0);
    write_file(path, "{\"listen\": \":8080\", \"auth\": \"none\"}");
    config_init(&c);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), BB_OK);
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_false(c.auth_enabled);

    write_file(path, "{\"bogus\": 1}");
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "bogus"));
    config_cleanup(&c);
    free(path);
    bb_test_rmrf(dir);
    free(dir);
}

static void test_config_load_file_fails_on_a_missing_file(void **state)
{
    char *dir = bb_test_tmpdir();
    char *path = NULL;
    struct config c;
    char err[256];

    assert_true(asprintf(&path, "%s/nope.json", dir) > 0);
    config_init(&c);
    err[0] = '\0';
    assert_true(config_load_file(&c, path, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "nope.json"));
    config_cleanup(&c);
    free(path);
    bb_test_rmrf(dir);
    free(dir);
}

static void test_config_load_file_refuses_a_file_over_the_limit(void **state)
{
    char *dir = bb_test_tmpdir();
    char *path = NULL;
    struct config c;
    char err[256];
    FILE *f;

    assert_true(asprintf(&path, "%s/big.json", dir) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputc('{', f);
    for (int i = 0; i < CONFIG_MAX_FILE; i++)
        fputc(' ', f);
    fputc('}', f);
    assert_int_equal(fclose(f), 0);
    config_init(&c);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), BB_ETOOBIG);
    config_cleanup(&c);
    free(path);
    bb_test_rmrf(dir);
    free(dir);
}

/* ---- --listen ---- */

static void test_config_set_listen_reads_host_and_port(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(config_set_listen(&c, "0.0.0.0:8080", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 8080);
    assert_int_equal(config_set_listen(&c, "localhost:1", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "localhost");
    assert_int_equal(c.listen_port, 1);
    assert_int_equal(config_set_listen(&c, "127.0.0.1:65535", err, sizeof(err)), BB_OK);
    assert_int_equal(c.listen_port, 65535);
    config_cleanup(&c);
}

static void test_config_set_listen_reads_bracketed_ipv6(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(config_set_listen(&c, "[::1]:4567", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 4567);
    assert_int_equal(config_set_listen(&c, "[fe80::1:2]:80", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "fe80::1:2");
    assert_int_equal(c.listen_port, 80);
    config_cleanup(&c);
}

static void test_config_set_listen_with_port_only_keeps_the_host(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(config_set_listen(&c, ":9000", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(config_set_listen(&c, "9001", err, sizeof(err)), BB_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 9001);
    config_cleanup(&c);
}

static void test_config_set_listen_refuses_bad_ports(void **state)
{
    static const char *const bad[] = {"",  "host:", "host:abc", "host:65536", "host:-1", "host:80x",
                                      ":", "[::1]", "host",     "host:8 0",   "99999"};
    struct config c;
    char err[256];

    config_init(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (config_set_listen(&c, bad[i], err, sizeof(err)) != BB_EINVAL)
            fail_msg("listen \"%s\" accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
    config_cleanup(&c);
}

/* ---- --auth ---- */

static void test_config_set_auth_reads_key_and_secret(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(
        config_set_auth(&c, "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCY", err, sizeof(err)), BB_OK);
    assert_true(c.auth_enabled);
    assert_string_equal(c.access_key, "AKIDEXAMPLE");
    assert_string_equal(c.secret_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCY");
    /* the secret is everything after the first colon */
    assert_int_equal(config_set_auth(&c, "k:s:t", err, sizeof(err)), BB_OK);
    assert_string_equal(c.access_key, "k");
    assert_string_equal(c.secret_key, "s:t");
    config_cleanup(&c);
}

static void test_config_set_auth_none_turns_auth_off(void **state)
{
    struct config c;
    char err[256];

    config_init(&c);
    assert_int_equal(config_set_auth(&c, "none", err, sizeof(err)), BB_OK);
    assert_false(c.auth_enabled);
    assert_int_equal(config_set_auth(&c, "a:b", err, sizeof(err)), BB_OK);
    assert_true(c.auth_enabled);
    config_cleanup(&c);
}

static void test_config_set_auth_refuses_malformed_specs(void **state)
{
    static const char *const bad[] = {"", "nocolon", ":secret", "key:", ":", "None"};
    struct config c;
    char err[256];

    config_init(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (config_set_auth(&c, bad[i], err, sizeof(err)) != BB_EINVAL)
            fail_msg("auth \"%s\" accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
    /* nothing changed */
    assert_true(c.auth_enabled);
    assert_string_equal(c.access_key, "test");
    assert_string_equal(c.secret_key, "test");
    config_cleanup(&c);
}

/* ---- --print-config ---- */

/* Printing, applying the print to fresh defaults and printing again gives
 * the same text: every key the print holds is read back as it was. */
static void assert_print_round_trips(struct config *c, const char *needle)
{
    struct config back;
    char *text = config_print(c);
    char *again;

    assert_non_null(strstr(text, needle));
    config_init(&back);
    assert_apply_ok(&back, text);
    again = config_print(&back);
    assert_string_equal(again, text);
    free(again);
    free(text);
    config_cleanup(&back);
}

static void test_config_print_round_trips_the_defaults(void **state)
{
    struct config c;

    (void)state;
    config_init(&c);
    assert_print_round_trips(&c, "\"thumbnail-on-upload\"");
    config_cleanup(&c);
}

static void test_config_print_round_trips_every_kind_of_key(void **state)
{
    struct config c;

    (void)state;
    config_init(&c);
    assert_apply_ok(&c, "{\"listen\": \"[::1]:9000\", \"data_dir\": \"/var/lib/bb\","
                        " \"region\": \"eu-west-1\", \"account_id\": \"123456789012\","
                        " \"auth\": \"none\", \"durability\": \"full\", \"log_level\": \"debug\","
                        " \"max_clock_skew_seconds\": 60, \"buckets\": [\"a-bucket\"],"
                        " \"virtual_host_domains\": [\"example.test\"],"
                        " \"https\": {\"enabled\": false, \"listen\": \"127.0.0.1:9443\"},"
                        " \"http\": {\"max_connections\": 100, \"head_timeout_seconds\": 5},"
                        " \"watcher\": {\"enabled\": false, \"ignore\": [\"*.tmp\"]},"
                        " \"eventbridge\": {\"key_encoding\": \"raw\", \"retry_time_scale\": 0.5,"
                        "   \"retention_days\": 0, \"websocket_token\": \"tok\"},"
                        " \"deterministic\": {\"seed\": 42, \"clock_offset_seconds\": -3600},"
                        " \"functions\": {\"f\": {\"command\": [\"/bin/true\"]}},"
                        " \"webhooks\": {\"w\": {\"url\": \"http://127.0.0.1:1/\"}},"
                        " \"consumers\": [], \"rules\": []}");
    assert_print_round_trips(&c, "\"websocket_token\":\t\"tok\"");
    /* and nothing configured above is left out of the print */
    char *text = config_print(&c);
    static const char *const given[] = {
        "\"[::1]:9000\"", "/var/lib/bb",   "eu-west-1", "123456789012", "\"none\"",
        "\"full\"",       "\"debug\"",     ":\t60,",    "a-bucket",     "example.test",
        "127.0.0.1:9443", ":\t100,",       ":\t5,",     "*.tmp",        "\"raw\"",
        ":\t0.5,",        "\"seed\":\t42", ":\t-3600",  "/bin/true",    "http://127.0.0.1:1/"};
    for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
        if (strstr(text, given[i]) == NULL)
            fail_msg("--print-config lost %s:\n%s", given[i], text);
    free(text);
    config_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_init_fills_the_embedded_defaults),
        cmocka_unit_test(test_config_print_round_trips_the_defaults),
        cmocka_unit_test(test_config_print_round_trips_every_kind_of_key),
        cmocka_unit_test(test_config_default_json_applies_cleanly),
        cmocka_unit_test(test_config_apply_json_sets_every_key),
        cmocka_unit_test(test_config_apply_json_keeps_keys_not_given),
        cmocka_unit_test(test_config_apply_json_turns_auth_off_and_durability_back),
        cmocka_unit_test(test_config_apply_json_replaces_the_bucket_list),
        cmocka_unit_test(test_config_apply_json_takes_every_log_level),
        cmocka_unit_test(test_config_apply_json_takes_64_buckets_but_not_65),
        cmocka_unit_test(test_config_apply_json_refuses_unknown_keys),
        cmocka_unit_test(test_config_apply_json_refuses_a_bad_port),
        cmocka_unit_test(test_config_apply_json_refuses_a_bad_bucket_name),
        cmocka_unit_test(test_config_apply_json_refuses_account_id_not_12_digits),
        cmocka_unit_test(test_config_apply_json_refuses_a_bad_durability),
        cmocka_unit_test(test_config_apply_json_refuses_other_bad_values),
        cmocka_unit_test(test_config_apply_json_checks_consumer_idle_seconds),
        cmocka_unit_test(test_config_apply_json_sets_the_http_limits),
        cmocka_unit_test(test_config_apply_json_refuses_what_is_not_an_object),
        cmocka_unit_test(test_config_load_file_applies_the_file),
        cmocka_unit_test(test_config_load_file_fails_on_a_missing_file),
        cmocka_unit_test(test_config_load_file_refuses_a_file_over_the_limit),
        cmocka_unit_test(test_config_set_listen_reads_host_and_port),
        cmocka_unit_test(test_config_set_listen_reads_bracketed_ipv6),
        cmocka_unit_test(test_config_set_listen_with_port_only_keeps_the_host),
        cmocka_unit_test(test_config_set_listen_refuses_bad_ports),
        cmocka_unit_test(test_config_set_auth_reads_key_and_secret),
        cmocka_unit_test(test_config_set_auth_none_turns_auth_off),
        cmocka_unit_test(test_config_set_auth_refuses_malformed_specs),
    };

    return cmocka_run_group_tests_name("emulator/config", tests, NULL, NULL);
}
