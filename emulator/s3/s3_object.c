/* SPDX-License-Identifier: MIT */
/* s3_object: PutObject, GetObject/HeadObject (ranges, conditions), DeleteObject. */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_multipart.h"
#include "s3_range.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define META_MAX 2048 /* S3's limit on x-amz-meta-* names + values */

/* System headers kept with the object and returned on GET/HEAD. */
static const char *const kept_headers[] = {
    "Cache-Control",    "Content-Disposition",
    "Content-Encoding", "Content-Language",
    "Expires",          "x-amz-website-redirect-location",
};

/* Collects the headers to keep as a JSON array of [name, value] pairs.
 * Returns a new string (free()) or NULL with *e set. */
static char *collect_headers(struct s3_req *q, enum s3_error *e)
{
    const struct http_head *h = &q->http->head;
    cJSON *arr = cJSON_CreateArray();
    size_t meta = 0;
    char *out = NULL;

    for (size_t i = 0; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        char name[128];
        char *value;
        const char *keep = NULL;
        if (hd->name_len >= sizeof(name))
            continue;
        for (size_t k = 0; k < hd->name_len; k++)
            name[k] = (char)tolower((unsigned char)hd->name[k]);
        name[hd->name_len] = '\0';
        if (strncmp(name, "x-amz-meta-", 11) == 0 && hd->name_len > 11) {
            meta += hd->name_len - 11 + hd->value_len;
            keep = name;
        } else {
            for (size_t k = 0; k < sizeof(kept_headers) / sizeof(kept_headers[0]); k++)
                if (strcasecmp(name, kept_headers[k]) == 0)
                    keep = kept_headers[k];
        }
        if (keep == NULL)
            continue;
        value = bb_xstrndup(hd->value, hd->value_len);
        if (strcasecmp(keep, "Content-Encoding") == 0) {
            /* aws-chunked is transport framing, never stored */
            char *v = value;
            if (strncasecmp(v, "aws-chunked", 11) == 0) {
                v += 11;
                while (*v == ',' || *v == ' ')
                    v++;
            }
            if (*v == '\0') {
                free(value);
                continue;
            }
            memmove(value, v, strlen(v) + 1);
        }
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(keep));
        cJSON_AddItemToArray(pair, cJSON_CreateString(value));
        cJSON_AddItemToArray(arr, pair);
        free(value);
    }
    /* a presigned URL may carry signed x-amz-meta-* headers in its query */
    for (size_t i = 0; q->auth.presigned && i < q->nq; i++) {
        const struct s3_query_param *p = &q->q[i];
        size_t nl = strlen(p->name);
        char name[128];
        if (nl <= 11 || nl >= sizeof(name) || strncasecmp(p->name, "x-amz-meta-", 11) != 0 ||
            http_head_get(h, p->name, NULL) != NULL)
            continue;
        for (size_t k = 0; k <= nl; k++)
            name[k] = (char)tolower((unsigned char)p->name[k]);
        meta += nl - 11 + strlen(p->value);
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(name));
        cJSON_AddItemToArray(pair, cJSON_CreateString(p->value));
        cJSON_AddItemToArray(arr, pair);
    }
    if (meta > META_MAX) {
        *e = S3E_METADATA_TOO_LARGE;
        goto out;
    }
    char *text = cJSON_PrintUnformatted(arr);
    out = bb_xstrdup(text);
    cJSON_free(text);
out:
    cJSON_Delete(arr);
    return out;
}

