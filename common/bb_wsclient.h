/* SPDX-License-Identifier: MIT */
/*
 * bb_wsclient: a small client for the daemon's WebSocket endpoint
 * (/_bucketbridge/events, protocol in docs/websocket.md). It keeps a wish
 * list (live subscriptions, at most one consumer group) and makes the
 * connection match it: after any failure it reconnects with capped,
 * jittered exponential backoff, re-subscribes each live stream from the
 * last sequence number it saw, and re-joins its group (the daemon
 * redelivers whatever the old connection held). Messages reach the caller
 * as parsed cJSON through one callback.
 *
 * It owns a client-only lws context serviced by bb_wsclient_run() in the
 * calling thread. Every function runs on that thread, except
 * bb_wsclient_stop(). The codec half (encode/decode, backoff, endpoint and
 * path building) is pure and never touches lws.
 */
#ifndef BB_COMMON_BB_WSCLIENT_H
#define BB_COMMON_BB_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct bb_wsclient;

#define BB_WSCLIENT_PATH "/_bucketbridge/events"
#define BB_WSCLIENT_MAX_SUBS 16          /* the daemon's limit per connection */
#define BB_WSCLIENT_MAX_OUT (256 * 1024) /* a larger message makes the daemon close */
#define BB_WSCLIENT_MAX_IN (8 * 1024 * 1024)
#define BB_WSCLIENT_MAX_QUEUED 4096 /* outgoing messages waiting for the socket */
#define BB_WSCLIENT_BACKOFF_MIN_MS 250
#define BB_WSCLIENT_BACKOFF_MAX_MS 15000
#define BB_WSCLIENT_ID_MAX 63    /* subscription id bytes */
#define BB_WSCLIENT_GROUP_MAX 64 /* group name bytes */
#define BB_WSCLIENT_BUS_MAX 1600 /* event bus name or ARN bytes (EventBridge's limit) */

enum bb_wsclient_msg_type {
    BB_WSCLIENT_MSG_UNKNOWN = 0, /* a type this library does not know */
    BB_WSCLIENT_MSG_SUBSCRIBED,
    BB_WSCLIENT_MSG_JOINED,
    BB_WSCLIENT_MSG_EVENT,
    BB_WSCLIENT_MSG_DELIVERY,
    BB_WSCLIENT_MSG_PUBLISHED,
    BB_WSCLIENT_MSG_STATUS,
    BB_WSCLIENT_MSG_LAGGED,
    BB_WSCLIENT_MSG_ERROR,
    /* not from the wire: the connection came up / went down (also sent
     * after each failed connection attempt, with the reason) */
    BB_WSCLIENT_MSG_CONNECTED,
    BB_WSCLIENT_MSG_DISCONNECTED,
};

/**
 * One decoded server message. Every pointer borrows from @json, which the
 * message owns (bb_wsclient_msg_cleanup). Fields a type doesn't carry are
 * NULL or 0:
 *   subscribed: sub (its id), seq ("after": events follow it)
 *   joined:     group
 *   event:      sub, seq, event
 *   delivery:   group, delivery, seq, attempt, rule, event
 *   published:  ref (may be NULL)
 *   lagged:     sub, seq (resume_from), message
 *   error:      ref (may be NULL), message
 *   disconnected (library): message (why)
 */
struct bb_wsclient_msg {
    enum bb_wsclient_msg_type type;
    struct cJSON *json;
    const char *sub;
    const char *group;
    const char *rule;
    const char *ref;
    const char *message;
    uint64_t seq;
    int64_t delivery;
    int attempt;
    const struct cJSON *event;
};

/* ---- pure codec ---- */

/**
 * Decodes the server message @text (@len bytes). Returns 0 with @out filled
 * (free with bb_wsclient_msg_cleanup), BB_EINVAL when it isn't a JSON object
 * with a string "type", or BB_ECORRUPT when a known type lacks a field it
 * must have (@out is then empty). Unknown types decode as
 * BB_WSCLIENT_MSG_UNKNOWN.
 */
int bb_wsclient_msg_decode(const char *text, size_t len, struct bb_wsclient_msg *out);
/** Frees what bb_wsclient_msg_decode put in @m and zeroes it. NULL-safe. */
void bb_wsclient_msg_cleanup(struct bb_wsclient_msg *m);

