/* SPDX-License-Identifier: MIT */
/*
 * s3_cors: bucket CORS configuration (Put/Get/DeleteBucketCors), preflight
 * OPTIONS answered from the bucket's rules, and the CORS headers of actual
 * responses. The daemon's own origins (http://127.0.0.1:<port>,
 * http://localhost:<port> and the https ones) are allowed on every bucket,
 * so the viewer page can upload without a configuration. Rules are kept as
 * JSON (s3_xml_parse_cors) in the bucket_cors table. A POST from a foreign
 * origin (a form upload needs no preflight) runs only when a rule allows it.
 */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "http_conn.h"
#include "route.h"
#include "s3_handler.h"
#include "s3_xml.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define CORS_BODY_MAX (64 * 1024)
#define OWN_METHODS "GET, PUT, POST, DELETE, HEAD"
#define OWN_EXPOSE                                                                                 \
    "ETag, Content-Length, Content-Range, Last-Modified, Location, x-amz-request-id, "             \
    "x-amz-id-2, x-amz-version-id, x-amz-checksum-crc32, x-amz-checksum-crc32c, "                  \
    "x-amz-checksum-crc64nvme, x-amz-checksum-sha1, x-amz-checksum-sha256"

static const char *const cors_methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};

/* "scheme://host:port" of this daemon's own listeners. */
static int own_origin(const struct s3_req *q, const char *origin)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    char o[96];

    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        snprintf(o, sizeof(o), "http://%s:%d", hosts[i], q->srv->bound_port);
        if (strcmp(origin, o) == 0)
            return 1;
        if (q->srv->tls_port <= 0)
            continue;
        snprintf(o, sizeof(o), "https://%s:%d", hosts[i], q->srv->tls_port);
        if (strcmp(origin, o) == 0)
            return 1;
    }
    return 0;
}

/* @pattern with at most one '*' matching any run of characters. */
static int wildcard_match(const char *pattern, const char *s, int nocase)
{
    const char *star = strchr(pattern, '*');
    size_t pl = strlen(pattern), sl = strlen(s);
    int (*cmp)(const char *, const char *, size_t) = nocase ? strncasecmp : strncmp;

    if (star == NULL)
        return pl == sl && cmp(pattern, s, pl) == 0;
    size_t pre = (size_t)(star - pattern), suf = pl - pre - 1;
    return sl >= pre + suf && cmp(pattern, s, pre) == 0 && cmp(star + 1, s + sl - suf, suf) == 0;
}

static int list_has(const cJSON *arr, const char *v, int wildcard, int nocase)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *p = cJSON_GetStringValue(it);
        if (p == NULL)
            continue;
        if (wildcard ? wildcard_match(p, v, nocase) : strcmp(p, v) == 0)
            return 1;
    }
    return 0;
}

/* Every header named in @req_headers (comma-separated) is allowed. */
static int headers_allowed(const cJSON *rule, const char *req_headers)
{
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(rule, "AllowedHeaders");
    char buf[2048];
    char *save = NULL;

    if (req_headers == NULL)
        return 1;
    snprintf(buf, sizeof(buf), "%s", req_headers);
    for (char *t = strtok_r(buf, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save))
        if (!list_has(allowed, t, 1, 1))
            return 0;
    return 1;
}

/* The first rule matching origin, method (and preflight headers), or NULL. */
static const cJSON *match_rule(const cJSON *rules, const char *origin, const char *method,
                               const char *req_headers)
{
    const cJSON *rule;
    cJSON_ArrayForEach(rule, rules)
    {
        if (list_has(cJSON_GetObjectItemCaseSensitive(rule, "AllowedOrigins"), origin, 1, 0) &&
            list_has(cJSON_GetObjectItemCaseSensitive(rule, "AllowedMethods"), method, 0, 0) &&
            headers_allowed(rule, req_headers))
            return rule;
    }
    return NULL;
}

static void join(struct bb_buf *b, const cJSON *arr)
{
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        bb_buf_appendf(b, "%s%s", first ? "" : ", ", it->valuestring);
        first = 0;
    }
}

/* The Access-Control-* headers for @rule (NULL: the daemon's own origin). */
static void add_headers(struct s3_req *q, const cJSON *rule, const char *origin,
                        const char *req_headers, int preflight)
{
    struct http_req *r = q->http;
    struct bb_buf b;
    int any_origin = rule != NULL &&
                     list_has(cJSON_GetObjectItemCaseSensitive(rule, "AllowedOrigins"), "*", 0, 0);

    bb_buf_init(&b, 64 * 1024);
    http_resp_header(r, "Access-Control-Allow-Origin", "%s", any_origin ? "*" : origin);
    if (rule == NULL) {
        http_resp_header(r, "Access-Control-Allow-Methods", OWN_METHODS);
    } else {
        join(&b, cJSON_GetObjectItemCaseSensitive(rule, "AllowedMethods"));
        http_resp_header(r, "Access-Control-Allow-Methods", "%s", b.data ? b.data : "");
    }
    if (preflight && req_headers != NULL && req_headers[0] != '\0')
        http_resp_header(r, "Access-Control-Allow-Headers", "%s", req_headers);
    bb_buf_reset(&b);
    if (rule == NULL)
        bb_buf_appends(&b, OWN_EXPOSE);
    else
        join(&b, cJSON_GetObjectItemCaseSensitive(rule, "ExposeHeaders"));
    if (b.len > 0)
        http_resp_header(r, "Access-Control-Expose-Headers", "%s", b.data);
    const cJSON *age = rule ? cJSON_GetObjectItemCaseSensitive(rule, "MaxAgeSeconds") : NULL;
    if (cJSON_IsNumber(age))
        http_resp_header(r, "Access-Control-Max-Age", "%ld", (long)age->valuedouble);
    else if (rule == NULL && preflight)
        http_resp_header(r, "Access-Control-Max-Age", "600");
    if (!any_origin)
        http_resp_header(r, "Access-Control-Allow-Credentials", "true");
    http_resp_header(r, "Vary",
                     "Origin, Access-Control-Request-Headers, "
                     "Access-Control-Request-Method");
    bb_buf_cleanup(&b);
}

