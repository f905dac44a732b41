/* SPDX-License-Identifier: MIT */
/*
 * s3_post: POST Object, the browser form upload. The multipart/form-data
 * body is parsed as it streams (s3_form): the fields before the file are
 * kept (at most 20 KiB, as S3), and when the file part begins the request
 * is authenticated from them (a SigV4 or SigV2 signature over the base64
 * policy) and the policy is enforced (expiration, eq / starts-with, every
 * field covered); the file then streams through the usual body pipeline
 * (s3_body: MD5, CRC64NVME, a temporary file) and content-length-range is
 * checked as bytes arrive and at the end. Fields after the file are
 * ignored, as S3 does. Commit is store_object_commit with reason
 * "POST Object".
 */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "config.h"
#include "http_conn.h"
#include "s3_form.h"
#include "s3_handler.h"
#include "s3_sigv2.h"
#include "s3_sigv4.h"
#include "s3_xml.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define POST_PRE_DATA_MAX (20 * 1024) /* S3's cap on the fields before the file */
#define POST_MAX_FIELDS 100

struct s3_post {
    struct s3_form form;
    cJSON *fields;  /* lowercased name -> value (first one wins) */
    char *cur_name; /* the field being read; NULL in the file part */
    struct bb_buf cur;
    size_t pre_data; /* bytes of names and values so far */
    int in_file;
    int file_seen;
    int failed; /* answered with an error: ignore the rest */
    char *filename;
    char *key; /* after ${filename} substitution */
    int has_range;
    uint64_t range_min, range_max;
};

static const char *field(const struct s3_post *p, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->fields, name));
}

void s3_post_free(struct s3_post *p)
{
    if (p == NULL)
        return;
    s3_form_cleanup(&p->form);
    cJSON_Delete(p->fields);
    free(p->cur_name);
    bb_buf_cleanup(&p->cur);
    free(p->filename);
    free(p->key);
    free(p);
}

static void fail(struct s3_req *q, enum s3_error e, const char *msg)
{
    q->post->failed = 1;
    s3_reply_error(q, e, msg, NULL, 0);
}

static void policy_fail(struct s3_req *q, const char *what, const cJSON *cond)
{
    char msg[1200];
    char *text = cond != NULL ? cJSON_PrintUnformatted(cond) : NULL;
    snprintf(msg, sizeof(msg), "Invalid according to Policy: %s%s", what, text ? text : "");
    cJSON_free(text);
    fail(q, S3E_ACCESS_DENIED, msg);
}

/* "2007-12-01T12:00:00.000Z" (fraction optional). */
static int parse_expiration(const char *s, time_t *out)
{
    struct tm tm;
    const char *end;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return BB_EINVAL;
    if (*end == '.')
        for (end++; isdigit((unsigned char)*end); end++)
            ;
    if (strcmp(end, "Z") != 0)
        return BB_EINVAL;
    *out = timegm(&tm);
    return BB_OK;
}

/* The form value a policy condition names ("$key" -> field "key"). */
static const char *cond_value(struct s3_req *q, const char *ref)
{
    char name[128];
    size_t i;
    const char *v;

    if (ref[0] == '$')
        ref++;
    for (i = 0; ref[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)ref[i]);
    name[i] = '\0';
    if (strcmp(name, "bucket") == 0)
        return q->bucket;
    v = field(q->post, name);
    return v != NULL ? v : "";
}

static int is_exempt(const char *name)
{
    return strcmp(name, "policy") == 0 || strcmp(name, "x-amz-signature") == 0 ||
           strcmp(name, "signature") == 0 || strcmp(name, "awsaccesskeyid") == 0 ||
           strcmp(name, "file") == 0 || strncmp(name, "x-ignore-", 9) == 0;
}

/* Marks the field a condition covers. */
static void cover(cJSON *covered, const char *ref)
{
    char name[128];
    size_t i;
    if (ref[0] == '$')
        ref++;
    for (i = 0; ref[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)ref[i]);
    name[i] = '\0';
    if (cJSON_GetObjectItemCaseSensitive(covered, name) == NULL)
        cJSON_AddTrueToObject(covered, name);
}

