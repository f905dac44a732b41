/* SPDX-License-Identifier: MIT */
/* s3_handler: path and query decoding, dispatch, replies. */
#include "s3_handler.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include <cjson/cJSON.h>
#include "config.h"
#include "http_conn.h"
#include "route.h"
#include "s3_sigv4.h"
#include "server.h"
#include "store.h"
#include "store_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef void s3_op_fn(struct s3_req *q);

static void req_free(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    if (q == NULL)
        return;
    if (q->pending_detach != NULL)
        q->pending_detach(q->pending);
    s3_body_cleanup(&q->body);
    s3_post_free(q->post);
    free(q->bucket);
    free(q->key);
    for (size_t i = 0; i < q->nq; i++) {
        free(q->q[i].name);
        free(q->q[i].value);
    }
    free(q);
    r->ctx = NULL;
}

const char *s3_req_query(const struct s3_req *q, const char *name)
{
    for (size_t i = 0; i < q->nq; i++)
        if (strcmp(q->q[i].name, name) == 0)
            return q->q[i].value;
    return NULL;
}

/* The presigned-URL parameters themselves are never headers. */
static const char *const presign_params[] = {
    "x-amz-algorithm", "x-amz-credential",    "x-amz-date",
    "x-amz-expires",   "x-amz-signedheaders", "x-amz-signature",
};

/* A signed x-amz-* header hoisted into a presigned URL's query. */
static const char *hoisted(const struct s3_req *q, const char *name, size_t *vl)
{
    if (!q->auth.presigned || strncasecmp(name, "x-amz-", 6) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(presign_params) / sizeof(presign_params[0]); i++)
        if (strcasecmp(name, presign_params[i]) == 0)
            return NULL;
    for (size_t i = 0; i < q->nq; i++) {
        if (strcasecmp(q->q[i].name, name) == 0) {
            *vl = strlen(q->q[i].value);
            return q->q[i].value;
        }
    }
    return NULL;
}

const char *s3_req_header(const struct s3_req *q, const char *name, char *buf, size_t n)
{
    size_t vl;
    const char *v = http_head_get(&q->http->head, name, &vl);
    if (v == NULL)
        v = hoisted(q, name, &vl);
    if (v == NULL || n == 0)
        return NULL;
    if (vl >= n)
        vl = n - 1;
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    return buf;
}

static void reply_body(struct s3_req *q, int status, struct bb_buf *b, const char *ctype)
{
    struct http_req *r = q->http;
    size_t len = 0;
    char *body = bb_buf_detach(b, &len);
    if (r->head.method_len == 4 && memcmp(r->head.method, "HEAD", 4) == 0) {
        free(body);
        http_resp_send(r, status);
        return;
    }
    http_resp_header(r, "Content-Type", "%s", ctype);
    http_resp_body(r, body, len);
    http_resp_send(r, status);
}

void s3_reply_xml(struct s3_req *q, int status, struct bb_buf *xml)
{
    reply_body(q, status, xml, "application/xml");
}

void s3_reply_empty(struct s3_req *q, int status)
{
    http_resp_send(q->http, status);
}

/* The JSON 1.1 error shape of AWS's JSON APIs, for auth failures there. */
static void json_error(struct s3_req *q, enum s3_error e, const char *message)
{
    const char *type = "ValidationException";
    int status = 400;
    cJSON *o = cJSON_CreateObject();
    char *text;

    switch (e) {
    case S3E_SIGNATURE_DOES_NOT_MATCH:
        type = "InvalidSignatureException";
        status = 400;
        break;
    case S3E_INVALID_ACCESS_KEY_ID:
        type = "UnrecognizedClientException";
        status = 400;
        break;
    case S3E_ACCESS_DENIED:
    case S3E_REQUEST_TIME_TOO_SKEWED:
        type = e == S3E_ACCESS_DENIED ? "AccessDeniedException" : "InvalidSignatureException";
        status = 400;
        break;
    case S3E_INTERNAL_ERROR:
        type = "InternalException";
        status = 500;
        break;
    default:
        break;
    }
    cJSON_AddStringToObject(o, "__type", type);
    cJSON_AddStringToObject(o, "message", message ? message : s3_error_message(e));
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    http_resp_header(q->http, "Content-Type", "application/x-amz-json-1.1");
    http_resp_header(q->http, "x-amzn-RequestId", "%s", q->http->request_id);
    http_resp_body(q->http, bb_xstrdup(text), strlen(text));
    cJSON_free(text);
    http_resp_send(q->http, status);
}

