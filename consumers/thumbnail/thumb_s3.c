/* SPDX-License-Identifier: MIT */
/*
 * thumb_s3: libs3 get/head/put wrappers. libs3 reports through callbacks
 * into a per-request struct req on the caller's stack; the status it ends
 * with is mapped to BB_E* here, once.
 *
 * Every request goes through the session's request context (a curl multi
 * handle) and S3_runall_request_context. That is what keeps connections
 * alive across calls: the multi handle's connection cache outlives each
 * request, whereas a blocking libs3 call uses whichever pooled curl handle
 * it gets, with that handle's own cache. With HEAD and GET at once the
 * cache holds two connections, both reused by the next event.
 */
#include "thumb_s3.h"
#include "thumb_image.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <libs3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define USER_AGENT "bucketbridge-thumbnail"

struct thumb_s3 {
    char *host; /* "host:port" as libs3 puts it in the URL */
    char *access_key;
    char *secret_key;
    S3Protocol protocol;
};

struct thumb_s3_session {
    struct thumb_s3 *s3;
    S3RequestContext *ctx; /* NULL after a failed re-creation: blocking calls */
};

/* The HEADs and GET of one thumb_s3_head_get. */
struct batch {
    const char *etag; /* NULL: never abandon the GET */
    int heads_left;
    int heads_matched;
    int nheads;
    int skip; /* every HEAD found @etag: the GET is not needed */
};

/* What one request's callbacks collect. */
struct req {
    S3Status status;
    char detail[160]; /* the S3 error message, when the reply had one */
    /* GET */
    struct bb_buf body;
    size_t max_bytes;
    int too_big;
    char etag[THUMB_S3_ETAG_MAX];
    /* HEAD */
    const char *meta_name;
    char *meta_value;
    size_t meta_len;
    struct batch *batch; /* thumb_s3_head_get only */
    /* PUT */
    const unsigned char *put_data;
    size_t put_len;
    size_t put_off;
};

int thumb_s3_global_init(void)
{
    /* The default host only matters for virtual-host style, which we never use. */
    return S3_initialize(USER_AGENT, S3_INIT_ALL, NULL) == S3StatusOK ? BB_OK : BB_EAGAIN;
}

void thumb_s3_global_cleanup(void)
{
    S3_deinitialize();
}

int thumb_s3_new(const char *endpoint, const char *access_key, const char *secret_key,
                 struct thumb_s3 **out)
{
    struct thumb_s3 *s;
    S3Protocol proto;
    const char *host;
    size_t n;

    *out = NULL;
    if (endpoint == NULL || access_key == NULL || secret_key == NULL)
        return BB_EINVAL;
    if (strncmp(endpoint, "http://", 7) == 0) {
        proto = S3ProtocolHTTP;
        host = endpoint + 7;
    } else if (strncmp(endpoint, "https://", 8) == 0) {
        proto = S3ProtocolHTTPS;
        host = endpoint + 8;
    } else {
        return BB_EINVAL;
    }
    n = strlen(host);
    while (n > 0 && host[n - 1] == '/')
        n--;
    if (n == 0 || n > S3_MAX_HOSTNAME_SIZE || memchr(host, '/', n) != NULL ||
        memchr(host, '?', n) != NULL)
        return BB_EINVAL;
    s = bb_xcalloc(1, sizeof(*s));
    s->host = bb_xstrndup(host, n);
    s->access_key = bb_xstrdup(access_key);
    s->secret_key = bb_xstrdup(secret_key);
    s->protocol = proto;
    *out = s;
    return BB_OK;
}

void thumb_s3_free(struct thumb_s3 *s)
{
    if (s == NULL)
        return;
    free(s->host);
    free(s->access_key);
    free(s->secret_key);
    free(s);
}

int thumb_s3_session_new(struct thumb_s3 *s, struct thumb_s3_session **out)
{
    struct thumb_s3_session *ss = bb_xcalloc(1, sizeof(*ss));

    *out = NULL;
    ss->s3 = s;
    if (S3_create_request_context(&ss->ctx) != S3StatusOK) {
        free(ss);
        return BB_EAGAIN;
    }
    *out = ss;
    return BB_OK;
}

