/* SPDX-License-Identifier: MIT */
/*
 * logger_record: building records. Every record has the same keys (null
 * when unknown) so `jq` filters need no guards. The upload table is a
 * ring: the oldest upload is forgotten first, and a lookup is a scan
 * comparing 64-bit hashes before strings.
 */
#include "logger_record.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct upload {
    uint64_t hash;
    int64_t ms;
    char *id;        /* "bucket\nkey\netag" */
    int thumbnailed; /* an "ok" record was written for it */
};

struct logger_record {
    struct upload ring[LOGGER_RECORD_TRACKED];
    size_t next;
};

struct logger_record *logger_record_new(void)
{
    return bb_xcalloc(1, sizeof(struct logger_record));
}

void logger_record_free(struct logger_record *lr)
{
    if (lr == NULL)
        return;
    for (size_t i = 0; i < LOGGER_RECORD_TRACKED; i++)
        free(lr->ring[i].id);
    free(lr);
}

void logger_record_time(int64_t ms, char out[25])
{
    time_t t = (time_t)(ms / 1000);
    char tmp[80]; /* what the compiler thinks int fields can take */
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

/* @n decimal digits at *p (advanced); -1 when they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

int logger_record_parse_time(const char *s, int64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, frac = 0, scale = 1000;
    time_t t;

    if (s == NULL)
        return BB_EINVAL;
    memset(&tm, 0, sizeof(tm));
    if ((y = digits(&s, 4)) < 0 || !expect(&s, '-') || (mo = digits(&s, 2)) < 0 ||
        !expect(&s, '-') || (d = digits(&s, 2)) < 0 || !expect(&s, 'T') ||
        (h = digits(&s, 2)) < 0 || !expect(&s, ':') || (mi = digits(&s, 2)) < 0 ||
        !expect(&s, ':') || (sec = digits(&s, 2)) < 0)
        return BB_EINVAL;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return BB_EINVAL;
        while (*s >= '0' && *s <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (*s - '0') * scale;
            }
            s++;
        }
    }
    if (!expect(&s, 'Z') || *s != '\0')
        return BB_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return BB_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    *ms = (int64_t)t * 1000 + frac;
    return BB_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *logger_record_key_decode(const char *in)
{
    size_t n = strlen(in);
    char *o = bb_xmalloc(n + 1);
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (in[i] == '+') {
            o[j++] = ' ';
            continue;
        }
        /* the NUL ends a short escape: hexval('\0') is -1 */
        hi = in[i] == '%' ? hexval((unsigned char)in[i + 1]) : -1;
        lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            o[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            o[j++] = in[i];
        }
    }
    o[j] = '\0';
    return o;
}

/* ---- the upload table ---- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static char *upload_id(const char *bucket, const char *key, const char *etag)
{
    return bb_xasprintf("%s\n%s\n%s", bucket, key, etag ? etag : "");
}

static struct upload *upload_find(struct logger_record *lr, const char *id, uint64_t h)
{
    for (size_t i = 0; i < LOGGER_RECORD_TRACKED; i++) {
        struct upload *u = &lr->ring[i];
        if (u->id != NULL && u->hash == h && strcmp(u->id, id) == 0)
            return u;
    }
    return NULL;
}

/* Remembers the first time an upload was seen (a redelivery keeps it). */
static void upload_seen(struct logger_record *lr, const char *bucket, const char *key,
                        const char *etag, int64_t now_ms)
{
    char *id = upload_id(bucket, key, etag);
    uint64_t h = fnv1a(id);
    struct upload *u;

    if (upload_find(lr, id, h) != NULL) {
        free(id);
        return;
    }
    u = &lr->ring[lr->next];
    lr->next = (lr->next + 1) % LOGGER_RECORD_TRACKED;
    free(u->id);
    u->id = id;
    u->hash = h;
    u->ms = now_ms;
    u->thumbnailed = 0;
}

/* The remembered upload, or NULL. */
static struct upload *upload_get(struct logger_record *lr, const char *bucket, const char *key,
                                 const char *etag)
{
    char *id = upload_id(bucket, key, etag);
    struct upload *u = upload_find(lr, id, fnv1a(id));

    free(id);
    return u;
}

/* ---- building ---- */

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_GetStringValue(v);
}

static const cJSON *num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v : NULL;
}

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_num(cJSON *o, const char *name, const cJSON *v)
{
    if (v != NULL)
        cJSON_AddNumberToObject(o, name, v->valuedouble);
    else
        cJSON_AddNullToObject(o, name);
}

/* Appends @s to the human line with control bytes and backslashes escaped. */
static void human_str(struct bb_buf *b, const char *s)
{
    if (s == NULL) {
        bb_buf_appends(b, "-");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            bb_buf_appendf(b, "\\x%02x", *p);
        else if (*p == '\\')
            bb_buf_appends(b, "\\\\");
        else
            bb_buf_append(b, p, 1);
    }
}

void logger_record_build(struct logger_record *lr, const cJSON *event, uint64_t seq, int64_t now_ms,
                         struct logger_record_out *out)
{
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(event, "detail");
    const char *source = str_at(event, "source", NULL);
    const char *dtype = str_at(event, "detail-type", NULL);
    const char *bucket = NULL, *etag = NULL, *error = NULL, *out_bucket = NULL, *out_key = NULL;
    const cJSON *size = NULL, *proc = NULL, *sizes = NULL;
    const char *status = "received";
    struct upload *u = NULL;
    char *key = NULL;
    int64_t latency = -1;
    cJSON *r = cJSON_CreateObject();
    char now[25];
    struct bb_buf h;
    int is_s3 = source != NULL && strcmp(source, "aws.s3") == 0;
    int is_thumb = source != NULL && strcmp(source, "bucketbridge.thumbnail") == 0;

