/* SPDX-License-Identifier: MIT */
/*
 * ws_tls: WebSocket upgrades on the TLS port (wss://). The TLS session
 * lives in the raw connection that http_conn.c carries, so the socket
 * cannot move to lws's WebSocket server as ws_adopt() moves a plain one.
 * Instead a socketpair joins the two: one end is adopted into the
 * WebSocket vhost like a plain upgrade (it reads the request head from the
 * pair), the other is an lws raw socket of protocol "bb-wss-bridge" that
 * pumps bytes both ways between it and the TLS connection: decrypted bytes
 * from the TLS connection go into the pair, framed bytes from the pair go
 * out through lws_write on the TLS connection. lws does the WebSocket
 * framing and the TLS; this file only copies bytes.
 *
 * Each direction holds at most WS_TLS_BUF_HIGH bytes before it stops
 * reading its source (lws_rx_flow_control), and reading resumes once the
 * bytes are written, so a slow reader on either side slows the other and
 * never grows memory. A close on either side is passed on after what is
 * pending in the other direction has been written. Loop thread only.
 */
#ifndef BB_EMULATOR_WS_TLS_H
#define BB_EMULATOR_WS_TLS_H

#include <stddef.h>

struct lws;
struct server;
struct ws_tls;

#define WS_TLS_PROTOCOL "bb-wss-bridge"
#define WS_TLS_BUF_HIGH (64 * 1024) /* bytes pending in one direction before its reads stop */

/**
 * Turns the TLS raw connection @tls into a wss connection: @bytes (the
 * upgrade request head and anything the client sent after it; copied) are
 * the first bytes the WebSocket server reads. Returns 0 and *out, the
 * tunnel: from then on, while *out is not NULL, the caller passes every
 * callback of @tls to ws_tls_callback(out, ...) and nothing else (the
 * tunnel owns the connection's timeouts, flow control and close). At the
 * connection's close ws_tls_callback sets *out to NULL; the tunnel frees
 * itself once both sides have closed. Returns a negative code when nothing
 * was started (the caller answers over HTTP).
 */
int ws_tls_adopt(struct server *srv, struct lws *tls, const char *bytes, size_t len,
                 struct ws_tls **out);

/** The raw callbacks (LWS_CALLBACK_RAW_*) of a TLS connection handed to
 * *@tp by ws_tls_adopt(); at LWS_CALLBACK_RAW_CLOSE *@tp becomes NULL.
 * Returns what lws expects (-1 closes @wsi). */
int ws_tls_callback(struct ws_tls **tp, struct lws *wsi, int reason, void *in, size_t len);

/** The lws protocol callback of WS_TLS_PROTOCOL (the pair's bridge end),
 * listed in the WebSocket vhost's protocols (ws.c). */
int ws_tls_bridge_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

#endif
