/* SPDX-License-Identifier: MIT */
/*
 * server: the libwebsockets context, the listening socket (raw sockets
 * carrying our own HTTP/1.1, see http_conn.h), signal-driven shutdown and
 * the loop. Holds what request handlers share: the frozen config and the
 * store. Loop thread only, except server_request_stop (any thread, signal
 * safe).
 */
#ifndef BB_EMULATOR_SERVER_H
#define BB_EMULATOR_SERVER_H

#include <stdint.h>

struct bus;
struct config;
struct lws_protocols;
struct store;

struct server {
    const struct config *cfg; /* borrowed; outlives the server */
    struct store *store;      /* owned */
    struct bus *bus;          /* owned */
    struct worker *worker;    /* owned */
    struct watch_scan *scan;  /* owned */
    struct watch *watch;      /* owned; NULL when off or unavailable */
    struct lws_context *lws;
    struct lws_vhost *ws_vhost; /* listener-less vhost for adopted WebSockets */
    struct lws_vhost *s3_vhost; /* the listening vhost (raw sockets, pipes) */
    struct supervise *supervise; /* owned; NULL when no consumers run */
    int64_t started_ms;
    int bound_port;
    /* https (tls.h): the port listens from the start, the TLS vhost is
     * made at its first connection */
    struct lws_vhost *tls_vhost; /* NULL when off or not needed yet */
    int tls_port;                /* the bound port; 0 when off */
    int tls_failed;              /* the TLS vhost could not be made */
    char *tls_cert_path;         /* owned; the certificate it serves */
    char *tls_key_path;          /* owned */
    int tls_job; /* pid of the child making the certificate, or 0 */
    const struct lws_protocols *tls_protocols; /* borrowed */
    int stopping;
    int ready;
};

/** Opens the store and listens. Returns 0, or a negative code (logged).
 * On success, free with server_cleanup. */
int server_init(struct server *srv, const struct config *cfg);
/** Runs the loop until server_request_stop. Returns 0. */
int server_run(struct server *srv);
/** Asks the loop to stop (signal handler safe). */
void server_request_stop(struct server *srv);
void server_cleanup(struct server *srv);

#endif
