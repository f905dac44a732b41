/* SPDX-License-Identifier: MIT */
/* bus_archive: CreateArchive .. DeleteArchive, StartReplay .. CancelReplay. */
#include "bus_archive.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_eventbus.h"
#include "bus_pattern.h"
#include "config.h"
#include "db.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARCHIVE_MAX 100
#define REPLAY_BATCH 200
#define REPLAY_MAX_ACTIVE 10

struct archive {
    char *name;
    char *bus;
    char *pattern_text;
    struct bus_pattern *pattern; /* NULL: everything */
};

struct bus_archives {
    struct bus *bus;
    struct archive v[ARCHIVE_MAX];
    size_t n;
};

static void archive_cleanup(struct archive *x)
{
    free(x->name);
    free(x->bus);
    free(x->pattern_text);
    bus_pattern_free(x->pattern);
    memset(x, 0, sizeof(*x));
}

static sqlite3 *sql(struct bus_archives *a)
{
    return bus_db(a->bus)->sql;
}

static int add_mem(struct bus_archives *a, const char *name, const char *bus, const char *pattern,
                   char *err, size_t errlen)
{
    struct archive *x;
    struct bus_pattern *p = NULL;
    if (pattern != NULL && bus_pattern_compile(pattern, strlen(pattern), &p, err, errlen) < 0)
        return BB_EINVAL;
    if (a->n == ARCHIVE_MAX) {
        bus_pattern_free(p);
        snprintf(err, errlen, "The requested resource exceeds the maximum number allowed.");
        return BB_ETOOBIG;
    }
    x = &a->v[a->n++];
    x->name = bb_xstrdup(name);
    x->bus = bb_xstrdup(bus);
    x->pattern_text = pattern ? bb_xstrdup(pattern) : NULL;
    x->pattern = p;
    return BB_OK;
}

int bus_archives_open(struct bus *b, struct bus_archives **out)
{
    struct bus_archives *a = bb_xcalloc(1, sizeof(*a));
    sqlite3_stmt *s = NULL;
    char err[256];

    a->bus = b;
    if (sqlite3_prepare_v2(bus_db(b)->sql, "SELECT name, bus, pattern FROM archives", -1, &s,
                           NULL) != SQLITE_OK) {
        free(a);
        return BB_EDB;
    }
    while (sqlite3_step(s) == SQLITE_ROW)
        add_mem(a, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                (const char *)sqlite3_column_text(s, 2), err, sizeof(err));
    sqlite3_finalize(s);
    *out = a;
    return BB_OK;
}

void bus_archives_free(struct bus_archives *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++)
        archive_cleanup(&a->v[i]);
    free(a);
}

int bus_archives_capture(struct bus_archives *a, const char *bus, const cJSON *ev, uint64_t seq,
                         size_t size)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "time");
    int64_t time_s = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct archive *x = &a->v[i];
        sqlite3_stmt *s = NULL;
        if (strcmp(x->bus, bus) != 0 || (x->pattern != NULL && !bus_pattern_match(x->pattern, ev)))
            continue;
        if (time_s == 0 && cJSON_IsString(t)) {
            struct tm tm;
            memset(&tm, 0, sizeof(tm));
            if (strptime(t->valuestring, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
                time_s = (int64_t)timegm(&tm);
        }
        if (sqlite3_prepare_v2(sql(a),
                               "INSERT INTO archive_events(archive, seq, time_s, size)"
                               " VALUES(?1,?2,?3,?4)",
                               -1, &s, NULL) != SQLITE_OK)
            return BB_EDB;
        sqlite3_bind_text(s, 1, x->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
        sqlite3_bind_int64(s, 3, time_s);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)size);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return BB_EDB;
    }
    return BB_OK;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int valid_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* "arn:aws:events:r:a:event-bus/NAME" or "NAME" -> NAME (borrowed). */
static const char *bus_from_arn(const char *arn)
{
    const char *p = arn ? strstr(arn, ":event-bus/") : NULL;
    return p ? p + 11 : arn;
}

static const char *archive_from_arn(const char *arn)
{
    const char *p = arn ? strstr(arn, ":archive/") : NULL;
    return p ? p + 9 : arn;
}

