/* SPDX-License-Identifier: MIT */
/*
 * tls: the optional HTTPS listener. On first start a self-signed
 * certificate for localhost (and the configured virtual-host domains, with
 * their "*." forms) is generated into <data>/.bucketbridge/tls/. The port
 * listens from the start; at the first connection a second lws vhost is
 * made with the certificate, and connections are adopted into it as the
 * same raw sockets as the plain port, so S3 and the EventBridge API are
 * served the same way over TLS (WebSockets over TLS: ws_tls.h). Loop
 * thread.
 */
#ifndef BB_EMULATOR_TLS_H
#define BB_EMULATOR_TLS_H

#include <stddef.h>

struct lws;
struct lws_protocols;
struct server;

/**
 * Makes sure @dir holds cert.pem and key.pem (creating @dir and a new
 * EC P-256 key and self-signed certificate when either is missing). Returns
 * 0 with new path strings (free()), or a negative code.
 */
int tls_cert_ensure(const char *dir, const char *const *domains, unsigned long ndomains,
                    char **cert_path, char **key_path);

/**
 * Starts making the certificate of srv->cfg (https_enabled, missing files)
 * in a child process, so it is made while the rest of the daemon starts;
 * tls_cert_wait collects it. Call before the daemon starts any thread.
 * Loop thread.
 */
void tls_cert_begin(struct server *srv);

/**
 * Waits for the certificate child (a few ms after tls_start at most) and
 * sets srv->tls_cert_path and tls_key_path. When the certificate cannot
 * be made: logs, turns https off (srv->tls_port 0, tls_failed) and returns
 * a negative code. Idempotent. Loop thread.
 */
int tls_cert_wait(struct server *srv);

/** Ends a certificate child still running and frees srv's TLS strings. */
void tls_cleanup(struct server *srv);

/**
 * Starts the HTTPS listener of srv->cfg (https_enabled): starts making the
 * certificate (tls_cert_begin) and listens on a socket polled by lws with the protocol
 * "bb-tls-accept" (tls_accept_callback) on srv->s3_vhost. The TLS vhost,
 * using @protocols (borrowed; must outlive the context), is made at the
 * first connection, after tls_cert_wait(). Sets srv->tls_port.
 * When it cannot start, logs a warning and returns 0, unless the
 * configuration asked for it explicitly (https_explicit): then returns a
 * negative code.
 */
int tls_start(struct server *srv, const struct lws_protocols *protocols);

/**
 * The lws callback of "bb-tls-accept": accepts waiting connections on the
 * https socket and adopts them into the TLS vhost (made on first use) as
 * raw sockets of "bb-http". Loop thread.
 */
int tls_accept_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

#endif
