/* SPDX-License-Identifier: MIT */
/*
 * s3_auth: SigV4 verification (header and presigned) with the canonical
 * request and string to sign echoed in SignatureDoesNotMatch, clock-skew
 * and expiry checks, and the payload declaration for s3_body.
 */
#include "s3_auth.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_sigv2.h"
#include "s3_sigv4.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define AUTH_MAX_TEXT (64 * 1024)
#define AUTH_MAX_PRESIGN_EXPIRES 604800

static int parse_amz_date(const char *s, time_t *out)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    if (strlen(s) != 16)
        return BB_EINVAL;
    end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
    if (end == NULL || *end != '\0')
        return BB_EINVAL;
    *out = timegm(&tm);
    return BB_OK;
}

static int parse_http_date(const char *s, time_t *out)
{
    struct tm tm;
    const char *end;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL)
        return BB_EINVAL;
    *out = timegm(&tm);
    return BB_OK;
}

static enum s3_payload payload_kind(const char *v)
{
    if (strcmp(v, "UNSIGNED-PAYLOAD") == 0)
        return S3_PAYLOAD_UNSIGNED;
    if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0)
        return S3_PAYLOAD_STREAMING_SIGNED;
    if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0)
        return S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
    if (strcmp(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0)
        return S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    return S3_PAYLOAD_SHA256;
}

static int is_hex64(const char *v)
{
    if (strlen(v) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return 1;
}

/* x-amz-content-sha256 -> q->auth.payload; answers on a bad value. */
static enum s3_error declare_payload(struct s3_req *q, int required)
{
    char v[128];
    const char *h = s3_req_header(q, "x-amz-content-sha256", v, sizeof(v));

    if (h == NULL) {
        if (required) {
            s3_reply_error(q, S3E_INVALID_REQUEST,
                           "Missing required header for this request: x-amz-content-sha256", NULL,
                           0);
            return S3E_INVALID_REQUEST;
        }
        q->auth.payload = S3_PAYLOAD_UNSIGNED;
        return S3E_NONE;
    }
    q->auth.payload = payload_kind(h);
    if (q->auth.payload == S3_PAYLOAD_SHA256) {
        if (!is_hex64(h)) {
            s3_reply_error(q, S3E_INVALID_ARGUMENT,
                           "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or "
                           "the lowercase hex SHA-256 of the payload",
                           NULL, 0);
            return S3E_INVALID_ARGUMENT;
        }
        memcpy(q->auth.payload_sha256, h, 65);
    }
    return S3E_NONE;
}

static void hex_bytes(struct bb_buf *out, const char *s, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char t[3] = {d[(unsigned char)s[i] >> 4], d[(unsigned char)s[i] & 15], ' '};
        bb_buf_append(out, t, i + 1 < n ? 3 : 2);
    }
}

static enum s3_error mismatch(struct s3_req *q, const struct s3_sigv4_auth *a,
                              const struct bb_buf *creq, const struct bb_buf *sts)
{
    struct bb_buf sts_bytes, creq_bytes;
    bb_buf_init(&sts_bytes, AUTH_MAX_TEXT * 3);
    bb_buf_init(&creq_bytes, AUTH_MAX_TEXT * 3);
    hex_bytes(&sts_bytes, sts->data, sts->len);
    hex_bytes(&creq_bytes, creq->data, creq->len);
    struct s3_error_field f[] = {
        {"AWSAccessKeyId", a->akid},
        {"StringToSign", sts->data},
        {"SignatureProvided", a->signature},
        {"StringToSignBytes", sts_bytes.data ? sts_bytes.data : ""},
        {"CanonicalRequest", creq->data},
        {"CanonicalRequestBytes", creq_bytes.data ? creq_bytes.data : ""},
    };
    BB_LOG_INFO("s3", "signature mismatch", "req=%s akid=%s", q->http->request_id, a->akid);
    s3_reply_error(q, S3E_SIGNATURE_DOES_NOT_MATCH, NULL, f, 6);
    bb_buf_cleanup(&sts_bytes);
    bb_buf_cleanup(&creq_bytes);
    return S3E_SIGNATURE_DOES_NOT_MATCH;
}