static void put_finish(struct s3_req *q)
{
    struct s3_body *b = &q->body;
    struct store_object o;
    enum s3_error e = s3_body_finish(q);
    char ctype[512];
    const char *msg = NULL;
    struct timespec ts;
    int rc;

    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, b->err_msg);
        return;
    }
    memset(&o, 0, sizeof(o));
    e = S3E_NONE;
    o.headers = collect_headers(q, &e);
    if (o.headers == NULL) {
        s3_reply_key_error(q, e, NULL);
        return;
    }
    o.tags = s3_tagging_from_header(q, &e, &msg);
    if (e != S3E_NONE) {
        free(o.headers);
        s3_reply_key_error(q, e, msg);
        return;
    }
    if (q->srv->cfg->durability_full && fsync(b->fd) < 0) {
        BB_LOG_ERROR("s3", "fsync failed", "req=%s error=\"%s\"", q->http->request_id,
                     strerror(errno));
        free(o.headers);
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        return;
    }
    close(b->fd);
    b->fd = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    o.key = q->key;
    o.size = b->size;
    o.etag = b->etag;
    o.content_type =
        (char *)(s3_req_header(q, "content-type", ctype, sizeof(ctype)) ? ctype
                                                                        : "binary/octet-stream");
    o.mtime_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o.checksum_alg = b->ck_alg != BB_CHECKSUM_NONE ? (char *)bb_checksum_alg_name(b->ck_alg) : NULL;
    o.checksum = b->ck_alg != BB_CHECKSUM_NONE ? b->checksum : NULL;
    struct store_cause cause;
    s3_req_cause(q, "PutObject", &cause);
    /* If-None-Match / If-Match: decided now, at commit, not when the upload began */
    e = s3_cond_check(q, &q->cond);
    rc = e == S3E_NONE ? store_object_commit(q->store, q->bucket, b->tmp_path, &o, &cause) : 0;
    free(o.headers);
    free(o.tags);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, NULL);
        return;
    }
    if (rc < 0) {
        s3_reply_commit_error(q, rc);
        return;
    }
    free(b->tmp_path); /* renamed into place: nothing to unlink */
    b->tmp_path = NULL;
    http_resp_header(q->http, "ETag", "\"%s\"", b->etag);
    if (b->ck_alg != BB_CHECKSUM_NONE && (b->ck_expected[0] != '\0' || b->ck_from_trailer)) {
        http_resp_header(q->http, bb_checksum_header_name(b->ck_alg), "%s", b->checksum);
        http_resp_header(q->http, "x-amz-checksum-type", "FULL_OBJECT");
    }
    s3_reply_empty(q, 200);
}

static int put_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_key_error(q, e, q->body.err_msg);
    return 0;
}

static void put_end(struct http_req *r)
{
    put_finish(r->ctx);
}

void s3_object_put(struct s3_req *q)
{
    const char *why = NULL;
    int rc;
    char *path = store_object_path(q->store, q->bucket, q->key, &why, &rc);
    enum s3_error e;

    if (path == NULL) {
        s3_reply_key_error(q, rc == BB_ETOOBIG ? S3E_KEY_TOO_LONG : S3E_INVALID_ARGUMENT, why);
        return;
    }
    free(path);
    e = s3_cond_begin(q, &q->cond, &why);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, why);
        return;
    }
    e = s3_body_begin(q, 1, 0, BB_CHECKSUM_CRC64NVME);
    if (e != S3E_NONE) {
        s3_reply_key_error(q, e, q->body.err_msg);
        return;
    }
    if (!q->http->has_body) {
        put_finish(q);
        return;
    }
    q->http->on_body = put_body;
    q->http->on_end = put_end;
}

static void http_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int parse_http_time(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL &&
        strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return BB_EINVAL;
    *out = timegm(&tm);
    return BB_OK;
}

/* Evaluates conditional headers: 0 to go on, or 304 / 412. */
static int conditions(struct s3_req *q, const struct store_object *o)
{
    char v[512];
    time_t t;
    time_t mtime = (time_t)(o->mtime_ms / 1000);
    int if_match = 0;

    if (s3_req_header(q, "if-match", v, sizeof(v)) != NULL) {
        if (!s3_range_etag_matches(v, o->etag))
            return 412;
        if_match = 1;
    }
    if (!if_match && s3_req_header(q, "if-unmodified-since", v, sizeof(v)) != NULL &&
        parse_http_time(v, &t) == 0 && mtime > t)
        return 412;
    if (s3_req_header(q, "if-none-match", v, sizeof(v)) != NULL) {
        if (s3_range_etag_matches(v, o->etag))
            return 304;
    } else if (s3_req_header(q, "if-modified-since", v, sizeof(v)) != NULL &&
               parse_http_time(v, &t) == 0 && mtime <= t) {
        return 304;
    }
    return 0;
}

static void add_stored_headers(struct http_req *r, const char *json)
{
    cJSON *arr = json ? cJSON_Parse(json) : NULL;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, arr)
    {
        const cJSON *n = cJSON_GetArrayItem(pair, 0);
        const cJSON *v = cJSON_GetArrayItem(pair, 1);
        if (cJSON_IsString(n) && cJSON_IsString(v))
            http_resp_header(r, n->valuestring, "%s", v->valuestring);
    }
    cJSON_Delete(arr);
}

static const struct {
    const char *param;
    const char *header;
} overrides[] = {
    {"response-content-type", "Content-Type"},
    {"response-content-language", "Content-Language"},
    {"response-expires", "Expires"},
    {"response-cache-control", "Cache-Control"},
    {"response-content-disposition", "Content-Disposition"},
    {"response-content-encoding", "Content-Encoding"},
};