/* The bucket's rules, parsed; NULL when none (or no such bucket). */
static cJSON *load_rules(struct s3_req *q)
{
    char *text = NULL;
    cJSON *rules;

    if (q->bucket == NULL || store_index_cors_get(store_get_index(q->store), q->bucket, &text) < 0)
        return NULL;
    rules = cJSON_Parse(text);
    free(text);
    return rules;
}

void s3_cors_apply(struct s3_req *q)
{
    struct http_req *r = q->http;
    char origin[512];
    char method[16];
    cJSON *rules;
    const cJSON *rule;

    if (s3_req_header(q, "origin", origin, sizeof(origin)) == NULL)
        return;
    if (own_origin(q, origin)) {
        add_headers(q, NULL, origin, NULL, 0);
        return;
    }
    rules = load_rules(q);
    if (rules == NULL)
        return;
    snprintf(method, sizeof(method), "%.*s", (int)r->head.method_len, r->head.method);
    rule = match_rule(rules, origin, method, NULL);
    if (rule != NULL)
        add_headers(q, rule, origin, NULL, 0);
    else
        http_resp_header(r, "Vary",
                         "Origin, Access-Control-Request-Headers, "
                         "Access-Control-Request-Method");
    cJSON_Delete(rules);
}

int s3_cors_write_allowed(struct s3_req *q)
{
    struct http_req *r = q->http;
    size_t ol = 0;
    const char *origin = http_head_get(&r->head, "origin", &ol);
    char o[512];
    char method[16];
    cJSON *rules;
    int ok;

    if (origin == NULL)
        return 1; /* not a browser, or a same-origin navigation */
    if (ol > 7 && strncmp(origin, "http://", 7) == 0 && route_host_is_local(origin + 7, ol - 7))
        return 1;
    if (ol > 8 && strncmp(origin, "https://", 8) == 0 && route_host_is_local(origin + 8, ol - 8))
        return 1;
    if (ol >= sizeof(o))
        return 0;
    memcpy(o, origin, ol);
    o[ol] = '\0';
    rules = load_rules(q);
    if (rules == NULL)
        return 0;
    snprintf(method, sizeof(method), "%.*s", (int)r->head.method_len, r->head.method);
    ok = match_rule(rules, o, method, NULL) != NULL;
    cJSON_Delete(rules);
    return ok;
}

void s3_cors_preflight(struct s3_req *q)
{
    char origin[512];
    char method[32];
    char req_headers[2048];
    const char *rh;
    cJSON *rules = NULL;
    const cJSON *rule;

    if (s3_req_header(q, "origin", origin, sizeof(origin)) == NULL) {
        s3_reply_error(q, S3E_BAD_REQUEST,
                       "Insufficient information. Origin request header "
                       "needed.",
                       NULL, 0);
        return;
    }
    if (s3_req_header(q, "access-control-request-method", method, sizeof(method)) == NULL) {
        s3_reply_error(q, S3E_BAD_REQUEST, "Invalid Access-Control-Request-Method: null", NULL, 0);
        return;
    }
    rh = s3_req_header(q, "access-control-request-headers", req_headers, sizeof(req_headers));
    if (own_origin(q, origin)) {
        add_headers(q, NULL, origin, rh, 1);
        s3_reply_empty(q, 200);
        return;
    }
    if (q->bucket == NULL || !store_bucket_exists(q->store, q->bucket)) {
        s3_reply_error(q, S3E_ACCESS_FORBIDDEN, "CORSResponse: Bucket not found", NULL, 0);
        return;
    }
    rules = load_rules(q);
    if (rules == NULL) {
        s3_reply_error(q, S3E_ACCESS_FORBIDDEN,
                       "CORSResponse: CORS is not enabled for this bucket.", NULL, 0);
        return;
    }
    rule = match_rule(rules, origin, method, rh);
    if (rule == NULL) {
        struct s3_error_field f[] = {{"Method", method}, {"ResourceType", "OBJECT"}};
        s3_reply_error(q, S3E_ACCESS_FORBIDDEN, NULL, f, 2);
    } else {
        add_headers(q, rule, origin, rh, 1);
        s3_reply_empty(q, 200);
    }
    cJSON_Delete(rules);
}