static enum s3_error verify(struct s3_req *q, struct s3_sigv4_auth *a, int presigned,
                            const char *body_sha256)
{
    const struct config *cfg = q->srv->cfg;
    struct http_req *r = q->http;
    struct s3_sigv4_header hdrs[HTTP_MAX_HEADERS];
    struct bb_buf creq, sts;
    char method[16];
    char computed[65];
    char declared[128];
    const char *payload;
    enum s3_error e = S3E_NONE;
    int rc;

    if (strcmp(a->akid, cfg->access_key) != 0) {
        struct s3_error_field f = {"AWSAccessKeyId", a->akid};
        s3_reply_error(q, S3E_INVALID_ACCESS_KEY_ID, NULL, &f, 1);
        return S3E_INVALID_ACCESS_KEY_ID;
    }
    if (strcmp(a->service, q->service) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "The credential scope must name the service %s.", q->service);
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED, msg, NULL, 0);
        return S3E_AUTH_HEADER_MALFORMED;
    }
    for (size_t i = 0; i < r->head.nheaders; i++) {
        hdrs[i].name = r->head.headers[i].name;
        hdrs[i].name_len = r->head.headers[i].name_len;
        hdrs[i].value = r->head.headers[i].value;
        hdrs[i].value_len = r->head.headers[i].value_len;
    }
    snprintf(method, sizeof(method), "%.*s", (int)r->head.method_len, r->head.method);
    if (body_sha256 != NULL) {
        payload = body_sha256;
    } else if (presigned) {
        payload = "UNSIGNED-PAYLOAD";
    } else if (q->auth.payload == S3_PAYLOAD_SHA256) {
        payload = q->auth.payload_sha256;
    } else {
        s3_req_header(q, "x-amz-content-sha256", declared, sizeof(declared));
        payload = declared;
    }
    bb_buf_init(&creq, AUTH_MAX_TEXT);
    bb_buf_init(&sts, AUTH_MAX_TEXT);
    rc = s3_sigv4_canonical_request(&creq, method, r->head.path, r->head.path_len,
                                    r->head.query, r->head.query ? r->head.query_len : 0, hdrs,
                                    r->head.nheaders, a->signed_headers, payload, presigned);
    if (rc < 0) {
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED,
                       rc == BB_ETOOBIG ? "The request is too large to sign."
                                        : "A signed header is missing or the URI is malformed.",
                       NULL, 0);
        e = S3E_AUTH_HEADER_MALFORMED;
        goto out;
    }
    s3_sigv4_string_to_sign(&sts, a->amz_date, a->scope, creq.data, creq.len);
    s3_sigv4_signing_key(cfg->secret_key, a->date, a->region, a->service, q->auth.signing_key);
    s3_sigv4_sign(q->auth.signing_key, sts.data, sts.len, computed);
    if (strlen(a->signature) != 64 || !bb_ct_equal(computed, a->signature, 64)) {
        e = mismatch(q, a, &creq, &sts);
        goto out;
    }
    memcpy(q->auth.amz_date, a->amz_date, sizeof(q->auth.amz_date));
    snprintf(q->auth.scope, sizeof(q->auth.scope), "%s", a->scope);
    memcpy(q->auth.seed_signature, a->signature, 65);
    q->auth.authenticated = 1;
out:
    bb_buf_cleanup(&creq);
    bb_buf_cleanup(&sts);
    return e;
}

static enum s3_error check_header(struct s3_req *q, const char *authz, size_t len)
{
    const struct config *cfg = q->srv->cfg;
    struct s3_sigv4_auth a;
    const char *why = NULL;
    char date[64];
    time_t t, now = time(NULL);
    enum s3_error e;