void s3_object_get(struct s3_req *q, int head_only)
{
    struct http_req *r = q->http;
    struct store_object o;
    struct stat sb;
    char v[256];
    char lm[64];
    uint64_t first = 0, last = 0;
    int fd = -1;
    int rc;
    int range;
    int cond;

    memset(&o, 0, sizeof(o));
    r->head_only = head_only;
    rc = store_index_get(store_get_index(q->store), q->bucket, q->key, &o);
    if (rc == BB_OK)
        rc = store_object_open(q->store, q->bucket, q->key, &fd);
    if (rc < 0) {
        s3_reply_key_error(q, rc == BB_ENOTFOUND ? S3E_NO_SUCH_KEY : S3E_INTERNAL_ERROR, NULL);
        goto out;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        s3_reply_key_error(q, S3E_NO_SUCH_KEY, NULL);
        goto out;
    }
    http_time(o.mtime_ms, lm, sizeof(lm));
    http_resp_header(r, "ETag", "\"%s\"", o.etag);
    http_resp_header(r, "Last-Modified", "%s", lm);
    cond = conditions(q, &o);
    if (cond == 304) {
        s3_reply_empty(q, 304);
        goto out;
    }
    if (cond == 412) {
        s3_reply_error(q, S3E_PRECONDITION_FAILED, NULL, NULL, 0);
        goto out;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (s3_req_query(q, "partNumber") != NULL) {
        range = s3_multipart_part_range(q, &o, size, &first, &last);
        if (range < 0)
            goto out; /* answered */
    } else {
        range = s3_range_parse(s3_req_header(q, "range", v, sizeof(v)), size, &first, &last);
    }
    if (range < 0) {
        char sz[32];
        snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
        struct s3_error_field f[] = {{"RangeRequested", v}, {"ActualObjectSize", sz}};
        http_resp_header(r, "Content-Range", "bytes */%llu", (unsigned long long)size);
        s3_reply_error(q, S3E_INVALID_RANGE, NULL, f, 2);
        goto out;
    }
    http_resp_header(r, "Accept-Ranges", "bytes");
    add_stored_headers(r, o.headers);
    if (o.tags != NULL) {
        cJSON *tags = cJSON_Parse(o.tags);
        if (cJSON_GetArraySize(tags) > 0)
            http_resp_header(r, "x-amz-tagging-count", "%d", cJSON_GetArraySize(tags));
        cJSON_Delete(tags);
    }
    if (s3_req_query(q, "versionId") != NULL)
        http_resp_header(r, "x-amz-version-id", "null");
    const char *ctype = o.content_type;
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *ov = s3_req_query(q, overrides[i].param);
        if (ov == NULL)
            continue;
        if (i == 0)
            ctype = ov;
        else
            http_resp_header(r, overrides[i].header, "%s", ov);
    }
    http_resp_header(r, "Content-Type", "%s", ctype);
    if (o.checksum_alg != NULL && range == 0 &&
        s3_req_header(q, "x-amz-checksum-mode", v, sizeof(v)) != NULL &&
        strcasecmp(v, "ENABLED") == 0) {
        enum bb_checksum_alg a = bb_checksum_alg_from_name(o.checksum_alg);
        if (a != BB_CHECKSUM_NONE) {
            http_resp_header(r, bb_checksum_header_name(a), "%s", o.checksum);
            http_resp_header(r, "x-amz-checksum-type", "%s",
                             strchr(o.checksum, '-') ? "COMPOSITE" : "FULL_OBJECT");
        }
    }
    if (range == 1) {
        http_resp_header(r, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)first,
                         (unsigned long long)last, (unsigned long long)size);
        r->resp_content_length = last - first + 1;
        http_resp_file(r, fd, first, last - first + 1);
        fd = -1;
        s3_reply_empty(q, 206);
        goto out;
    }
    r->resp_content_length = size;
    http_resp_file(r, fd, 0, size);
    fd = -1;
    s3_reply_empty(q, 200);
out:
    if (fd >= 0)
        close(fd);
    store_object_cleanup(&o);
}

char *s3_object_collect_headers(struct s3_req *q, enum s3_error *e)
{
    return collect_headers(q, e);
}

void s3_object_delete(struct s3_req *q)
{
    struct store_cause cause;
    int rc;

    s3_req_cause(q, "DeleteObject", &cause);
    rc = store_object_delete(q->store, q->bucket, q->key, &cause);
    if (rc < 0) {
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        return;
    }
    if (s3_req_query(q, "versionId") != NULL)
        http_resp_header(q->http, "x-amz-version-id", "null");
    s3_reply_empty(q, 204);
}
