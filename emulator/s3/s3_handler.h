/* SPDX-License-Identifier: MIT */
/*
 * s3_handler: the S3 request as the operation handlers see it: bucket and
 * key decoded from the path, the query decoded, the authentication result,
 * the body pipeline; dispatch by method, path and query to the operation;
 * reply helpers (XML body, S3 error body). Loop thread.
 */
#ifndef BB_EMULATOR_S3_S3_HANDLER_H
#define BB_EMULATOR_S3_S3_HANDLER_H

#include <stddef.h>

#include "s3_auth.h"
#include "s3_body.h"
#include "s3_cond.h"
#include "s3_error.h"

struct bb_buf;
struct http_req;
struct server;
struct store;

#define S3_MAX_QUERY 64

struct s3_query_param {
    char *name;  /* decoded; owned */
    char *value; /* decoded; owned; "" when absent */
    int has_value;
};

struct s3_req {
    struct http_req *http;
    struct server *srv;
    struct store *store;
    char *bucket; /* decoded; NULL for service-level requests */
    char *key;    /* decoded; NULL when the path names no key */
    struct s3_query_param q[S3_MAX_QUERY];
    size_t nq;
    struct s3_auth_result auth;
    struct s3_body body;
    const char *service;  /* credential scope service: "s3", or "events" for the EventBridge API */
    int json_errors;      /* answer errors as JSON 1.1 {"__type", "message"} (EventBridge API) */
    int vhost;            /* the bucket came from the Host header (virtual-host style) */
    struct s3_cond cond;  /* conditional write (PutObject, CompleteMultipartUpload) */
    struct s3_post *post; /* POST Object state (s3_post.c); freed with the request */
    void *pending;        /* background work answering this request, or NULL */
    void (*pending_detach)(void *pending); /* tells it the request is gone */
};

/** Sets up an s3_req for @r (attached as r->ctx, freed with the request). */
struct s3_req *s3_req_attach(struct http_req *r);

/** Entry point from route.c: parses, authenticates and dispatches. */
void s3_handler_dispatch(struct http_req *r);

/** Query parameter value (decoded) or NULL when absent. */
const char *s3_req_query(const struct s3_req *q, const char *name);
/** Request header value, NUL-terminated copy in @buf (size @n), or NULL.
 * On a presigned request an x-amz-* header may also come from the query
 * (SDKs hoist signed x-amz-* headers there). */
const char *s3_req_header(const struct s3_req *q, const char *name, char *buf, size_t n);

/** Answers with the S3 error body (no body for HEAD). @message may be NULL
 * (the table's text); extra fields are added in order. */
void s3_reply_error(struct s3_req *q, enum s3_error e, const char *message,
                    const struct s3_error_field *fields, size_t nfields);
/** s3_reply_error with the request's key as the Key field. */
void s3_reply_key_error(struct s3_req *q, enum s3_error e, const char *message);
/** Answers a failed store_object_commit (@rc) with its S3 error, naming
 * the key; an internal error is logged with the request id. */
void s3_reply_commit_error(struct s3_req *q, int rc);
/** Answers @status with @xml as application/xml (the buffer is taken). */
void s3_reply_xml(struct s3_req *q, int status, struct bb_buf *xml);
/** Answers @status without a body. */
void s3_reply_empty(struct s3_req *q, int status);

/** The store_cause of this request (reason given), for events. */
struct store_cause;
void s3_req_cause(const struct s3_req *q, const char *reason, struct store_cause *out);

/** Maps a BB_E* / -errno code from the store to an S3 error. */
enum s3_error s3_error_from_rc(int rc);

/* Operations (s3_bucket.c, s3_object.c). */
void s3_bucket_list_buckets(struct s3_req *q);
void s3_bucket_create(struct s3_req *q);
void s3_bucket_delete(struct s3_req *q);
void s3_bucket_head(struct s3_req *q);
void s3_bucket_location(struct s3_req *q);
void s3_bucket_list_objects(struct s3_req *q, int v2);
void s3_bucket_delete_objects(struct s3_req *q);
void s3_object_put(struct s3_req *q);
void s3_object_get(struct s3_req *q, int head_only);
void s3_object_delete(struct s3_req *q);
void s3_notify_put(struct s3_req *q);
void s3_notify_get(struct s3_req *q);

/* Operations (s3_multipart.c, s3_copy.c). */
void s3_multipart_create(struct s3_req *q);
void s3_multipart_upload_part(struct s3_req *q);
void s3_multipart_upload_part_copy(struct s3_req *q);
void s3_multipart_complete(struct s3_req *q);
void s3_multipart_abort(struct s3_req *q);
void s3_multipart_list_parts(struct s3_req *q);
void s3_multipart_list_uploads(struct s3_req *q);
void s3_copy_object(struct s3_req *q);

/* Operations (s3_bucket.c: versions; s3_tagging.c; s3_cors.c; s3_post.c). */
void s3_bucket_list_versions(struct s3_req *q);
void s3_bucket_versioning_get(struct s3_req *q);
void s3_bucket_versioning_put(struct s3_req *q);
void s3_tagging_put(struct s3_req *q);
void s3_tagging_get(struct s3_req *q);
void s3_tagging_delete(struct s3_req *q);
void s3_cors_put(struct s3_req *q);
void s3_cors_get(struct s3_req *q);
void s3_cors_delete(struct s3_req *q);
/** OPTIONS: answers a CORS preflight from the bucket's rules (no auth). */
void s3_cors_preflight(struct s3_req *q);
/** Adds the CORS response headers when the request's Origin is allowed. */
void s3_cors_apply(struct s3_req *q);
/**
 * Whether a write a browser sends without a preflight (a POST: the form
 * upload, or a presigned POST) may run: no Origin, a local one (localhost,
 * 127.x, [::1]), or one a bucket CORS rule allows for the method. A page on
 * another site must not write to the developer's buckets.
 */
int s3_cors_write_allowed(struct s3_req *q);
/** POST Object: a browser form upload authenticated by its signed policy. */
void s3_post_object(struct s3_req *q);
void s3_post_free(struct s3_post *p);

/**
 * The tag set of an x-amz-tagging header ("k1=v1&k2=v2", URL-encoded) as
 * the stored JSON text (new string), or NULL: no header (*e S3E_NONE) or a
 * bad one (*e set, *msg may be set). s3_tagging.c.
 */
char *s3_tagging_from_header(struct s3_req *q, enum s3_error *e, const char **msg);

/**
 * The request headers an object keeps (x-amz-meta-*, Cache-Control,
 * Content-Disposition, ...; aws-chunked stripped) as the JSON array stored
 * with it. Returns a new string (free()), or NULL with *e set
 * (MetadataTooLarge). Used by PutObject, CreateMultipartUpload and
 * CopyObject with the REPLACE directive.
 */
char *s3_object_collect_headers(struct s3_req *q, enum s3_error *e);

#endif