/* Standard base64 (padding optional) into @out (at least 3 * n / 4 + 3
 * bytes). Returns the length, or -1. bb_base64_decode is sized for
 * checksums; a policy is up to 20 KiB. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    unsigned int acc = 0;
    int bits = 0;
    long o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=' && n - i <= 2)
            break;
        else
            return -1;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o;
}

/* Evaluates the policy document; answers and returns -1 on a violation. */
static int check_policy(struct s3_req *q, const char *policy_b64)
{
    struct s3_post *p = q->post;
    size_t n = strlen(policy_b64);
    unsigned char *raw = bb_xmalloc(n + 4);
    long len = b64_decode(policy_b64, n, raw);
    cJSON *doc = len >= 0 ? cJSON_ParseWithLength((const char *)raw, (size_t)len) : NULL;
    cJSON *covered = cJSON_CreateObject();
    const cJSON *conds, *c, *f;
    const char *exp;
    time_t t;
    int rc = -1;

    free(raw);
    if (!cJSON_IsObject(doc)) {
        fail(q, S3E_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid JSON.");
        goto out;
    }
    exp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "expiration"));
    if (exp == NULL || parse_expiration(exp, &t) < 0) {
        fail(q, S3E_INVALID_POLICY_DOCUMENT,
             exp == NULL ? "Invalid Policy: Policy missing expiration."
                         : "Invalid Policy: Invalid 'expiration' value: must be ISO 8601 UTC.");
        goto out;
    }
    if (time(NULL) > t) {
        policy_fail(q, "Policy expired.", NULL);
        goto out;
    }
    conds = cJSON_GetObjectItemCaseSensitive(doc, "conditions");
    if (!cJSON_IsArray(conds)) {
        fail(q, S3E_INVALID_POLICY_DOCUMENT, "Invalid Policy: Policy missing conditions.");
        goto out;
    }
    cJSON_ArrayForEach(c, conds)
    {
        if (cJSON_IsObject(c) && cJSON_GetArraySize(c) == 1 && cJSON_IsString(c->child)) {
            /* {"field": "value"}: exact match */
            cover(covered, c->child->string);
            if (strcmp(cond_value(q, c->child->string), c->child->valuestring) != 0) {
                policy_fail(q, "Policy Condition failed: ", c);
                goto out;
            }
            continue;
        }
        const char *op = cJSON_GetStringValue(cJSON_GetArrayItem(c, 0));
        if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 3 || op == NULL) {
            policy_fail(q, "Invalid Policy: Invalid Condition: ", c);
            goto out;
        }
        if (strcasecmp(op, "content-length-range") == 0) {
            const cJSON *lo = cJSON_GetArrayItem(c, 1), *hi = cJSON_GetArrayItem(c, 2);
            if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || lo->valuedouble < 0 ||
                hi->valuedouble < lo->valuedouble) {
                fail(q, S3E_INVALID_POLICY_DOCUMENT,
                     "Invalid Policy: Invalid content-length-range values.");
                goto out;
            }
            p->has_range = 1;
            p->range_min = (uint64_t)lo->valuedouble;
            p->range_max = (uint64_t)hi->valuedouble;
            continue;
        }
        const char *ref = cJSON_GetStringValue(cJSON_GetArrayItem(c, 1));
        const char *want = cJSON_GetStringValue(cJSON_GetArrayItem(c, 2));
        if (ref == NULL || want == NULL || ref[0] != '$' ||
            (strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0)) {
            policy_fail(q, "Invalid Policy: Invalid Condition: ", c);
            goto out;
        }
        cover(covered, ref);
        const char *have = cond_value(q, ref);
        int ok = strcasecmp(op, "eq") == 0 ? strcmp(have, want) == 0
                                           : strncmp(have, want, strlen(want)) == 0;
        if (!ok) {
            policy_fail(q, "Policy Condition failed: ", c);
            goto out;
        }
    }
    /* every field must be named by a condition */
    cJSON_ArrayForEach(f, p->fields)
    {
        if (is_exempt(f->string) || cJSON_GetObjectItemCaseSensitive(covered, f->string) != NULL)
            continue;
        char msg[256];
        snprintf(msg, sizeof(msg), "Invalid according to Policy: Extra input fields: %s",
                 f->string);
        fail(q, S3E_ACCESS_DENIED, msg);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(covered);
    cJSON_Delete(doc);
    return rc;
}

