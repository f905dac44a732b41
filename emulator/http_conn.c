/* SPDX-License-Identifier: MIT */
/*
 * http_conn: HTTP/1.1 over an lws raw socket. State machine per connection:
 *   HEAD  accumulate bytes until a complete head, then route it
 *   BODY  hand body bytes to the handler (or discard them after an early
 *         answer)
 *   RESP  the answer is queued or being written; further input is held
 *         (flow control off) until it is done, then the next pipelined
 *         request is parsed.
 */
#include "http_conn.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "db.h"
#include "metrics.h"
#include "route.h"
#include "server.h"
#include "store.h"
#include "ws.h"
#include "ws_conn.h"
#include "ws_tls.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_MAX_HELD (HTTP_MAX_HEAD + 64 * 1024) /* buffered input cap */
#define CONN_FILE_CHUNK (128 * 1024)
#define CONN_SENDFILE_MAX (4 * 1024 * 1024) /* per writable turn: others get theirs */
#define CONN_DISCARD_MAX (64ull * 1024 * 1024) /* read and drop at most this */
/* Timeouts (config "http": idle, head, body seconds) and the connection cap
 * (config http.max_connections, lowered to fit the descriptor limit) are in
 * struct config; docs/configuration.md. */
#define CONN_FD_RESERVE_MIN 64 /* descriptors kept for files, SQLite, pipes */

enum conn_state { CONN_HEAD, CONN_BODY, CONN_RESP };

struct http_conn {
    struct lws *wsi;
    struct server *srv;
    enum conn_state state;
    struct bb_buf in;
    struct http_req *req;
    struct http_chunked tec;
    int discard; /* body after an early answer: drop it */
    int body_done;
    int send_continue;
    int closing;
    int flow_off;
    int refused; /* over the connection cap: answered 503, never counted */
    char peer[48];
    /* pending output: out[LWS_PRE..] */
    unsigned char *out;
    size_t out_len;
    struct ws_tls *tunnel; /* a wss upgrade: the connection is a byte bridge now */
};

_Static_assert(sizeof(struct http_conn) <= HTTP_CONN_PSS_SIZE, "raise HTTP_CONN_PSS_SIZE");

static int nconns;

int http_conn_count(void)
{
    return nconns;
}

/* The cap on open connections (HTTP and upgraded WebSockets together):
 * http.max_connections, but never so many that descriptors for files and
 * the database run out (a quarter of the descriptor limit, at least
 * CONN_FD_RESERVE_MIN, stays free). */
static int conn_cap(const struct server *srv)
{
    static long fd_cap = -1;
    if (fd_cap < 0) {
        struct rlimit rl;
        long n = 1024;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
            n = rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
        long reserve = n / 4 > CONN_FD_RESERVE_MIN ? n / 4 : CONN_FD_RESERVE_MIN;
        fd_cap = n - reserve > 1 ? n - reserve : 1;
    }
    long cap = srv->cfg->http_max_connections;
    return (int)(cap < fd_cap ? cap : fd_cap);
}

/* A connection over the cap gets a short 503 SlowDown written straight to
 * the socket (it is fresh and empty, so a few hundred bytes fit), then is
 * closed. Warned about at most once a second. */
