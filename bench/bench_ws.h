/* SPDX-License-Identifier: MIT */
/*
 * bench_ws: a minimal WebSocket client (RFC 6455) for the event benchmarks,
 * built so that many connections can be served from one epoll thread with
 * little CPU per message: a blocking handshake on 127.0.0.1, then a
 * non-blocking socket whose incoming frames are cut into text messages
 * handed to a callback (fragmented messages reassembled, pings answered,
 * a close frame ends it). Outgoing messages are masked text frames.
 * (common/bb_wsclient is the project's full client; it owns an lws
 * context per connection, which is too heavy for 100 subscribers in a
 * benchmark that shares 2 cores with the daemon.)
 *
 * A bench_ws belongs to one thread at a time.
 */
#ifndef BB_BENCH_BENCH_WS_H
#define BB_BENCH_BENCH_WS_H

#include <stddef.h>

struct bench_ws {
    int fd;            /* -1 when closed; owned */
    unsigned char *rx; /* bytes read, not yet cut into frames; owned */
    size_t rx_len, rx_cap;
    char *frag; /* a fragmented message being reassembled; owned */
    size_t frag_len, frag_cap;
    int in_frag;
};

/**
 * Called for each complete text message: @text is NUL-terminated and
 * @len bytes long, valid (and writable) until the callback returns.
 */
typedef void bench_ws_msg_cb(struct bench_ws *w, char *text, size_t len, void *arg);

/**
 * Connects to ws://127.0.0.1:@port/_bucketbridge/events?token=@token
 * (no query when @token is NULL or ""), waits up to 10 s for the 101 and
 * checks Sec-WebSocket-Accept. Returns 0 with the socket non-blocking, or
 * a negative bb_err / -errno (@w is then closed).
 */
int bench_ws_connect(struct bench_ws *w, int port, const char *token);

/** Sends @len bytes of @text as one masked text frame, waiting (up to 10 s)
 * while the socket is full. Returns 0 or a negative bb_err / -errno. */
int bench_ws_send(struct bench_ws *w, const char *text, size_t len);

/**
 * Reads what the socket has (until EAGAIN) and calls @cb for each complete
 * text message. Returns the number of messages, or -1 when the connection
 * closed or failed (then @w is closed).
 */
int bench_ws_read(struct bench_ws *w, bench_ws_msg_cb *cb, void *arg);

/** Closes the socket and frees the buffers. Idempotent. */
void bench_ws_close(struct bench_ws *w);

#endif
