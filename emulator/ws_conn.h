/* SPDX-License-Identifier: MIT */
/*
 * ws_conn: the bucketbridge WebSocket protocol (docs/websocket.md): live
 * streams with patterns and start positions, consumer groups with credit,
 * acks, nacks and visibility timeouts, publishing, and status. Loop thread.
 */
#ifndef BB_EMULATOR_WS_CONN_H
#define BB_EMULATOR_WS_CONN_H

#include <stddef.h>

struct lws;
struct server;

#define WS_CONN_PSS_SIZE 1024
#define WS_MAX_MESSAGE (256 * 1024) /* a larger client message closes the connection */
#define WS_MAX_SUBS 16
#define WS_LAG_LIMIT 10000 /* events a live subscriber may fall behind */
#define WS_MAX_CREDIT 1000
#define WS_DEFAULT_VISIBILITY_S 30

int ws_conn_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);
/** Open WebSocket connections (they count toward http.max_connections). */
int ws_conn_count(void);
/** Registers with the bus (observer) and starts the group timer. */
int ws_conn_start(struct server *srv);
void ws_conn_stop(struct server *srv);
/** After a reset: forgets in-flight group deliveries, re-bases the event
 * ring, and tells every client {"type":"reset","last_seq":N}. */
void ws_conn_reset(struct server *srv);

/** Message codec (pure): validates a client message and returns its type
 * ("subscribe", "unsubscribe", "join", "ack", "nack", "publish",
 * "status", "subscribe_status"), or NULL with *why. */
struct cJSON;
const char *ws_conn_message_type(const struct cJSON *msg, const char **why);

#endif
