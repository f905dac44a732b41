/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/cli/cli_http.c: response parsing (Content-Length,
 * chunked, close-delimited, bare LF, incomplete and broken input) and a
 * refused connection.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "cli_http.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PARSE(s, r) cli_http_parse_response((s), strlen(s), (r))

static void test_cli_http_parse_content_length(void **state)
{
    struct cli_http_resp r;
    (void)state;
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "content-length: 11\r\n\r\n{\"ok\":true}",
                           &r),
                     BB_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 11);
    assert_string_equal(r.body, "{\"ok\":true}");
    cli_http_resp_cleanup(&r);
    /* bytes after the body are not part of it */
    assert_int_equal(PARSE("HTTP/1.1 403 Forbidden\nContent-Length: 2\n\nnoEXTRA", &r), BB_OK);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "no");
    cli_http_resp_cleanup(&r);
}

static void test_cli_http_parse_chunked_and_close_delimited(void **state)
{
    struct cli_http_resp r;
    (void)state;
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
                           &r),
                     BB_OK);
    assert_string_equal(r.body, "Wikipedia in\r\n\r\nchunks.");
    cli_http_resp_cleanup(&r);
    assert_int_equal(PARSE("HTTP/1.0 200 OK\r\n\r\nuntil the close", &r), BB_OK);
    assert_string_equal(r.body, "until the close");
    cli_http_resp_cleanup(&r);
    assert_int_equal(PARSE("HTTP/1.1 204 No Content\r\n\r\n", &r), BB_OK);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.body, "");
    cli_http_resp_cleanup(&r);
}

static void test_cli_http_parse_incomplete_and_broken(void **state)
{
    struct cli_http_resp r;
    (void)state;
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", &r),
                     BB_EINCOMPLETE);
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Len", &r), BB_EINCOMPLETE);
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", &r),
                     BB_EINCOMPLETE);
    assert_int_equal(PARSE("SSH-2.0-OpenSSH\r\n\r\n", &r), BB_ECORRUPT);
    assert_int_equal(PARSE("HTTP/1.1 abc\r\n\r\n", &r), BB_ECORRUPT);
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &r), BB_ECORRUPT);
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", &r),
                     BB_ETOOBIG);
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &r),
                     BB_ECORRUPT);
}

static void test_cli_http_request_refused(void **state)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    struct cli_http_resp r;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;
    (void)state;

    /* a port that was just free: bound, never listened on, closed */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    assert_int_equal(cli_http_request("127.0.0.1", port, "GET", "/", NULL, NULL, 0, 2000, &r),
                     -ECONNREFUSED);
    assert_null(r.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_http_parse_content_length),
        cmocka_unit_test(test_cli_http_parse_chunked_and_close_delimited),
        cmocka_unit_test(test_cli_http_parse_incomplete_and_broken),
        cmocka_unit_test(test_cli_http_request_refused),
    };

    return cmocka_run_group_tests_name("consumers/cli/cli_http", tests, NULL, NULL);
}
