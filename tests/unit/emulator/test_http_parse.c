/* SPDX-License-Identifier: MIT */
/* Tests for emulator/http_parse.c: head end detection, the request line and
 * headers kept as sent, malformed heads, and the chunked decoder fed whole,
 * split and byte by byte. */
#include "bb_test.h"

#include "http_parse.h"

#include "bb_buf.h"
#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static struct http_head head; /* large: keep it off the stack */

static int parse(const char *s)
{
    return http_parse_head(s, strlen(s), &head);
}

static void assert_span(const char *p, size_t n, const char *want)
{
    assert_non_null(p);
    if (n != strlen(want) || memcmp(p, want, n) != 0)
        fail_msg("got \"%.*s\", want \"%s\"", (int)n, p, want);
}

static void assert_header(const char *name, const char *want)
{
    size_t len = 12345;
    const char *v = http_head_get(&head, name, &len);

    if (v == NULL)
        fail_msg("header %s missing", name);
    assert_span(v, len, want);
}

static void assert_malformed(const char *s)
{
    int rc = parse(s);

    if (rc != BB_EINVAL)
        fail_msg("head \"%s\" gave %d, want BB_EINVAL", s, rc);
}

/* Decoded bytes go here. */
struct sink {
    struct bb_buf out;
    int calls;
    int fail_with;
};

static int sink_cb(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;

    s->calls++;
    if (s->fail_with != 0)
        return s->fail_with;
    return bb_buf_append(&s->out, p, n);
}

static void sink_init(struct sink *s)
{
    memset(s, 0, sizeof(*s));
    bb_buf_init(&s->out, 1 << 20);
}

static const char *sink_str(struct sink *s)
{
    return s->out.data != NULL ? s->out.data : "";
}

/* Feeds @body whole; returns the feed's result. */
static long feed_whole(const char *body, size_t n, struct sink *s)
{
    struct http_chunked c;

    http_chunked_init(&c);
    return http_chunked_feed(&c, body, n, sink_cb, s);
}

/* Feeds @body one byte at a time; returns the total consumed, or the first
 * error. Stops at the first byte not consumed. */
static long feed_bytewise(const char *body, size_t n, struct sink *s)
{
    struct http_chunked c;
    long total = 0;

    http_chunked_init(&c);
    for (size_t i = 0; i < n; i++) {
        long r = http_chunked_feed(&c, body + i, 1, sink_cb, s);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        assert_int_equal(r, 1);
        total += r;
    }
    return total;
}

/* ---- head end ---- */

static void test_http_parse_head_end_finds_the_blank_line(void **state)
{
    const char *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";

    assert_int_equal(http_parse_head_end(s, strlen(s)), strlen(s) - 4);
    assert_int_equal(http_parse_head_end(s, strlen(s) - 4), strlen(s) - 4);
}

static void test_http_parse_head_end_needs_more_bytes(void **state)
{
    const char *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    for (size_t n = 0; n < strlen(s); n++)
        assert_int_equal(http_parse_head_end(s, n), 0);
    assert_int_equal(http_parse_head_end("GET / HTTP/1.1\n\n", 16), 0);
}