static void refuse_connection(struct lws *wsi, int cap)
{
    static time_t last_warn;
    static long refused_since_warn;
    char msg[512];
    int body_len;
    char body[256];

    body_len = snprintf(body, sizeof(body),
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                        "<Message>Too many open connections (%d at most); close idle ones and "
                        "retry.</Message></Error>",
                        cap);
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                     "Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
                     body_len, body);
    if (!lws_is_ssl(wsi) && n > 0 && (size_t)n < sizeof(msg))
        (void)send(lws_get_socket_fd(wsi), msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    refused_since_warn++;
    time_t now = time(NULL);
    if (now != last_warn) {
        BB_LOG_WARN("http", "connection refused: too many open connections",
                    "limit=%d open=%d websockets=%d refused=%ld", cap, nconns, ws_conn_count(),
                    refused_since_warn);
        last_warn = now;
        refused_since_warn = 0;
    }
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void req_free(struct http_req *r)
{
    if (r == NULL)
        return;
    if (r->on_free != NULL)
        r->on_free(r);
    free(r->head_buf);
    free(r->resp_body);
    bb_buf_cleanup(&r->resp_headers);
    if (r->resp_fd >= 0)
        close(r->resp_fd);
    free(r);
}

void http_resp_header(struct http_req *r, const char *name, const char *fmt, ...)
{
    va_list ap;
    char val[8192];

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    /* a value never carries CR/LF into the response */
    for (char *p = val; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    bb_buf_appendf(&r->resp_headers, "%s: %s\r\n", name, val);
}

void http_resp_body(struct http_req *r, char *body, size_t len)
{
    free(r->resp_body);
    r->resp_body = body;
    r->resp_body_len = body ? len : 0;
}

void http_resp_file(struct http_req *r, int fd, uint64_t off, uint64_t len)
{
    if (r->resp_fd >= 0)
        close(r->resp_fd);
    r->resp_fd = fd;
    r->resp_file_off = off;
    r->resp_file_len = len;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 303:
        return "See Other";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static void http_date(char *out, size_t n)
{
    static time_t cached_t;
    static char cached[64];
    time_t t = time(NULL);
    if (t != cached_t) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_t = t;
    }
    snprintf(out, n, "%s", cached);
}

static void set_output(struct http_conn *c, struct http_req *r)
{
    struct bb_buf b;
    char date[64];
    uint64_t clen = r->resp_fd >= 0 ? r->resp_file_len : r->resp_body_len;

    if (r->head_only)
        clen = r->resp_content_length;
    http_date(date, sizeof(date));
    static const char pre[LWS_PRE];

    bb_buf_init(&b, SIZE_MAX / 2);
    bb_buf_append(&b, pre, LWS_PRE); /* lws wants LWS_PRE bytes in front */
    /* botocore (boto/botocore#3755) mis-reads a final answer to an
     * "Expect: 100-continue" request that had no interim one: when the whole
     * body is in (a zero-length PUT), send the 100 first, as RFC 9110 allows */
    if (r->expect_continue && !r->continue_sent && c->body_done && !r->close_after)
        bb_buf_appends(&b, "HTTP/1.1 100 Continue\r\n\r\n");
    bb_buf_appendf(&b, "HTTP/1.1 %d %s\r\n", r->status, reason_phrase(r->status));
    bb_buf_appendf(&b, "Date: %s\r\nServer: bucketbridge\r\n", date);
    bb_buf_appendf(&b, "x-amz-request-id: %s\r\nx-amz-id-2: %s\r\n", r->request_id, r->request_id);
    if (r->status != 304 && !(r->status >= 100 && r->status < 200) && r->status != 204)
        bb_buf_appendf(&b, "Content-Length: %llu\r\n", (unsigned long long)clen);
    bb_buf_append(&b, r->resp_headers.data ? r->resp_headers.data : "", r->resp_headers.len);
    if (r->close_after)
        bb_buf_appends(&b, "Connection: close\r\n");
    bb_buf_appends(&b, "\r\n");
    if (!r->head_only && r->resp_body_len > 0 && r->status != 304)
        bb_buf_append(&b, r->resp_body, r->resp_body_len);
    c->out = (unsigned char *)bb_buf_detach(&b, &c->out_len);
    if (r->head_only || r->status == 304) {
        if (r->resp_fd >= 0)
            close(r->resp_fd);
        r->resp_fd = -1;
    }
}

static void access_log(struct http_req *r)
{
    char qpath[512];
    metrics_request(r->op, r->status, r->body_received,
                    r->resp_fd >= 0 ? r->resp_file_len : r->resp_body_len, mono_us() - r->start_us);
    if (bb_log_level_current < BB_LOG_LEVEL_INFO)
        return;
    bb_log_write(BB_LOG_LEVEL_INFO, "http", "request",
                 "req=%s op=%s method=%.*s path=%s status=%d bytes_in=%llu bytes_out=%llu "
                 "duration_us=%lld",
                 r->request_id, r->op ? r->op : "-", (int)r->head.method_len, r->head.method,
                 bb_log_quote(qpath, sizeof(qpath), r->head.path, r->head.path_len), r->status,
                 (unsigned long long)r->body_received,
                 (unsigned long long)(r->resp_fd >= 0 ? r->resp_file_len : r->resp_body_len),
                 (long long)(mono_us() - r->start_us));
}

void http_resp_send(struct http_req *r, int status)
{
    struct http_conn *c = r->conn;

    if (r->responded)
        return;
    r->responded = 1;
    r->status = status;
    if (c->state == CONN_BODY && !c->body_done) {
        /* answered before the body was read */
        uint64_t left = r->content_length == HTTP_NO_LENGTH ? CONN_DISCARD_MAX + 1
                                                            : r->content_length - r->body_received;
        if (r->expect_continue && r->body_received == 0) {
            r->close_after = 1; /* the client waits for us; it sends no body */
        } else if (left > CONN_DISCARD_MAX) {
            r->close_after = 1;
        } else {
            c->discard = 1;
            r->on_body = NULL;
            return; /* sent once the body is drained */
        }
    }
    access_log(r);
    set_output(c, r);
    r->db_gen = db_batch_gen(store_get_db(c->srv->store));
    c->state = CONN_RESP;
    lws_callback_on_writable(c->wsi);
}

static void start_request(struct http_conn *c, const char *head, size_t head_len, int too_big)
{
    struct http_req *r = bb_xcalloc(1, sizeof(*r));
    unsigned char rid[8];
    const char *v;
    size_t vl;
    int rc;

    r->conn = c;
    r->srv = c->srv;
    r->resp_fd = -1;
    r->start_us = mono_us();
    r->content_length = HTTP_NO_LENGTH;
    bb_buf_init(&r->resp_headers, 256 * 1024);
    bb_random_bytes(rid, sizeof(rid));
    for (int i = 0; i < 8; i++)
        snprintf(r->request_id + 2 * i, 3, "%02X", rid[i]);
    r->head_buf = bb_xstrndup(head, head_len);
    c->req = r;
    c->state = CONN_BODY;
    c->send_continue = 0;
    c->discard = 0;
    c->body_done = 0;
    memcpy(r->peer, c->peer, sizeof(r->peer));
    r->tls = lws_is_ssl(c->wsi);

    rc = too_big ? BB_ETOOBIG : http_parse_head(r->head_buf, head_len, &r->head);
    if (rc < 0) {
        c->body_done = 1;
        r->close_after = 1;
        route_bad_request(r, rc == BB_ETOOBIG ? 431 : 400);
        return;
    }
    v = http_head_get(&r->head, "transfer-encoding", &vl);
    if (v != NULL) {
        if (vl != 7 || strncasecmp(v, "chunked", 7) != 0) {
            c->body_done = 1;
            r->close_after = 1;
            route_bad_request(r, 501);
            return;
        }
        r->chunked = 1;
        r->has_body = 1;
        http_chunked_init(&c->tec);
    } else if ((v = http_head_get(&r->head, "content-length", &vl)) != NULL) {
        uint64_t n = 0;
        if (vl == 0 || vl > 19) {
            c->body_done = 1;
            r->close_after = 1;
            route_bad_request(r, 400);
            return;
        }
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9') {
                c->body_done = 1;
                r->close_after = 1;
                route_bad_request(r, 400);
                return;
            }
            n = n * 10 + (uint64_t)(v[i] - '0');
        }
        r->content_length = n;
        r->has_body = n > 0;
    }
    if (r->head.minor_version == 0)
        r->close_after = 1;
    v = http_head_get(&r->head, "connection", &vl);
    if (v != NULL && vl == 5 && strncasecmp(v, "close", 5) == 0)
        r->close_after = 1;
    v = http_head_get(&r->head, "expect", &vl);
    if (v != NULL && vl == 12 && strncasecmp(v, "100-continue", 12) == 0)
        r->expect_continue = 1;
    if (!r->has_body)
        c->body_done = 1;
    route_request(r);
    if (!r->responded && r->expect_continue && r->has_body && !c->discard) {
        c->send_continue = 1;
        lws_callback_on_writable(c->wsi);
    }
}