    memset(out, 0, sizeof(*out));
    logger_record_time(now_ms, now);
    if (is_s3) {
        const char *raw = str_at(detail, "object", "key");
        bucket = str_at(detail, "bucket", "name");
        key = raw ? logger_record_key_decode(raw) : NULL;
        etag = str_at(detail, "object", "etag");
        size = num_at(detail, "object", "size");
        if (dtype != NULL && strcmp(dtype, "Object Created") == 0) {
            if (bucket != NULL && key != NULL)
                upload_seen(lr, bucket, key, etag, now_ms);
        } else if (dtype != NULL && strcmp(dtype, "Object Deleted") == 0) {
            status = "deleted";
        }
    } else if (is_thumb) {
        const char *k = str_at(detail, "key", NULL);
        bucket = str_at(detail, "bucket", NULL);
        key = k ? bb_xstrdup(k) : NULL;
        etag = str_at(detail, "etag", NULL);
        size = num_at(detail, "size", NULL);
        proc = num_at(detail, "duration_ms", NULL);
        error = str_at(detail, "error", NULL);
        out_bucket = str_at(detail, "output_bucket", NULL);
        out_key = str_at(detail, "output_key", NULL);
        sizes = cJSON_GetObjectItemCaseSensitive(detail, "sizes");
        if (bucket != NULL && key != NULL)
            u = upload_get(lr, bucket, key, etag);
        if (dtype != NULL && strcmp(dtype, "Thumbnail Created") == 0) {
            /* already_existed: the consumer found the thumbnail done; "ok"
             * unless an "ok" was written for this upload already */
            int existed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(detail, "already_existed"));
            status = existed && u != NULL && u->thumbnailed ? "skipped" : "ok";
            if (u != NULL)
                u->thumbnailed = 1;
        } else if (dtype != NULL && strcmp(dtype, "Thumbnail Failed") == 0) {
            status = "failed";
        }
        if (u != NULL)
            latency = now_ms - u->ms;
        if (latency < 0) {
            int64_t a, b;
            if (logger_record_parse_time(str_at(event, "time", NULL), &a) == 0 &&
                logger_record_parse_time(str_at(detail, "source_time", NULL), &b) == 0 && a >= b)
                latency = a - b;
        }
    }

    cJSON_AddStringToObject(r, "time", now);
    add_str(r, "id", str_at(event, "id", NULL));
    cJSON_AddNumberToObject(r, "seq", (double)seq);
    add_str(r, "source", source);
    add_str(r, "detail_type", dtype);
    add_str(r, "bucket", bucket);
    add_str(r, "key", key);
    add_num(r, "size", size);
    add_str(r, "etag", etag);
    cJSON_AddStringToObject(r, "status", status);
    add_str(r, "error", error);
    add_num(r, "processing_ms", proc);
    if (latency >= 0)
        cJSON_AddNumberToObject(r, "latency_ms", (double)latency);
    else
        cJSON_AddNullToObject(r, "latency_ms");
    add_str(r, "output_bucket", out_bucket);
    add_str(r, "output_key", out_key);
    if (cJSON_IsArray(sizes))
        cJSON_AddItemToObject(r, "sizes", cJSON_Duplicate(sizes, 1));
    else
        cJSON_AddNullToObject(r, "sizes");
    add_str(r, "event_time", str_at(event, "time", NULL));
    out->json = cJSON_PrintUnformatted(r);
    out->status = status;

    /* the human line */
    bb_buf_init(&h, sizeof(out->human) - 1);
    bb_buf_appendf(&h, "%.12s %-8s ", now + 11, status);
    if (bucket != NULL || key != NULL) {
        human_str(&h, bucket);
        bb_buf_appends(&h, "/");
        human_str(&h, key);
    } else {
        human_str(&h, dtype);
        bb_buf_appends(&h, " from ");
        human_str(&h, source);
    }
    if (strcmp(status, "received") == 0 && size != NULL)
        bb_buf_appendf(&h, " (%.0f bytes)", size->valuedouble);
    if (strcmp(status, "ok") == 0) {
        bb_buf_appends(&h, " -> ");
        human_str(&h, out_bucket);
        bb_buf_appends(&h, "/");
        human_str(&h, out_key);
        if (cJSON_IsArray(sizes) && cJSON_IsString(cJSON_GetArrayItem(sizes, 0))) {
            bb_buf_appends(&h, " ");
            human_str(&h, cJSON_GetArrayItem(sizes, 0)->valuestring);
        }
    }
    if (error != NULL) {
        bb_buf_appends(&h, ": ");
        human_str(&h, error);
    }
    if (proc != NULL)
        bb_buf_appendf(&h, ", %.0f ms", proc->valuedouble);
    if (latency >= 0)
        bb_buf_appendf(&h, ", %lld ms after upload", (long long)latency);
    snprintf(out->human, sizeof(out->human), "%s", h.data ? h.data : "");
    bb_buf_cleanup(&h);
    cJSON_Delete(r);
    free(key);
}
