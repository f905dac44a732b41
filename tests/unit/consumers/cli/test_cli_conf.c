/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/cli/cli_conf.c: endpoint URLs, the ready file's
 * fields, and the order flags > ready file > environment > defaults.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "cli_args.h"
#include "cli_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_cli_conf_parse_url_forms(void **state)
{
    char host[64];
    int port = 0, tls = -1;
    (void)state;
    assert_int_equal(cli_conf_parse_url("http://127.0.0.1:4566", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4566);
    assert_int_equal(cli_conf_parse_url("ws://localhost:9/_bucketbridge/events", host, sizeof(host),
                                        &port, &tls),
                     BB_OK);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 9);
    assert_int_equal(cli_conf_parse_url("http://[::1]:8080/", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8080);
    assert_int_equal(cli_conf_parse_url("http://localhost", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_int_equal(port, 80);
    assert_int_equal(cli_conf_parse_url("127.0.0.1", host, sizeof(host), &port, &tls), BB_OK);
    assert_int_equal(port, 4566);
    assert_int_equal(tls, 0);
}

static void test_cli_conf_parse_url_rejects(void **state)
{
    char host[16];
    int port = 0, tls = -1;
    (void)state;
    assert_int_equal(cli_conf_parse_url("ftp://x:1", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("http://:1", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("http://h:0", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("http://h:65536", host, sizeof(host), &port, &tls),
                     BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("http://h:12x", host, sizeof(host), &port, &tls),
                     BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("http://[::1", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(
        cli_conf_parse_url("http://a-very-long-host-name:1", host, sizeof(host), &port, &tls),
        BB_EINVAL);
}

static void test_cli_conf_from_ready_fills_unset_fields(void **state)
{
    struct cli_conf c;
    (void)state;
    memset(&c, 0, sizeof(c));
    c.token = bb_xstrdup("from-flag");
    assert_int_equal(cli_conf_from_ready(&c, "{\"endpoint\":\"http://127.0.0.1:40001\","
                                             "\"token\":\"tk\",\"access_key\":\"AK\","
                                             "\"secret_key\":\"SK\",\"region\":\"eu-west-1\","
                                             "\"account_id\":\"123456789012\",\"pid\":1}\n"),
                     BB_OK);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 40001);
    assert_string_equal(c.token, "from-flag"); /* the flag wins */
    assert_string_equal(c.access_key, "AK");
    assert_string_equal(c.secret_key, "SK");
    assert_string_equal(c.region, "eu-west-1");
    assert_string_equal(c.account_id, "123456789012");
    cli_conf_cleanup(&c);
    assert_int_equal(cli_conf_from_ready(&c, "{\"token\":\"x\"}"), BB_EINVAL);
    assert_int_equal(cli_conf_from_ready(&c, "not json"), BB_EINVAL);
    cli_conf_cleanup(&c);
}

static void test_cli_conf_resolve_order(void **state)
{
    char *dir = bb_test_tmpdir();
    char path[512];
    struct cli_args a;
    struct cli_conf c;
    char err[256];
    FILE *f;
    (void)state;

    setenv("BUCKETBRIDGE_ENDPOINT", "http://127.0.0.1:5555", 1);
    setenv("BUCKETBRIDGE_TOKEN", "envtok", 1);
    unsetenv("BUCKETBRIDGE_READY_FILE");
    memset(&a, 0, sizeof(a));
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_OK);
    assert_int_equal(c.port, 5555);
    assert_string_equal(c.token, "envtok");
    cli_conf_cleanup(&c);

    /* the ready file beats the environment; its pid is alive (ours) */
    snprintf(path, sizeof(path), "%s/ready.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"endpoint\":\"http://127.0.0.1:6666\",\"token\":\"readytok\",\"pid\":%d}\n",
            (int)getpid());
    fclose(f);
    a.ready_file = path;
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_OK);
    assert_int_equal(c.port, 6666);
    assert_string_equal(c.token, "readytok");
    cli_conf_cleanup(&c);

    /* and the flags beat the ready file */
    a.endpoint = "http://localhost:7777";
    a.token = "flagtok";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_OK);
    assert_string_equal(c.host, "localhost");
    assert_int_equal(c.port, 7777);
    assert_string_equal(c.token, "flagtok");
    cli_conf_cleanup(&c);

    a.endpoint = "ftp://x";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "--endpoint"));
    cli_conf_cleanup(&c);

    /* https: a host other than loopback needs --ca; loopback does not */
    a.endpoint = "https://x";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "not a loopback host"));
    cli_conf_cleanup(&c);
    a.ca_file = "/tmp/cert.pem";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_OK);
    assert_int_equal(c.tls, 1);
    assert_int_equal(c.port, 443);
    assert_string_equal(c.ca_file, "/tmp/cert.pem");
    cli_conf_cleanup(&c);
    a.ca_file = NULL;
    a.endpoint = "https://127.0.0.1:4567";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_OK);
    assert_int_equal(c.tls, 1);
    assert_int_equal(c.port, 4567);
    assert_null(c.ca_file);
    cli_conf_cleanup(&c);
    /* --ca with a plain endpoint would go unused: refused */
    a.endpoint = "http://127.0.0.1:4566";
    a.ca_file = "/tmp/cert.pem";
    assert_int_equal(cli_conf_resolve(&c, &a, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "--ca applies"));
    cli_conf_cleanup(&c);
    a.ca_file = NULL;

    unsetenv("BUCKETBRIDGE_ENDPOINT");
    unsetenv("BUCKETBRIDGE_TOKEN");
    bb_test_rmrf(dir);
    free(dir);
}