void http_req_hold(struct http_req *r)
{
    r->held = 1;
    lws_set_timeout(r->conn->wsi, NO_PENDING_TIMEOUT, 0);
}

static void finish_body(struct http_conn *c)
{
    struct http_req *r = c->req;
    c->body_done = 1;
    if (c->discard) {
        c->discard = 0;
        r->responded = 0;
        http_resp_send(r, r->status);
        return;
    }
    if (!r->responded && r->on_end != NULL)
        r->on_end(r);
    if (!r->responded && !r->held) {
        BB_LOG_ERROR("http", "handler did not answer", "req=%s", r->request_id);
        route_bad_request(r, 500);
    }
}

static int body_bytes(void *arg, const char *p, size_t n)
{
    struct http_conn *c = arg;
    struct http_req *r = c->req;
    r->body_received += n;
    if (c->discard || r->on_body == NULL || r->responded)
        return 0;
    r->on_body(r, p, n); /* a failing handler answers, which turns on discard */
    return 0;
}

/* Consumes body bytes from @p; returns bytes used. */
static size_t feed_body(struct http_conn *c, const char *p, size_t n)
{
    struct http_req *r = c->req;

    if (r->chunked) {
        long used = http_chunked_feed(&c->tec, p, n, body_bytes, c);
        if (used < 0) {
            c->body_done = 1;
            r->close_after = 1;
            if (!r->responded) {
                route_bad_request(r, 400);
            } else if (c->discard) {
                c->discard = 0;
                r->responded = 0;
                http_resp_send(r, r->status);
            }
            return n;
        }
        if (c->tec.done)
            finish_body(c);
        return (size_t)used;
    }
    uint64_t left = r->content_length - r->body_received;
    size_t take = n < left ? n : (size_t)left;
    body_bytes(c, p, take);
    if (r->body_received == r->content_length)
        finish_body(c);
    return take;
}