/* Methods and wildcards S3 accepts in a configuration. */
static enum s3_error validate(const cJSON *rules, char *msg, size_t n)
{
    const cJSON *rule, *it;
    cJSON_ArrayForEach(rule, rules)
    {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rule, "AllowedMethods"))
        {
            int ok = 0;
            for (size_t i = 0; i < sizeof(cors_methods) / sizeof(cors_methods[0]); i++)
                ok |= strcmp(it->valuestring, cors_methods[i]) == 0;
            if (!ok) {
                snprintf(msg, n,
                         "Found unsupported HTTP method in CORS config. Unsupported method is %s",
                         it->valuestring);
                return S3E_INVALID_REQUEST;
            }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rule, "AllowedOrigins"))
        {
            const char *star = strchr(it->valuestring, '*');
            if (star != NULL && strchr(star + 1, '*') != NULL) {
                snprintf(msg, n, "AllowedOrigin \"%s\" can not have more than one wildcard.",
                         it->valuestring);
                return S3E_INVALID_REQUEST;
            }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rule, "AllowedHeaders"))
        {
            const char *star = strchr(it->valuestring, '*');
            if (star != NULL && strchr(star + 1, '*') != NULL) {
                snprintf(msg, n, "AllowedHeader \"%s\" can not have more than one wildcard.",
                         it->valuestring);
                return S3E_INVALID_REQUEST;
            }
        }
    }
    return S3E_NONE;
}

static void put_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    cJSON *rules = NULL;
    const char *why = NULL;
    char msg[256];
    char *text = NULL;
    enum s3_error e = s3_body_finish(q);

    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        goto out;
    }
    if (s3_xml_parse_cors(q->body.mem.data, q->body.mem.len, &rules, &why) < 0) {
        s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
        goto out;
    }
    e = validate(rules, msg, sizeof(msg));
    if (e != S3E_NONE) {
        s3_reply_error(q, e, msg, NULL, 0);
        goto out;
    }
    text = cJSON_PrintUnformatted(rules);
    if (store_index_cors_put(store_get_index(q->store), q->bucket, text) < 0) {
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        goto out;
    }
    BB_LOG_INFO("s3", "bucket cors set", "bucket=%s rules=%d", q->bucket,
                cJSON_GetArraySize(rules));
    s3_reply_empty(q, 200);
out:
    cJSON_free(text);
    cJSON_Delete(rules);
}

static int put_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

void s3_cors_put(struct s3_req *q)
{
    enum s3_error e;

    if (!q->http->has_body) {
        s3_reply_error(q, S3E_MALFORMED_XML, NULL, NULL, 0);
        return;
    }
    e = s3_body_begin(q, 0, CORS_BODY_MAX, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    q->http->on_body = put_body;
    q->http->on_end = put_end;
}

static void xml_list(struct bb_buf *b, const cJSON *rule, const char *key, const char *elem)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rule, key))
    {
        if (!cJSON_IsString(it))
            continue;
        bb_buf_appendf(b, "<%s>", elem);
        bb_buf_append_xml(b, it->valuestring, strlen(it->valuestring));
        bb_buf_appendf(b, "</%s>", elem);
    }
}

void s3_cors_get(struct s3_req *q)
{
    cJSON *rules = load_rules(q);
    const cJSON *rule;
    struct bb_buf b;

    if (rules == NULL) {
        struct s3_error_field f = {"BucketName", q->bucket};
        s3_reply_error(q, S3E_NO_SUCH_CORS_CONFIGURATION, NULL, &f, 1);
        return;
    }
    bb_buf_init(&b, 4 * 1024 * 1024);
    bb_buf_appends(
        &b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration xmlns=\"" XMLNS "\">");
    cJSON_ArrayForEach(rule, rules)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "ID"));
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(rule, "MaxAgeSeconds");
        bb_buf_appends(&b, "<CORSRule>");
        if (id != NULL) {
            bb_buf_appends(&b, "<ID>");
            bb_buf_append_xml(&b, id, strlen(id));
            bb_buf_appends(&b, "</ID>");
        }
        xml_list(&b, rule, "AllowedHeaders", "AllowedHeader");
        xml_list(&b, rule, "AllowedMethods", "AllowedMethod");
        xml_list(&b, rule, "AllowedOrigins", "AllowedOrigin");
        xml_list(&b, rule, "ExposeHeaders", "ExposeHeader");
        if (cJSON_IsNumber(age))
            bb_buf_appendf(&b, "<MaxAgeSeconds>%ld</MaxAgeSeconds>", (long)age->valuedouble);
        bb_buf_appends(&b, "</CORSRule>");
    }
    bb_buf_appends(&b, "</CORSConfiguration>");
    cJSON_Delete(rules);
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

void s3_cors_delete(struct s3_req *q)
{
    if (store_index_cors_put(store_get_index(q->store), q->bucket, NULL) < 0) {
        s3_reply_error(q, S3E_INTERNAL_ERROR, NULL, NULL, 0);
        return;
    }
    s3_reply_empty(q, 204);
}