/* The form's signature over the policy; answers and returns -1 when bad. */
static int check_signature(struct s3_req *q, const char *policy)
{
    const struct config *cfg = q->srv->cfg;
    const char *sig4 = field(q->post, "x-amz-signature");
    const char *sig2 = field(q->post, "signature");

    if (sig4 != NULL) {
        const char *alg = field(q->post, "x-amz-algorithm");
        const char *cred = field(q->post, "x-amz-credential");
        char parts[5][128];
        unsigned char key[32];
        char computed[65];
        int np = 0;
        if (alg == NULL || strcmp(alg, "AWS4-HMAC-SHA256") != 0 || cred == NULL) {
            fail(q, S3E_INVALID_ARGUMENT,
                 "POST with x-amz-signature needs x-amz-algorithm AWS4-HMAC-SHA256 and "
                 "x-amz-credential fields.");
            return -1;
        }
        for (const char *s = cred; np < 5; np++) {
            const char *slash = strchr(s, '/');
            size_t l = slash ? (size_t)(slash - s) : strlen(s);
            if (l >= sizeof(parts[0]))
                break;
            memcpy(parts[np], s, l);
            parts[np][l] = '\0';
            if (slash == NULL) {
                np++;
                break;
            }
            s = slash + 1;
        }
        if (np != 5 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8) {
            fail(q, S3E_INVALID_ARGUMENT,
                 "Invalid x-amz-credential field: want "
                 "AKID/YYYYMMDD/region/s3/aws4_request.");
            return -1;
        }
        if (strcmp(parts[0], cfg->access_key) != 0) {
            struct s3_error_field f = {"AWSAccessKeyId", parts[0]};
            q->post->failed = 1;
            s3_reply_error(q, S3E_INVALID_ACCESS_KEY_ID, NULL, &f, 1);
            return -1;
        }
        s3_sigv4_signing_key(cfg->secret_key, parts[1], parts[2], parts[3], key);
        s3_sigv4_sign(key, policy, strlen(policy), computed);
        if (strlen(sig4) != 64 || !bb_ct_equal(computed, sig4, 64)) {
            fail(q, S3E_SIGNATURE_DOES_NOT_MATCH, NULL);
            return -1;
        }
        return 0;
    }
    if (sig2 != NULL) {
        const char *akid = field(q->post, "awsaccesskeyid");
        char computed[32];
        if (akid == NULL || strcmp(akid, cfg->access_key) != 0) {
            struct s3_error_field f = {"AWSAccessKeyId", akid ? akid : ""};
            q->post->failed = 1;
            s3_reply_error(q, S3E_INVALID_ACCESS_KEY_ID, NULL, &f, 1);
            return -1;
        }
        s3_sigv2_sign(cfg->secret_key, policy, strlen(policy), computed);
        if (strlen(computed) != strlen(sig2) || !bb_ct_equal(computed, sig2, strlen(sig2))) {
            fail(q, S3E_SIGNATURE_DOES_NOT_MATCH, NULL);
            return -1;
        }
        return 0;
    }
    fail(q, S3E_ACCESS_DENIED,
         "Anonymous POST is not allowed: sign the policy (x-amz-signature "
         "or signature field).");
    return -1;
}

/* "uploads/${filename}" -> "uploads/photo.jpg". */
static char *substitute(const char *key, const char *filename)
{
    struct bb_buf b;
    const char *s = key, *hit;
    bb_buf_init(&b, 64 * 1024);
    while ((hit = strstr(s, "${filename}")) != NULL) {
        bb_buf_append(&b, s, (size_t)(hit - s));
        bb_buf_appends(&b, filename ? filename : "");
        s = hit + 11;
    }
    bb_buf_appends(&b, s);
    return bb_buf_detach(&b, NULL);
}

