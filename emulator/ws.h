/* SPDX-License-Identifier: MIT */
/*
 * ws: the WebSocket endpoint /_bucketbridge/events. The S3 port speaks our
 * own HTTP (http_conn.c); a request head that asks for a WebSocket upgrade
 * of the events path, from a local Host and a local (or no) Origin, is
 * handed with its bytes to lws's own HTTP/WebSocket server through a
 * listener-less vhost (lws_adopt_socket_vhost_readbuf). The protocol itself
 * (live streams, consumer groups, publish, status) is in ws_conn.c and
 * docs/websocket.md. Loop thread only.
 */
#ifndef BB_EMULATOR_WS_H
#define BB_EMULATOR_WS_H

#include <stddef.h>

struct lws;
struct lws_context;
struct server;

#define WS_PATH "/_bucketbridge/events"
#define WS_MAX_HEAD 2048 /* lws's adoption buffer */

/** 1 when the complete request head @head asks for a WebSocket upgrade of
 * WS_PATH from a local Host with no foreign Origin. */
int ws_is_upgrade(const char *head, size_t len);

/** 1 when the upgrade request @head carries the right ?token= (or auth is
 * off). A request without it is answered 403 over HTTP, before any 101. */
int ws_token_ok(const struct server *srv, const char *head, size_t len);

/**
 * Hands the raw connection @raw to the WebSocket vhost with @head (the
 * request head already read). Returns 0: the caller must close @raw (its
 * descriptor number now names a placeholder; the connection lives on in
 * lws); or a negative code: nothing changed, answer over HTTP.
 */
int ws_adopt(struct server *srv, struct lws *raw, const char *head, size_t len);

/** Creates the listener-less WebSocket vhost on @lws. Returns 0 or BB_EINVAL. */
int ws_start(struct server *srv, struct lws_context *lws);

#endif
