/* SPDX-License-Identifier: MIT */
/* viewer: the embedded viewer page, its assets, and /_bucketbridge/api/. */
#include "viewer.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_rule.h"
#include "config.h"
#include "http_conn.h"
#include "server.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VIEWER_PREFIX "/_bucketbridge/"
#define VIEWER_ASSETS VIEWER_PREFIX "assets/"
#define VIEWER_API VIEWER_PREFIX "api/"
#define VIEWER_WS_PATH "/_bucketbridge/events"
#define VIEWER_MAX_HOST 255

/* The page loads only its own files and talks only to this daemon. */
#define VIEWER_CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "        \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "                   \
    "frame-ancestors 'none'"

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

static int path_has_prefix(const struct http_req *r, const char *p)
{
    size_t n = strlen(p);
    return r->head.path_len >= n && memcmp(r->head.path, p, n) == 0;
}

static const struct viewer_asset *find_asset(const char *name, size_t len)
{
    for (const struct viewer_asset *a = viewer_assets; a->name != NULL; a++)
        if (strlen(a->name) == len && memcmp(a->name, name, len) == 0)
            return a;
    return NULL;
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static void reply_text(struct http_req *r, int status, const char *text)
{
    http_resp_header(r, "Content-Type", "text/plain; charset=utf-8");
    http_resp_header(r, "Cache-Control", "no-store");
    http_resp_header(r, "X-Content-Type-Options", "nosniff");
    http_resp_body(r, bb_xstrdup(text), strlen(text));
    http_resp_send(r, status);
}

static void reply_json(struct http_req *r, int status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "Cache-Control", "no-store");
    http_resp_header(r, "X-Content-Type-Options", "nosniff");
    /* other sites may not even embed these answers (no-cors reads) */
    http_resp_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    http_resp_body(r, bb_xstrdup(text), strlen(text));
    cJSON_free(text);
    http_resp_send(r, status);
}

static void reply_json_error(struct http_req *r, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    reply_json(r, status, o);
    cJSON_Delete(o);
}

/* An If-None-Match list naming @etag (or "*"). */
static int etag_matches(const struct http_req *r, const char *etag)
{
    size_t len = 0, el = strlen(etag);
    const char *v = http_head_get(&r->head, "if-none-match", &len);
    if (v == NULL)
        return 0;
    if (len == 1 && v[0] == '*')
        return 1;
    for (size_t i = 0; i + el <= len; i++)
        if (memcmp(v + i, etag, el) == 0)
            return 1;
    return 0;
}

static void serve_asset(struct http_req *r, const struct viewer_asset *a)
{
    const char *type = content_type(a->name);

    r->op = "ViewerAsset";
    if (!method_is(r, "GET") && !method_is(r, "HEAD")) {
        http_resp_header(r, "Allow", "GET, HEAD");
        reply_text(r, 405, "Only GET and HEAD are allowed here.\n");
        return;
    }
    /* revalidate every time: a rebuilt daemon serves new files at once */
    http_resp_header(r, "Cache-Control", "no-cache");
    http_resp_header(r, "ETag", "%s", a->etag);
    http_resp_header(r, "X-Content-Type-Options", "nosniff");
    if (strncmp(type, "text/html", 9) == 0) {
        http_resp_header(r, "Content-Security-Policy", "%s", VIEWER_CSP);
        http_resp_header(r, "Referrer-Policy", "no-referrer");
        http_resp_header(r, "X-Frame-Options", "DENY");
    }
    if (etag_matches(r, a->etag)) {
        http_resp_send(r, 304);
        return;
    }
    http_resp_header(r, "Content-Type", "%s", type);
    if (method_is(r, "HEAD")) {
        r->head_only = 1;
        r->resp_content_length = a->len;
    } else {
        char *body = bb_xmalloc(a->len + 1);
        memcpy(body, a->data, a->len + 1);
        http_resp_body(r, body, a->len);
    }
    http_resp_send(r, 200);
}

/* The request's Host header as a new string ("127.0.0.1:4566" when absent;
 * route.c has checked it names this machine). */
static char *request_host(const struct http_req *r)
{
    size_t len = 0;
    const char *v = http_head_get(&r->head, "host", &len);
    char buf[64];
    if (v == NULL || len == 0 || len > VIEWER_MAX_HOST) {
        snprintf(buf, sizeof(buf), "127.0.0.1:%d", r->srv->bound_port);
        return bb_xstrdup(buf);
    }
    return bb_xstrndup(v, len);
}