/* The file part begins: everything needed to authorize is known. */
static int file_begin(struct s3_req *q, const struct s3_form_part *part)
{
    struct s3_post *p = q->post;
    const char *policy = field(p, "policy");
    const char *key = field(p, "key");
    const char *why = NULL;
    enum s3_error e;
    char *path;
    int rc;

    if (p->file_seen) {
        fail(q, S3E_INCORRECT_NUMBER_OF_FILES, NULL);
        return -1;
    }
    p->file_seen = 1;
    p->filename = bb_xstrdup(part->filename ? part->filename : "");
    if (q->srv->cfg->auth_enabled) {
        if (policy == NULL) {
            fail(q, S3E_INVALID_ARGUMENT,
                 "Bucket POST must contain a field named 'policy'. If it is specified, please "
                 "check the order of the fields.");
            return -1;
        }
        if (check_signature(q, policy) < 0)
            return -1;
    }
    if (policy != NULL && check_policy(q, policy) < 0)
        return -1;
    if (key == NULL || key[0] == '\0') {
        fail(q, S3E_INVALID_ARGUMENT,
             "Bucket POST must contain a field named 'key'. If it is specified, please check the "
             "order of the fields.");
        return -1;
    }
    p->key = substitute(key, p->filename);
    free(q->key);
    q->key = bb_xstrdup(p->key);
    path = store_object_path(q->store, q->bucket, q->key, &why, &rc);
    if (path == NULL) {
        fail(q, rc == BB_ETOOBIG ? S3E_KEY_TOO_LONG : S3E_INVALID_ARGUMENT, why);
        return -1;
    }
    free(path);
    e = s3_body_begin(q, 1, 0, BB_CHECKSUM_CRC64NVME);
    if (e != S3E_NONE) {
        fail(q, e, q->body.err_msg);
        return -1;
    }
    q->body.declared_len = UINT64_MAX; /* the file is part of a larger body */
    p->in_file = 1;
    return 0;
}

static int on_begin(void *arg, const struct s3_form_part *part)
{
    struct s3_req *q = arg;
    struct s3_post *p = q->post;
    char name[128];
    size_t i;

    if (p->failed)
        return BB_EINVAL;
    if (strcasecmp(part->name, "file") == 0)
        return file_begin(q, part) < 0 ? BB_EINVAL : BB_OK;
    for (i = 0; part->name[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)part->name[i]);
    name[i] = '\0';
    p->pre_data += i;
    if (cJSON_GetArraySize(p->fields) >= POST_MAX_FIELDS || p->pre_data > POST_PRE_DATA_MAX) {
        fail(q, S3E_MAX_POST_PRE_DATA_LENGTH_EXCEEDED, NULL);
        return BB_EINVAL;
    }
    free(p->cur_name);
    p->cur_name = bb_xstrdup(name);
    bb_buf_reset(&p->cur);
    return BB_OK;
}

static int on_data(void *arg, const char *d, size_t n)
{
    struct s3_req *q = arg;
    struct s3_post *p = q->post;
    enum s3_error e;

    if (p->failed)
        return BB_EINVAL;
    if (!p->in_file) {
        p->pre_data += n;
        if (p->pre_data > POST_PRE_DATA_MAX || bb_buf_append(&p->cur, d, n) < 0) {
            fail(q, S3E_MAX_POST_PRE_DATA_LENGTH_EXCEEDED, NULL);
            return BB_EINVAL;
        }
        return BB_OK;
    }
    e = s3_body_feed(q, d, n);
    if (e != S3E_NONE) {
        fail(q, e, q->body.err_msg);
        return BB_EINVAL;
    }
    if (p->has_range && q->body.size > p->range_max) {
        char max[32], got[32];
        snprintf(max, sizeof(max), "%llu", (unsigned long long)p->range_max);
        snprintf(got, sizeof(got), "%llu", (unsigned long long)q->body.size);
        struct s3_error_field f[] = {{"ProposedSize", got}, {"MaxSizeAllowed", max}};
        p->failed = 1;
        s3_reply_error(q, S3E_ENTITY_TOO_LARGE, NULL, f, 2);
        return BB_EINVAL;
    }
    return BB_OK;
}

static int on_end(void *arg)
{
    struct s3_req *q = arg;
    struct s3_post *p = q->post;

    if (p->in_file) {
        p->in_file = 0;
        return 1; /* fields after the file are ignored, as S3 does */
    }
    if (p->cur_name != NULL && cJSON_GetObjectItemCaseSensitive(p->fields, p->cur_name) == NULL) {
        bb_buf_append(&p->cur, "", 1);
        cJSON_AddStringToObject(p->fields, p->cur_name, p->cur.data);
    }
    free(p->cur_name);
    p->cur_name = NULL;
    return 0;
}

