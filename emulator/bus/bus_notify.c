/* SPDX-License-Identifier: MIT */
/* bus_notify: classic S3 notifications as managed rules. */
#include "bus_notify.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_event.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_MAX_CONFIGS 50

static const char *const event_names[] = {
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ObjectAcl:Put",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
};

static const char *classic_name(const struct bus_s3_event *e)
{
    if (strcmp(e->detail_type, "Object Deleted") == 0)
        return "ObjectRemoved:Delete";
    if (strcmp(e->detail_type, "Object Tags Added") == 0)
        return "ObjectTagging:Put";
    if (strcmp(e->detail_type, "Object Tags Deleted") == 0)
        return "ObjectTagging:Delete";
    if (e->reason != NULL && strcmp(e->reason, "CopyObject") == 0)
        return "ObjectCreated:Copy";
    if (e->reason != NULL && strcmp(e->reason, "CompleteMultipartUpload") == 0)
        return "ObjectCreated:CompleteMultipartUpload";
    if (e->reason != NULL && strcmp(e->reason, "POST Object") == 0)
        return "ObjectCreated:Post";
    return "ObjectCreated:Put";
}

int bus_notify_publish(struct bus *b, struct store *st, const struct bus_s3_event *e,
                       const struct bus_event_env *env)
{
    struct bus_rules *rs = bus_get_rules(b);
    char prefix[96];
    int rc = BB_OK;
    (void)st;
    snprintf(prefix, sizeof(prefix), "S3-%s-", e->bucket);
    /* one message per configuration, carrying its Id; its rule matches it */
    for (size_t i = 0; i < bus_rules_count(rs) && rc == BB_OK; i++) {
        struct bus_rule *r = bus_rules_at(rs, i);
        if (strcmp(r->bus, BUS_NOTIFY_BUS) != 0 || strncmp(r->name, prefix, strlen(prefix)) != 0)
            continue;
        char *msg =
            bus_event_s3_record(e, env, classic_name(e), r->description ? r->description : r->name);
        rc = bus_publish(b, BUS_NOTIFY_BUS, msg, strlen(msg), NULL, NULL, NULL);
        free(msg);
    }
    return rc;
}

/* The wildcard value for a prefix/suffix filter, with '*' escaped. */
static char *wildcard(const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix);
    char *out = bb_xmalloc(2 * n + 2);
    size_t o = 0;
    for (const char *p = prefix; *p; p++) {
        if (*p == '*' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '*';
    for (const char *p = suffix; *p; p++) {
        if (*p == '*' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The managed rule's pattern for one configuration (configuration id
 * @cid). New string. */
static char *pattern_for(const char *bucket, const char *cid, const cJSON *cfg)
{
    cJSON *p = cJSON_CreateObject();
    cJSON * or = cJSON_AddArrayToObject(p, "$or");
    cJSON *a = cJSON_CreateObject();
    cJSON *recs = cJSON_AddObjectToObject(a, "Records");
    cJSON *names = cJSON_AddArrayToObject(recs, "eventName");
    cJSON *s3 = cJSON_AddObjectToObject(recs, "s3");
    cJSON *bk = cJSON_AddObjectToObject(s3, "bucket");
    const cJSON *ev;
    const char *prefix = jstr(cfg, "Prefix");
    const char *suffix = jstr(cfg, "Suffix");
    char *text, *out;

    cJSON_AddItemToArray(cJSON_AddArrayToObject(bk, "name"), cJSON_CreateString(bucket));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(s3, "configurationId"), cJSON_CreateString(cid));
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(cfg, "Events"))
    {
        const char *name = cJSON_IsString(ev) ? ev->valuestring + 3 : ""; /* drop "s3:" */
        size_t n = strlen(name);
        cJSON *m = cJSON_CreateObject();
        if (n > 0 && name[n - 1] == '*') {
            char *pre = bb_xstrndup(name, n - 1);
            cJSON_AddStringToObject(m, "prefix", pre);
            free(pre);
        } else {
            cJSON_Delete(m);
            m = cJSON_CreateString(name);
        }
        cJSON_AddItemToArray(names, m);
    }
    if ((prefix && *prefix) || (suffix && *suffix)) {
        char *w = wildcard(prefix ? prefix : "", suffix ? suffix : "");
        cJSON *obj = cJSON_AddObjectToObject(s3, "object");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "wildcard", w);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(obj, "key"), m);
        free(w);
    }
    cJSON_AddItemToArray(or, a);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "Event"), cJSON_CreateString("s3:TestEvent"));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "Bucket"), cJSON_CreateString(bucket));
    cJSON_AddItemToArray(or, t);
    text = cJSON_PrintUnformatted(p);
    out = bb_xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(p);
    return out;
}

static int valid_event(const char *name)
{
    for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (strcmp(name, event_names[i]) == 0)
            return 1;
    return 0;
}