void thumb_s3_session_free(struct thumb_s3_session *ss)
{
    if (ss == NULL)
        return;
    if (ss->ctx != NULL)
        S3_destroy_request_context(ss->ctx);
    free(ss);
}

/* Runs the requests started on @ss until all have ended. Without a context
 * libs3 ran each one when it was started. */
static void run(struct thumb_s3_session *ss)
{
    if (ss->ctx == NULL || S3_runall_request_context(ss->ctx) == S3StatusOK)
        return;
    /* curl failed inside (out of memory): destroying the context ends the
     * requests still in it (S3StatusInterrupted, so they are retried) */
    S3_destroy_request_context(ss->ctx);
    if (S3_create_request_context(&ss->ctx) != S3StatusOK)
        ss->ctx = NULL;
}

void thumb_s3_object_cleanup(struct thumb_s3_object *obj)
{
    free(obj->data);
    memset(obj, 0, sizeof(*obj));
}

static void bucket_context(const struct thumb_s3 *s, const char *bucket, S3BucketContext *bc)
{
    memset(bc, 0, sizeof(*bc));
    bc->hostName = s->host;
    bc->bucketName = bucket;
    bc->protocol = s->protocol;
    bc->uriStyle = S3UriStylePath;
    bc->accessKeyId = s->access_key;
    bc->secretAccessKey = s->secret_key;
}

/* ETag without the quotes S3 puts around it. */
static void copy_etag(char *dst, size_t dstlen, const char *etag)
{
    size_t n;

    if (etag == NULL) {
        dst[0] = '\0';
        return;
    }
    if (etag[0] == '"')
        etag++;
    n = strlen(etag);
    if (n > 0 && etag[n - 1] == '"')
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, etag, n);
    dst[n] = '\0';
}

static S3Status on_properties(const S3ResponseProperties *p, void *arg)
{
    struct req *rq = arg;

    if (rq->batch != NULL && rq->meta_name == NULL && rq->batch->skip)
        return S3StatusAbortedByCallback;
    copy_etag(rq->etag, sizeof(rq->etag), p->eTag);
    if (rq->max_bytes != 0 && p->contentLength > rq->max_bytes) {
        rq->too_big = 1;
        return S3StatusAbortedByCallback;
    }
    if (rq->meta_name != NULL) {
        for (int i = 0; i < p->metaDataCount; i++) {
            if (strcasecmp(p->metaData[i].name, rq->meta_name) == 0) {
                snprintf(rq->meta_value, rq->meta_len, "%s", p->metaData[i].value);
                break;
            }
        }
    }
    return S3StatusOK;
}

static void on_complete(S3Status status, const S3ErrorDetails *e, void *arg)
{
    struct req *rq = arg;

    rq->status = status;
    if (e != NULL && e->message != NULL)
        snprintf(rq->detail, sizeof(rq->detail), "%s", e->message);
}

/* A HEAD of a batch ended: when every HEAD found the ETag, the GET can stop. */
static void on_head_complete(S3Status status, const S3ErrorDetails *e, void *arg)
{
    struct req *rq = arg;
    struct batch *b = rq->batch;

    on_complete(status, e, arg);
    b->heads_left--;
    if (status == S3StatusOK && b->etag != NULL && strcmp(rq->meta_value, b->etag) == 0)
        b->heads_matched++;
    if (b->heads_left == 0 && b->etag != NULL && b->heads_matched == b->nheads)
        b->skip = 1;
}

static S3Status on_get_data(int size, const char *buf, void *arg)
{
    struct req *rq = arg;

    if (rq->batch != NULL && rq->batch->skip)
        return S3StatusAbortedByCallback;
    if (bb_buf_append(&rq->body, buf, (size_t)size) < 0) {
        rq->too_big = 1;
        return S3StatusAbortedByCallback;
    }
    return S3StatusOK;
}

