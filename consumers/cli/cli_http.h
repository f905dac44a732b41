/* SPDX-License-Identifier: MIT */
/*
 * cli_http: a minimal blocking HTTP/1.1 client for the local daemon: one
 * request per connection ("Connection: close"), bodies by Content-Length,
 * chunked, or up to the close. Plain TCP, or TLS (OpenSSL) for the
 * daemon's https port.
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
 * Where a request goes. With @tls, the connection is TLS: with @ca_file the
 * server's certificate must chain to that PEM file (the chain only, not the
 * name: as bb_wsclient_new_tls does); without it (NULL) any certificate is
 * accepted unchecked, which the caller allows on loopback only
 * (cli_conf_check_tls). Borrowed strings. @why is filled on a TLS failure.
 */
struct cli_http_peer {
    const char *host;
    int port;
    int tls;
    const char *ca_file;
    char why[256]; /* out: "" or why the TLS connection failed */
};

/**
 * As cli_http_request, to @peer. A TLS failure (the handshake, a
 * certificate that does not verify, an unreadable @ca_file) returns
 * -EPROTO with the reason in @peer->why.
 */
int cli_http_send(struct cli_http_peer *peer, const char *method, const char *target,
                  const char *const *headers, const char *body, size_t body_len, int64_t timeout_ms,
                  struct cli_http_resp *out);

/**
 * Only the TLS handshake with @peer (which must have tls set), within
 * @timeout_ms: 0 when the certificate is accepted, -EPROTO with the reason
 * in @peer->why when it is not (or the handshake fails), or the -errno of
 * the connection (-ECONNREFUSED: no daemon there yet).
 */
int cli_http_tls_check(struct cli_http_peer *peer, int64_t timeout_ms);

/**
 * Parses one complete response @raw (@len bytes, as read up to the close).
 * Returns 0 with @out filled, BB_EINCOMPLETE when @raw ends before the
 * body does, or BB_ECORRUPT.
 */
int cli_http_parse_response(const char *raw, size_t len, struct cli_http_resp *out);

void cli_http_resp_cleanup(struct cli_http_resp *r);

#endif