static struct archive *find(struct bus_archives *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, name) == 0)
            return &a->v[i];
    return NULL;
}

static char *arn_of(struct bus_archives *a, const char *kind, const char *name)
{
    const struct config *cfg = bus_config(a->bus);
    return bb_xasprintf("arn:aws:events:%s:%s:%s/%s", cfg->region, cfg->account_id, kind, name);
}

static void add_arn(struct bus_archives *a, cJSON *o, const char *key, const char *kind,
                    const char *name)
{
    char *arn = arn_of(a, kind, name);
    cJSON_AddStringToObject(o, key, arn);
    free(arn);
}

static int create_archive(struct bus_archives *a, const cJSON *req, cJSON **resp, const char **code,
                          char *err, size_t errlen)
{
    const char *name = jstr(req, "ArchiveName");
    const char *src = bus_from_arn(jstr(req, "EventSourceArn"));
    const char *pattern = jstr(req, "EventPattern");
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(req, "RetentionDays");
    int64_t now = bus_now_ms(a->bus);
    sqlite3_stmt *s = NULL;
    int rc;

    *code = "ValidationException";
    if (!valid_name(name, 48)) {
        snprintf(err, errlen, "Parameter ArchiveName is not valid.");
        return BB_EINVAL;
    }
    if (bus_eventbuses_find(bus_get_eventbuses(a->bus), src) == NULL) {
        *code = "ResourceNotFoundException";
        snprintf(err, errlen, "Event bus %s does not exist.", src ? src : "(none)");
        return BB_ENOTFOUND;
    }
    if (find(a, name) != NULL) {
        *code = "ResourceAlreadyExistsException";
        snprintf(err, errlen, "Archive %s already exists.", name);
        return BB_ECONFLICT;
    }
    rc = add_mem(a, name, src, pattern, err, errlen);
    if (rc < 0) {
        *code = rc == BB_ETOOBIG ? "LimitExceededException" : "InvalidEventPatternException";
        return rc;
    }
    if (sqlite3_prepare_v2(sql(a),
                           "INSERT INTO archives(name, bus, pattern, description, retention_days,"
                           " state, created_ms) VALUES(?1,?2,?3,?4,?5,'ENABLED',?6)",
                           -1, &s, NULL) != SQLITE_OK)
        return BB_EDB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, src, -1, SQLITE_STATIC);
    if (pattern)
        sqlite3_bind_text(s, 3, pattern, -1, SQLITE_STATIC);
    if (jstr(req, "Description"))
        sqlite3_bind_text(s, 4, jstr(req, "Description"), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, cJSON_IsNumber(rd) ? (int)rd->valuedouble : 0);
    sqlite3_bind_int64(s, 6, now);
    rc = sqlite3_step(s) == SQLITE_DONE ? BB_OK : BB_EDB;
    sqlite3_finalize(s);
    if (rc < 0)
        return rc;
    *resp = cJSON_CreateObject();
    add_arn(a, *resp, "ArchiveArn", "archive", name);
    cJSON_AddStringToObject(*resp, "State", "ENABLED");
    cJSON_AddNumberToObject(*resp, "CreationTime", (double)now / 1000.0);
    return BB_OK;
}

static cJSON *archive_json(struct bus_archives *a, sqlite3_stmt *s, int full)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = (const char *)sqlite3_column_text(s, 0);
    cJSON_AddStringToObject(o, "ArchiveName", name);
    if (full)
        add_arn(a, o, "ArchiveArn", "archive", name);
    char *bus_arn = arn_of(a, "event-bus", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "EventSourceArn", bus_arn);
    free(bus_arn);
    if (full && sqlite3_column_type(s, 2) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "EventPattern", (const char *)sqlite3_column_text(s, 2));
    if (full && sqlite3_column_type(s, 3) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "Description", (const char *)sqlite3_column_text(s, 3));
    cJSON_AddStringToObject(o, "State", (const char *)sqlite3_column_text(s, 5));
    cJSON_AddNumberToObject(o, "RetentionDays", sqlite3_column_int(s, 4));
    cJSON_AddNumberToObject(o, "SizeBytes", (double)sqlite3_column_int64(s, 8));
    cJSON_AddNumberToObject(o, "EventCount", (double)sqlite3_column_int64(s, 7));
    cJSON_AddNumberToObject(o, "CreationTime", (double)sqlite3_column_int64(s, 6) / 1000.0);
    return o;
}