static int on_put_data(int size, char *buf, void *arg)
{
    struct req *rq = arg;
    size_t n = rq->put_len - rq->put_off;

    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, rq->put_data + rq->put_off, n);
    rq->put_off += n;
    return (int)n;
}

/* The request's end status as a BB_E* code, with a message in @err. */
static int map_status(const struct req *rq, const char *what, char *err, size_t errlen)
{
    const char *name = S3_get_status_name(rq->status);

    if (rq->status == S3StatusOK)
        return BB_OK;
    if (rq->too_big) {
        snprintf(err, errlen, "%s: object is over the size limit", what);
        return BB_ETOOBIG;
    }
    snprintf(err, errlen, "%s: %s%s%s", what, name, rq->detail[0] ? ": " : "", rq->detail);
    switch (rq->status) {
    case S3StatusErrorNoSuchKey:
    case S3StatusErrorNoSuchBucket:
    case S3StatusHttpErrorNotFound:
        return BB_ENOTFOUND;
    default:
        return BB_EAGAIN;
    }
}

static int key_ok(const char *key, char *err, size_t errlen)
{
    if (key[0] == '\0' || strlen(key) > S3_MAX_KEY_SIZE) {
        snprintf(err, errlen, "key is empty or longer than %d bytes", S3_MAX_KEY_SIZE);
        return BB_EINVAL;
    }
    return BB_OK;
}

/* Starts the GET of @bucket/@key into @rq (run() ends it). */
static void start_get(struct thumb_s3_session *ss, const char *bucket, const char *key,
                      size_t max_bytes, struct req *rq, struct batch *b)
{
    static const S3GetObjectHandler h = {{on_properties, on_complete}, on_get_data};
    S3BucketContext bc;

    memset(rq, 0, sizeof(*rq));
    rq->status = S3StatusInternalError;
    rq->max_bytes = max_bytes;
    rq->batch = b;
    bb_buf_init(&rq->body, max_bytes);
    bucket_context(ss->s3, bucket, &bc);
    S3_get_object(&bc, key, NULL, 0, 0, ss->ctx, &h, rq);
}

/* The ended GET's result: the body moves to @obj on success. */
static int finish_get(struct req *rq, struct thumb_s3_object *obj, char *err, size_t errlen)
{
    int rc = map_status(rq, "GET", err, errlen);

    if (rc < 0) {
        bb_buf_cleanup(&rq->body);
        return rc;
    }
    obj->data = (unsigned char *)bb_buf_detach(&rq->body, &obj->len);
    if (obj->data == NULL)
        obj->data = bb_xcalloc(1, 1); /* an empty object */
    memcpy(obj->etag, rq->etag, sizeof(obj->etag));
    bb_buf_cleanup(&rq->body);
    return BB_OK;
}

/* Starts a HEAD of @bucket/@key that copies metadata @name into @value. */
static void start_head(struct thumb_s3_session *ss, const char *bucket, const char *key,
                       const char *name, char *value, size_t valuelen, struct req *rq,
                       struct batch *b)
{
    static const S3ResponseHandler plain = {on_properties, on_complete};
    static const S3ResponseHandler batched = {on_properties, on_head_complete};
    S3BucketContext bc;

    value[0] = '\0';
    memset(rq, 0, sizeof(*rq));
    rq->status = S3StatusInternalError;
    rq->meta_name = name;
    rq->meta_value = value;
    rq->meta_len = valuelen;
    rq->batch = b;
    bucket_context(ss->s3, bucket, &bc);
    S3_head_object(&bc, key, ss->ctx, b != NULL ? &batched : &plain, rq);
}

int thumb_s3_get(struct thumb_s3_session *ss, const char *bucket, const char *key, size_t max_bytes,
                 struct thumb_s3_object *obj, char *err, size_t errlen)
{
    struct req rq;
    int rc;

    memset(obj, 0, sizeof(*obj));
    rc = key_ok(key, err, errlen);
    if (rc < 0)
        return rc;
    start_get(ss, bucket, key, max_bytes, &rq, NULL);
    run(ss);
    return finish_get(&rq, obj, err, errlen);
}