    memset(&a, 0, sizeof(a));
    if (s3_sigv4_parse_header(authz, len, &a, &why) < 0) {
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED, why, NULL, 0);
        return S3E_AUTH_HEADER_MALFORMED;
    }
    if (s3_req_header(q, "x-amz-date", date, sizeof(date)) != NULL) {
        if (parse_amz_date(date, &t) < 0) {
            s3_reply_error(q, S3E_ACCESS_DENIED, "X-Amz-Date must be in ISO 8601 basic format",
                           NULL, 0);
            return S3E_ACCESS_DENIED;
        }
        memcpy(a.amz_date, date, 17); /* parse_amz_date checked: 16 chars + NUL */
    } else if (s3_req_header(q, "date", date, sizeof(date)) != NULL &&
               parse_http_date(date, &t) == 0) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(a.amz_date, sizeof(a.amz_date), "%Y%m%dT%H%M%SZ", &tm);
    } else {
        s3_reply_error(q, S3E_ACCESS_DENIED,
                       "AWS authentication requires a valid Date or x-amz-date header", NULL, 0);
        return S3E_ACCESS_DENIED;
    }
    if (strncmp(a.amz_date, a.date, 8) != 0) {
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED,
                       "The date in the credential scope does not match the request date.", NULL,
                       0);
        return S3E_AUTH_HEADER_MALFORMED;
    }
    if (t > now + cfg->max_skew_s || t < now - cfg->max_skew_s) {
        char rt[32], st[32];
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(st, sizeof(st), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(rt, sizeof(rt), "%s", a.amz_date);
        struct s3_error_field f[] = {{"RequestTime", rt},
                                     {"ServerTime", st},
                                     {"MaxAllowedSkewMilliseconds", "900000"}};
        s3_reply_error(q, S3E_REQUEST_TIME_TOO_SKEWED, NULL, f, 3);
        return S3E_REQUEST_TIME_TOO_SKEWED;
    }
    if (strcmp(q->service, "s3") != 0 &&
        http_head_get(&q->http->head, "x-amz-content-sha256", NULL) == NULL) {
        q->auth.payload = S3_PAYLOAD_UNSIGNED;
        q->auth.deferred = 1;
        q->auth.pending = a;
        return S3E_NONE;
    }
    e = declare_payload(q, 1);
    if (e != S3E_NONE)
        return e;
    return verify(q, &a, 0, NULL);
}

static enum s3_error check_presigned(struct s3_req *q)
{
    struct http_req *r = q->http;
    struct s3_sigv4_auth a;
    const char *why = NULL;
    time_t t, now = time(NULL);
    int rc;

    memset(&a, 0, sizeof(a));
    rc = s3_sigv4_parse_query(r->head.query, r->head.query_len, &a, &why);
    if (rc < 0) {
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED, why, NULL, 0);
        return S3E_AUTH_HEADER_MALFORMED;
    }
    if (parse_amz_date(a.amz_date, &t) < 0 || a.expires < 1 ||
        a.expires > AUTH_MAX_PRESIGN_EXPIRES) {
        s3_reply_error(q, S3E_AUTH_HEADER_MALFORMED,
                       "X-Amz-Date must be ISO 8601 basic and X-Amz-Expires 1..604800", NULL, 0);
        return S3E_AUTH_HEADER_MALFORMED;
    }
    if (now > t + a.expires) {
        s3_reply_error(q, S3E_ACCESS_DENIED, "Request has expired", NULL, 0);
        return S3E_ACCESS_DENIED;
    }
    if (t > now + q->srv->cfg->max_skew_s) {
        s3_reply_error(q, S3E_ACCESS_DENIED, "Request is not valid yet", NULL, 0);
        return S3E_ACCESS_DENIED;
    }
    q->auth.payload = S3_PAYLOAD_UNSIGNED;
    enum s3_error e = verify(q, &a, 1, NULL);
    if (e == S3E_NONE)
        q->auth.presigned = 1;
    return e;
}