/* Processes held and new input as far as the state allows. */
static int process(struct http_conn *c, const char *p, size_t n)
{
    for (;;) {
        if (c->state == CONN_BODY && !c->body_done) {
            if (c->in.len > 0) {
                size_t used = feed_body(c, c->in.data, c->in.len);
                memmove(c->in.data, c->in.data + used, c->in.len - used);
                c->in.len -= used;
                continue;
            }
            if (n == 0)
                return 0;
            size_t used = feed_body(c, p, n);
            p += used;
            n -= used;
            continue;
        }
        if (n > 0 && c->state == CONN_RESP && c->req->close_after)
            return 0; /* closing after this answer: input is dropped */
        if (n > 0) {
            if (bb_buf_append(&c->in, p, n) < 0)
                return -1;
            n = 0;
        }
        if (c->state != CONN_HEAD)
            break;
        if (c->in.len == 0)
            return 0;
        long end = http_parse_head_end(c->in.data, c->in.len);
        if (end == 0)
            return 0;
        if (end < 0) {
            start_request(c, "", 0, 1);
            c->in.len = 0;
            break;
        }
        if (ws_is_upgrade(c->in.data, (size_t)end) &&
            ws_token_ok(c->srv, c->in.data, (size_t)end)) {
            /* the connection becomes a WebSocket carried by lws itself; over
             * TLS through a byte bridge that keeps this connection (ws_tls.h) */
            if (lws_is_ssl(c->wsi)) {
                if (ws_tls_adopt(c->srv, c->wsi, c->in.data, c->in.len, &c->tunnel) == BB_OK) {
                    bb_buf_cleanup(&c->in);
                    nconns--;
                    return 0;
                }
            } else if (ws_adopt(c->srv, c->wsi, c->in.data, (size_t)end) == BB_OK) {
                c->closing = 1;
                return -1;
            }
        }
        start_request(c, c->in.data, (size_t)end, 0);
        memmove(c->in.data, c->in.data + end, c->in.len - (size_t)end);
        c->in.len -= (size_t)end;
    }
    if (c->in.len > 0 && !c->flow_off) {
        lws_rx_flow_control(c->wsi, 0);
        c->flow_off = 1;
    }
    return 0;
}