int thumb_s3_head_meta(struct thumb_s3_session *ss, const char *bucket, const char *key,
                       const char *name, char *value, size_t valuelen, char *err, size_t errlen)
{
    struct req rq;
    int rc;

    value[0] = '\0';
    rc = key_ok(key, err, errlen);
    if (rc < 0)
        return rc;
    start_head(ss, bucket, key, name, value, valuelen, &rq, NULL);
    run(ss);
    return map_status(&rq, "HEAD", err, errlen);
}

int thumb_s3_head_get(struct thumb_s3_session *ss, struct thumb_s3_head *heads, int nheads,
                      const char *etag, const char *bucket, const char *key, size_t max_bytes,
                      struct thumb_s3_object *obj, char *err, size_t errlen)
{
    struct req hrq[THUMB_IMAGE_MAX_SIZES];
    struct batch b = {etag, 0, 0, nheads, 0};
    struct req grq;
    int rc;

    memset(obj, 0, sizeof(*obj));
    if (nheads < 0 || nheads > THUMB_IMAGE_MAX_SIZES) {
        snprintf(err, errlen, "too many HEADs");
        return BB_EINVAL;
    }
    rc = key_ok(key, err, errlen);
    if (rc < 0)
        return rc;
    for (int i = 0; i < nheads; i++) {
        heads[i].value[0] = '\0';
        heads[i].err[0] = '\0';
        heads[i].rc = key_ok(heads[i].key, heads[i].err, sizeof(heads[i].err));
        if (heads[i].rc < 0) {
            b.nheads = -1; /* a bad key is never "done": keep the GET */
            continue;
        }
        b.heads_left++;
        start_head(ss, heads[i].bucket, heads[i].key, heads[i].name, heads[i].value,
                   sizeof(heads[i].value), &hrq[i], &b);
    }
    start_get(ss, bucket, key, max_bytes, &grq, &b);
    run(ss);
    for (int i = 0; i < nheads; i++)
        if (heads[i].rc == BB_OK)
            heads[i].rc = map_status(&hrq[i], "HEAD", heads[i].err, sizeof(heads[i].err));
    if (b.skip) {
        bb_buf_cleanup(&grq.body);
        snprintf(err, errlen, "GET: abandoned, the thumbnails exist");
        return BB_EAGAIN;
    }
    return finish_get(&grq, obj, err, errlen);
}

int thumb_s3_put(struct thumb_s3_session *ss, const char *bucket, const char *key, const void *data,
                 size_t len, const char *content_type, const struct thumb_s3_meta *meta, int nmeta,
                 char *err, size_t errlen)
{
    static const S3PutObjectHandler h = {{on_properties, on_complete}, on_put_data};
    S3BucketContext bc;
    S3NameValue nv[THUMB_S3_MAX_META];
    S3PutProperties pp;
    struct req rq;
    int rc;

    rc = key_ok(key, err, errlen);
    if (rc < 0)
        return rc;
    if (nmeta < 0 || nmeta > THUMB_S3_MAX_META) {
        snprintf(err, errlen, "too many metadata entries");
        return BB_EINVAL;
    }
    for (int i = 0; i < nmeta; i++) {
        nv[i].name = meta[i].name;
        nv[i].value = meta[i].value;
    }
    memset(&pp, 0, sizeof(pp));
    pp.contentType = content_type;
    pp.expires = -1;
    pp.cannedAcl = S3CannedAclPrivate;
    pp.metaDataCount = nmeta;
    pp.metaData = nv;
    memset(&rq, 0, sizeof(rq));
    rq.status = S3StatusInternalError;
    rq.put_data = data;
    rq.put_len = len;
    bucket_context(ss->s3, bucket, &bc);
    S3_put_object(&bc, key, len, &pp, ss->ctx, &h, &rq);
    run(ss);
    return map_status(&rq, "PUT", err, errlen);
}