/**
 * Client messages. Each returns 0 and *out, a new NUL-terminated string
 * (free with free()), or BB_EINVAL (bad argument: an invalid pattern, an
 * id or group name too long, a start position that is none of "latest",
 * "earliest", digits or a time, an empty bus or one over
 * BB_WSCLIENT_BUS_MAX bytes) or BB_ETOOBIG (over BB_WSCLIENT_MAX_OUT).
 * @pattern is event-pattern JSON text or NULL (everything). @from is
 * "latest", "earliest", a decimal sequence number (start after it) or an
 * ISO 8601 time; NULL means "latest". @bus is the event bus to follow, a
 * name or an "arn:aws:events:...:event-bus/NAME" ARN, sent as given;
 * NULL sends no "bus" field (the default bus). Whether the bus exists is
 * for the daemon to say (an "error" with ref = @id).
 */
int bb_wsclient_encode_subscribe(const char *id, const char *pattern, const char *from,
                                 const char *bus, char **out);
int bb_wsclient_encode_unsubscribe(const char *id, char **out);
int bb_wsclient_encode_join(const char *group, int credit, int visibility_timeout_s, char **out);
int bb_wsclient_encode_ack(int64_t delivery, char **out);
/** @error may be NULL; @permanent != 0 sends the event straight to the DLQ. */
int bb_wsclient_encode_nack(int64_t delivery, const char *error, int permanent, char **out);
/** @entries: a JSON array of 1..10 PutEvents entries (borrowed); @ref may be NULL. */
int bb_wsclient_encode_publish(const char *ref, const struct cJSON *entries, char **out);
int bb_wsclient_encode_status(char **out);

/**
 * Backoff before reconnect attempt @attempt (0 for the first retry):
 * @min_ms doubled per attempt, capped at @max_ms, then scaled by a jitter
 * factor in [0.5, 1] taken from @jitter01 (in [0, 1]).
 */
int bb_wsclient_backoff_ms(int attempt, int min_ms, int max_ms, double jitter01);

/**
 * Splits @url ("ws://host[:port][/path]", also "http://"; IPv6 as
 * "[::1]") into @host (at most @hostlen bytes with its NUL) and *port
 * (default 80). A path, when present, must be BB_WSCLIENT_PATH. Returns 0
 * or BB_EINVAL (also for wss:// and https://: see bb_wsclient_parse_url).
 */
int bb_wsclient_parse_endpoint(const char *url, char *host, size_t hostlen, int *port);

/**
 * As bb_wsclient_parse_endpoint, and also takes "wss://" and "https://"
 * (default port 443): *tls is set to 1 for those, else 0.
 */
int bb_wsclient_parse_url(const char *url, char *host, size_t hostlen, int *port, int *tls);

/**
 * 1 when @host (no brackets) names this machine: "localhost" or a name
 * ending in ".localhost" (any case), an IPv4 address 127.x.x.x, "::1" or
 * "::ffff:127.x.x.x"; else 0. The rule by which a client may accept the
 * daemon's self-signed certificate without a CA file (bb_wsclient_new_tls
 * with @ca_file NULL): bucketbridge-cli and bucketbridge-logger refuse an
 * unverified https/wss connection to any other host.
 */
int bb_wsclient_host_is_loopback(const char *host);

/** The request path with "?token=" and @token percent-encoded (no query
 * when @token is NULL or empty). Returns a new string; free with free(). */
char *bb_wsclient_request_path(const char *token);

/* ---- the connection ---- */

/**
 * Called on the run thread for every server message and for the
 * library's CONNECTED/DISCONNECTED notices. @msg borrows; valid until the
 * callback returns. The callback may call any bb_wsclient function on @c
 * except bb_wsclient_free().
 */
typedef void bb_wsclient_msg_cb(struct bb_wsclient *c, const struct bb_wsclient_msg *msg,
                                void *arg);

/**
 * Creates a client for ws://@host:@port with @token (NULL or "" when the
 * daemon runs with --auth none). Nothing connects before bb_wsclient_run().
 * @host and @token are copied; @arg is borrowed and passed to @cb. Returns
 * 0 and *out (free with bb_wsclient_free), BB_EINVAL for bad arguments, or
 * BB_EAGAIN when lws cannot create its context.
 */
int bb_wsclient_new(const char *host, int port, const char *token, bb_wsclient_msg_cb *cb,
                    void *arg, struct bb_wsclient **out);