static const char archive_select[] =
    "SELECT name, bus, pattern, description, retention_days, state, created_ms,"
    " (SELECT count(*) FROM archive_events e WHERE e.archive=archives.name),"
    " (SELECT coalesce(sum(size),0) FROM archive_events e WHERE e.archive=archives.name)"
    " FROM archives";

/* What DescribeArchive/ListArchives and DescribeReplay/ListReplays differ
 * in: the table's SELECT, the request's name field, the list's key, the
 * noun in the not-found message and the row's JSON. */
struct listing {
    const char *select;
    const char *name_field;
    const char *list_key;
    const char *noun;
    cJSON *(*json)(struct bus_archives *a, sqlite3_stmt *s, int full);
};

static int describe_or_list(struct bus_archives *a, const struct listing *l, const cJSON *req,
                            cJSON **resp, int list, const char **code, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    const char *name = jstr(req, l->name_field);
    const char *prefix = jstr(req, "NamePrefix");
    char q[512];

    snprintf(q, sizeof(q), "%s%s ORDER BY name", l->select, list ? "" : " WHERE name=?1");
    if (sqlite3_prepare_v2(sql(a), q, -1, &s, NULL) != SQLITE_OK)
        return BB_EDB;
    if (!list)
        sqlite3_bind_text(s, 1, name ? name : "", -1, SQLITE_STATIC);
    if (list) {
        cJSON *arr = cJSON_CreateArray();
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *n = (const char *)sqlite3_column_text(s, 0);
            if (prefix != NULL && strncmp(n, prefix, strlen(prefix)) != 0)
                continue;
            cJSON_AddItemToArray(arr, l->json(a, s, 0));
        }
        *resp = cJSON_CreateObject();
        cJSON_AddItemToObject(*resp, l->list_key, arr);
    } else if (sqlite3_step(s) == SQLITE_ROW) {
        *resp = l->json(a, s, 1);
    } else {
        sqlite3_finalize(s);
        *code = "ResourceNotFoundException";
        snprintf(err, errlen, "%s %s does not exist.", l->noun, name ? name : "");
        return BB_ENOTFOUND;
    }
    sqlite3_finalize(s);
    return BB_OK;
}

static const struct listing archive_listing = {archive_select, "ArchiveName", "Archives", "Archive",
                                               archive_json};

