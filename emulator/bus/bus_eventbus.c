/* SPDX-License-Identifier: MIT */
/* bus_eventbus: the registry of event buses and its table. */
#include "bus_eventbus.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bus_eventbuses {
    struct db *db;
    struct bus_eventbus **v; /* sorted by name */
    size_t n;
};

static void eventbus_free(struct bus_eventbus *e)
{
    if (e == NULL)
        return;
    free(e->name);
    free(e->description);
    free(e->origin);
    free(e);
}

void bus_eventbuses_free(struct bus_eventbuses *bs)
{
    if (bs == NULL)
        return;
    for (size_t i = 0; i < bs->n; i++)
        eventbus_free(bs->v[i]);
    free(bs->v);
    free(bs);
}

/* Index of @name, or where it would go; *found set. */
static size_t find_pos(const struct bus_eventbuses *bs, const char *name, int *found)
{
    size_t lo = 0, hi = bs->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(bs->v[mid]->name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void insert_mem(struct bus_eventbuses *bs, size_t pos, const char *name,
                       const char *description, const char *origin, int64_t created_ms,
                       int64_t modified_ms)
{
    struct bus_eventbus *e = bb_xcalloc(1, sizeof(*e));
    e->name = bb_xstrdup(name);
    e->description = description ? bb_xstrdup(description) : NULL;
    e->origin = bb_xstrdup(origin);
    e->created_ms = created_ms;
    e->modified_ms = modified_ms;
    bs->v = bb_xrealloc(bs->v, (bs->n + 1) * sizeof(*bs->v));
    memmove(bs->v + pos + 1, bs->v + pos, (bs->n - pos) * sizeof(*bs->v));
    bs->v[pos] = e;
    bs->n++;
}

static int insert_row(struct bus_eventbuses *bs, const char *name, const char *description,
                      const char *origin, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = BB_EDB;

    if (sqlite3_prepare_v2(bs->db->sql,
                           "INSERT INTO event_buses(name, description, origin, created_ms,"
                           " modified_ms) VALUES(?1,?2,?3,?4,?4)",
                           -1, &s, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (description != NULL)
        sqlite3_bind_text(s, 2, description, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now_ms);
    if (sqlite3_step(s) != SQLITE_DONE)
        goto out;
    rc = BB_OK;
out:
    if (rc < 0)
        BB_LOG_ERROR("bus", "event bus not stored", "bus=%s error=\"%s\"", name,
                     sqlite3_errmsg(bs->db->sql));
    sqlite3_finalize(s);
    return rc;
}

int bus_eventbuses_load(struct db *db, int64_t now_ms, struct bus_eventbuses **out)
{
    struct bus_eventbuses *bs = bb_xcalloc(1, sizeof(*bs));
    sqlite3_stmt *s = NULL;
    size_t pos;
    int found;
    int rc = BB_EDB;

    bs->db = db;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT name, description, origin, created_ms, modified_ms"
                           " FROM event_buses",
                           -1, &s, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        pos = find_pos(bs, name, &found);
        if (!found)
            insert_mem(bs, pos, name, (const char *)sqlite3_column_text(s, 1),
                       (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3),
                       sqlite3_column_int64(s, 4));
    }
    pos = find_pos(bs, BUS_DEFAULT, &found);
    if (!found) {
        if (insert_row(bs, BUS_DEFAULT, NULL, "default", now_ms) < 0)
            goto out;
        insert_mem(bs, pos, BUS_DEFAULT, NULL, "default", now_ms, now_ms);
    }
    rc = BB_OK;
out:
    sqlite3_finalize(s);
    if (rc < 0) {
        bus_eventbuses_free(bs);
        bs = NULL;
    }
    *out = bs;
    return rc;
}

const struct bus_eventbus *bus_eventbuses_find(const struct bus_eventbuses *bs, const char *name)
{
    int found;
    size_t i;
    if (name == NULL)
        return NULL;
    i = find_pos(bs, name, &found);
    return found ? bs->v[i] : NULL;
}

const struct bus_eventbus *bus_eventbuses_at(const struct bus_eventbuses *bs, size_t i)
{
    return i < bs->n ? bs->v[i] : NULL;
}

size_t bus_eventbuses_count(const struct bus_eventbuses *bs)
{
    return bs->n;
}

int bus_eventbus_check_name(const char *name, const char **code, char *err, size_t errlen)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789/._-";
    size_t n = name ? strlen(name) : 0;

    *code = "ValidationException";
    if (name == NULL) {
        snprintf(err, errlen,
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
        return BB_EINVAL;
    }
    if (n < 1 || n > BUS_EVENTBUS_NAME_MAX) {
        snprintf(err, errlen,
                 "1 validation error detected: Value '%.80s' at 'name' failed to satisfy "
                 "constraint: Member must have length %s",
                 name, n < 1 ? "greater than or equal to 1" : "less than or equal to 256");
        return BB_EINVAL;
    }
    if (strspn(name, allowed) != n) {
        snprintf(err, errlen,
                 "1 validation error detected: Value '%.80s' at 'name' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "[/\\.\\-_A-Za-z0-9]+",
                 name);
        return BB_EINVAL;
    }
    if (strcmp(name, BUS_DEFAULT) == 0) {
        *code = "ResourceAlreadyExistsException";
        snprintf(err, errlen, "Event bus default already exists.");
        return BB_EINVAL;
    }
    /* partner buses (aws.partner/...) need a partner event source, which
     * bucketbridge has none of */
    if (strncmp(name, "aws.", 4) == 0) {
        snprintf(err, errlen, "Event bus name must not start with 'aws.'.");
        return BB_EINVAL;
    }
    if (strchr(name, '/') != NULL) {
        snprintf(err, errlen, "Event bus name must not contain '/'.");
        return BB_EINVAL;
    }
    return BB_OK;
}

int bus_eventbuses_create(struct bus_eventbuses *bs, const char *name, const char *description,
                          const char *origin, int64_t now_ms)
{
    int found;
    size_t pos = find_pos(bs, name, &found);
    int rc;

    if (found)
        return BB_ECONFLICT;
    rc = insert_row(bs, name, description, origin, now_ms);
    if (rc < 0)
        return rc;
    insert_mem(bs, pos, name, description, origin, now_ms, now_ms);
    BB_LOG_INFO("bus", "event bus created", "bus=%s origin=%s", name, origin);
    return BB_OK;
}

int bus_eventbuses_delete(struct bus_eventbuses *bs, const char *name)
{
    sqlite3_stmt *s = NULL;
    int found;
    size_t pos;
    int rc = BB_EDB;

    if (strcmp(name, BUS_DEFAULT) == 0)
        return BB_EINVAL;
    pos = find_pos(bs, name, &found);
    if (!found)
        return BB_ENOTFOUND;
    if (sqlite3_prepare_v2(bs->db->sql, "DELETE FROM event_buses WHERE name=?1", -1, &s, NULL) !=
        SQLITE_OK)
        goto out;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        goto out;
    BB_LOG_INFO("bus", "event bus deleted", "bus=%s", name);
    eventbus_free(bs->v[pos]);
    memmove(bs->v + pos, bs->v + pos + 1, (bs->n - pos - 1) * sizeof(*bs->v));
    bs->n--;
    rc = BB_OK;
out:
    if (rc < 0)
        BB_LOG_ERROR("bus", "event bus not deleted", "bus=%s error=\"%s\"", name,
                     sqlite3_errmsg(bs->db->sql));
    sqlite3_finalize(s);
    return rc;
}

char *bus_eventbus_make_arn(const char *region, const char *account, const char *name)
{
    return bb_xasprintf("arn:aws:events:%s:%s:event-bus/%s", region, account, name);
}

const char *bus_eventbus_name_of(const char *name_or_arn)
{
    const char *p;
    if (name_or_arn == NULL)
        return NULL;
    p = strstr(name_or_arn, ":event-bus/");
    return p != NULL ? p + strlen(":event-bus/") : name_or_arn;
}