enum s3_error s3_auth_finish_deferred(struct s3_req *q, const char *payload_sha256)
{
    if (!q->auth.deferred)
        return S3E_NONE;
    q->auth.deferred = 0;
    return verify(q, &q->auth.pending, 0, payload_sha256);
}

/* Value of query parameter @name, decoded, into @out (size @n); NULL if absent. */
static const char *query_param(const struct http_req *r, const char *name, char *out, size_t n)
{
    const char *qs = r->head.query;
    size_t ql = r->head.query_len, nl = strlen(name);
    for (size_t i = 0; qs != NULL && i < ql;) {
        const char *amp = memchr(qs + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - qs) : ql;
        if (end - i > nl && memcmp(qs + i, name, nl) == 0 && qs[i + nl] == '=') {
            struct bb_buf b;
            bb_buf_init(&b, n > 0 ? n - 1 : 0);
            if (s3_sigv4_uri_decode(&b, qs + i + nl + 1, end - i - nl - 1, true) < 0) {
                bb_buf_cleanup(&b);
                return NULL;
            }
            snprintf(out, n, "%s", b.data ? b.data : "");
            bb_buf_cleanup(&b);
            return out;
        }
        i = end + 1;
    }
    return NULL;
}

/* SigV2: "Authorization: AWS AKID:SIG" (@authz), or the query form
 * (AWSAccessKeyId, Expires, Signature) when @authz is NULL. */
static enum s3_error check_v2(struct s3_req *q, const char *authz, size_t len)
{
    const struct config *cfg = q->srv->cfg;
    struct http_req *r = q->http;
    struct s3_sigv4_header hdrs[HTTP_MAX_HEADERS];
    char akid[129], sig[64], date[64], expires[32], method[16], computed[32];
    char *resource = NULL;
    struct bb_buf sts;
    time_t t, now = time(NULL);
    enum s3_error e = S3E_NONE;