/**
 * As bb_wsclient_new, for wss://@host:@port (the daemon's TLS port). With
 * @ca_file (a PEM file, e.g. the daemon's <data>/.bucketbridge/tls/cert.pem
 * that its ready file names as tls_cert) the server's certificate must
 * chain to it; without it (NULL) any self-signed certificate is accepted
 * unchecked, which is only sound on loopback. @ca_file is copied.
 */
int bb_wsclient_new_tls(const char *host, int port, const char *token, const char *ca_file,
                        bb_wsclient_msg_cb *cb, void *arg, struct bb_wsclient **out);
/** Closes the connection and frees everything. NULL-safe. Not from the callback. */
void bb_wsclient_free(struct bb_wsclient *c);

/** Overrides the reconnect backoff bounds (ms; both >= 1, min <= max). */
void bb_wsclient_set_backoff(struct bb_wsclient *c, int min_ms, int max_ms);

/**
 * Adds (or replaces, by @id) a live subscription to event bus @bus (a name
 * or an ARN; NULL: the default bus), sent now when connected and on every
 * reconnect, always with the same bus. After a reconnect it resumes after
 * the last sequence number seen; after a "lagged" notice it re-subscribes
 * from the daemon's resume_from by itself. Events at or before the last
 * seen sequence number are never passed on twice. Arguments as for
 * bb_wsclient_encode_subscribe (copied). Returns 0, BB_EINVAL or
 * BB_ETOOBIG (BB_WSCLIENT_MAX_SUBS reached).
 *
 * A subscription the daemon refuses (an unknown bus: "event bus NAME does
 * not exist"; a pattern it cannot compile) reaches the callback as an
 * error message whose ref is @id. It stays on the wish list, and so is
 * sent again after the next reconnect, until bb_wsclient_unsubscribe():
 * a caller for whom the refusal is final (every program here) stops or
 * unsubscribes.
 */
int bb_wsclient_subscribe(struct bb_wsclient *c, const char *id, const char *pattern,
                          const char *from, const char *bus);
/** Drops subscription @id. Returns 0 or BB_ENOTFOUND. */
int bb_wsclient_unsubscribe(struct bb_wsclient *c, const char *id);

/**
 * Joins consumer group @group (one per client) with @credit deliveries in
 * flight and @visibility_timeout_s seconds to ack each. Re-sent on every
 * reconnect. Returns 0, BB_EINVAL or BB_ECONFLICT (already in a group).
 */
int bb_wsclient_join(struct bb_wsclient *c, const char *group, int credit,
                     int visibility_timeout_s);

/**
 * Acknowledges / rejects delivery @delivery. Queued for the current
 * connection only: when it drops first, the ack is discarded (the daemon
 * redelivers to the next member). Returns 0, BB_EAGAIN when not connected,
 * or BB_ETOOBIG when the outgoing queue is full.
 */
int bb_wsclient_ack(struct bb_wsclient *c, int64_t delivery);
int bb_wsclient_nack(struct bb_wsclient *c, int64_t delivery, const char *error, int permanent);

/**
 * Publishes @entries (as bb_wsclient_encode_publish; borrowed). Queued
 * until connected; a publish the connection dropped before it was written
 * is sent after the reconnect, but one that was written without a
 * "published" answer is not retried. Returns 0, BB_EINVAL, or BB_ETOOBIG.
 */
int bb_wsclient_publish(struct bb_wsclient *c, const char *ref, const struct cJSON *entries);
/** Asks for one "status" message. Returns 0, BB_EAGAIN or BB_ETOOBIG. */
int bb_wsclient_request_status(struct bb_wsclient *c);

/** 1 while the WebSocket is open, else 0. */
int bb_wsclient_connected(const struct bb_wsclient *c);

/**
 * Services the connection for up to @timeout_ms (0: handle what is ready
 * and return), connecting and reconnecting as needed; callbacks run from
 * here. Returns 0, or -ECANCELED once bb_wsclient_stop() was called (the
 * connection is then closed and nothing reconnects).
 */
int bb_wsclient_run(struct bb_wsclient *c, int timeout_ms);

/** Makes bb_wsclient_run() close the connection and return -ECANCELED.
 * Any thread. */
void bb_wsclient_stop(struct bb_wsclient *c);

/** Makes the current (or the next) bb_wsclient_run() return 0 at once, so
 * its caller can act on work another thread finished. Any thread. */
void bb_wsclient_wake(struct bb_wsclient *c);

/** Routes libwebsockets' own warnings and errors (process-wide) through
 * bb_log under mod=lws; @verbose adds its notices. */
void bb_wsclient_log_lws(int verbose);

#endif