void s3_reply_error(struct s3_req *q, enum s3_error e, const char *message,
                    const struct s3_error_field *fields, size_t nfields)
{
    struct bb_buf b;
    char resource[1200];
    char qkey[600];

    if (q->http->responded)
        return;
    if (q->json_errors) {
        json_error(q, e, message);
        return;
    }
    bb_buf_init(&b, 256 * 1024);
    snprintf(resource, sizeof(resource), "/%s%s%s", q->bucket ? q->bucket : "", q->key ? "/" : "",
             q->key ? q->key : "");
    s3_error_xml(&b, e, message, fields, nfields, resource, q->http->request_id);
    if (e != S3E_SIGNATURE_DOES_NOT_MATCH || bb_log_level_current >= BB_LOG_LEVEL_DEBUG)
        BB_LOG_DEBUG(
            "s3", "error", "req=%s code=%s key=%s", q->http->request_id, s3_error_code(e),
            bb_log_quote(qkey, sizeof(qkey), q->key ? q->key : "", q->key ? strlen(q->key) : 0));
    reply_body(q, s3_error_status(e), &b, "application/xml");
    bb_buf_cleanup(&b);
}

void s3_req_cause(const struct s3_req *q, const char *reason, struct store_cause *out)
{
    out->request_id = q->http->request_id;
    out->requester = q->srv->cfg->account_id;
    out->source_ip = q->http->peer;
    out->reason = reason;
}

void s3_reply_key_error(struct s3_req *q, enum s3_error e, const char *message)
{
    struct s3_error_field f = {"Key", q->key};
    s3_reply_error(q, e, message, &f, 1);
}

void s3_reply_commit_error(struct s3_req *q, int rc)
{
    enum s3_error e = s3_error_from_rc(rc);
    if (e == S3E_INTERNAL_ERROR)
        BB_LOG_ERROR("s3", "commit failed", "req=%s error=\"%s\"", q->http->request_id,
                     bb_strerror(rc));
    s3_reply_key_error(q, e, NULL);
}

enum s3_error s3_error_from_rc(int rc)
{
    switch (rc) {
    case BB_ENOTFOUND:
        return S3E_NO_SUCH_KEY;
    case BB_ECONFLICT:
        return S3E_KEY_CONFLICT;
    case BB_ETOOBIG:
        return S3E_KEY_TOO_LONG;
    case BB_EINVAL:
        return S3E_INVALID_ARGUMENT;
    default:
        return S3E_INTERNAL_ERROR;
    }
}

static int parse_query(struct s3_req *q, const char *raw, size_t len)
{
    size_t start = 0;
    struct bb_buf b;

    bb_buf_init(&b, 16 * 1024);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && raw[i] != '&')
            continue;
        if (i > start) {
            const char *part = raw + start;
            size_t pl = i - start;
            const char *eq = memchr(part, '=', pl);
            size_t nl = eq ? (size_t)(eq - part) : pl;
            struct s3_query_param *p;
            if (q->nq == S3_MAX_QUERY)
                goto fail;
            p = &q->q[q->nq];
            bb_buf_reset(&b);
            if (s3_sigv4_uri_decode(&b, part, nl, true) < 0)
                goto fail;
            p->name = bb_xstrndup(b.data ? b.data : "", b.len);
            bb_buf_reset(&b);
            if (eq != NULL && s3_sigv4_uri_decode(&b, eq + 1, pl - nl - 1, true) < 0) {
                free(p->name);
                goto fail;
            }
            p->value = bb_xstrndup(eq && b.data ? b.data : "", eq ? b.len : 0);
            p->has_value = eq != NULL;
            q->nq++;
        }
        start = i + 1;
    }
    bb_buf_cleanup(&b);
    return BB_OK;
fail:
    bb_buf_cleanup(&b);
    return BB_EINVAL;
}

/* Virtual-host style: the bucket is @vbucket, the whole path is the key. */
static int parse_vhost_path(struct s3_req *q, const char *vbucket, const char *path, size_t len)
{
    struct bb_buf b;
    int rc = BB_OK;

    q->bucket = bb_xstrdup(vbucket);
    q->vhost = 1;
    if (len <= 1)
        return BB_OK;
    bb_buf_init(&b, 8 * 1024);
    if (s3_sigv4_uri_decode(&b, path + 1, len - 1, false) < 0) {
        rc = BB_EINVAL;
        goto out;
    }
    q->key = bb_xstrndup(b.data, b.len);
    if (strlen(q->key) != b.len)
        rc = BB_EINVAL; /* NUL in the key */
out:
    bb_buf_cleanup(&b);
    return rc;
}