static void api_config(struct http_req *r)
{
    const struct config *cfg = r->srv->cfg;
    char *host = request_host(r);
    /* a page served over https talks wss (a browser refuses ws:// there) */
    char *url = bb_xasprintf("%s://%s", r->tls ? "https" : "http", host);
    char *ws = bb_xasprintf("%s://%s%s", r->tls ? "wss" : "ws", host, VIEWER_WS_PATH);
    cJSON *o = cJSON_CreateObject();
    cJSON *buckets = cJSON_CreateArray();

    cJSON_AddStringToObject(o, "version", BB_VERSION);
    cJSON_AddStringToObject(o, "endpoint", url);
    cJSON_AddStringToObject(o, "ws_url", ws);
    cJSON_AddBoolToObject(o, "auth", cfg->auth_enabled);
    cJSON_AddStringToObject(o, "access_key", cfg->auth_enabled ? cfg->access_key : "");
    cJSON_AddStringToObject(o, "secret_key", cfg->auth_enabled ? cfg->secret_key : "");
    cJSON_AddStringToObject(o, "token",
                            !cfg->auth_enabled ? ""
                            : cfg->ws_token    ? cfg->ws_token
                                               : cfg->secret_key);
    cJSON_AddStringToObject(o, "region", cfg->region);
    cJSON_AddStringToObject(o, "account_id", cfg->account_id);
    cJSON_AddStringToObject(o, "key_encoding", cfg->key_encoding_raw ? "raw" : "form");
    cJSON_AddNumberToObject(o, "last_sequence", (double)bus_last_seq(r->srv->bus));
    for (size_t i = 0; i < cfg->nbuckets; i++)
        cJSON_AddItemToArray(buckets, cJSON_CreateString(cfg->buckets[i].name));
    cJSON_AddItemToObject(o, "buckets", buckets);
    reply_json(r, 200, o);
    cJSON_Delete(o);
    free(ws);
    free(url);
    free(host);
}

static const char *target_kind_name(enum bus_target_kind k)
{
    switch (k) {
    case BUS_TARGET_QUEUE:
        return "queue";
    case BUS_TARGET_COMMAND:
        return "command";
    case BUS_TARGET_WEBHOOK:
        return "webhook";
    default:
        return "unknown";
    }
}

/* JSON text @text parsed, or as a string when it does not parse, or null. */
static cJSON *json_or_string(const char *text)
{
    cJSON *v;
    if (text == NULL)
        return cJSON_CreateNull();
    v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}

static cJSON *target_json(const struct bus_target *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "arn", t->arn);
    cJSON_AddStringToObject(o, "kind", target_kind_name(t->kind));
    if (t->resource != NULL)
        cJSON_AddStringToObject(o, "resource", t->resource);
    if (t->dlq_arn != NULL)
        cJSON_AddStringToObject(o, "dead_letter_arn", t->dlq_arn);
    cJSON_AddNumberToObject(o, "max_retries", t->max_retries);
    cJSON_AddNumberToObject(o, "max_age_s", t->max_age_s);
    cJSON_AddItemToObject(o, "spec", json_or_string(t->spec));
    return o;
}

static void api_rules(struct http_req *r)
{
    struct bus_rules *rs = bus_get_rules(r->srv->bus);
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(o, "rules");

    for (size_t i = 0; i < bus_rules_count(rs); i++) {
        const struct bus_rule *rule = bus_rules_at(rs, i);
        cJSON *x = cJSON_CreateObject();
        cJSON *targets = cJSON_CreateArray();
        cJSON_AddStringToObject(x, "name", rule->name);
        cJSON_AddStringToObject(x, "bus", rule->bus);
        cJSON_AddStringToObject(x, "arn", rule->arn);
        cJSON_AddBoolToObject(x, "enabled", rule->enabled);
        if (rule->description != NULL)
            cJSON_AddStringToObject(x, "description", rule->description);
        if (rule->origin != NULL)
            cJSON_AddStringToObject(x, "origin", rule->origin);
        cJSON_AddItemToObject(x, "pattern", json_or_string(rule->pattern_text));
        for (size_t k = 0; k < rule->ntargets; k++)
            cJSON_AddItemToArray(targets, target_json(&rule->targets[k]));
        cJSON_AddItemToObject(x, "targets", targets);
        cJSON_AddItemToArray(list, x);
    }
    cJSON_AddNumberToObject(o, "last_sequence", (double)bus_last_seq(r->srv->bus));
    reply_json(r, 200, o);
    cJSON_Delete(o);
}

static void api_handle(struct http_req *r)
{
    size_t len = 0;
    const char *site = http_head_get(&r->head, "sec-fetch-site", &len);

    r->op = "ViewerApi";
    /* the config holds the credentials: a page on another site gets nothing,
     * even where the Origin check let it through */
    if (site != NULL && len == 10 && strncasecmp(site, "cross-site", 10) == 0) {
        reply_json_error(r, 403, "cross-site requests are refused");
        return;
    }
    if (!method_is(r, "GET")) {
        http_resp_header(r, "Allow", "GET");
        reply_json_error(r, 405, "only GET is allowed here");
        return;
    }
    if (path_is(r, VIEWER_API "config")) {
        r->op = "ViewerConfig";
        api_config(r);
    } else if (path_is(r, VIEWER_API "rules")) {
        r->op = "ViewerRules";
        api_rules(r);
    } else {
        reply_json_error(r, 404, "no such viewer API endpoint (config, rules)");
    }
}

int viewer_handle(struct http_req *r)
{
    const struct viewer_asset *a;

    if (path_is(r, VIEWER_PREFIX) || path_is(r, VIEWER_PREFIX "index.html")) {
        a = find_asset("index.html", 10);
        if (a == NULL)
            return 0;
        serve_asset(r, a);
        return 1;
    }
    if (path_has_prefix(r, VIEWER_ASSETS)) {
        const char *name = r->head.path + strlen(VIEWER_ASSETS);
        size_t n = r->head.path_len - strlen(VIEWER_ASSETS);
        a = find_asset(name, n);
        if (a == NULL) {
            r->op = "ViewerAsset";
            reply_text(r, 404, "No such viewer asset.\n");
        } else {
            serve_asset(r, a);
        }
        return 1;
    }
    if (path_has_prefix(r, VIEWER_API)) {
        api_handle(r);
        return 1;
    }
    return 0;
}