static int delete_archive(struct bus_archives *a, const cJSON *req, cJSON **resp, const char **code,
                          char *err, size_t errlen)
{
    const char *name = jstr(req, "ArchiveName");
    struct archive *x = name ? find(a, name) : NULL;
    sqlite3_stmt *s = NULL;

    if (x == NULL) {
        *code = "ResourceNotFoundException";
        snprintf(err, errlen, "Archive %s does not exist.", name ? name : "");
        return BB_ENOTFOUND;
    }
    for (int i = 0; i < 2; i++) {
        const char *q = i == 0 ? "DELETE FROM archive_events WHERE archive=?1"
                               : "DELETE FROM archives WHERE name=?1";
        if (sqlite3_prepare_v2(sql(a), q, -1, &s, NULL) != SQLITE_OK)
            return BB_EDB;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    archive_cleanup(x);
    *x = a->v[--a->n];
    memset(&a->v[a->n], 0, sizeof(a->v[0]));
    *resp = cJSON_CreateObject();
    return BB_OK;
}

static double num(const cJSON *o, const char *k, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *ok = cJSON_IsNumber(v);
    return *ok ? v->valuedouble : 0;
}

static int start_replay(struct bus_archives *a, const cJSON *req, cJSON **resp, const char **code,
                        char *err, size_t errlen)
{
    const char *name = jstr(req, "ReplayName");
    const char *archive = archive_from_arn(jstr(req, "EventSourceArn"));
    const cJSON *dest = cJSON_GetObjectItemCaseSensitive(req, "Destination");
    const char *dbus = bus_from_arn(dest ? jstr(dest, "Arn") : NULL);
    const cJSON *filter = dest ? cJSON_GetObjectItemCaseSensitive(dest, "FilterArns") : NULL;
    struct archive *x = archive ? find(a, archive) : NULL;
    int ok1, ok2;
    double start = num(req, "EventStartTime", &ok1);
    double end = num(req, "EventEndTime", &ok2);
    int64_t now = bus_now_ms(a->bus);
    sqlite3_stmt *s = NULL;
    char *fj = NULL;
    int rc;

    *code = "ValidationException";
    if (!valid_name(name, 64)) {
        snprintf(err, errlen, "Parameter ReplayName is not valid.");
        return BB_EINVAL;
    }
    if (x == NULL) {
        snprintf(err, errlen,
                 "Parameter EventSourceArn is not valid. Reason: Archive %s does not "
                 "exist.",
                 archive ? archive : "");
        return BB_EINVAL;
    }
    if (!ok1 || !ok2 || end <= start) {
        snprintf(err, errlen,
                 "Parameter EventEndTime is not valid. Reason: EventStartTime must be "
                 "before EventEndTime.");
        return BB_EINVAL;
    }
    if (dbus == NULL || strcmp(dbus, x->bus) != 0) {
        snprintf(err, errlen,
                 "Parameter Destination.Arn is not valid. Reason: Cross event bus "
                 "replay is not permitted.");
        return BB_EINVAL;
    }
    if (bus_eventbuses_find(bus_get_eventbuses(a->bus), x->bus) == NULL) {
        *code = "ResourceNotFoundException";
        snprintf(err, errlen, "Event bus %s does not exist.", x->bus);
        return BB_ENOTFOUND;
    }
    if (sqlite3_prepare_v2(sql(a),
                           "SELECT count(*) FROM replays WHERE state IN ('STARTING','RUNNING')", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) >= REPLAY_MAX_ACTIVE) {
        sqlite3_finalize(s);
        *code = "LimitExceededException";
        snprintf(err, errlen, "The requested resource exceeds the maximum number allowed.");
        return BB_ETOOBIG;
    }
    sqlite3_finalize(s);
    if (cJSON_IsArray(filter)) {
        char *t = cJSON_PrintUnformatted(filter);
        fj = bb_xstrdup(t);
        cJSON_free(t);
    }
    if (sqlite3_prepare_v2(sql(a),
                           "INSERT INTO replays(name, archive, description, start_s, end_s, bus,"
                           " filter_arns, state, started_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,"
                           "'RUNNING',?8)",
                           -1, &s, NULL) != SQLITE_OK) {
        free(fj);
        return BB_EDB;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->name, -1, SQLITE_STATIC);
    if (jstr(req, "Description"))
        sqlite3_bind_text(s, 3, jstr(req, "Description"), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)start);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)end);
    sqlite3_bind_text(s, 6, x->bus, -1, SQLITE_STATIC);
    if (fj)
        sqlite3_bind_text(s, 7, fj, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, now);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    free(fj);
    if (rc == SQLITE_CONSTRAINT) {
        *code = "ResourceAlreadyExistsException";
        snprintf(err, errlen, "Replay %s already exists.", name);
        return BB_ECONFLICT;
    }
    if (rc != SQLITE_DONE)
        return BB_EDB;
    *resp = cJSON_CreateObject();
    add_arn(a, *resp, "ReplayArn", "replay", name);
    cJSON_AddStringToObject(*resp, "State", "STARTING");
    cJSON_AddNumberToObject(*resp, "ReplayStartTime", (double)now / 1000.0);
    return BB_OK;
}

