/* SPDX-License-Identifier: MIT */
/*
 * thumb: the per-event decision. The order matters for idempotency and
 * cost: cheap refusals first (not an S3 upload, a loop, over the byte
 * limit by the event's own size), then one HEAD per thumbnail to see
 * whether this source ETag was already done, made at the same time as the
 * GET of the original (abandoned when the HEADs say done), and only then
 * the image work and the PUTs. A thumbnail is recognised by its
 * source-etag metadata: the same ETag means the same bytes, so the same
 * thumbnail, whichever source key produced it.
 */
#include "thumb.h"
#include "thumb_s3.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The parts of an S3 event we use; strings borrow from the event except key. */
struct source {
    const char *bucket;
    char *key; /* decoded */
    const char *etag;
    double size; /* -1 when absent */
    const char *event_id;
    const char *time;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms_f(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void thumb_config_init(struct thumb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->out_bucket = THUMB_DEFAULT_BUCKET;
    cfg->naming = THUMB_NAMING_SAME;
    thumb_image_opts_init(&cfg->image, &cfg->boxes[0]);
}

int thumb_config_set_sizes(struct thumb_config *cfg, const char *spec)
{
    struct thumb_image_box boxes[THUMB_IMAGE_MAX_SIZES];
    const char *p = spec;
    int n = 0;

    while (*p != '\0') {
        char *end;
        long w, h;
        if (n == THUMB_IMAGE_MAX_SIZES)
            return BB_EINVAL;
        w = strtol(p, &end, 10);
        if (end == p || (*end != 'x' && *end != 'X'))
            return BB_EINVAL;
        p = end + 1;
        h = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0'))
            return BB_EINVAL;
        if (w < 1 || h < 1 || w > THUMB_IMAGE_MAX_BOX || h > THUMB_IMAGE_MAX_BOX)
            return BB_EINVAL;
        boxes[n].w = (int)w;
        boxes[n].h = (int)h;
        n++;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0)
        return BB_EINVAL;
    memcpy(cfg->boxes, boxes, sizeof(boxes[0]) * (size_t)n);
    cfg->image.boxes = cfg->boxes;
    cfg->image.nboxes = n;
    return BB_OK;
}

int thumb_config_check(const struct thumb_config *cfg, char *err, size_t errlen)
{
    if (cfg->out_bucket == NULL || cfg->out_bucket[0] == '\0') {
        snprintf(err, errlen, "the output bucket is empty");
        return BB_EINVAL;
    }
    if (cfg->naming == THUMB_NAMING_TEMPLATE) {
        const char *t = cfg->key_template;
        if (t == NULL || t[0] == '\0') {
            snprintf(err, errlen, "the key template is empty");
            return BB_EINVAL;
        }
        if (cfg->image.nboxes > 1 && strstr(t, "{size}") == NULL &&
            (strstr(t, "{w}") == NULL || strstr(t, "{h}") == NULL)) {
            snprintf(err, errlen, "several sizes need {size} (or {w} and {h}) in the key template");
            return BB_EINVAL;
        }
    }
    if (cfg->image.quality < 1 || cfg->image.quality > 100) {
        snprintf(err, errlen, "JPEG quality must be 1..100");
        return BB_EINVAL;
    }
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

int thumb_key_decode(const char *in, char **out)
{
    size_t n = strlen(in);
    char *o = bb_xmalloc(n + 1);
    size_t j = 0;

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '+') {
            o[j++] = ' ';
        } else if (in[i] == '%') {
            /* the string's NUL stops a short escape: hexval('\0') is -1 */
            int hi = hexval((unsigned char)in[i + 1]);
            int lo = hi >= 0 ? hexval((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(o);
                return BB_EINVAL;
            }
            o[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            o[j++] = in[i];
        }
    }
    o[j] = '\0';
    *out = o;
    return BB_OK;
}

/* ---- output names ---- */

struct key_parts {
    const char *key;
    size_t dir_len; /* key[0, dir_len) is the directory with its '/' */
    const char *name;
    size_t name_len; /* file name without the extension */
    const char *ext; /* ".jpg" or "" */
};

static void split_key(const char *key, struct key_parts *kp)
{
    const char *slash = strrchr(key, '/');
    const char *file = slash ? slash + 1 : key;
    const char *dot = strrchr(file, '.');

    kp->key = key;
    kp->dir_len = (size_t)(file - key);
    kp->name = file;
    if (dot != NULL && dot != file) {
        kp->name_len = (size_t)(dot - file);
        kp->ext = dot;
    } else {
        kp->name_len = strlen(file);
        kp->ext = "";
    }
}

static void append_seed_name(struct bb_buf *b, const struct key_parts *kp)
{
    const char *hit = memmem(kp->name, kp->name_len, "original", 8);

    if (hit == NULL) {
        bb_buf_append(b, kp->name, kp->name_len);
        bb_buf_appends(b, "-thumbnail");
        return;
    }
    bb_buf_append(b, kp->name, (size_t)(hit - kp->name));
    bb_buf_appends(b, "thumbnail");
    bb_buf_append(b, hit + 8, kp->name_len - (size_t)(hit - kp->name) - 8);
}

static void expand_template(struct bb_buf *b, const char *t, const struct key_parts *kp,
                            const struct thumb_image_box *box)
{
    while (*t != '\0') {
        const char *close;
        size_t n;
        if (*t != '{' || (close = strchr(t, '}')) == NULL) {
            bb_buf_append(b, t, 1);
            t++;
            continue;
        }
        n = (size_t)(close - t + 1);
        if (n == 5 && memcmp(t, "{key}", 5) == 0)
            bb_buf_appends(b, kp->key);
        else if (n == 5 && memcmp(t, "{dir}", 5) == 0)
            bb_buf_append(b, kp->key, kp->dir_len);
        else if (n == 6 && memcmp(t, "{name}", 6) == 0)
            bb_buf_append(b, kp->name, kp->name_len);
        else if (n == 5 && memcmp(t, "{ext}", 5) == 0)
            bb_buf_appends(b, kp->ext);
        else if (n == 6 && memcmp(t, "{size}", 6) == 0)
            bb_buf_appendf(b, "%dx%d", box->w, box->h);
        else if (n == 3 && memcmp(t, "{w}", 3) == 0)
            bb_buf_appendf(b, "%d", box->w);
        else if (n == 3 && memcmp(t, "{h}", 3) == 0)
            bb_buf_appendf(b, "%d", box->h);
        else
            bb_buf_append(b, t, n); /* not a placeholder: literal */
        t += n;
    }
}

char *thumb_output_key(const struct thumb_config *cfg, const char *key, int index)
{
    const struct thumb_image_box *box = &cfg->image.boxes[index];
    int several = cfg->image.nboxes > 1;
    struct key_parts kp;
    struct bb_buf b;
    char *out;

    split_key(key, &kp);
    /* a little over the cap, so an overlong result is seen rather than cut */
    bb_buf_init(&b, THUMB_KEY_MAX + 64);
    switch (cfg->naming) {
    case THUMB_NAMING_SEED:
        bb_buf_append(&b, key, kp.dir_len);
        append_seed_name(&b, &kp);
        if (several)
            bb_buf_appendf(&b, "-%dx%d", box->w, box->h);
        bb_buf_appends(&b, kp.ext);
        break;
    case THUMB_NAMING_TEMPLATE:
        expand_template(&b, cfg->key_template, &kp, box);
        break;
    default:
        expand_template(&b, several ? "{size}/{key}" : "{key}", &kp, box);
        break;
    }
    if (b.len == 0 || b.len > THUMB_KEY_MAX || strlen(b.data) != b.len) {
        bb_buf_cleanup(&b);
        return NULL;
    }
    out = bb_buf_detach(&b, NULL);
    bb_buf_cleanup(&b);
    return out;
}

/* ---- the event ---- */

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_GetStringValue(v);
}

/* Fills @src from the event; returns 0 or BB_EINVAL with @why set. */
static int parse_event(const cJSON *ev, struct source *src, const char **why)
{
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(ev, "detail");
    const cJSON *size;
    const char *raw;

    memset(src, 0, sizeof(*src));
    src->size = -1;
    src->event_id = str_at(ev, "id", NULL);
    src->time = str_at(ev, "time", NULL);
    if (!cJSON_IsObject(ev) || !cJSON_IsObject(detail)) {
        *why = "not an EventBridge event";
        return BB_EINVAL;
    }
    src->bucket = str_at(detail, "bucket", "name");
    raw = str_at(detail, "object", "key");
    if (src->bucket == NULL || raw == NULL) {
        *why = "not an S3 object event (no detail.bucket.name or detail.object.key)";
        return BB_EINVAL;
    }
    if (thumb_key_decode(raw, &src->key) < 0) {
        *why = "detail.object.key is not validly form-encoded";
        return BB_EINVAL;
    }
    src->etag = str_at(detail, "object", "etag");
    size = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(detail, "object"),
                                            "size");
    if (cJSON_IsNumber(size))
        src->size = size->valuedouble;
    return BB_OK;
}

/* Percent-encodes @s for a header value, cut at THUMB_META_KEY_MAX bytes. */
static char *meta_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    struct bb_buf b;
    char *out;

