/* SPDX-License-Identifier: MIT */
/* logger_run_ws_url: the WebSocket URL the logger derives from its S3 endpoint. */
#include "bb_test.h"

#include "bb_wsclient.h"
#include "logger_run.h"

#include <stdlib.h>

static void check(const char *endpoint, const char *want)
{
    char *got = logger_run_ws_url(endpoint);
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_logger_run_ws_url_schemes(void **state)
{
    (void)state;
    check("http://127.0.0.1:4566", "ws://127.0.0.1:4566" BB_WSCLIENT_PATH);
    check("https://127.0.0.1:4567", "wss://127.0.0.1:4567" BB_WSCLIENT_PATH);
    check("https://localhost:4567/some/path?x=1", "wss://localhost:4567" BB_WSCLIENT_PATH);
    check("http://[::1]:4566/", "ws://[::1]:4566" BB_WSCLIENT_PATH);
    check("https://[::1]", "wss://[::1]" BB_WSCLIENT_PATH);
}

static void test_logger_run_ws_url_rejects(void **state)
{
    (void)state;
    check("ftp://127.0.0.1:1", NULL);
    check("127.0.0.1:4566", NULL);
    check("https://", NULL);
    check("http:///x", NULL);
    check(NULL, NULL);
}

static void test_logger_run_ws_url_parses_back(void **state)
{
    char host[64];
    int port = 0, tls = -1;
    char *u = logger_run_ws_url("https://127.0.0.1:4567");

    (void)state;
    assert_int_equal(bb_wsclient_parse_url(u, host, sizeof(host), &port, &tls), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4567);
    assert_int_equal(tls, 1);
    free(u);
    u = logger_run_ws_url("http://localhost:4566");
    assert_int_equal(bb_wsclient_parse_url(u, host, sizeof(host), &port, &tls), 0);
    assert_int_equal(port, 4566);
    assert_int_equal(tls, 0);
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logger_run_ws_url_schemes),
        cmocka_unit_test(test_logger_run_ws_url_rejects),
        cmocka_unit_test(test_logger_run_ws_url_parses_back),
    };
    return cmocka_run_group_tests_name("consumers/logger/logger_run", tests, NULL, NULL);
}
