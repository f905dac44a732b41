/* SPDX-License-Identifier: MIT */
/*
 * s3_tagging: PutObjectTagging, GetObjectTagging, DeleteObjectTagging and
 * the x-amz-tagging header of PutObject / CreateMultipartUpload /
 * CopyObject. A tag set is stored with the object's index row as a JSON
 * array of [key, value] pairs (document order kept); replacing the object
 * drops it, as S3 does. Put and Delete commit an "Object Tags Added" /
 * "Object Tags Deleted" event with the change (store_object_set_tags).
 */
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "s3_sigv4.h"
#include "s3_xml.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define TAGS_MAX 10
#define TAG_KEY_MAX 128   /* Unicode characters */
#define TAG_VALUE_MAX 256 /* Unicode characters */
#define TAGGING_BODY_MAX (64 * 1024)
#define TAGGING_HEADER_MAX 8192

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* S3's rules for a tag set: at most 10 tags, keys 1..128 and values
 * 0..256 characters, keys unique and not in the aws: namespace. */
static enum s3_error check_tags(const cJSON *tags, const char **msg)
{
    const cJSON *pair;
    int n = cJSON_GetArraySize(tags);

    if (n > TAGS_MAX) {
        *msg = "Object tags cannot be greater than 10";
        return S3E_INVALID_TAG;
    }
    cJSON_ArrayForEach(pair, tags)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
        const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
        if (k == NULL || v == NULL || k[0] == '\0' || utf8_chars(k) > TAG_KEY_MAX) {
            *msg = "The TagKey you have provided is invalid";
            return S3E_INVALID_TAG;
        }
        if (utf8_chars(v) > TAG_VALUE_MAX) {
            *msg = "The TagValue you have provided is invalid";
            return S3E_INVALID_TAG;
        }
        if (strncmp(k, "aws:", 4) == 0) {
            *msg = "Your TagKey cannot be prefixed with aws:";
            return S3E_INVALID_TAG;
        }
        for (const cJSON *o = tags->child; o != pair; o = o->next) {
            if (strcmp(cJSON_GetStringValue(cJSON_GetArrayItem(o, 0)), k) == 0) {
                *msg = "Cannot provide multiple Tags with the same key";
                return S3E_INVALID_TAG;
            }
        }
    }
    return S3E_NONE;
}

static char *print_tags(const cJSON *tags)
{
    char *text = cJSON_PrintUnformatted(tags);
    char *out = bb_xstrdup(text);
    cJSON_free(text);
    return out;
}

char *s3_tagging_from_header(struct s3_req *q, enum s3_error *e, const char **msg)
{
    char v[TAGGING_HEADER_MAX];
    cJSON *tags = NULL;
    struct bb_buf b;
    char *out = NULL;
    size_t len, start = 0;

    *e = S3E_NONE;
    if (s3_req_header(q, "x-amz-tagging", v, sizeof(v)) == NULL)
        return NULL;
    len = strlen(v);
    if (len == 0)
        return NULL;
    tags = cJSON_CreateArray();
    bb_buf_init(&b, TAGGING_HEADER_MAX);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != '&')
            continue;
        const char *part = v + start;
        size_t pl = i - start;
        const char *eq = memchr(part, '=', pl);
        size_t kl = eq ? (size_t)(eq - part) : pl;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(tags, pair);
        bb_buf_reset(&b);
        if (s3_sigv4_uri_decode(&b, part, kl, true) < 0)
            goto bad;
        cJSON_AddItemToArray(pair, cJSON_CreateString(b.data ? b.data : ""));
        bb_buf_reset(&b);
        if (eq != NULL && s3_sigv4_uri_decode(&b, eq + 1, pl - kl - 1, true) < 0)
            goto bad;
        cJSON_AddItemToArray(pair, cJSON_CreateString(eq && b.data ? b.data : ""));
        start = i + 1;
        if (cJSON_GetArraySize(tags) > TAGS_MAX)
            break;
    }
    *e = check_tags(tags, msg);
    if (*e == S3E_NONE)
        out = print_tags(tags);
    goto out;
