/* SPDX-License-Identifier: MIT */
/* ws_tls: the byte bridge between a TLS connection and lws's WebSocket server. */
#include "ws_tls.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "server.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* a direction may hold this much: the high mark plus the reads that were
 * already under way when its source was paused (one service buffer each) */
#define WS_TLS_BUF_MAX (WS_TLS_BUF_HIGH + 256 * 1024)
#define WS_TLS_BUF_KEEP (16 * 1024) /* a drained buffer larger than this is freed */

/* Bytes waiting to be written to one side; they sit at mem + LWS_PRE. */
struct pipe_buf {
    unsigned char *mem;
    size_t len;
    size_t cap;
    int src_paused; /* the side that fills it has its reads stopped */
};

struct ws_tls {
    struct server *srv;
    struct lws *tls;      /* the client's TLS connection; NULL once closed */
    struct lws *pair;     /* the bridge end of the socketpair; NULL once closed */
    struct pipe_buf up;   /* client -> WebSocket server, written to pair */
    struct pipe_buf down; /* WebSocket server -> client, written to tls */
};

static int pipe_push(struct pipe_buf *b, const void *p, size_t n)
{
    if (n > WS_TLS_BUF_MAX - b->len)
        return BB_ETOOBIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
        if (cap > WS_TLS_BUF_MAX)
            cap = WS_TLS_BUF_MAX;
        b->mem = bb_xrealloc(b->mem, LWS_PRE + cap);
        b->cap = cap;
    }
    memcpy(b->mem + LWS_PRE + b->len, p, n);
    b->len += n;
    return BB_OK;
}

/* Writes everything pending in @b to @wsi in one lws_write (lws keeps what
 * the socket did not take and holds back the next writable callback until
 * it is out). Returns 0 or -1 (the connection failed). */
static int pipe_write(struct lws *wsi, struct pipe_buf *b)
{
    int w;

    if (b->len == 0)
        return 0;
    w = lws_write(wsi, b->mem + LWS_PRE, b->len, LWS_WRITE_RAW);
    b->len = 0;
    if (b->cap > WS_TLS_BUF_KEEP) {
        free(b->mem);
        b->mem = NULL;
        b->cap = 0;
    }
    return w < 0 ? -1 : 0;
}

static void tunnel_free(struct ws_tls *t)
{
    free(t->up.mem);
    free(t->down.mem);
    free(t);
}

/* Asks for a writable callback on @wsi unless the daemon is shutting down
 * (lws then closes every connection itself). */
static void want_write(struct ws_tls *t, struct lws *wsi)
{
    if (wsi != NULL && !t->srv->stopping)
        lws_callback_on_writable(wsi);
}

/* Received bytes from one side: queued for the other, whose writable
 * callback will send them; the source pauses at the high mark. */
static int forward(struct ws_tls *t, struct lws *src, struct lws *dst, struct pipe_buf *b,
                   const void *in, size_t len)
{
    if (dst == NULL || len == 0)
        return 0; /* the other side is gone: we are closing after a flush */
    if (pipe_push(b, in, len) < 0) {
        BB_LOG_WARN("ws", "wss bridge overflow, closing", "pending=%zu more=%zu", b->len, len);
        return -1;
    }
    if (b->len >= WS_TLS_BUF_HIGH && !b->src_paused) {
        BB_LOG_DEBUG("ws", "wss bridge full, pausing reads", "dir=%s pending=%zu",
                     b == &t->up ? "up" : "down", b->len);
        lws_rx_flow_control(src, 0);
        b->src_paused = 1;
    }
    want_write(t, dst);
    return 0;
}

/* @wsi can take bytes: sends what @b holds and resumes its source. Once
 * the other side (@src) is gone and everything is written, closes @wsi. */
static int drain(struct ws_tls *t, struct lws *wsi, struct lws *src, struct pipe_buf *b)
{
    if (b->len == 0)
        return src == NULL ? -1 : 0;
    if (pipe_write(wsi, b) < 0)
        return -1;
    if (b->src_paused && src != NULL) {
        lws_rx_flow_control(src, 1);
        b->src_paused = 0;
    }
    if (src == NULL)
        want_write(t, wsi); /* close on the next one, once lws sent it all */
    return 0;
}

int ws_tls_callback(struct ws_tls **tp, struct lws *wsi, int reason, void *in, size_t len)
{
    struct ws_tls *t = *tp;

    switch (reason) {
    case LWS_CALLBACK_RAW_RX:
        return forward(t, wsi, t->pair, &t->up, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        return drain(t, wsi, t->pair, &t->down);
    case LWS_CALLBACK_RAW_CLOSE:
        *tp = NULL;
        t->tls = NULL;
        if (t->pair == NULL)
            tunnel_free(t);
        else
            want_write(t, t->pair); /* flush what the client sent, then close */
        return 0;
    default:
        return 0;
    }
}

int ws_tls_bridge_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct ws_tls *t = lws_get_opaque_user_data(wsi);

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX:
        if (t == NULL)
            return -1;
        return forward(t, wsi, t->tls, &t->down, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (t == NULL)
            return -1;
        return drain(t, wsi, t->tls, &t->up);
    case LWS_CALLBACK_RAW_CLOSE:
        if (t == NULL)
            return 0;
        lws_set_opaque_user_data(wsi, NULL);
        t->pair = NULL;
        if (t->tls == NULL)
            tunnel_free(t);
        else
            want_write(t, t->tls); /* flush the server's last frames, then close */
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
        return -1; /* a WebSocket client naming this protocol: not one */
    default:
        return 0;
    }
}

int ws_tls_adopt(struct server *srv, struct lws *tls, const char *bytes, size_t len,
                 struct ws_tls **out)
{
    lws_adopt_desc_t ad;
    struct ws_tls *t = NULL;
    int sv[2] = {-1, -1};
    int rc = BB_EINVAL;

    *out = NULL;
    if (srv->ws_vhost == NULL || len > WS_TLS_BUF_MAX)
        goto out;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
        rc = -errno;
        goto out;
    }
    /* the WebSocket end first: should the bridge end then fail, the
     * WebSocket server sees the end of its input and closes by itself */
    if (lws_adopt_socket_vhost(srv->ws_vhost, sv[0]) == NULL) {
        sv[0] = -1; /* lws closed it */
        BB_LOG_WARN("ws", "wss adoption failed", "side=websocket");
        goto out;
    }
    sv[0] = -1; /* lws owns it */
    t = bb_xcalloc(1, sizeof(*t));
    t->srv = srv;
    t->tls = tls;
    pipe_push(&t->up, bytes, len); /* fits: len was checked */
    memset(&ad, 0, sizeof(ad));
    ad.vh = srv->ws_vhost;
    ad.type = LWS_ADOPT_SOCKET; /* raw */
    ad.fd.sockfd = sv[1];
    ad.vh_prot_name = WS_TLS_PROTOCOL;
    ad.opaque = t;
    t->pair = lws_adopt_descriptor_vhost_via_info(&ad);
    sv[1] = -1; /* lws owns it, or closed it on failure */
    if (t->pair == NULL) {
        BB_LOG_WARN("ws", "wss adoption failed", "side=bridge");
        goto out;
    }
    /* the WebSocket server keeps its own time; the TLS side lives as long */
    lws_set_timeout(tls, NO_PENDING_TIMEOUT, 0);
    want_write(t, t->pair);
    *out = t;
    t = NULL;
    rc = BB_OK;
out:
    if (t != NULL)
        tunnel_free(t);
    if (sv[1] >= 0)
        close(sv[1]);
    if (sv[0] >= 0)
        close(sv[0]);
    return rc;
}