static int store_configs(struct bus *b, const char *bucket, const cJSON *configs)
{
    sqlite3_stmt *s = NULL;
    char *text = cJSON_PrintUnformatted(configs);
    int rc = BB_EDB;
    if (sqlite3_prepare_v2(bus_db(b)->sql,
                           "INSERT OR REPLACE INTO notifications(bucket, config) VALUES(?1,?2)", -1,
                           &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? BB_OK : BB_EDB;
    }
    sqlite3_finalize(s);
    cJSON_free(text);
    return rc;
}

int bus_notify_set(struct bus *b, const char *bucket, const cJSON *configs, int skip_test,
                   const char *request_id, char *err, unsigned long errlen)
{
    struct bus_rules *rs = bus_get_rules(b);
    struct db *db = bus_db(b);
    const struct config *cfg = bus_config(b);
    const cJSON *c;
    char prefix[96];
    size_t n = 0;
    int rc;

    cJSON_ArrayForEach(c, configs)
    {
        const char *arn = jstr(c, "Arn");
        char *res = NULL;
        const cJSON *ev;
        if (++n > NOTIFY_MAX_CONFIGS) {
            snprintf(err, errlen, "Too many notification configurations (at most %d).",
                     NOTIFY_MAX_CONFIGS);
            return BB_EINVAL;
        }
        if (arn == NULL ||
            (strncmp(arn, "arn:aws:sqs:", 12) != 0 && strncmp(arn, "arn:aws:sns:", 12) != 0 &&
             bus_target_parse_arn(arn, &res) == BUS_TARGET_UNKNOWN)) {
            free(res);
            snprintf(err, errlen, "The ARN could not be parsed: %s", arn ? arn : "(none)");
            return BB_EINVAL;
        }
        free(res);
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "Events")) == 0) {
            snprintf(err, errlen, "A notification configuration needs at least one Event.");
            return BB_EINVAL;
        }
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(c, "Events"))
        {
            if (!cJSON_IsString(ev) || !valid_event(ev->valuestring)) {
                snprintf(err, errlen, "The event is not supported for notifications: %s",
                         cJSON_IsString(ev) ? ev->valuestring : "?");
                return BB_EINVAL;
            }
        }
    }
    rc = db_begin(db);
    if (rc < 0)
        return rc;
    snprintf(prefix, sizeof(prefix), "S3-%s-", bucket);
    for (size_t i = 0; i < bus_rules_count(rs);) {
        struct bus_rule *r = bus_rules_at(rs, i);
        if (strcmp(r->bus, BUS_NOTIFY_BUS) == 0 && strncmp(r->name, prefix, strlen(prefix)) == 0)
            bus_rules_delete(rs, r, 1);
        else
            i++;
    }
    n = 0;
    cJSON_ArrayForEach(c, configs)
    {
        char name[128];
        const char *code;
        struct bus_rule *r = NULL;
        snprintf(name, sizeof(name), "S3-%s-%zu", bucket, n++);
        const char *cid = jstr(c, "Id") ? jstr(c, "Id") : name;
        char *pattern = pattern_for(bucket, cid, c);
        const char *arn = jstr(c, "Arn");
        /* a topic is delivered to the webhook of the same name */
        char *target_arn = strncmp(arn, "arn:aws:sns:", 12) == 0
                               ? bb_xasprintf("arn:aws:events:%s:%s:api-destination/%s",
                                              cfg->region, cfg->account_id, strrchr(arn, ':') + 1)
                               : bb_xstrdup(arn);
        rc = bus_rules_put(rs, BUS_NOTIFY_BUS, name, pattern, 1, cid, "s3", "s3.amazonaws.com", &r,
                           &code, err, errlen);
        free(pattern);
        if (rc == BB_OK) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "Id", "destination");
            cJSON_AddStringToObject(t, "Arn", target_arn);
            rc = bus_rules_put_target(rs, r, t, &code, err, errlen);
            cJSON_Delete(t);
        }
        free(target_arn);
        if (rc < 0)
            break;
    }
    if (rc == BB_OK)
        rc = store_configs(b, bucket, configs);
    if (rc == BB_OK && !skip_test && cJSON_GetArraySize(configs) > 0) {
        struct bus_event_env env = {NULL, cfg->account_id, cfg->region, 0, BUS_KEY_FORM};
        char id[37];
        bus_event_uuid(id);
        env.id = id;
        env.time_s = bus_now_ms(b) / 1000;
        char *msg = bus_event_s3_test_event(bucket, request_id, &env);
        rc = bus_publish(b, BUS_NOTIFY_BUS, msg, strlen(msg), NULL, NULL, NULL);
        free(msg);
    }
    if (rc == BB_OK)
        rc = db_commit(db);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    bus_kick(b);
    return BB_OK;
}

cJSON *bus_notify_get(struct bus *b, const char *bucket)
{
    sqlite3_stmt *s = NULL;
    cJSON *out = NULL;
    if (sqlite3_prepare_v2(bus_db(b)->sql, "SELECT config FROM notifications WHERE bucket=?1", -1,
                           &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            out = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out ? out : cJSON_CreateArray();
}