    bb_buf_init(&b, THUMB_META_KEY_MAX);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL;
        if ((plain ? bb_buf_append(&b, p, 1) : bb_buf_append(&b, e, 3)) < 0)
            break;
    }
    out = b.data ? bb_buf_detach(&b, NULL) : bb_xstrdup("");
    bb_buf_cleanup(&b);
    return out;
}

static void add_common(cJSON *d, const struct source *src, const char *etag)
{
    if (src->bucket != NULL)
        cJSON_AddStringToObject(d, "bucket", src->bucket);
    if (src->key != NULL)
        cJSON_AddStringToObject(d, "key", src->key);
    if (etag != NULL && etag[0] != '\0')
        cJSON_AddStringToObject(d, "etag", etag);
    if (src->size >= 0)
        cJSON_AddNumberToObject(d, "size", src->size);
    if (src->event_id != NULL)
        cJSON_AddStringToObject(d, "source_event_id", src->event_id);
    if (src->time != NULL)
        cJSON_AddStringToObject(d, "source_time", src->time);
}

static void fail(struct thumb_outcome *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A permanent failure; its "Thumbnail Failed" detail is built at the end. */
static void fail(struct thumb_outcome *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
    out->status = THUMB_FAILED;
}

static char *failed_detail(const struct source *src, const char *reason, const char *error,
                           int64_t ms)
{
    cJSON *d = cJSON_CreateObject();
    char *text;

    add_common(d, src, src->etag);
    cJSON_AddStringToObject(d, "error", error);
    cJSON_AddStringToObject(d, "reason", reason);
    cJSON_AddBoolToObject(d, "permanent", 1);
    cJSON_AddNumberToObject(d, "duration_ms", (double)ms);
    text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return text;
}

static void retry(struct thumb_outcome *out, const char *msg)
{
    out->status = THUMB_RETRY;
    snprintf(out->error, sizeof(out->error), "%s", msg);
}

/* What the HEADs of thumb_s3_head_get say: 1 when every thumbnail exists
 * with source-etag @etag, 0 when one is missing or differs, <0 (message in
 * @err) when none is missing but one could not be asked. */
static int already_done(const struct thumb_s3_head *heads, int n, const char *etag, char *err,
                        size_t errlen)
{
    int rc = 1;

    for (int i = 0; i < n; i++) {
        if (heads[i].rc == BB_ENOTFOUND || (heads[i].rc == BB_OK && strcmp(heads[i].value, etag)))
            return 0;
        if (heads[i].rc < 0 && rc == 1) {
            snprintf(err, errlen, "%s", heads[i].err);
            rc = heads[i].rc;
        }
    }
    return rc;
}

/* The "Thumbnail Created" detail of a delivery whose thumbnails were
 * already there for this ETag: it is published all the same, since the
 * earlier attempt may have stored them and died before it published. */
static char *existed_detail(const struct thumb_config *cfg, const struct source *src, char **keys,
                            int64_t ms)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *outs;
    char *text;

    add_common(d, src, src->etag);
    cJSON_AddStringToObject(d, "output_bucket", cfg->out_bucket);
    cJSON_AddStringToObject(d, "output_key", keys[0]);
    outs = cJSON_AddArrayToObject(d, "outputs");
    for (int i = 0; i < cfg->image.nboxes; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", keys[i]);
        cJSON_AddItemToArray(outs, o);
    }
    cJSON_AddBoolToObject(d, "already_existed", 1);
    cJSON_AddNumberToObject(d, "duration_ms", (double)ms);
    text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return text;
}

