/* SPDX-License-Identifier: MIT */
/*
 * tls: the optional HTTPS listener. On first start a self-signed
 * certificate for localhost (and the configured virtual-host domains, with
 * their "*." forms) is generated into <data>/.bucketbridge/tls/; a second
 * lws vhost then listens with it and adopts connections as the same raw
 * sockets as the plain port, so S3 and the EventBridge API are served the
 * same way over TLS. WebSocket upgrades are not carried over TLS (the
 * hand-off in ws.c moves the plain socket). Loop thread.
 */
#ifndef BB_EMULATOR_TLS_H
#define BB_EMULATOR_TLS_H

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
 * Starts the HTTPS listener of srv->cfg (https_enabled) with @protocols
 * (borrowed; must outlive the context). Sets srv->tls_vhost, tls_port and
 * tls_cert_path. When it cannot start, logs a warning and returns 0, unless
 * the configuration asked for it explicitly (https_explicit): then returns
 * a negative code.
 */
int tls_start(struct server *srv, const struct lws_protocols *protocols);

#endif