static int write_more(struct http_conn *c)
{
    struct http_req *r = c->req;

    /* a response in progress: the client is reading, give it time */
    if (c->state == CONN_RESP)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_body_timeout_s);

    if (c->send_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char buf[LWS_PRE + sizeof(cont)];
        c->send_continue = 0;
        /* only while the client still waits to send the body */
        if (r != NULL && !r->responded && c->state == CONN_BODY && r->body_received == 0) {
            memcpy(buf + LWS_PRE, cont, sizeof(cont) - 1);
            if (lws_write(c->wsi, buf + LWS_PRE, sizeof(cont) - 1, LWS_WRITE_RAW) < 0)
                return -1;
            r->continue_sent = 1;
            return 0;
        }
    }
    if (c->state != CONN_RESP || r == NULL)
        return 0;
    if (c->out != NULL) {
        /* nothing is acknowledged before the commit that holds it */
        if (!db_gen_committed(store_get_db(c->srv->store), r->db_gen)) {
            BB_LOG_ERROR("http", "answer withheld: its changes were not committed", "req=%s",
                         r->request_id);
            return -1;
        }
        int w = lws_write(c->wsi, c->out + LWS_PRE, c->out_len - LWS_PRE, LWS_WRITE_RAW);
        free(c->out);
        c->out = NULL;
        if (w < 0)
            return -1;
        if (r->resp_fd >= 0 && r->resp_file_len > 0) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    } else if (r->resp_fd >= 0 && r->resp_file_len > 0 && !r->tls) {
        /* plain TCP: the kernel copies from the page cache to the socket
         * (lws holds nothing of ours here: a partly sent head is flushed
         * by lws before it calls us writable again) */
        off_t off = (off_t)r->resp_file_off;
        size_t want =
            r->resp_file_len < CONN_SENDFILE_MAX ? (size_t)r->resp_file_len : CONN_SENDFILE_MAX;
        ssize_t n;
        if (lws_partial_buffered(c->wsi)) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
        n = sendfile(lws_get_socket_fd(c->wsi), r->resp_fd, &off, want);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
        if (n <= 0) {
            BB_LOG_ERROR("http", "object file send failed", "req=%s error=\"%s\"", r->request_id,
                         n < 0 ? strerror(errno) : "short file");
            return -1; /* cannot keep the framing honest: drop the connection */
        }
        r->resp_file_off += (uint64_t)n;
        r->resp_file_len -= (uint64_t)n;
        if (r->resp_file_len > 0) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    } else if (r->resp_fd >= 0 && r->resp_file_len > 0) {
        size_t want =
            r->resp_file_len < CONN_FILE_CHUNK ? (size_t)r->resp_file_len : CONN_FILE_CHUNK;
        unsigned char *buf = bb_xmalloc(LWS_PRE + want);
        ssize_t got = pread(r->resp_fd, buf + LWS_PRE, want, (off_t)r->resp_file_off);
        if (got <= 0) {
            BB_LOG_ERROR("http", "object file read failed", "req=%s error=\"%s\"", r->request_id,
                         got < 0 ? strerror(errno) : "short file");
            free(buf);
            return -1; /* cannot keep the framing honest: drop the connection */
        }
        int w = lws_write(c->wsi, buf + LWS_PRE, (size_t)got, LWS_WRITE_RAW);
        free(buf);
        if (w < 0)
            return -1;
        r->resp_file_off += (uint64_t)got;
        r->resp_file_len -= (uint64_t)got;
        if (r->resp_file_len > 0) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    /* response complete */
    if (r->close_after) {
        c->closing = 1;
        return -1;
    }
    req_free(r);
    c->req = NULL;
    c->state = CONN_HEAD;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_idle_timeout_s);
    if (c->flow_off) {
        lws_rx_flow_control(c->wsi, 1);
        c->flow_off = 0;
    }
    if (process(c, NULL, 0) < 0)
        return -1;
    return 0;
}

int http_conn_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct http_conn *c = user;

    if (c != NULL && c->tunnel != NULL && reason != LWS_CALLBACK_RAW_ADOPT)
        return ws_tls_callback(&c->tunnel, wsi, reason, in, len);
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        memset(c, 0, sizeof(*c));
        c->wsi = wsi;
        c->srv = lws_context_user(lws_get_context(wsi));
        if (nconns + ws_conn_count() >= conn_cap(c->srv)) {
            c->refused = 1;
            refuse_connection(wsi, conn_cap(c->srv));
            return -1;
        }
        c->state = CONN_HEAD;
        bb_buf_init(&c->in, CONN_MAX_HELD);
        lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
        nconns++;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_idle_timeout_s);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        /* a head has a deadline from its first byte, trickling does not
         * extend it; a body gets a fresh timeout whenever bytes arrive */
        if (c->state == CONN_HEAD && c->in.len == 0)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_head_timeout_s);
        else if (c->state == CONN_BODY)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_body_timeout_s);
        if (process(c, in, len) < 0)
            return -1;
        if (c->state == CONN_HEAD && c->in.len == 0 && c->req == NULL && c->tunnel == NULL)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, c->srv->cfg->http_idle_timeout_s);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        return write_more(c);
    case LWS_CALLBACK_RAW_CLOSE:
        if (c->refused)
            return 0;
        req_free(c->req);
        c->req = NULL;
        free(c->out);
        c->out = NULL;
        bb_buf_cleanup(&c->in);
        nconns--;
        return 0;
    default:
        return 0;
    }
}