static const char *reason_of(int rc)
{
    switch (rc) {
    case BB_EINVAL:
        return "not_an_image";
    case BB_ECORRUPT:
        return "corrupt";
    case BB_ETOOBIG:
        return "too_big";
    default:
        return "error";
    }
}

/* The "Thumbnail Created" detail. */
static char *created_detail(const struct thumb_config *cfg, const struct source *src,
                            const char *etag, char **keys, const struct thumb_image_result *img,
                            int64_t ms, double image_ms)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *outs = cJSON_AddArrayToObject(d, "outputs");
    cJSON *sizes = cJSON_AddArrayToObject(d, "sizes");
    char *text;

    add_common(d, src, etag);
    cJSON_AddStringToObject(d, "source_format", thumb_image_format_name(img->src_format));
    cJSON_AddNumberToObject(d, "source_width", img->src_w);
    cJSON_AddNumberToObject(d, "source_height", img->src_h);
    cJSON_AddNumberToObject(d, "orientation", img->orientation);
    cJSON_AddStringToObject(d, "output_bucket", cfg->out_bucket);
    cJSON_AddStringToObject(d, "output_key", keys[0]);
    for (int i = 0; i < img->n; i++) {
        const struct thumb_image_out *t = &img->out[i];
        cJSON *o = cJSON_CreateObject();
        char wh[32];
        cJSON_AddStringToObject(o, "key", keys[i]);
        cJSON_AddNumberToObject(o, "width", t->w);
        cJSON_AddNumberToObject(o, "height", t->h);
        cJSON_AddNumberToObject(o, "bytes", (double)t->len);
        cJSON_AddStringToObject(o, "format", thumb_image_format_name(t->format));
        cJSON_AddItemToArray(outs, o);
        snprintf(wh, sizeof(wh), "%dx%d", t->w, t->h);
        cJSON_AddItemToArray(sizes, cJSON_CreateString(wh));
    }
    cJSON_AddNumberToObject(d, "duration_ms", (double)ms);
    cJSON_AddNumberToObject(d, "image_ms", (double)(int64_t)(image_ms * 100.0 + 0.5) / 100.0);
    text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return text;
}

