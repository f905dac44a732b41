/* SPDX-License-Identifier: MIT */
/* ws: hand-off of upgrade requests from our HTTP to lws's WebSocket server. */
#include "ws.h"
#include "bb_err.h"
#include "bb_log.h"
#include "http_parse.h"
#include "route.h"
#include "server.h"
#include "ws_conn.h"
#include "ws_tls.h"
#include "bb_buf.h"
#include "bb_hash.h"
#include "config.h"
#include "s3_sigv4.h"

#include <errno.h>
#include <libwebsockets.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    /* a client offering only the subprotocol "http" would get a WebSocket
     * that never answers: dropped like any other unknown subprotocol */
    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
        return -1;
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int events_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return ws_conn_callback(wsi, (int)reason, user, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static int bridge_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    return ws_tls_bridge_callback(wsi, (int)reason, user, in, len);
}

/* bb-events comes first: clients that name no subprotocol get it */
static const struct lws_protocols ws_protocols[] = {
    {"bb-events", events_cb, WS_CONN_PSS_SIZE, 64 * 1024, 0, NULL, 0},
    {"http", http_dummy, 0, 0, 0, NULL, 0},
    {WS_TLS_PROTOCOL, bridge_cb, 0, 0, 0, NULL, 0}, /* wss: the pair's raw end (ws_tls.c) */
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int header_has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= n; i++) {
        if (strncasecmp(v + i, token, tl) == 0 && (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' '))
            return 1;
    }
    return 0;
}

int ws_is_upgrade(const char *head, size_t len)
{
    struct http_head h;
    const char *v;
    size_t vl = 0;

    if (len > WS_MAX_HEAD || http_parse_head(head, len, &h) < 0)
        return 0;
    if (h.method_len != 3 || memcmp(h.method, "GET", 3) != 0 || h.path_len != strlen(WS_PATH) ||
        memcmp(h.path, WS_PATH, h.path_len) != 0)
        return 0;
    v = http_head_get(&h, "upgrade", &vl);
    if (v == NULL || !header_has_token(v, vl, "websocket"))
        return 0;
    v = http_head_get(&h, "host", &vl);
    if (v == NULL || !route_host_is_local(v, vl))
        return 0;
    v = http_head_get(&h, "origin", &vl);
    if (v != NULL) {
        if (vl > 7 && strncmp(v, "http://", 7) == 0)
            return route_host_is_local(v + 7, vl - 7);
        if (vl > 8 && strncmp(v, "https://", 8) == 0)
            return route_host_is_local(v + 8, vl - 8);
        return 0; /* a foreign Origin: answered 403 over HTTP */
    }
    return 1;
}

int ws_adopt(struct server *srv, struct lws *raw, const char *head, size_t len)
{
    int fd = lws_get_socket_fd(raw);
    int nfd, dummy;

    if (srv->ws_vhost == NULL || fd < 0)
        return BB_EINVAL;
    nfd = dup(fd);
    if (nfd < 0)
        return -errno;
    /* lws will close (and may shut down) the raw connection's descriptor:
     * point that number at a placeholder socket first, so the real socket,
     * now held by nfd, is untouched */
    dummy = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (dummy < 0 || dup2(dummy, fd) < 0) {
        if (dummy >= 0)
            close(dummy);
        close(nfd);
        return BB_EINVAL;
    }
    close(dummy);
    if (lws_adopt_socket_vhost_readbuf(srv->ws_vhost, nfd, head, len) == NULL) {
        BB_LOG_WARN("ws", "websocket adoption failed", NULL);
        /* nfd was closed by lws; the client sees the connection drop */
        return BB_OK;
    }
    return BB_OK;
}

int ws_start(struct server *srv, struct lws_context *lws)
{
    struct lws_context_creation_info info;

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = ws_protocols;
    info.vhost_name = "ws";
    info.options = 0;
    srv->ws_vhost = lws_create_vhost(lws, &info);
    if (srv->ws_vhost == NULL) {
        BB_LOG_ERROR("ws", "cannot create the websocket vhost", NULL);
        return BB_EINVAL;
    }
    return ws_conn_start(srv);
}

int ws_token_ok(const struct server *srv, const char *head, size_t len)
{
    const struct config *cfg = srv->cfg;
    const char *want = cfg->ws_token ? cfg->ws_token : cfg->secret_key;
    struct http_head h;
    size_t wl;

    if (!cfg->auth_enabled)
        return 1;
    if (http_parse_head(head, len, &h) < 0 || h.query == NULL || want == NULL)
        return 0;
    wl = strlen(want);
    for (size_t i = 0; i < h.query_len;) {
        const char *amp = memchr(h.query + i, '&', h.query_len - i);
        size_t end = amp ? (size_t)(amp - h.query) : h.query_len;
        struct bb_buf v;
        int ok;
        if (end - i >= 6 && memcmp(h.query + i, "token=", 6) == 0) {
            bb_buf_init(&v, 4096);
            ok = s3_sigv4_uri_decode(&v, h.query + i + 6, end - i - 6, true) == 0 &&
                 v.len == wl && bb_ct_equal(v.data, want, wl);
            bb_buf_cleanup(&v);
            if (ok)
                return 1;
        }
        i = end + 1;
    }
    return 0;
}
