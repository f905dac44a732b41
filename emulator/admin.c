/* SPDX-License-Identifier: MIT */
/* admin: /_bucketbridge/health, /_bucketbridge/dlq, /_bucketbridge/dlq/redrive. */
#include "admin.h"
#include "bb_buf.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_queue.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"
#include "http_conn.h"
#include "s3_sigv4.h"
#include "server.h"
#include "store.h"
#include "viewer.h"
#include "supervise.h"
#include "metrics.h"
#include "reset.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void reply_json(struct http_req *r, int status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "Cache-Control", "no-store");
    http_resp_body(r, bb_xstrdup(text), strlen(text));
    cJSON_free(text);
    http_resp_send(r, status);
}

static void reply_err(struct http_req *r, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    reply_json(r, status, o);
    cJSON_Delete(o);
}

/* Decoded value of query parameter @name (new string) or NULL. */
static char *query(const struct http_req *r, const char *name)
{
    const char *q = r->head.query;
    size_t n = r->head.query_len, nl = strlen(name), i = 0;
    while (q != NULL && i < n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;
        if (end - i > nl && memcmp(q + i, name, nl) == 0 && q[i + nl] == '=') {
            struct bb_buf b;
            bb_buf_init(&b, 8192);
            if (s3_sigv4_uri_decode(&b, q + i + nl + 1, end - i - nl - 1, true) < 0) {
                bb_buf_cleanup(&b);
                return NULL;
            }
            return bb_buf_detach(&b, NULL);
        }
        i = end + 1;
    }
    return NULL;
}

static int64_t count(struct db *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* "scheme://host:port/path" into o[name]; an IPv6 host is bracketed. */
static void add_url(cJSON *o, const char *name, const char *scheme, const char *host, int port,
                    const char *path)
{
    int v6 = strchr(host, ':') != NULL;
    char *url =
        bb_xasprintf("%s://%s%s%s:%d%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port, path);
    cJSON_AddStringToObject(o, name, url);
    free(url);
}

/* health's "listeners": where each endpoint is actually served */
static void add_listeners(cJSON *o, const struct server *srv)
{
    const struct config *cfg = srv->cfg;
    cJSON *l = cJSON_AddObjectToObject(o, "listeners");

    add_url(l, "http", "http", cfg->listen_host, srv->bound_port, "");
    add_url(l, "websocket", "ws", cfg->listen_host, srv->bound_port, "/_bucketbridge/events");
    if (srv->tls_port > 0) {
        add_url(l, "https", "https", cfg->https_host, srv->tls_port, "");
        add_url(l, "websocket_tls", "wss", cfg->https_host, srv->tls_port, "/_bucketbridge/events");
    }
}

/* health's "buckets": [{"name", "eventbridge"}] from the index */
static void add_buckets(cJSON *o, struct db *db)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "buckets");
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(db->sql, "SELECT name, eventbridge FROM buckets ORDER BY name", -1, &s,
                           NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "name", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddBoolToObject(b, "eventbridge", sqlite3_column_int(s, 1) != 0);
        cJSON_AddItemToArray(arr, b);
    }
out:
    sqlite3_finalize(s);
}

static void health(struct http_req *r)
{
    struct server *srv = r->srv;
    struct db *db = store_get_db(srv->store);
    struct bus_queue_stats st;
    cJSON *o = cJSON_CreateObject();
    cJSON *groups = cJSON_CreateObject();
    struct timespec ts;
    sqlite3_stmt *s = NULL;

    clock_gettime(CLOCK_REALTIME, &ts);
    cJSON_AddStringToObject(o, "status", srv->ready && !srv->stopping ? "ok" : "starting");
    cJSON_AddStringToObject(o, "version", BB_VERSION);
    cJSON_AddNumberToObject(
        o, "uptime_s",
        (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - srv->started_ms) / 1000.0);
    cJSON_AddStringToObject(o, "data_dir", srv->cfg->data_dir);
    cJSON_AddNumberToObject(o, "port", srv->bound_port);
    add_listeners(o, srv);
    cJSON_AddNumberToObject(o, "connections", http_conn_count());
    cJSON_AddNumberToObject(o, "rules", (double)bus_rules_count(bus_get_rules(srv->bus)));
    cJSON_AddNumberToObject(o, "last_sequence", (double)bus_last_seq(srv->bus));
    cJSON_AddNumberToObject(o, "pending_deliveries",
                            (double)count(db, "SELECT count(*) FROM deliveries"));
    cJSON_AddNumberToObject(o, "dead_letters", (double)count(db, "SELECT count(*) FROM dlq"));
    add_buckets(o, db);
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT arn, count(*) FROM deliveries WHERE arn LIKE 'arn:aws:sqs:%'"
                           " GROUP BY arn",
                           -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *arn = (const char *)sqlite3_column_text(s, 0);
            const char *name = strrchr(arn, ':');
            cJSON_AddNumberToObject(groups, name ? name + 1 : arn,
                                    (double)sqlite3_column_int64(s, 1));
        }
    }
    sqlite3_finalize(s);
    cJSON_AddItemToObject(o, "queue_depths", groups);
    cJSON_AddItemToObject(o, "consumers", supervise_status(srv->supervise));
    bus_queue_stats(bus_get_queue(srv->bus), &st);
    cJSON *d = cJSON_AddObjectToObject(o, "deliveries");
    cJSON_AddNumberToObject(d, "delivered", (double)st.delivered);
    cJSON_AddNumberToObject(d, "failed_attempts", (double)st.failed_attempts);
    cJSON_AddNumberToObject(d, "dead_lettered", (double)st.dead_lettered);
    cJSON_AddNumberToObject(d, "dropped", (double)st.dropped);
    reply_json(r, srv->ready && !srv->stopping ? 200 : 503, o);
    cJSON_Delete(o);
}

