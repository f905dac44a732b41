/* SPDX-License-Identifier: MIT */
/* route: Host check, /_bucketbridge/ endpoints, hand-off to S3. */
#include "route.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "admin.h"
#include "bus_api.h"
#include "config.h"
#include "http_conn.h"
#include "s3_error.h"
#include "s3_handler.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void error_reply(struct http_req *r, int status, enum s3_error e, const char *msg)
{
    struct bb_buf b;
    bb_buf_init(&b, 64 * 1024);
    s3_error_xml(&b, e, msg, NULL, 0, NULL, r->request_id);
    http_resp_header(r, "Content-Type", "application/xml");
    size_t len;
    char *body = bb_buf_detach(&b, &len);
    http_resp_body(r, body, len);
    http_resp_send(r, status);
}

void route_bad_request(struct http_req *r, int status)
{
    r->close_after = 1;
    r->op = "BadRequest";
    switch (status) {
    case 431:
        error_reply(r, 400, S3E_REQUEST_HEADER_TOO_LARGE, NULL);
        break;
    case 501:
        error_reply(r, 501, S3E_NOT_IMPLEMENTED, "Only the chunked transfer coding is supported.");
        break;
    case 500:
        error_reply(r, 500, S3E_INTERNAL_ERROR, NULL);
        break;
    default:
        error_reply(r, 400, S3E_BAD_REQUEST, NULL);
        break;
    }
}

int route_host_is_local(const char *host, unsigned long len)
{
    size_t n = len;
    /* strip the port */
    if (n > 0 && host[0] == '[') {
        const char *rb = memchr(host, ']', n);
        if (rb == NULL)
            return 0;
        n = (size_t)(rb - host) + 1;
    } else {
        const char *colon = memchr(host, ':', n);
        if (colon != NULL)
            n = (size_t)(colon - host);
    }
    /* after the name only ":port" ("[::1].evil.example" is not local) */
    if (n < len) {
        if (host[n] != ':' || len - n < 2 || len - n > 6)
            return 0;
        for (size_t i = n + 1; i < len; i++)
            if (host[i] < '0' || host[i] > '9')
                return 0;
    }
    if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
        (n == 5 && strncmp(host, "[::1]", 5) == 0))
        return 1;
    if (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0)
        return 1;
    /* 127.0.0.0/8 */
    if (n >= 9 && strncmp(host, "127.", 4) == 0) {
        for (size_t i = 4; i < n; i++)
            if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
                return 0;
        return 1;
    }
    return 0;
}

/* The host name of a Host value: port and IPv6 brackets' port stripped. */
static size_t host_name_len(const char *host, size_t n)
{
    if (n > 0 && host[0] == '[') {
        const char *rb = memchr(host, ']', n);
        return rb == NULL ? n : (size_t)(rb - host) + 1;
    }
    const char *colon = memchr(host, ':', n);
    return colon != NULL ? (size_t)(colon - host) : n;
}

/* The configured base domain @host ends with: longest first, so that
 * "b.s3.localhost" is bucket "b" under "s3.localhost", not "b.s3" under
 * "localhost". Returns its index, or -1. *exact: the host is the domain. */
static int vhost_domain(const struct config *cfg, const char *host, size_t n, int *exact)
{
    int best = -1;
    size_t best_len = 0;

    for (size_t i = 0; i < cfg->nvhost_domains; i++) {
        const char *d = cfg->vhost_domains[i];
        size_t dl = strlen(d);
        if (n == dl && strncasecmp(host, d, dl) == 0) {
            *exact = 1;
            return (int)i;
        }
        if (n > dl + 1 && host[n - dl - 1] == '.' && strncasecmp(host + n - dl, d, dl) == 0 &&
            dl > best_len) {
            best = (int)i;
            best_len = dl;
        }
    }
    *exact = 0;
    return best;
}

int route_host_allowed(const struct config *cfg, const char *host, size_t len)
{
    int exact;
    if (route_host_is_local(host, len))
        return 1;
    return vhost_domain(cfg, host, host_name_len(host, len), &exact) >= 0;
}

size_t route_vhost_bucket(const struct config *cfg, const char *host, size_t len, char *out,
                          size_t n)
{
    size_t hn = host_name_len(host, len);
    int exact;
    int i = vhost_domain(cfg, host, hn, &exact);
    size_t bl;

    if (i < 0 || exact)
        return 0;
    bl = hn - strlen(cfg->vhost_domains[i]) - 1;
    if (bl == 0 || bl >= n)
        return 0;
    for (size_t k = 0; k < bl; k++)
        out[k] = (char)tolower((unsigned char)host[k]);
    out[bl] = '\0';
    return bl;
}

/* An Origin header ("http://host:port") naming this machine. */
static int origin_is_local(const char *origin, size_t len)
{
    if (len > 7 && strncmp(origin, "http://", 7) == 0)
        return route_host_is_local(origin + 7, len - 7);
    if (len > 8 && strncmp(origin, "https://", 8) == 0)
        return route_host_is_local(origin + 8, len - 8);
    return 0;
}

void route_request(struct http_req *r)
{
    const char *host;
    size_t hl = 0;

    host = http_head_get(&r->head, "host", &hl);
    if (host == NULL || !route_host_allowed(r->srv->cfg, host, hl)) {
        r->op = "HostCheck";
        error_reply(r, 403, S3E_ACCESS_DENIED,
                    "The Host header must name this machine (localhost, 127.0.0.1, [::1], "
                    "*.localhost) or a configured virtual_host_domains entry.");
        return;
    }
    if (r->head.path_len >= 15 && memcmp(r->head.path, "/_bucketbridge/", 15) == 0) {
        size_t ol = 0;
        const char *origin = http_head_get(&r->head, "origin", &ol);
        /* a web page elsewhere must not drive the daemon (DNS rebinding
         * is stopped by the Host check above; this stops CSRF) */
        if (origin != NULL && !origin_is_local(origin, ol)) {
            r->op = "OriginCheck";
            error_reply(r, 403, S3E_ACCESS_DENIED, "Requests from other web origins are refused.");
            return;
        }
        if (admin_handle(r))
            return;
        /* anything else under /_bucketbridge is not ours: S3 answers it
         * (InvalidBucketName, since bucket names cannot hold '_') */
    }
    if (bus_api_is_call(r)) {
        bus_api_dispatch(r);
        return;
    }
    s3_handler_dispatch(r);
}
