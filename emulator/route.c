/* SPDX-License-Identifier: MIT */
/* route: Host check, /_bucketbridge/ endpoints, hand-off to S3. */
#include "route.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "bus_api.h"
#include "config.h"
#include "http_conn.h"
#include "s3_error.h"
#include "s3_handler.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
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

static void health(struct http_req *r)
{
    struct server *srv = r->srv;
    cJSON *o = cJSON_CreateObject();
    char *text;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    cJSON_AddStringToObject(o, "status", srv->ready ? "ok" : "starting");
    cJSON_AddStringToObject(o, "version", BB_VERSION);
    cJSON_AddNumberToObject(o, "uptime_s",
                            (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
                                     srv->started_ms) /
                                1000.0);
    cJSON_AddStringToObject(o, "data_dir", srv->cfg->data_dir);
    cJSON_AddNumberToObject(o, "port", srv->bound_port);
    cJSON_AddNumberToObject(o, "connections", http_conn_count());
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "Cache-Control", "no-store");
    http_resp_body(r, bb_xstrdup(text), strlen(text));
    cJSON_free(text);
    http_resp_send(r, srv->ready && !srv->stopping ? 200 : 503);
}

void route_request(struct http_req *r)
{
    const char *host;
    size_t hl = 0;

    host = http_head_get(&r->head, "host", &hl);
    if (host == NULL || !route_host_is_local(host, hl)) {
        r->op = "HostCheck";
        error_reply(r, 403, S3E_ACCESS_DENIED,
                    "The Host header must name this machine (localhost, 127.0.0.1, [::1] or "
                    "*.localhost).");
        return;
    }
    if (r->head.path_len >= 14 && memcmp(r->head.path, "/_bucketbridge", 14) == 0) {
        if (r->head.path_len == 21 && memcmp(r->head.path, "/_bucketbridge/health", 21) == 0) {
            r->op = "Health";
            health(r);
            return;
        }
        /* anything else under /_bucketbridge is not ours: S3 answers it
         * (InvalidBucketName, since bucket names cannot hold '_') */
    }
    if (bus_api_is_call(r)) {
        bus_api_dispatch(r);
        return;
    }
    s3_handler_dispatch(r);
}