/* Mutating admin calls carry the token (or auth is off). */
static int token_ok(const struct http_req *r)
{
    const struct config *cfg = r->srv->cfg;
    const char *want = cfg->ws_token ? cfg->ws_token : cfg->secret_key;
    size_t n = 0;
    const char *h = http_head_get(&r->head, "x-bucketbridge-token", &n);
    char *q;
    int ok;
    if (!cfg->auth_enabled)
        return 1;
    if (h != NULL && n == strlen(want) && memcmp(h, want, n) == 0)
        return 1;
    q = query(r, "token");
    ok = q != NULL && strcmp(q, want) == 0;
    free(q);
    return ok;
}

static int method_is(const struct http_req *r, const char *m)
{
    size_t n = strlen(m);
    return r->head.method_len == n && memcmp(r->head.method, m, n) == 0;
}

static int path_is(const struct http_req *r, const char *p)
{
    size_t n = strlen(p);
    return r->head.path_len == n && memcmp(r->head.path, p, n) == 0;
}

static void dlq_list(struct http_req *r)
{
    char *arn = query(r, "arn");
    char *after = query(r, "after");
    char *limit = query(r, "limit");
    int lim = limit ? atoi(limit) : 100;
    if (arn == NULL) {
        reply_err(r, 400, "the query parameter arn (the dead-letter queue ARN) is required");
    } else {
        char *list = bus_queue_dlq_list(bus_get_queue(r->srv->bus), arn,
                                        after ? strtoll(after, NULL, 10) : 0,
                                        lim > 0 && lim <= 1000 ? lim : 100);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "QueueArn", arn);
        cJSON *msgs = cJSON_Parse(list);
        cJSON_AddItemToObject(o, "Messages", msgs ? msgs : cJSON_CreateArray());
        reply_json(r, 200, o);
        cJSON_Delete(o);
        free(list);
    }
    free(arn);
    free(after);
    free(limit);
}

static void dlq_redrive(struct http_req *r)
{
    char *arn = query(r, "arn");
    if (arn == NULL) {
        reply_err(r, 400, "the query parameter arn (the dead-letter queue ARN) is required");
        return;
    }
    int n = bus_queue_dlq_redrive(bus_get_queue(r->srv->bus), arn);
    if (n < 0) {
        reply_err(r, 500, "the redrive failed");
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "QueueArn", arn);
        cJSON_AddNumberToObject(o, "Redriven", n);
        reply_json(r, 200, o);
        cJSON_Delete(o);
    }
    free(arn);
}

int admin_handle(struct http_req *r)
{
    if (viewer_handle(r))
        return 1;
    if (path_is(r, "/_bucketbridge/health") && (method_is(r, "GET") || method_is(r, "HEAD"))) {
        r->op = "Health";
        health(r);
        return 1;
    }
    if (path_is(r, "/_bucketbridge/events")) {
        /* upgrades with the right token never get here (ws.c adopts them) */
        size_t n = 0;
        r->op = "WebSocket";
        if (http_head_get(&r->head, "upgrade", &n) != NULL)
            reply_err(r, 403,
                      "authentication required: connect to "
                      "/_bucketbridge/events?token=<token> (the secret key unless "
                      "configured)");
        else
            reply_err(r, 426, "this endpoint speaks WebSocket (docs/websocket.md)");
        return 1;
    }
    if (path_is(r, "/_bucketbridge/metrics") && method_is(r, "GET")) {
        struct bb_buf b;
        size_t len;
        r->op = "Metrics";
        bb_buf_init(&b, 16 * 1024 * 1024);
        metrics_render(&b, r->srv);
        char *text = bb_buf_detach(&b, &len);
        http_resp_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        http_resp_header(r, "Cache-Control", "no-store");
        http_resp_body(r, text, len);
        http_resp_send(r, 200);
        return 1;
    }
    if (path_is(r, "/_bucketbridge/reset") && method_is(r, "POST")) {
        long objects = 0;
        struct timespec a, b;
        r->op = "Reset";
        if (!token_ok(r)) {
            reply_err(r, 403,
                      "reset needs the token: ?token=<token> or the header "
                      "X-Bucketbridge-Token (the secret key unless configured)");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = reset_all(r->srv, &objects);
        clock_gettime(CLOCK_MONOTONIC, &b);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "reset", rc == 0);
        cJSON_AddNumberToObject(o, "objects_removed", (double)objects);
        cJSON_AddNumberToObject(o, "last_sequence", (double)bus_last_seq(r->srv->bus));
        cJSON_AddNumberToObject(o, "duration_ms",
                                (double)((b.tv_sec - a.tv_sec) * 1000) +
                                    (double)(b.tv_nsec - a.tv_nsec) / 1e6);
        reply_json(r, rc == 0 ? 200 : 500, o);
        cJSON_Delete(o);
        return 1;
    }
    if (path_is(r, "/_bucketbridge/dlq") && method_is(r, "GET")) {
        r->op = "DlqList";
        dlq_list(r);
        return 1;
    }
    if (path_is(r, "/_bucketbridge/dlq/redrive") && method_is(r, "POST")) {
        r->op = "DlqRedrive";
        if (!token_ok(r)) {
            reply_err(r, 403,
                      "redrive needs the token: ?token=<token> or the header "
                      "X-Bucketbridge-Token");
            return 1;
        }
        dlq_redrive(r);
        return 1;
    }
    return 0;
}
