/* SPDX-License-Identifier: MIT */
/*
 * http_conn: one HTTP/1.1 connection on the S3 port, carried by a
 * libwebsockets raw socket: reads request heads (http_parse), frames bodies
 * (Content-Length or chunked), hands decoded body bytes to the request's
 * handler, and writes the response (memory or a file range) with
 * keep-alive and pipelining. Loop thread only.
 *
 * Request lifecycle: route_request() is called with a parsed head. The
 * handler either answers at once (http_resp_send) or sets on_body/on_end to
 * receive the body; on_end must answer. on_free runs exactly once when the
 * request ends for any reason (answered, connection closed, shutdown), so
 * it is where a handler removes temporary files.
 */
#ifndef BB_EMULATOR_HTTP_CONN_H
#define BB_EMULATOR_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "bb_buf.h"
#include "http_parse.h"

struct lws;
struct http_conn;
struct http_req;
struct server;

typedef int http_body_cb(struct http_req *r, const char *p, size_t n);
typedef void http_end_cb(struct http_req *r);
typedef void http_free_cb(struct http_req *r);

#define HTTP_NO_LENGTH UINT64_MAX
/* lws per-session storage for one connection (checked in http_conn.c) */
#define HTTP_CONN_PSS_SIZE 256

struct http_req {
    struct http_conn *conn;
    struct server *srv;
    struct http_head head; /* borrows head_buf */
    char *head_buf;
    char request_id[17];
    int64_t start_us;
    char peer[48];
    int tls; /* arrived on the TLS listener */

    /* body framing, set by http_conn before routing */
    int has_body;
    int chunked;
    uint64_t content_length; /* HTTP_NO_LENGTH when chunked or absent */
    uint64_t body_received;  /* decoded bytes handed to on_body */
    int expect_continue;
    int continue_sent; /* "100 Continue" went out for this request */

    /* handler */
    http_body_cb *on_body;
    http_end_cb *on_end;
    http_free_cb *on_free;
    void *ctx;
    const char *op; /* operation name for the access log */

    /* response */
    int status;
    struct bb_buf resp_headers; /* "Name: value\r\n" lines */
    char *resp_body;            /* owned */
    size_t resp_body_len;
    int resp_fd; /* -1 or owned fd */
    uint64_t resp_file_off;
    uint64_t resp_file_len;
    uint64_t resp_content_length; /* for HEAD: the entity length announced */
    int head_only;
    int close_after;
    int responded;
    uint64_t db_gen; /* the group-commit batch the answer waits for (db.h) */
    int held;        /* the handler answers later (http_req_hold) */
};

/** The handler (its on_end, or the dispatch) answers later, from work it
 * started in the background: no 500 for a missing answer, and no timeout
 * while it works. The request's on_free still runs if the client leaves. */
void http_req_hold(struct http_req *r);

/** The lws protocol callback for the raw S3 port (see server.c). */
int http_conn_callback(struct lws *wsi, int reason, void *user, void *in, size_t len);

/** Adds a response header line (copied). */
void http_resp_header(struct http_req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Sets a memory body (takes ownership of @body, may be NULL). */
void http_resp_body(struct http_req *r, char *body, size_t len);
/** Sets a file body: @len bytes of @fd from @off (takes ownership of @fd). */
void http_resp_file(struct http_req *r, int fd, uint64_t off, uint64_t len);
/**
 * Queues the response with @status. Content-Length, Date, Server,
 * x-amz-request-id, x-amz-id-2 and Connection are added here. May be called
 * once per request, from routing, on_body or on_end. When the request body
 * was not read yet it is read and discarded first (or the connection is
 * closed after the answer when it is large).
 */
void http_resp_send(struct http_req *r, int status);

/** Number of open connections. */
int http_conn_count(void);

#endif