static void test_cli_conf_parse_url_tls(void **state)
{
    char host[64];
    int port = 0, tls = -1;

    (void)state;
    assert_int_equal(cli_conf_parse_url("https://127.0.0.1:4567", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4567);
    assert_int_equal(tls, 1);
    assert_int_equal(cli_conf_parse_url("wss://[::1]/x", host, sizeof(host), &port, &tls), BB_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 443);
    assert_int_equal(tls, 1);
    assert_int_equal(cli_conf_parse_url("http://localhost:4566", host, sizeof(host), &port, &tls),
                     BB_OK);
    assert_int_equal(port, 4566);
    assert_int_equal(tls, 0);
    assert_int_equal(cli_conf_parse_url("127.0.0.1", host, sizeof(host), &port, &tls), BB_OK);
    assert_int_equal(port, 4566);
    assert_int_equal(tls, 0);
    assert_int_equal(cli_conf_parse_url("https://:1", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("https://h:0", host, sizeof(host), &port, &tls), BB_EINVAL);
    assert_int_equal(cli_conf_parse_url("httpss://h:1", host, sizeof(host), &port, &tls),
                     BB_EINVAL);
}

static void test_cli_conf_check_tls(void **state)
{
    struct cli_conf c;
    char err[256];

    (void)state;
    memset(&c, 0, sizeof(c));
    snprintf(c.host, sizeof(c.host), "127.0.0.1");
    c.port = 4567;
    c.tls = 1;
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_OK); /* loopback, no CA */
    snprintf(c.host, sizeof(c.host), "::1");
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_OK);
    snprintf(c.host, sizeof(c.host), "example.com");
    err[0] = '\0';
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "not a loopback host"));
    assert_non_null(strstr(err, "--ca FILE"));
    c.ca_file = (char *)"/x/cert.pem";
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_OK);
    c.tls = 0; /* --ca with plain http */
    err[0] = '\0';
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_EINVAL);
    assert_non_null(strstr(err, "--ca applies to an https:// endpoint"));
    c.ca_file = NULL;
    assert_int_equal(cli_conf_check_tls(&c, err, sizeof(err)), BB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_conf_parse_url_forms),
        cmocka_unit_test(test_cli_conf_parse_url_rejects),
        cmocka_unit_test(test_cli_conf_parse_url_tls),
        cmocka_unit_test(test_cli_conf_check_tls),
        cmocka_unit_test(test_cli_conf_from_ready_fills_unset_fields),
        cmocka_unit_test(test_cli_conf_resolve_order),
    };

    return cmocka_run_group_tests_name("consumers/cli/cli_conf", tests, NULL, NULL);
}