void thumb_handle(const struct thumb_config *cfg, struct thumb_s3_session *s3, const cJSON *event,
                  struct thumb_outcome *out)
{
    struct thumb_s3_head heads[THUMB_IMAGE_MAX_SIZES];
    int64_t t0 = mono_ms();
    struct thumb_s3_object obj = {0};
    struct thumb_image_result img;
    char *keys[THUMB_IMAGE_MAX_SIZES] = {0};
    char err[THUMB_ERROR_MAX];
    struct thumb_s3_meta meta[3];
    char *enc_key = NULL;
    struct source src;
    const char *why = NULL;
    const char *reason = "error";
    double img_t0;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&img, 0, sizeof(img));
    if (parse_event(event, &src, &why) < 0) {
        reason = "bad_event";
        fail(out, "%s", why);
        goto out;
    }
    if (strcmp(src.bucket, cfg->out_bucket) == 0) {
        reason = "loop";
        fail(out, "refusing to write thumbnails into their source bucket %s", src.bucket);
        goto out;
    }
    if (src.size > (double)cfg->image.max_bytes) {
        reason = "too_big";
        fail(out, "object is %.0f bytes, over the limit of %zu", src.size, cfg->image.max_bytes);
        goto out;
    }
    for (int i = 0; i < cfg->image.nboxes; i++) {
        keys[i] = thumb_output_key(cfg, src.key, i);
        if (keys[i] == NULL) {
            reason = "bad_key";
            fail(out, "the thumbnail key would be empty or over %d bytes", THUMB_KEY_MAX);
            goto out;
        }
    }
    /* The idempotency HEADs and the GET of the original go out at once:
     * the HEADs almost always say "not done yet", and waiting for them
     * before asking for the original cost a round trip per image. */
    img_t0 = mono_ms_f();
    if (src.etag != NULL && src.etag[0] != '\0') {
        int done;
        for (int i = 0; i < cfg->image.nboxes; i++) {
            heads[i].bucket = cfg->out_bucket;
            heads[i].key = keys[i];
            heads[i].name = THUMB_META_ETAG;
        }
        rc = thumb_s3_head_get(s3, heads, cfg->image.nboxes, src.etag, src.bucket, src.key,
                               cfg->image.max_bytes, &obj, err, sizeof(err));
        out->fetch_ms = mono_ms_f() - img_t0;
        done = already_done(heads, cfg->image.nboxes, src.etag, err, sizeof(err));
        if (done < 0) {
            retry(out, err);
            goto out;
        }
        if (done == 1) {
            out->status = THUMB_SKIPPED;
            out->out_key = bb_xstrdup(keys[0]);
            out->duration_ms = mono_ms() - t0;
            out->detail = existed_detail(cfg, &src, keys, out->duration_ms);
            goto out;
        }
    } else {
        rc = thumb_s3_get(s3, src.bucket, src.key, cfg->image.max_bytes, &obj, err, sizeof(err));
        out->fetch_ms = mono_ms_f() - img_t0;
    }
    if (rc == BB_ENOTFOUND || rc == BB_ETOOBIG || rc == BB_EINVAL) {
        reason = rc == BB_ETOOBIG ? "too_big" : rc == BB_EINVAL ? "bad_key" : "not_found";
        fail(out, "%s", err);
        goto out;
    }
    if (rc < 0) {
        retry(out, err);
        goto out;
    }
    img_t0 = mono_ms_f();
    rc = thumb_image_make(obj.data, obj.len, &cfg->image, &img);
    out->image_ms = mono_ms_f() - img_t0;
    if (rc == -ENOMEM) {
        retry(out, img.error);
        goto out;
    }
    if (rc < 0) {
        reason = reason_of(rc);
        fail(out, "%s", img.error);
        goto out;
    }

    enc_key = meta_encode(src.key);
    meta[0].name = THUMB_META_BUCKET;
    meta[0].value = src.bucket;
    meta[1].name = THUMB_META_KEY;
    meta[1].value = enc_key;
    meta[2].name = THUMB_META_ETAG;
    meta[2].value = obj.etag;
    img_t0 = mono_ms_f();
    for (int i = 0; i < img.n; i++) {
        const char *ctype = img.out[i].format == THUMB_IMAGE_PNG ? "image/png" : "image/jpeg";
        rc = thumb_s3_put(s3, cfg->out_bucket, keys[i], img.out[i].data, img.out[i].len, ctype,
                          meta, 3, err, sizeof(err));
        if (rc == BB_ENOTFOUND || rc == BB_EINVAL) {
            reason = "not_found";
            fail(out, "%s (bucket %s)", err, cfg->out_bucket);
            goto out;
        }
        if (rc < 0) {
            retry(out, err);
            goto out;
        }
    }
    out->put_ms = mono_ms_f() - img_t0;
    out->status = THUMB_DONE;
    out->out_key = bb_xstrdup(keys[0]);
    out->duration_ms = mono_ms() - t0;
    out->detail = created_detail(cfg, &src, obj.etag, keys, &img, out->duration_ms, out->image_ms);
out:
    if (out->duration_ms == 0)
        out->duration_ms = mono_ms() - t0;
    if (out->status == THUMB_FAILED)
        out->detail = failed_detail(&src, reason, out->error, out->duration_ms);
    free(enc_key);
    thumb_image_result_cleanup(&img);
    thumb_s3_object_cleanup(&obj);
    for (int i = 0; i < THUMB_IMAGE_MAX_SIZES; i++)
        free(keys[i]);
    free(src.key);
}

void thumb_outcome_cleanup(struct thumb_outcome *out)
{
    if (out == NULL)
        return;
    free(out->detail);
    free(out->out_key);
    memset(out, 0, sizeof(*out));
}

cJSON *thumb_entries(enum thumb_status status, const char *detail)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "Source", THUMB_SOURCE);
    cJSON_AddStringToObject(e, "DetailType",
                            status == THUMB_FAILED ? THUMB_TYPE_FAILED : THUMB_TYPE_CREATED);
    cJSON_AddStringToObject(e, "Detail", detail != NULL ? detail : "{}");
    cJSON_AddItemToArray(arr, e);
    return arr;
}