static int parse_path(struct s3_req *q, const char *path, size_t len)
{
    struct bb_buf b;
    const char *slash;
    size_t blen;
    int rc = BB_OK;

    if (len <= 1)
        return BB_OK; /* "/" */
    path++;
    len--;
    slash = memchr(path, '/', len);
    blen = slash ? (size_t)(slash - path) : len;
    bb_buf_init(&b, 8 * 1024);
    if (s3_sigv4_uri_decode(&b, path, blen, false) < 0) {
        rc = BB_EINVAL;
        goto out;
    }
    q->bucket = bb_xstrndup(b.data ? b.data : "", b.len);
    if (slash != NULL && (size_t)(slash - path) + 1 < len) {
        const char *k = slash + 1;
        size_t kl = len - blen - 1;
        bb_buf_reset(&b);
        /* a literal '+' in the path is a space, as S3 reads it (libs3 sends
         * spaces that way; SDKs send '+' as %2B) */
        if (s3_sigv4_uri_decode(&b, k, kl, true) < 0) {
            rc = BB_EINVAL;
            goto out;
        }
        q->key = bb_xstrndup(b.data, b.len);
        if (strlen(q->key) != b.len) {
            rc = BB_EINVAL; /* NUL in the key */
            goto out;
        }
    }
out:
    bb_buf_cleanup(&b);
    return rc;
}

static int method_is(const struct http_req *r, const char *m)
{
    size_t n = strlen(m);
    return r->head.method_len == n && memcmp(r->head.method, m, n) == 0;
}

/* Sub-resources we do not implement yet: NotImplemented, never a wrong
 * answer from the plain operation. */
static const char *const unsupported_sub[] = {
    "acl",
    "policy",
    "tagging",
    "lifecycle",
    "website",
    "logging",
    "replication",
    "encryption",
    "object-lock",
    "accelerate",
    "analytics",
    "inventory",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "requestPayment",
    "intelligent-tiering",
    "legal-hold",
    "retention",
    "restore",
    "select",
    "torrent",
    "attributes",
    "policyStatus",
};

static const char *unsupported(const struct s3_req *q)
{
    for (size_t i = 0; i < sizeof(unsupported_sub) / sizeof(unsupported_sub[0]); i++)
        if (s3_req_query(q, unsupported_sub[i]) != NULL)
            return unsupported_sub[i];
    return NULL;
}

static void op_not_implemented(struct s3_req *q)
{
    char msg[256];
    const char *sub = unsupported(q);
    snprintf(msg, sizeof(msg), "%s%s%s is not implemented by bucketbridge yet.",
             sub ? "The ?" : "This operation", sub ? sub : "", sub ? " sub-resource" : "");
    s3_reply_error(q, S3E_NOT_IMPLEMENTED, msg, NULL, 0);
}