static int post_body(struct http_req *r, const char *d, size_t n)
{
    struct s3_req *q = r->ctx;
    const char *why = NULL;
    int rc;

    if (q->post->failed)
        return 0;
    rc = s3_form_feed(&q->post->form, d, n, &why);
    if (rc < 0 && !q->post->failed)
        fail(q, S3E_MALFORMED_POST_REQUEST, why);
    return 0;
}

/* The headers an object keeps, from the form fields (as PutObject keeps
 * them from request headers). */
static char *stored_headers(const struct s3_post *p)
{
    static const char *const kept[][2] = {{"cache-control", "Cache-Control"},
                                          {"content-disposition", "Content-Disposition"},
                                          {"content-encoding", "Content-Encoding"},
                                          {"content-language", "Content-Language"},
                                          {"expires", "Expires"}};
    cJSON *arr = cJSON_CreateArray();
    const cJSON *f;
    char *text, *out;

    cJSON_ArrayForEach(f, p->fields)
    {
        const char *name = NULL;
        if (strncmp(f->string, "x-amz-meta-", 11) == 0 && f->string[11] != '\0')
            name = f->string;
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
            if (strcmp(f->string, kept[i][0]) == 0)
                name = kept[i][1];
        if (name == NULL)
            continue;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(name));
        cJSON_AddItemToArray(pair, cJSON_CreateString(f->valuestring));
        cJSON_AddItemToArray(arr, pair);
    }
    text = cJSON_PrintUnformatted(arr);
    out = bb_xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(arr);
    return out;
}

/* success_action_redirect: 303 to the URL with bucket, key and etag. */
static void redirect(struct s3_req *q, const char *url, const char *etag)
{
    struct bb_buf b;
    char quoted[80];

    bb_buf_init(&b, 16 * 1024);
    bb_buf_appendf(&b, "%s%sbucket=", url, strchr(url, '?') ? "&" : "?");
    s3_sigv4_uri_encode(&b, q->bucket, strlen(q->bucket), false);
    bb_buf_appends(&b, "&key=");
    s3_sigv4_uri_encode(&b, q->key, strlen(q->key), false);
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    bb_buf_appends(&b, "&etag=");
    s3_sigv4_uri_encode(&b, quoted, strlen(quoted), false);
    http_resp_header(q->http, "Location", "%s", b.data);
    bb_buf_cleanup(&b);
    s3_reply_empty(q, 303);
}

