/* SPDX-License-Identifier: MIT */
/*
 * cli_http: a minimal blocking HTTP/1.1 client for the local daemon: one
 * request per connection ("Connection: close"), bodies by Content-Length,
 * chunked, or up to the close. Plain TCP only.
 */
#ifndef BB_CONSUMERS_CLI_CLI_HTTP_H
#define BB_CONSUMERS_CLI_CLI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define CLI_HTTP_MAX_RESPONSE (64u * 1024 * 1024)

/** A response; owns @body (NUL-terminated; cli_http_resp_cleanup). */
struct cli_http_resp {
    int status;
    char *body;
    size_t body_len;
};

/**
 * Sends @method @target (path and query, already encoded) to @host:@port
 * with the extra header lines @headers ("Name: value", NULL-terminated
 * array; may be NULL) and @body (@body_len bytes; NULL for none), and reads
 * the response within @timeout_ms. Returns 0 with @out filled, -errno
 * (ECONNREFUSED, ETIMEDOUT, ...), BB_ECORRUPT (not HTTP) or BB_ETOOBIG.
 */
int cli_http_request(const char *host, int port, const char *method, const char *target,
                     const char *const *headers, const char *body, size_t body_len,
                     int64_t timeout_ms, struct cli_http_resp *out);

/**
 * Parses one complete response @raw (@len bytes, as read up to the close).
 * Returns 0 with @out filled, BB_EINCOMPLETE when @raw ends before the
 * body does, or BB_ECORRUPT.
 */
int cli_http_parse_response(const char *raw, size_t len, struct cli_http_resp *out);

void cli_http_resp_cleanup(struct cli_http_resp *r);

#endif