static void op_method_not_allowed(struct s3_req *q)
{
    s3_reply_error(q, S3E_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

/* Buckets here are never versioned: the only version id is "null". */
static void op_bad_version(struct s3_req *q)
{
    struct s3_error_field f[] = {{"ArgumentName", "versionId"},
                                 {"ArgumentValue", s3_req_query(q, "versionId")}};
    s3_reply_error(q, S3E_INVALID_ARGUMENT, "Invalid version id specified", f, 2);
}

static int is_form_post(const struct s3_req *q)
{
    char ct[64];
    return s3_req_header(q, "content-type", ct, sizeof(ct)) != NULL &&
           strncasecmp(ct, "multipart/form-data", 19) == 0;
}

static void op_list_v1(struct s3_req *q)
{
    s3_bucket_list_objects(q, 0);
}

static void op_list_v2(struct s3_req *q)
{
    s3_bucket_list_objects(q, 1);
}

static void op_get_object(struct s3_req *q)
{
    s3_object_get(q, 0);
}

static void op_head_object(struct s3_req *q)
{
    s3_object_get(q, 1);
}

/* ?uploadId=: the operations on one multipart upload. */
static s3_op_fn *choose_upload(struct s3_req *q, const char **name)
{
    struct http_req *r = q->http;
    char tmp[8];

    if (method_is(r, "PUT")) {
        if (s3_req_header(q, "x-amz-copy-source", tmp, sizeof(tmp)) != NULL) {
            *name = "UploadPartCopy";
            return s3_multipart_upload_part_copy;
        }
        *name = "UploadPart";
        return s3_multipart_upload_part;
    }
    if (method_is(r, "POST")) {
        *name = "CompleteMultipartUpload";
        return s3_multipart_complete;
    }
    if (method_is(r, "DELETE")) {
        *name = "AbortMultipartUpload";
        return s3_multipart_abort;
    }
    if (method_is(r, "GET")) {
        *name = "ListParts";
        return s3_multipart_list_parts;
    }
    *name = "Unknown";
    return op_method_not_allowed;
}

static s3_op_fn *choose(struct s3_req *q, const char **name)
{
    struct http_req *r = q->http;
    char tmp[8];

    if (q->bucket == NULL) {
        *name = "ListBuckets";
        return method_is(r, "GET") ? s3_bucket_list_buckets : op_method_not_allowed;
    }
    if (q->key == NULL) {
        if (s3_req_query(q, "cors") != NULL) {
            *name = method_is(r, "PUT")      ? "PutBucketCors"
                    : method_is(r, "DELETE") ? "DeleteBucketCors"
                                             : "GetBucketCors";
            return method_is(r, "PUT")      ? s3_cors_put
                   : method_is(r, "GET")    ? s3_cors_get
                   : method_is(r, "DELETE") ? s3_cors_delete
                                            : op_method_not_allowed;
        }
        if (s3_req_query(q, "versioning") != NULL) {
            *name = method_is(r, "PUT") ? "PutBucketVersioning" : "GetBucketVersioning";
            return method_is(r, "PUT")   ? s3_bucket_versioning_put
                   : method_is(r, "GET") ? s3_bucket_versioning_get
                                         : op_method_not_allowed;
        }
        if (s3_req_query(q, "versions") != NULL) {
            *name = "ListObjectVersions";
            return method_is(r, "GET") ? s3_bucket_list_versions : op_method_not_allowed;
        }
        if (method_is(r, "POST") && s3_req_query(q, "delete") == NULL && is_form_post(q)) {
            *name = "PostObject";
            return s3_post_object;
        }
        if (unsupported(q) != NULL) {
            *name = "Unsupported";
            return op_not_implemented;
        }
        if (s3_req_query(q, "notification") != NULL) {
            *name = method_is(r, "PUT") ? "PutBucketNotificationConfiguration"
                                        : "GetBucketNotificationConfiguration";
            return method_is(r, "PUT")   ? s3_notify_put
                   : method_is(r, "GET") ? s3_notify_get
                                         : op_method_not_allowed;
        }
        if (method_is(r, "PUT")) {
            *name = "CreateBucket";
            return s3_bucket_create;
        }
        if (method_is(r, "DELETE")) {
            *name = "DeleteBucket";
            return s3_bucket_delete;
        }
        if (method_is(r, "HEAD")) {
            *name = "HeadBucket";
            return s3_bucket_head;
        }
        if (method_is(r, "POST")) {
            *name = "DeleteObjects";
            return s3_req_query(q, "delete") ? s3_bucket_delete_objects : op_not_implemented;
        }
        if (method_is(r, "GET")) {
            if (s3_req_query(q, "uploads") != NULL) {
                *name = "ListMultipartUploads";
                return s3_multipart_list_uploads;
            }
            if (s3_req_query(q, "location") != NULL) {
                *name = "GetBucketLocation";
                return s3_bucket_location;
            }
            const char *lt = s3_req_query(q, "list-type");
            *name = lt && strcmp(lt, "2") == 0 ? "ListObjectsV2" : "ListObjects";
            return lt && strcmp(lt, "2") == 0 ? op_list_v2 : op_list_v1;
        }
        *name = "Unknown";
        return op_method_not_allowed;
    }
    if (s3_req_query(q, "tagging") != NULL) {
        *name = method_is(r, "PUT")      ? "PutObjectTagging"
                : method_is(r, "DELETE") ? "DeleteObjectTagging"
                                         : "GetObjectTagging";
        return method_is(r, "PUT")      ? s3_tagging_put
               : method_is(r, "GET")    ? s3_tagging_get
               : method_is(r, "DELETE") ? s3_tagging_delete
                                        : op_method_not_allowed;
    }
    if (unsupported(q) != NULL) {
        *name = "Unsupported";
        return op_not_implemented;
    }
    if (s3_req_query(q, "versionId") != NULL && strcmp(s3_req_query(q, "versionId"), "null") != 0) {
        *name = "BadVersionId";
        return op_bad_version;
    }
    if (s3_req_query(q, "uploadId") != NULL)
        return choose_upload(q, name);
    if (s3_req_query(q, "uploads") != NULL) {
        *name = "CreateMultipartUpload";
        return method_is(r, "POST") ? s3_multipart_create : op_method_not_allowed;
    }
    if (method_is(r, "PUT")) {
        if (s3_req_header(q, "x-amz-copy-source", tmp, sizeof(tmp)) != NULL) {
            *name = "CopyObject";
            return s3_copy_object;
        }
        *name = "PutObject";
        return s3_object_put;
    }
    if (method_is(r, "GET")) {
        *name = "GetObject";
        return op_get_object;
    }
    if (method_is(r, "HEAD")) {
        *name = "HeadObject";
        return op_head_object;
    }
    if (method_is(r, "DELETE")) {
        *name = "DeleteObject";
        return s3_object_delete;
    }
    *name = "Unknown";
    return method_is(r, "POST") ? op_not_implemented : op_method_not_allowed;
}

/* Operations that take their body themselves (s3_body_begin in the op). */
static int op_reads_body(s3_op_fn *fn)
{
    return fn == s3_object_put || fn == s3_bucket_delete_objects || fn == s3_bucket_create ||
           fn == s3_notify_put || fn == s3_multipart_upload_part || fn == s3_multipart_complete ||
           fn == s3_cors_put || fn == s3_tagging_put || fn == s3_post_object;
}

/* Runs the operation once a body it does not use has been read. */
static void run_after_body(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    const char *name;
    choose(q, &name)(q);
}

struct s3_req *s3_req_attach(struct http_req *r)
{
    struct s3_req *q = bb_xcalloc(1, sizeof(*q));
    q->http = r;
    q->srv = r->srv;
    q->store = r->srv->store;
    q->body.fd = -1;
    q->service = "s3";
    r->ctx = q;
    r->on_free = req_free;
    return q;
}

void s3_handler_dispatch(struct http_req *r)
{
    struct s3_req *q = s3_req_attach(r);
    s3_op_fn *fn;
    const char *why = NULL;
    const char *host;
    char vbucket[256];
    size_t hl = 0;
    int rc;

    r->op = "S3";

    host = http_head_get(&r->head, "host", &hl);
    if (host != NULL && route_vhost_bucket(q->srv->cfg, host, hl, vbucket, sizeof(vbucket)) > 0)
        rc = parse_vhost_path(q, vbucket, r->head.path, r->head.path_len);
    else
        rc = parse_path(q, r->head.path, r->head.path_len);
    if (rc < 0 || (r->head.query && parse_query(q, r->head.query, r->head.query_len) < 0)) {
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "The request URI is not validly percent-encoded.",
                       NULL, 0);
        return;
    }
    if (method_is(r, "OPTIONS")) {
        r->op = "PreflightCORS"; /* browsers send preflights without credentials */
        s3_cors_preflight(q);
        return;
    }
    s3_cors_apply(q);
    fn = choose(q, &r->op);
    if (method_is(r, "POST") && !s3_cors_write_allowed(q)) {
        s3_reply_error(q, S3E_ACCESS_DENIED,
                       "A POST from another web origin needs a bucket CORS rule that allows "
                       "that origin and POST.",
                       NULL, 0);
        return;
    }
    /* POST Object is authenticated by its signed policy, read from the form */
    if (fn != s3_post_object && s3_auth_check(q) != S3E_NONE)
        return; /* answered */
    if (q->bucket != NULL && store_key_check_bucket(q->bucket, &why) < 0) {
        struct s3_error_field f = {"BucketName", q->bucket};
        s3_reply_error(q, S3E_INVALID_BUCKET_NAME, why, &f, 1);
        return;
    }
    if (q->bucket != NULL && fn != s3_bucket_create && !store_bucket_exists(q->store, q->bucket)) {
        struct s3_error_field f = {"BucketName", q->bucket};
        s3_reply_error(q, S3E_NO_SUCH_BUCKET, NULL, &f, 1);
        return;
    }
    if (op_reads_body(fn) || !r->has_body) {
        fn(q);
        return;
    }
    /* a body the operation does not use: read (and drop) it, then run */
    r->on_end = run_after_body;
}