    if (authz != NULL) {
        if (s3_sigv2_parse_header(authz, len, akid, sig) < 0) {
            s3_reply_error(q, S3E_INVALID_ARGUMENT, "Malformed SigV2 Authorization header", NULL,
                           0);
            return S3E_INVALID_ARGUMENT;
        }
        if (s3_req_header(q, "x-amz-date", date, sizeof(date)) != NULL) {
            if (parse_http_date(date, &t) < 0) {
                s3_reply_error(q, S3E_ACCESS_DENIED, "x-amz-date is not an HTTP date", NULL, 0);
                return S3E_ACCESS_DENIED;
            }
            date[0] = '\0'; /* x-amz-date is signed among the amz headers */
        } else if (s3_req_header(q, "date", date, sizeof(date)) == NULL ||
                   parse_http_date(date, &t) < 0) {
            s3_reply_error(q, S3E_ACCESS_DENIED,
                           "AWS authentication requires a valid Date or x-amz-date header", NULL,
                           0);
            return S3E_ACCESS_DENIED;
        }
        if (t > now + cfg->max_skew_s || t < now - cfg->max_skew_s) {
            s3_reply_error(q, S3E_REQUEST_TIME_TOO_SKEWED, NULL, NULL, 0);
            return S3E_REQUEST_TIME_TOO_SKEWED;
        }
    } else {
        if (query_param(r, "AWSAccessKeyId", akid, sizeof(akid)) == NULL ||
            query_param(r, "Signature", sig, sizeof(sig)) == NULL ||
            query_param(r, "Expires", expires, sizeof(expires)) == NULL) {
            s3_reply_error(q, S3E_ACCESS_DENIED,
                           "Query-string authentication requires the Signature, Expires and "
                           "AWSAccessKeyId parameters",
                           NULL, 0);
            return S3E_ACCESS_DENIED;
        }
        if (strtoll(expires, NULL, 10) < (long long)now) {
            s3_reply_error(q, S3E_ACCESS_DENIED, "Request has expired", NULL, 0);
            return S3E_ACCESS_DENIED;
        }
        snprintf(date, sizeof(date), "%s", expires);
    }
    if (strcmp(akid, cfg->access_key) != 0) {
        struct s3_error_field f = {"AWSAccessKeyId", akid};
        s3_reply_error(q, S3E_INVALID_ACCESS_KEY_ID, NULL, &f, 1);
        return S3E_INVALID_ACCESS_KEY_ID;
    }
    for (size_t i = 0; i < r->head.nheaders; i++) {
        hdrs[i].name = r->head.headers[i].name;
        hdrs[i].name_len = r->head.headers[i].name_len;
        hdrs[i].value = r->head.headers[i].value;
        hdrs[i].value_len = r->head.headers[i].value_len;
    }
    snprintf(method, sizeof(method), "%.*s", (int)r->head.method_len, r->head.method);
    bb_buf_init(&sts, AUTH_MAX_TEXT);
    /* virtual-host style signs the resource as "/bucket" + path */
    if (q->vhost)
        resource = bb_xasprintf("/%s%.*s", q->bucket, (int)r->head.path_len, r->head.path);
    if (s3_sigv2_string_to_sign(&sts, method, resource ? resource : r->head.path,
                                resource ? strlen(resource) : r->head.path_len, r->head.query,
                                r->head.query ? r->head.query_len : 0, hdrs, r->head.nheaders,
                                date) < 0) {
        free(resource);
        bb_buf_cleanup(&sts);
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "The request cannot be canonicalized for SigV2",
                       NULL, 0);
        return S3E_INVALID_ARGUMENT;
    }
    s3_sigv2_sign(cfg->secret_key, sts.data, sts.len, computed);
    if (strlen(computed) != strlen(sig) || !bb_ct_equal(computed, sig, strlen(sig))) {
        struct bb_buf bytes;
        bb_buf_init(&bytes, AUTH_MAX_TEXT * 3);
        hex_bytes(&bytes, sts.data, sts.len);
        struct s3_error_field f[] = {{"AWSAccessKeyId", akid},
                                     {"StringToSign", sts.data},
                                     {"SignatureProvided", sig},
                                     {"StringToSignBytes", bytes.data ? bytes.data : ""}};
        s3_reply_error(q, S3E_SIGNATURE_DOES_NOT_MATCH, NULL, f, 4);
        bb_buf_cleanup(&bytes);
        e = S3E_SIGNATURE_DOES_NOT_MATCH;
    } else {
        q->auth.payload = S3_PAYLOAD_UNSIGNED;
        q->auth.authenticated = 1;
    }
    free(resource);
    bb_buf_cleanup(&sts);
    return e;
}

enum s3_error s3_auth_check(struct s3_req *q)
{
    struct http_req *r = q->http;
    size_t len = 0;
    const char *authz = http_head_get(&r->head, "authorization", &len);

    if (!q->srv->cfg->auth_enabled)
        return declare_payload(q, 0);
    if (authz != NULL) {
        if (len > 17 && strncmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0)
            return check_header(q, authz, len);
        if (len > 4 && strncmp(authz, "AWS ", 4) == 0)
            return check_v2(q, authz, len);
        s3_reply_error(q, S3E_INVALID_ARGUMENT, "Unsupported Authorization Type", NULL, 0);
        return S3E_INVALID_ARGUMENT;
    }
    if (r->head.query != NULL &&
        memmem(r->head.query, r->head.query_len, "X-Amz-Algorithm=", 16) != NULL)
        return check_presigned(q);
    if (r->head.query != NULL &&
        memmem(r->head.query, r->head.query_len, "Signature=", 10) != NULL)
        return check_v2(q, NULL, 0);
    s3_reply_error(q, S3E_ACCESS_DENIED,
                   "Anonymous access is not allowed: sign requests (credentials are printed at "
                   "start), or start bucketbridge with --auth none.",
                   NULL, 0);
    return S3E_ACCESS_DENIED;
}
