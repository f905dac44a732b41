/* SPDX-License-Identifier: MIT */
/*
 * http_parse: pure HTTP/1.1 request-head parser and chunked transfer-coding
 * decoder. libwebsockets' own HTTP server decodes and normalises the path
 * ("//" collapsed, ".." resolved, "+" turned into a space) and does not
 * decode chunked request bodies, both of which S3 forbids, so the S3 port
 * parses its requests here (docs/internals/http.md). No I/O, no lws.
 */
#ifndef BB_EMULATOR_HTTP_PARSE_H
#define BB_EMULATOR_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD (48 * 1024) /* request line + headers */
#define HTTP_MAX_HEADERS 128

struct http_header {
    const char *name; /* borrowed from the head buffer; not NUL-terminated */
    size_t name_len;
    const char *value; /* trimmed of surrounding spaces */
    size_t value_len;
};

struct http_head {
    const char *method;
    size_t method_len;
    const char *path; /* raw path, still percent-encoded, no query */
    size_t path_len;
    const char *query; /* raw query without '?', or NULL */
    size_t query_len;
    int minor_version; /* 0 or 1 */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
};

/**
 * Finds the end of a request head in @buf: returns the head length including
 * the blank line, 0 when more bytes are needed, or BB_ETOOBIG when no end is
 * found within HTTP_MAX_HEAD bytes.
 */
long http_parse_head_end(const char *buf, size_t len);

/**
 * Parses a complete head (@len as returned by http_parse_head_end). The
 * result borrows from @buf. Returns 0, BB_EINVAL (malformed) or BB_ETOOBIG
 * (too many headers).
 */
int http_parse_head(const char *buf, size_t len, struct http_head *out);

/** Value of the first header named @name (case-insensitive), or NULL; the
 * length goes to *len. */
const char *http_head_get(const struct http_head *h, const char *name, size_t *len);

/** Chunked transfer-coding decoder state; storage owned by the caller. */
struct http_chunked {
    int state;
    uint64_t remaining;
    size_t line_len;
    int done;
};

typedef int http_chunked_data_cb(void *arg, const char *p, size_t n);

void http_chunked_init(struct http_chunked *c);
/**
 * Feeds raw body bytes; decoded bytes go to @cb. Returns the number of input
 * bytes consumed (less than @n only once the last chunk and trailers ended:
 * the rest belongs to the next request), BB_EINVAL on bad framing, or the
 * callback's negative value.
 */
long http_chunked_feed(struct http_chunked *c, const char *p, size_t n, http_chunked_data_cb *cb,
                       void *arg);

#endif
