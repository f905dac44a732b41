/* SPDX-License-Identifier: MIT */
/* store_stamp: upload descriptions kept on the files (store_stamp.h). */
#include "store_stamp.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define STAMP_NAME "user.bucketbridge"
#define STAMP_MAX (64 * 1024)

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, name, v);
}

int store_stamp_write(const char *path, const char *bucket, const struct store_object *o,
                      const struct store_cause *cause)
{
    cJSON *j = cJSON_CreateObject();
    char *text;
    int rc = BB_OK;

    cJSON_AddNumberToObject(j, "v", 1);
    add_str(j, "bucket", bucket);
    add_str(j, "key", o->key);
    /* as text: doubles cannot hold every 64-bit inode or nanosecond time */
    char num[32];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)o->file_ino);
    add_str(j, "ino", num);
    snprintf(num, sizeof(num), "%lld", (long long)o->file_mtime_ns);
    add_str(j, "mtime_ns", num);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)o->size);
    add_str(j, "size", num);
    add_str(j, "etag", o->etag);
    add_str(j, "content_type", o->content_type);
    add_str(j, "headers", o->headers);
    add_str(j, "checksum_alg", o->checksum_alg);
    add_str(j, "checksum", o->checksum);
    add_str(j, "tags", o->tags);
    if (cause != NULL) {
        add_str(j, "request_id", cause->request_id);
        add_str(j, "requester", cause->requester);
        add_str(j, "source_ip", cause->source_ip);
        add_str(j, "reason", cause->reason);
    }
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (text == NULL)
        return BB_EINVAL;
    if (strlen(text) > STAMP_MAX || setxattr(path, STAMP_NAME, text, strlen(text), 0) < 0)
        rc = BB_EINVAL;
    cJSON_free(text);
    return rc;
}

static char *dup_field(const cJSON *j, const char *name)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    return v != NULL ? bb_xstrdup(v) : NULL;
}

static int field_is(const cJSON *j, const char *name, const char *want)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    return v != NULL && want != NULL && strcmp(v, want) == 0;
}

int store_stamp_read(const char *path, const char *bucket, const char *key, const struct stat *sb,
                     struct store_stamp *out)
{
    char *buf = NULL;
    cJSON *j = NULL;
    char ino[32], mt[32], size[32];
    ssize_t n;
    int rc = BB_ENOTFOUND;

    memset(out, 0, sizeof(*out));
    n = lgetxattr(path, STAMP_NAME, NULL, 0);
    if (n <= 0 || n > STAMP_MAX)
        goto out;
    buf = bb_xmalloc((size_t)n + 1);
    n = lgetxattr(path, STAMP_NAME, buf, (size_t)n);
    if (n <= 0)
        goto out;
    buf[n] = '\0';
    j = cJSON_Parse(buf);
    snprintf(ino, sizeof(ino), "%llu", (unsigned long long)sb->st_ino);
    snprintf(mt, sizeof(mt), "%lld",
             (long long)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec);
    snprintf(size, sizeof(size), "%llu", (unsigned long long)sb->st_size);
    if (j == NULL || !field_is(j, "bucket", bucket) || !field_is(j, "key", key) ||
        !field_is(j, "ino", ino) || !field_is(j, "mtime_ns", mt) || !field_is(j, "size", size) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "etag")))
        goto out;
    out->o.key = bb_xstrdup(key);
    out->o.size = (uint64_t)sb->st_size;
    out->o.etag = dup_field(j, "etag");
    out->o.content_type = dup_field(j, "content_type");
    out->o.headers = dup_field(j, "headers");
    out->o.checksum_alg = dup_field(j, "checksum_alg");
    out->o.checksum = dup_field(j, "checksum");
    out->o.tags = dup_field(j, "tags");
    out->request_id = dup_field(j, "request_id");
    out->requester = dup_field(j, "requester");
    out->source_ip = dup_field(j, "source_ip");
    out->reason = dup_field(j, "reason");
    rc = BB_OK;
out:
    cJSON_Delete(j);
    free(buf);
    return rc;
}

void store_stamp_cause(const struct store_stamp *s, struct store_cause *c)
{
    c->request_id = s->request_id;
    c->requester = s->requester;
    c->source_ip = s->source_ip;
    c->reason = s->reason;
}

void store_stamp_cleanup(struct store_stamp *s)
{
    store_object_cleanup(&s->o);
    free(s->request_id);
    free(s->requester);
    free(s->source_ip);
    free(s->reason);
    memset(s, 0, sizeof(*s));
}