static void test_http_parse_head_end_accepts_a_head_of_exactly_the_limit(void **state)
{
    char *buf = malloc(HTTP_MAX_HEAD + 16);
    const char *line = "GET / HTTP/1.1\r\nX-Pad: ";

    assert_non_null(buf);
    memset(buf, 'p', HTTP_MAX_HEAD + 16);
    memcpy(buf, line, strlen(line));
    memcpy(buf + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
    assert_int_equal(http_parse_head_end(buf, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
    assert_int_equal(http_parse_head_end(buf, HTTP_MAX_HEAD + 16), HTTP_MAX_HEAD);
    free(buf);
}

static void test_http_parse_head_end_past_the_limit_is_too_big(void **state)
{
    char *buf = malloc(2 * HTTP_MAX_HEAD);
    const char *line = "GET / HTTP/1.1\r\nX-Pad: ";

    assert_non_null(buf);
    memset(buf, 'p', 2 * HTTP_MAX_HEAD);
    memcpy(buf, line, strlen(line));
    /* no end at all */
    assert_int_equal(http_parse_head_end(buf, HTTP_MAX_HEAD - 1), 0);
    assert_int_equal(http_parse_head_end(buf, HTTP_MAX_HEAD), BB_ETOOBIG);
    assert_int_equal(http_parse_head_end(buf, 2 * HTTP_MAX_HEAD), BB_ETOOBIG);
    /* an end one byte too late */
    memcpy(buf + HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
    assert_int_equal(http_parse_head_end(buf, HTTP_MAX_HEAD + 1), BB_ETOOBIG);
    /* an end far too late */
    memset(buf, 'p', 2 * HTTP_MAX_HEAD);
    memcpy(buf, line, strlen(line));
    memcpy(buf + HTTP_MAX_HEAD + 100, "\r\n\r\n", 4);
    assert_int_equal(http_parse_head_end(buf, 2 * HTTP_MAX_HEAD), BB_ETOOBIG);
    free(buf);
}

/* ---- request line ---- */

static void test_http_parse_head_reads_the_request_line(void **state)
{
    assert_int_equal(parse("PUT /bucket/key HTTP/1.1\r\nHost: localhost:4566\r\n\r\n"), BB_OK);
    assert_span(head.method, head.method_len, "PUT");
    assert_span(head.path, head.path_len, "/bucket/key");
    assert_null(head.query);
    assert_int_equal(head.minor_version, 1);
    assert_int_equal(head.nheaders, 1);
    assert_span(head.headers[0].name, head.headers[0].name_len, "Host");
    assert_span(head.headers[0].value, head.headers[0].value_len, "localhost:4566");
}

static void test_http_parse_head_reads_http_1_0(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n"), BB_OK);
    assert_span(head.method, head.method_len, "GET");
    assert_span(head.path, head.path_len, "/");
    assert_int_equal(head.minor_version, 0);
    assert_int_equal(head.nheaders, 0);
}

static void test_http_parse_head_accepts_any_token_method(void **state)
{
    assert_int_equal(parse("DELETE / HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.method, head.method_len, "DELETE");
    assert_int_equal(parse("X-CUSTOM_1 / HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.method, head.method_len, "X-CUSTOM_1");
}

static void test_http_parse_head_keeps_the_raw_path(void **state)
{
    assert_int_equal(parse("GET //a%2Fb/../c+d HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "//a%2Fb/../c+d");
    assert_null(head.query);
    assert_int_equal(parse("GET /b/./%2e%2e/%00/k%20 HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "/b/./%2e%2e/%00/k%20");
}

static void test_http_parse_head_splits_the_query(void **state)
{
    assert_int_equal(parse("GET /b?list-type=2&prefix=a%2F&delimiter=%2F HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "/b");
    assert_span(head.query, head.query_len, "list-type=2&prefix=a%2F&delimiter=%2F");

    assert_int_equal(parse("POST /b?delete HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "/b");
    assert_span(head.query, head.query_len, "delete");

    assert_int_equal(parse("GET /a?b?c=d HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "/a");
    assert_span(head.query, head.query_len, "b?c=d");

    assert_int_equal(parse("GET /k? HTTP/1.1\r\n\r\n"), BB_OK);
    assert_span(head.path, head.path_len, "/k");
    assert_non_null(head.query);
    assert_int_equal(head.query_len, 0);
}

/* ---- headers ---- */

static void test_http_parse_head_trims_header_values(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.1\r\n"
                           "Host:   example.com  \r\n"
                           "X-Tab:\t v \t\r\n"
                           "X-Empty:\r\n"
                           "X-Blank:    \r\n"
                           "X-Inner: a  b\tc\r\n"
                           "X-Tight:v\r\n"
                           "\r\n"),
                     BB_OK);
    assert_int_equal(head.nheaders, 6);
    assert_header("Host", "example.com");
    assert_header("X-Tab", "v");
    assert_header("X-Empty", "");
    assert_header("X-Blank", "");
    assert_header("X-Inner", "a  b\tc");
    assert_header("X-Tight", "v");
}

static void test_http_parse_head_keeps_headers_in_order(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nA: 3\r\n\r\n"), BB_OK);
    assert_int_equal(head.nheaders, 3);
    assert_span(head.headers[0].name, head.headers[0].name_len, "A");
    assert_span(head.headers[1].name, head.headers[1].name_len, "B");
    assert_span(head.headers[2].name, head.headers[2].name_len, "A");
    assert_span(head.headers[2].value, head.headers[2].value_len, "3");
}

static void test_http_parse_head_allows_utf8_in_values(void **state)
{
    assert_int_equal(parse("PUT /k HTTP/1.1\r\nx-amz-meta-name: caf\xc3\xa9 \xe4\xb8\xad\r\n\r\n"),
                     BB_OK);
    assert_header("x-amz-meta-name", "caf\xc3\xa9 \xe4\xb8\xad");
}

static void test_http_head_get_is_case_insensitive(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.1\r\n"
                           "Content-Length: 42\r\n"
                           "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
                           "\r\n"),
                     BB_OK);
    assert_header("content-length", "42");
    assert_header("CONTENT-LENGTH", "42");
    assert_header("Content-Length", "42");
    assert_header("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
}

static void test_http_head_get_returns_the_first_of_duplicates(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.1\r\nX-A: first\r\nx-a: second\r\n\r\n"), BB_OK);
    assert_header("x-a", "first");
}

static void test_http_head_get_matches_whole_names_only(void **state)
{
    size_t len = 0;

    assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length-X: 1\r\nHost: h\r\n\r\n"), BB_OK);
    assert_null(http_head_get(&head, "Content-Length", &len));
    assert_null(http_head_get(&head, "Content", &len));
    assert_null(http_head_get(&head, "Hostx", &len));
    assert_null(http_head_get(&head, "Missing", &len));
    assert_header("host", "h");
}

static void test_http_parse_head_takes_128_headers(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, HTTP_MAX_HEAD);
    assert_int_equal(bb_buf_appends(&b, "GET / HTTP/1.1\r\n"), BB_OK);
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        assert_int_equal(bb_buf_appendf(&b, "X-H%d: %d\r\n", i, i), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "\r\n"), BB_OK);
    assert_int_equal(http_parse_head(b.data, b.len, &head), BB_OK);
    assert_int_equal(head.nheaders, HTTP_MAX_HEADERS);
    assert_header("x-h127", "127");
    bb_buf_cleanup(&b);
}

static void test_http_parse_head_too_many_headers_is_too_big(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, HTTP_MAX_HEAD);
    assert_int_equal(bb_buf_appends(&b, "GET / HTTP/1.1\r\n"), BB_OK);
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        assert_int_equal(bb_buf_appendf(&b, "X-H%d: %d\r\n", i, i), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "\r\n"), BB_OK);
    assert_int_equal(http_parse_head(b.data, b.len, &head), BB_ETOOBIG);
    bb_buf_cleanup(&b);
}

/* ---- malformed heads ---- */

static void test_http_parse_head_refuses_bad_method(void **state)
{
    assert_malformed(" / HTTP/1.1\r\n\r\n");
    assert_malformed("G(T / HTTP/1.1\r\n\r\n");
    assert_malformed("GE\"T / HTTP/1.1\r\n\r\n");
    assert_malformed("GET\x01 / HTTP/1.1\r\n\r\n");
    assert_malformed("G\xc3\xa9T / HTTP/1.1\r\n\r\n");
    assert_malformed("GET:X / HTTP/1.1\r\n\r\n");
}

static void test_http_parse_head_refuses_bad_target(void **state)
{
    assert_malformed("GET  HTTP/1.1\r\n\r\n");
    assert_malformed("GET  / HTTP/1.1\r\n\r\n");
    assert_malformed("GET a/b HTTP/1.1\r\n\r\n");
    assert_malformed("GET /a\x01 HTTP/1.1\r\n\r\n");
    assert_malformed("GET /a\x7f HTTP/1.1\r\n\r\n");
    assert_malformed("GET /a\tb HTTP/1.1\r\n\r\n");
}

static void test_http_parse_head_refuses_anything_but_http_1_x(void **state)
{
    assert_malformed("GET /\r\n\r\n");
    assert_malformed("GET / \r\n\r\n");
    assert_malformed("GET / HTTP/2.0\r\n\r\n");
    assert_malformed("GET / HTTP/0.9\r\n\r\n");
    assert_malformed("GET / HTTP/1.\r\n\r\n");
    assert_malformed("GET / HTTP/1.x\r\n\r\n");
    assert_malformed("GET / HTTP/1.10\r\n\r\n");
    assert_malformed("GET / http/1.1\r\n\r\n");
    assert_malformed("GET / FOO/1.1\r\n\r\n");
    assert_malformed("GET / HTTP/1.1 \r\n\r\n");
    assert_malformed("GET / HTTP/1.1 extra\r\n\r\n");
}

static void test_http_parse_head_refuses_obsolete_line_folding(void **state)
{
    assert_malformed("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\n Host: x\r\n\r\n");
}

static void test_http_parse_head_refuses_control_bytes(void **state)
{
    static const char nul_value[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";

    assert_malformed("GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX-A: a\x7fz\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX\x01: a\r\n\r\n");
    assert_int_equal(http_parse_head(nul_value, sizeof(nul_value) - 1, &head), BB_EINVAL);
}

static void test_http_parse_head_refuses_header_without_colon(void **state)
{
    assert_malformed("GET / HTTP/1.1\r\nHost example.com\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nHost\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\n: value\r\n\r\n");
}

static void test_http_parse_head_refuses_bad_header_names(void **state)
{
    assert_malformed("GET / HTTP/1.1\r\nHost : x\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX A: x\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX(A): x\r\n\r\n");
    assert_malformed("GET / HTTP/1.1\r\nX\xc3\xa9: x\r\n\r\n");
}

static void test_http_parse_head_refuses_a_head_without_its_end(void **state)
{
    assert_malformed("");
    assert_malformed("GET / HTTP/1.1");
    assert_malformed("GET / HTTP/1.1\r\n");
    assert_malformed("GET / HTTP/1.1\r\nHost: x\r\n");
    assert_malformed("GET / HTTP/1.1\r\nHost: x");
}

/* ---- chunked ---- */

#define TWO_CHUNKS "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

static void test_http_chunked_feed_decodes_whole_input(void **state)
{
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_whole(TWO_CHUNKS, strlen(TWO_CHUNKS), &s), strlen(TWO_CHUNKS));
    assert_string_equal(sink_str(&s), "hello world");
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_decodes_byte_by_byte(void **state)
{
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_bytewise(TWO_CHUNKS, strlen(TWO_CHUNKS), &s), strlen(TWO_CHUNKS));
    assert_string_equal(sink_str(&s), "hello world");
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_decodes_every_split(void **state)
{
    const char *body = TWO_CHUNKS;
    size_t n = strlen(body);

    for (size_t cut = 0; cut <= n; cut++) {
        struct http_chunked c;
        struct sink s;
        long r1;
        long r2;

        sink_init(&s);
        http_chunked_init(&c);
        r1 = http_chunked_feed(&c, body, cut, sink_cb, &s);
        assert_int_equal(r1, cut);
        r2 = http_chunked_feed(&c, body + cut, n - cut, sink_cb, &s);
        assert_int_equal(r2, n - cut);
        assert_string_equal(sink_str(&s), "hello world");
        bb_buf_cleanup(&s.out);
    }
}

static void test_http_chunked_feed_reads_hex_sizes(void **state)
{
    const char *body =
        "A\r\n0123456789\r\n0010\r\nabcdefghijklmnop\r\nb\r\nABCDEFGHIJK\r\n0\r\n\r\n";
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_whole(body, strlen(body), &s), strlen(body));
    assert_string_equal(sink_str(&s), "0123456789abcdefghijklmnopABCDEFGHIJK");
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_decodes_an_empty_body(void **state)
{
    const char *body = "0\r\n\r\n";
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_whole(body, strlen(body), &s), strlen(body));
    assert_int_equal(s.out.len, 0);
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_skips_extensions(void **state)
{
    const char *body = "5;name=value\r\nhello\r\n"
                       "6 ; q=\"quoted;str\"\r\n world\r\n"
                       "0;last\r\n\r\n";
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_whole(body, strlen(body), &s), strlen(body));
    assert_string_equal(sink_str(&s), "hello world");
    bb_buf_cleanup(&s.out);
    sink_init(&s);
    assert_int_equal(feed_bytewise(body, strlen(body), &s), strlen(body));
    assert_string_equal(sink_str(&s), "hello world");
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_consumes_trailers(void **state)
{
    const char *body = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32: NhCmhg==\r\nX-Other: v\r\n\r\n";
    struct sink s;

    sink_init(&s);
    assert_int_equal(feed_whole(body, strlen(body), &s), strlen(body));
    assert_string_equal(sink_str(&s), "hello");
    bb_buf_cleanup(&s.out);
    sink_init(&s);
    assert_int_equal(feed_bytewise(body, strlen(body), &s), strlen(body));
    assert_string_equal(sink_str(&s), "hello");
    bb_buf_cleanup(&s.out);
}

static void test_http_chunked_feed_leaves_the_next_request(void **state)
{
    const char *body = "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
    const char *next = "GET / HTTP/1.1\r\n\r\n";
    char both[128];
    struct http_chunked c;
    struct sink s;

    snprintf(both, sizeof(both), "%s%s", body, next);
    sink_init(&s);
    assert_int_equal(feed_whole(both, strlen(both), &s), strlen(body));
    assert_string_equal(sink_str(&s), "hello");
    bb_buf_cleanup(&s.out);

    /* byte by byte: the first byte of the next request is not consumed */
    sink_init(&s);
    assert_int_equal(feed_bytewise(both, strlen(both), &s), strlen(body));
    bb_buf_cleanup(&s.out);

    /* once ended, later input is never consumed */
    sink_init(&s);
    http_chunked_init(&c);
    assert_int_equal(http_chunked_feed(&c, body, strlen(body), sink_cb, &s), strlen(body));
    assert_int_equal(http_chunked_feed(&c, next, strlen(next), sink_cb, &s), 0);
    assert_int_equal(http_chunked_feed(&c, "5\r\nhello\r\n", 10, sink_cb, &s), 0);
    assert_string_equal(sink_str(&s), "hello");
    bb_buf_cleanup(&s.out);
}

static void assert_bad_framing(const char *body, size_t n)
{
    struct sink s;
    long r;

    sink_init(&s);
    r = feed_whole(body, n, &s);
    if (r != BB_EINVAL)
        fail_msg("whole \"%.*s\": %ld, want BB_EINVAL", (int)n, body, r);
    bb_buf_reset(&s.out);
    r = feed_bytewise(body, n, &s);
    if (r != BB_EINVAL)
        fail_msg("bytewise \"%.*s\": %ld, want BB_EINVAL", (int)n, body, r);
    bb_buf_cleanup(&s.out);
}

#define BAD(s) assert_bad_framing(s, sizeof(s) - 1)

static void test_http_chunked_feed_refuses_bad_hex(void **state)
{
    BAD("xyz\r\n");
    BAD("5g\r\nhello\r\n0\r\n\r\n");
    BAD("\r\nhello\r\n");
    BAD(";ext\r\n");
    BAD("-5\r\nhello\r\n");
    BAD("0x5\r\nhello\r\n");
    BAD("\x01\r\n");
}

static void test_http_chunked_feed_refuses_sizes_that_overflow(void **state)
{
    BAD("10000000000000000\r\n");
    BAD("fffffffffffffffff\r\n");
}

static void test_http_chunked_feed_refuses_missing_crlf(void **state)
{
    BAD("5\nhello\r\n0\r\n\r\n");
    BAD("5\rhello\r\n0\r\n\r\n");
    BAD("5\r\nhelloX\r\n0\r\n\r\n");
    BAD("5\r\nhello\n0\r\n\r\n");
    BAD("5\r\nhello\rX0\r\n\r\n");
    BAD("3\r\nhello\r\n0\r\n\r\n");
    BAD("0\r\n\rX");
    BAD("0\r\nX-T: 1\rX\r\n");
}

static void test_http_chunked_feed_returns_the_callback_error(void **state)
{
    struct sink s;

    sink_init(&s);
    s.fail_with = BB_ECONFLICT;
    assert_int_equal(feed_whole(TWO_CHUNKS, strlen(TWO_CHUNKS), &s), BB_ECONFLICT);
    assert_int_equal(s.calls, 1);
    bb_buf_cleanup(&s.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_parse_head_end_finds_the_blank_line),
        cmocka_unit_test(test_http_parse_head_end_needs_more_bytes),
        cmocka_unit_test(test_http_parse_head_end_accepts_a_head_of_exactly_the_limit),
        cmocka_unit_test(test_http_parse_head_end_past_the_limit_is_too_big),
        cmocka_unit_test(test_http_parse_head_reads_the_request_line),
        cmocka_unit_test(test_http_parse_head_reads_http_1_0),
        cmocka_unit_test(test_http_parse_head_accepts_any_token_method),
        cmocka_unit_test(test_http_parse_head_keeps_the_raw_path),
        cmocka_unit_test(test_http_parse_head_splits_the_query),
        cmocka_unit_test(test_http_parse_head_trims_header_values),
        cmocka_unit_test(test_http_parse_head_keeps_headers_in_order),
        cmocka_unit_test(test_http_parse_head_allows_utf8_in_values),
        cmocka_unit_test(test_http_head_get_is_case_insensitive),
        cmocka_unit_test(test_http_head_get_returns_the_first_of_duplicates),
        cmocka_unit_test(test_http_head_get_matches_whole_names_only),
        cmocka_unit_test(test_http_parse_head_takes_128_headers),
        cmocka_unit_test(test_http_parse_head_too_many_headers_is_too_big),
        cmocka_unit_test(test_http_parse_head_refuses_bad_method),
        cmocka_unit_test(test_http_parse_head_refuses_bad_target),
        cmocka_unit_test(test_http_parse_head_refuses_anything_but_http_1_x),
        cmocka_unit_test(test_http_parse_head_refuses_obsolete_line_folding),
        cmocka_unit_test(test_http_parse_head_refuses_control_bytes),
        cmocka_unit_test(test_http_parse_head_refuses_header_without_colon),
        cmocka_unit_test(test_http_parse_head_refuses_bad_header_names),
        cmocka_unit_test(test_http_parse_head_refuses_a_head_without_its_end),
        cmocka_unit_test(test_http_chunked_feed_decodes_whole_input),
        cmocka_unit_test(test_http_chunked_feed_decodes_byte_by_byte),
        cmocka_unit_test(test_http_chunked_feed_decodes_every_split),
        cmocka_unit_test(test_http_chunked_feed_reads_hex_sizes),
        cmocka_unit_test(test_http_chunked_feed_decodes_an_empty_body),
        cmocka_unit_test(test_http_chunked_feed_skips_extensions),
        cmocka_unit_test(test_http_chunked_feed_consumes_trailers),
        cmocka_unit_test(test_http_chunked_feed_leaves_the_next_request),
        cmocka_unit_test(test_http_chunked_feed_refuses_bad_hex),
        cmocka_unit_test(test_http_chunked_feed_refuses_sizes_that_overflow),
        cmocka_unit_test(test_http_chunked_feed_refuses_missing_crlf),
        cmocka_unit_test(test_http_chunked_feed_returns_the_callback_error),
    };

    return cmocka_run_group_tests_name("emulator/http_parse", tests, NULL, NULL);
}