static cJSON *replay_json(struct bus_archives *a, sqlite3_stmt *s, int full)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = (const char *)sqlite3_column_text(s, 0);
    cJSON_AddStringToObject(o, "ReplayName", name);
    if (full)
        add_arn(a, o, "ReplayArn", "replay", name);
    if (full && sqlite3_column_type(s, 2) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "Description", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddStringToObject(o, "State", (const char *)sqlite3_column_text(s, 7));
    if (sqlite3_column_type(s, 8) != SQLITE_NULL)
        cJSON_AddStringToObject(o, "StateReason", (const char *)sqlite3_column_text(s, 8));
    char *src = arn_of(a, "archive", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "EventSourceArn", src);
    free(src);
    if (full) {
        cJSON *d = cJSON_CreateObject();
        char *bus_arn = arn_of(a, "event-bus", (const char *)sqlite3_column_text(s, 5));
        cJSON_AddStringToObject(d, "Arn", bus_arn);
        free(bus_arn);
        if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
            cJSON *f = cJSON_Parse((const char *)sqlite3_column_text(s, 6));
            if (f != NULL)
                cJSON_AddItemToObject(d, "FilterArns", f);
        }
        cJSON_AddItemToObject(o, "Destination", d);
    }
    cJSON_AddNumberToObject(o, "EventStartTime", (double)sqlite3_column_int64(s, 3));
    cJSON_AddNumberToObject(o, "EventEndTime", (double)sqlite3_column_int64(s, 4));
    if (sqlite3_column_type(s, 11) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "EventLastReplayedTime", (double)sqlite3_column_int64(s, 11));
    cJSON_AddNumberToObject(o, "ReplayStartTime", (double)sqlite3_column_int64(s, 9) / 1000.0);
    if (sqlite3_column_type(s, 10) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "ReplayEndTime", (double)sqlite3_column_int64(s, 10) / 1000.0);
    return o;
}

static const char replay_select[] =
    "SELECT name, archive, description, start_s, end_s, bus, filter_arns, state, reason,"
    " started_ms, ended_ms, last_time_s FROM replays";

static const struct listing replay_listing = {replay_select, "ReplayName", "Replays", "Replay",
                                              replay_json};

static int cancel_replay(struct bus_archives *a, const cJSON *req, cJSON **resp, const char **code,
                         char *err, size_t errlen)
{
    const char *name = jstr(req, "ReplayName");
    sqlite3_stmt *s = NULL;
    int changed;

    if (sqlite3_prepare_v2(sql(a),
                           "UPDATE replays SET state='CANCELLED', ended_ms=?2 WHERE name=?1 AND"
                           " state IN ('STARTING','RUNNING')",
                           -1, &s, NULL) != SQLITE_OK)
        return BB_EDB;
    sqlite3_bind_text(s, 1, name ? name : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, bus_now_ms(a->bus));
    sqlite3_step(s);
    sqlite3_finalize(s);
    changed = sqlite3_changes(sql(a));
    if (!changed) {
        *code = "IllegalStatusException";
        snprintf(err, errlen, "Replay %s is not running.", name ? name : "");
        return BB_EINVAL;
    }
    *resp = cJSON_CreateObject();
    add_arn(a, *resp, "ReplayArn", "replay", name);
    cJSON_AddStringToObject(*resp, "State", "CANCELLED");
    return BB_OK;
}

int bus_archive_api(struct bus_archives *a, const char *op, const cJSON *req, cJSON **resp,
                    const char **code, char *err, size_t errlen)
{
    *resp = NULL;
    if (strcmp(op, "CreateArchive") == 0)
        return create_archive(a, req, resp, code, err, errlen);
    if (strcmp(op, "DescribeArchive") == 0)
        return describe_or_list(a, &archive_listing, req, resp, 0, code, err, errlen);
    if (strcmp(op, "ListArchives") == 0)
        return describe_or_list(a, &archive_listing, req, resp, 1, code, err, errlen);
    if (strcmp(op, "DeleteArchive") == 0)
        return delete_archive(a, req, resp, code, err, errlen);
    if (strcmp(op, "StartReplay") == 0)
        return start_replay(a, req, resp, code, err, errlen);
    if (strcmp(op, "DescribeReplay") == 0)
        return describe_or_list(a, &replay_listing, req, resp, 0, code, err, errlen);
    if (strcmp(op, "ListReplays") == 0)
        return describe_or_list(a, &replay_listing, req, resp, 1, code, err, errlen);
    if (strcmp(op, "CancelReplay") == 0)
        return cancel_replay(a, req, resp, code, err, errlen);
    *code = "UnknownOperationException";
    snprintf(err, errlen, "Unknown operation %s.", op);
    return BB_EINVAL;
}