bad:
    *e = S3E_INVALID_ARGUMENT;
    *msg = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
           "parameters without tag name duplicates.";
out:
    bb_buf_cleanup(&b);
    cJSON_Delete(tags);
    return out;
}

static void put_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    struct store_cause cause;
    cJSON *tags = NULL;
    const char *why = NULL;
    char *text = NULL;
    enum s3_error e = s3_body_finish(q);
    int rc;

    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        goto out;
    }
    if (s3_xml_parse_tagging(q->body.mem.data, q->body.mem.len, &tags, &why) < 0) {
        s3_reply_error(q, S3E_MALFORMED_XML, why, NULL, 0);
        goto out;
    }
    e = check_tags(tags, &why);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, why, NULL, 0);
        goto out;
    }
    text = print_tags(tags);
    s3_req_cause(q, "PutObjectTagging", &cause);
    rc = store_object_set_tags(q->store, q->bucket, q->key, text, &cause);
    if (rc == BB_ENOTFOUND) {
        s3_reply_key_error(q, S3E_NO_SUCH_KEY, NULL);
        goto out;
    }
    if (rc < 0) {
        BB_LOG_ERROR("s3", "tagging failed", "req=%s error=\"%s\"", q->http->request_id,
                     bb_strerror(rc));
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        goto out;
    }
    s3_reply_empty(q, 200);
out:
    free(text);
    cJSON_Delete(tags);
}

static int put_body(struct http_req *r, const char *p, size_t n)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, n);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

void s3_tagging_put(struct s3_req *q)
{
    enum s3_error e;

    if (!q->http->has_body) {
        s3_reply_error(q, S3E_MALFORMED_XML, NULL, NULL, 0);
        return;
    }
    e = s3_body_begin(q, 0, TAGGING_BODY_MAX, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    q->http->on_body = put_body;
    q->http->on_end = put_end;
}

void s3_tagging_get(struct s3_req *q)
{
    struct store_object o;
    struct bb_buf b;
    cJSON *tags = NULL;
    const cJSON *pair;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = store_index_get(store_get_index(q->store), q->bucket, q->key, &o);
    if (rc < 0) {
        s3_reply_key_error(q, rc == BB_ENOTFOUND ? S3E_NO_SUCH_KEY : S3E_INTERNAL_ERROR, NULL);
        store_object_cleanup(&o);
        return;
    }
    bb_buf_init(&b, 256 * 1024);
    bb_buf_appends(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"" XMLNS
                       "\"><TagSet>");
    tags = o.tags ? cJSON_Parse(o.tags) : NULL;
    cJSON_ArrayForEach(pair, tags)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
        const char *v = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
        if (k == NULL || v == NULL)
            continue;
        bb_buf_appends(&b, "<Tag><Key>");
        bb_buf_append_xml(&b, k, strlen(k));
        bb_buf_appends(&b, "</Key><Value>");
        bb_buf_append_xml(&b, v, strlen(v));
        bb_buf_appends(&b, "</Value></Tag>");
    }
    bb_buf_appends(&b, "</TagSet></Tagging>");
    cJSON_Delete(tags);
    store_object_cleanup(&o);
    s3_reply_xml(q, 200, &b);
    bb_buf_cleanup(&b);
}

void s3_tagging_delete(struct s3_req *q)
{
    struct store_cause cause;
    int rc;

    s3_req_cause(q, "DeleteObjectTagging", &cause);
    rc = store_object_set_tags(q->store, q->bucket, q->key, NULL, &cause);
    if (rc == BB_ENOTFOUND) {
        s3_reply_key_error(q, S3E_NO_SUCH_KEY, NULL);
        return;
    }
    if (rc < 0) {
        s3_reply_key_error(q, S3E_INTERNAL_ERROR, NULL);
        return;
    }
    s3_reply_empty(q, 204);
}