static void post_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    struct s3_post *p = q->post;
    struct s3_body *b = &q->body;
    struct store_object o;
    struct store_cause cause;
    struct timespec ts;
    const char *why = NULL;
    const char *v;
    char host[256];
    char *tags_text = NULL;
    cJSON *tags = NULL;
    enum s3_error e;
    int rc;

    memset(&o, 0, sizeof(o));
    if (p->failed)
        return;
    if (!p->file_seen) {
        fail(q, s3_form_done(&p->form) ? S3E_INCORRECT_NUMBER_OF_FILES : S3E_MALFORMED_POST_REQUEST,
             NULL);
        return;
    }
    if (p->in_file) {
        fail(q, S3E_MALFORMED_POST_REQUEST, "The file part is not terminated by the boundary.");
        return;
    }
    e = s3_body_finish(q);
    if (e != S3E_NONE) {
        fail(q, e, b->err_msg);
        return;
    }
    if (p->has_range && (b->size < p->range_min || b->size > p->range_max)) {
        char lim[32], got[32];
        int small = b->size < p->range_min;
        snprintf(lim, sizeof(lim), "%llu",
                 (unsigned long long)(small ? p->range_min : p->range_max));
        snprintf(got, sizeof(got), "%llu", (unsigned long long)b->size);
        struct s3_error_field f[] = {{"ProposedSize", got},
                                     {small ? "MinSizeAllowed" : "MaxSizeAllowed", lim}};
        p->failed = 1;
        s3_reply_error(q, small ? S3E_ENTITY_TOO_SMALL : S3E_ENTITY_TOO_LARGE, NULL, f, 2);
        return;
    }
    if ((v = field(p, "tagging")) != NULL) {
        if (s3_xml_parse_tagging(v, strlen(v), &tags, &why) < 0) {
            cJSON_Delete(tags);
            fail(q, S3E_MALFORMED_XML, why);
            return;
        }
        char *t = cJSON_PrintUnformatted(tags);
        tags_text = bb_xstrdup(t);
        cJSON_free(t);
        cJSON_Delete(tags);
    }
    close(b->fd);
    b->fd = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    o.key = q->key;
    o.size = b->size;
    o.etag = b->etag;
    v = field(p, "content-type");
    o.content_type = (char *)(v != NULL && v[0] != '\0' ? v : "binary/octet-stream");
    o.mtime_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o.headers = stored_headers(p);
    o.checksum_alg = (char *)bb_checksum_alg_name(b->ck_alg);
    o.checksum = b->checksum;
    o.tags = tags_text;
    s3_req_cause(q, "POST Object", &cause);
    rc = store_object_commit(q->store, q->bucket, b->tmp_path, &o, &cause);
    free(o.headers);
    free(tags_text);
    if (rc < 0) {
        enum s3_error se = s3_error_from_rc(rc);
        if (se == S3E_INTERNAL_ERROR)
            BB_LOG_ERROR("s3", "commit failed", "req=%s error=\"%s\"", q->http->request_id,
                         bb_strerror(rc));
        fail(q, se, NULL);
        return;
    }
    free(b->tmp_path); /* renamed into place */
    b->tmp_path = NULL;
    http_resp_header(q->http, "ETag", "\"%s\"", b->etag);
    v = field(p, "success_action_redirect");
    if (v == NULL)
        v = field(p, "redirect");
    if (v != NULL && (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)) {
        redirect(q, v, b->etag);
        return;
    }
    {
        struct bb_buf loc;
        bb_buf_init(&loc, 16 * 1024);
        bb_buf_appendf(&loc, "%s://%s/%s/", q->http->tls ? "https" : "http",
                       s3_req_header(q, "host", host, sizeof(host)) ? host : "localhost",
                       q->bucket);
        s3_sigv4_uri_encode(&loc, q->key, strlen(q->key), false);
        http_resp_header(q->http, "Location", "%s", loc.data);
        v = field(p, "success_action_status");
        if (v != NULL && strcmp(v, "201") == 0) {
            struct bb_buf xml;
            bb_buf_init(&xml, 64 * 1024);
            bb_buf_appends(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>"
                                 "<Location>");
            bb_buf_append_xml(&xml, loc.data, loc.len);
            bb_buf_appends(&xml, "</Location><Bucket>");
            bb_buf_append_xml(&xml, q->bucket, strlen(q->bucket));
            bb_buf_appends(&xml, "</Bucket><Key>");
            bb_buf_append_xml(&xml, q->key, strlen(q->key));
            bb_buf_appendf(&xml, "</Key><ETag>&quot;%s&quot;</ETag></PostResponse>", b->etag);
            s3_reply_xml(q, 201, &xml);
            bb_buf_cleanup(&xml);
        } else {
            s3_reply_empty(q, v != NULL && strcmp(v, "200") == 0 ? 200 : 204);
        }
        bb_buf_cleanup(&loc);
    }
}

void s3_post_object(struct s3_req *q)
{
    char ct[512];
    char boundary[S3_FORM_BOUNDARY_MAX + 1];

    if (s3_req_header(q, "content-type", ct, sizeof(ct)) == NULL ||
        s3_form_boundary(ct, boundary, sizeof(boundary)) < 0 || !q->http->has_body) {
        s3_reply_error(q, S3E_MALFORMED_POST_REQUEST, NULL, NULL, 0);
        return;
    }
    q->post = bb_xcalloc(1, sizeof(*q->post));
    q->post->fields = cJSON_CreateObject();
    bb_buf_init(&q->post->cur, POST_PRE_DATA_MAX + 1);
    s3_form_init(&q->post->form, boundary, on_begin, on_data, on_end, q);
    q->http->on_body = post_body;
    q->http->on_end = post_end;
}