/* Inserts "replay-name" after "region" in a copy of @body. */
static char *with_replay_name(const char *body, const char *name)
{
    cJSON *ev = cJSON_Parse(body);
    cJSON *out = cJSON_CreateObject();
    cJSON *it;
    char *text;
    char *res;
    if (ev == NULL) {
        cJSON_Delete(out);
        return NULL;
    }
    cJSON_ArrayForEach(it, ev)
    {
        if (strcmp(it->string, "replay-name") == 0)
            continue;
        cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, 1));
        if (strcmp(it->string, "region") == 0)
            cJSON_AddStringToObject(out, "replay-name", name);
    }
    text = cJSON_PrintUnformatted(out);
    res = bb_xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(out);
    cJSON_Delete(ev);
    return res;
}

static void advance(struct bus_archives *a, const char *name, const char *archive, int64_t start_s,
                    int64_t end_s, const char *bus, const char *filter, int64_t cursor, int64_t now)
{
    sqlite3_stmt *s = NULL;
    struct db *db = bus_db(a->bus);
    int n = 0;
    int64_t last_time = -1;

    if (db_begin(db) < 0)
        return;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT e.seq, e.time_s, ev.body FROM archive_events e JOIN events ev"
                           " ON ev.seq=e.seq WHERE e.archive=?1 AND e.seq>?2 AND e.time_s>=?3"
                           " AND e.time_s<?4 ORDER BY e.seq LIMIT ?5",
                           -1, &s, NULL) != SQLITE_OK) {
        db_rollback(db);
        return;
    }
    sqlite3_bind_text(s, 1, archive, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, cursor);
    sqlite3_bind_int64(s, 3, start_s);
    sqlite3_bind_int64(s, 4, end_s);
    sqlite3_bind_int(s, 5, REPLAY_BATCH);
    while (sqlite3_step(s) == SQLITE_ROW) {
        char *body = with_replay_name((const char *)sqlite3_column_text(s, 2), name);
        cursor = sqlite3_column_int64(s, 0);
        last_time = sqlite3_column_int64(s, 1);
        if (body != NULL)
            bus_publish(a->bus, bus, body, strlen(body), name, filter, NULL);
        free(body);
        n++;
    }
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(db->sql,
                           n < REPLAY_BATCH
                               ? "UPDATE replays SET cursor=?2, last_time_s=coalesce(?3,"
                                 " last_time_s), state='COMPLETED', ended_ms=?4 WHERE name=?1"
                               : "UPDATE replays SET cursor=?2, last_time_s=?3 WHERE name=?1",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, cursor);
        if (last_time >= 0)
            sqlite3_bind_int64(s, 3, last_time);
        if (n < REPLAY_BATCH)
            sqlite3_bind_int64(s, 4, now);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    if (db_commit(db) < 0) {
        db_rollback(db);
        return;
    }
    if (n > 0)
        bus_kick(a->bus);
    if (n < REPLAY_BATCH)
        BB_LOG_INFO("bus", "replay completed", "replay=%s archive=%s", name, archive);
}

void bus_archives_tick(struct bus_archives *a, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    struct {
        char *name, *archive, *bus, *filter;
        int64_t start, end, cursor;
    } run[REPLAY_MAX_ACTIVE];
    int n = 0;

    if (sqlite3_prepare_v2(sql(a),
                           "SELECT name, archive, bus, filter_arns, start_s, end_s, cursor FROM"
                           " replays WHERE state='RUNNING' LIMIT 10",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    while (n < REPLAY_MAX_ACTIVE && sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *f = sqlite3_column_text(s, 3);
        run[n].name = bb_xstrdup((const char *)sqlite3_column_text(s, 0));
        run[n].archive = bb_xstrdup((const char *)sqlite3_column_text(s, 1));
        run[n].bus = bb_xstrdup((const char *)sqlite3_column_text(s, 2));
        run[n].filter = f ? bb_xstrdup((const char *)f) : NULL;
        run[n].start = sqlite3_column_int64(s, 4);
        run[n].end = sqlite3_column_int64(s, 5);
        run[n].cursor = sqlite3_column_int64(s, 6);
        n++;
    }
    sqlite3_finalize(s);
    for (int i = 0; i < n; i++) {
        advance(a, run[i].name, run[i].archive, run[i].start, run[i].end, run[i].bus, run[i].filter,
                run[i].cursor, now_ms);
        free(run[i].name);
        free(run[i].archive);
        free(run[i].bus);
        free(run[i].filter);
    }
}
