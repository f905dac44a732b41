/* SPDX-License-Identifier: MIT */
/*
 * bus: the journal (events table), routing to targets and archives at
 * publish time, and the dispatcher: a timer that takes due push deliveries,
 * renders their input and hands them to the runner; outcomes come back to
 * the queue (ack, retry, dead letter). Housekeeping runs every second:
 * expiry of unconsumed queue deliveries, journal retention, replays.
 */
#include "bus.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus_archive.h"
#include "bus_eventbus.h"
#include "bus_input.h"
#include "bus_notify.h"
#include "bus_queue.h"
#include "bus_rule.h"
#include "bus_target.h"
#include "config.h"
#include "db.h"
#include "db_stmt.h"
#include "metrics.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUS_DISPATCH_BATCH 32
#define BUS_MAX_ACTIVE 64
#define BUS_HOUSEKEEP_US (1000 * 1000)

struct bus {
    struct db *db;
    const struct config *cfg;
    struct bus_eventbuses *buses;
    struct bus_rules *rules;
    struct bus_queue *queue;
    struct bus_runner *runner;
    struct bus_archives *archives;
    struct lws_context *lws;
    lws_sorted_usec_list_t dispatch_sul;
    lws_sorted_usec_list_t housekeep_sul;
    sqlite3_stmt *ins_event;
    uint64_t last_seq;
    int64_t last_retention_ms;
    bus_observer_cb *observer;
    void *observer_arg;
};

void bus_set_observer(struct bus *b, bus_observer_cb *cb, void *arg)
{
    b->observer = cb;
    b->observer_arg = arg;
}

int64_t bus_now_ms(const struct bus *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
           (b != NULL ? (int64_t)b->cfg->clock_offset_s * 1000 : 0);
}

struct db *bus_db(struct bus *b)
{
    return b->db;
}

struct bus_rules *bus_get_rules(struct bus *b)
{
    return b->rules;
}

struct bus_eventbuses *bus_get_eventbuses(struct bus *b)
{
    return b->buses;
}

struct bus_queue *bus_get_queue(struct bus *b)
{
    return b->queue;
}

struct bus_archives *bus_get_archives(struct bus *b)
{
    return b->archives;
}

const struct config *bus_config(const struct bus *b)
{
    return b->cfg;
}

uint64_t bus_last_seq(const struct bus *b)
{
    return b->last_seq;
}

/* Sequence numbers never go back, not even after a reset emptied the
 * journal: the floor is kept in counters. */
static uint64_t max_seq(struct db *db)
{
    sqlite3_stmt *s = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT max(coalesce((SELECT max(seq) FROM events), 0),"
                           " coalesce((SELECT value FROM counters WHERE name='seq_floor'), 0))",
                           -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* A configured rule on a custom bus declares that bus (origin "config"). */
static int declare_config_buses(struct bus *b)
{
    int rc = db_begin(b->db);
    for (size_t i = 0; rc == BB_OK && i < bus_rules_count(b->rules); i++) {
        const struct bus_rule *r = bus_rules_at(b->rules, i);
        if (strcmp(r->origin, "config") != 0 || strcmp(r->bus, BUS_NOTIFY_BUS) == 0 ||
            bus_eventbuses_find(b->buses, r->bus) != NULL)
            continue;
        rc = bus_eventbuses_create(b->buses, r->bus, NULL, "config", bus_now_ms(b));
    }
    if (rc < 0 || db_commit(b->db) < 0) {
        db_rollback(b->db);
        return BB_EDB;
    }
    return BB_OK;
}

int bus_open(struct db *db, const struct config *cfg, struct bus **out, char *err, size_t errlen)
{
    struct bus *b = bb_xcalloc(1, sizeof(*b));
    int rc;

    b->db = db;
    b->cfg = cfg;
    snprintf(err, errlen, "the event buses could not be loaded");
    rc = bus_eventbuses_load(db, bus_now_ms(b), &b->buses);
    if (rc < 0)
        goto out;
    rc = bus_rules_load(db, cfg, &b->rules, err, errlen);
    if (rc < 0)
        goto out;
    snprintf(err, errlen, "the event buses of the configured rules could not be stored");
    rc = declare_config_buses(b);
    if (rc < 0)
        goto out;
    rc = BB_EDB;
    snprintf(err, errlen, "the event journal could not be opened");
    b->queue = bus_queue_new(b);
    if (b->queue == NULL)
        goto out;
    if (sqlite3_prepare_v3(db->sql,
                           "INSERT INTO events(id, bus, ingested_ms, time_s, source, detail_type,"
                           " replay_name, body, seq) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                           -1, SQLITE_PREPARE_PERSISTENT, &b->ins_event, NULL) != SQLITE_OK)
        goto out;
    rc = bus_archives_open(b, &b->archives);
    if (rc < 0)
        goto out;
    rc = bus_queue_recover(b->queue);
    if (rc < 0)
        goto out;
    b->last_seq = max_seq(db);
    err[0] = '\0';
    rc = BB_OK;
out:
    if (rc < 0) {
        bus_free(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

void bus_free(struct bus *b)
{
    if (b == NULL)
        return;
    if (b->lws != NULL) {
        lws_sul_schedule(b->lws, 0, &b->dispatch_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
        lws_sul_schedule(b->lws, 0, &b->housekeep_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    }
    bus_runner_free(b->runner);
    bus_archives_free(b->archives);
    bus_queue_free(b->queue);
    bus_rules_free(b->rules);
    bus_eventbuses_free(b->buses);
    sqlite3_finalize(b->ins_event);
    free(b);
}

static const char *str_field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return 0;
    return (int64_t)timegm(&tm);
}

struct route_ctx {
    struct bus *b;
    uint64_t seq;
    int64_t now;
    const cJSON *filter; /* rule ARNs, or NULL */
    int rc;
    int matched;
};

static int route_rule(void *arg, struct bus_rule *r)
{
    struct route_ctx *c = arg;
    if (c->filter != NULL) {
        int found = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, c->filter)
        {
            if (cJSON_IsString(a) && strcmp(a->valuestring, r->arn) == 0)
                found = 1;
        }
        if (!found)
            return 0;
    }
    c->matched++;
    metrics_rule_match();
    for (size_t i = 0; i < r->ntargets; i++) {
        int rc = bus_queue_enqueue(c->b->queue, c->seq, r, &r->targets[i], c->now);
        if (rc < 0) {
            c->rc = rc;
            return 1;
        }
    }
    return 0;
}

int bus_publish(struct bus *b, const char *bus_name, const char *event_json, size_t len,
                const char *replay_name, const char *filter_rules_json, uint64_t *seq)
{
    cJSON *ev = cJSON_ParseWithLength(event_json, len);
    cJSON *filter = NULL;
    sqlite3_stmt *s = b->ins_event;
    struct route_ctx c;
    int rc = BB_EINVAL;

    if (ev == NULL || !cJSON_IsObject(ev))
        goto out;
    memset(&c, 0, sizeof(c));
    c.b = b;
    c.now = bus_now_ms(b);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    sqlite3_bind_text(s, 1, str_field(ev, "id"), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, bus_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, c.now);
    sqlite3_bind_int64(s, 4, parse_time(str_field(ev, "time")));
    sqlite3_bind_text(s, 5, str_field(ev, "source"), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, str_field(ev, "detail-type"), -1, SQLITE_STATIC);
    if (replay_name != NULL)
        sqlite3_bind_text(s, 7, replay_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, event_json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, (sqlite3_int64)(b->last_seq + 1));
    if (sqlite3_step(s) != SQLITE_DONE) {
        BB_LOG_ERROR("bus", "journal append failed", "error=\"%s\"", sqlite3_errmsg(b->db->sql));
        sqlite3_reset(s);
        rc = BB_EDB;
        goto out;
    }
    sqlite3_reset(s);
    c.seq = b->last_seq + 1;
    if (filter_rules_json != NULL)
        filter = cJSON_Parse(filter_rules_json);
    c.filter = filter;
    bus_rules_match(b->rules, bus_name, ev, route_rule, &c);
    if (c.rc < 0) {
        rc = c.rc;
        goto out;
    }
    if (replay_name == NULL) {
        rc = bus_archives_capture(b->archives, bus_name, ev, c.seq, len);
        if (rc < 0)
            goto out;
    }
    b->last_seq = c.seq;
    metrics_event(str_field(ev, "source"), str_field(ev, "detail-type"));
    if (seq != NULL)
        *seq = c.seq;
    BB_LOG_DEBUG("bus", "event journalled", "ev=%llu bus=%s detail_type=\"%s\" targets_rules=%d",
                 (unsigned long long)c.seq, bus_name, str_field(ev, "detail-type"), c.matched);
    rc = BB_OK;
out:
    cJSON_Delete(filter);
    cJSON_Delete(ev);
    return rc;
}

static void dispatch_cb(lws_sorted_usec_list_t *sul);

static void schedule_dispatch(struct bus *b, int64_t delay_ms)
{
    if (b->lws == NULL)
        return;
    if (delay_ms < 0)
        delay_ms = 0;
    lws_sul_schedule(b->lws, 0, &b->dispatch_sul, dispatch_cb, (lws_usec_t)delay_ms * 1000);
}

void bus_kick(struct bus *b)
{
    schedule_dispatch(b, 0);
    if (b->observer != NULL)
        b->observer(b->observer_arg);
}

static char *event_body(struct bus *b, uint64_t seq)
{
    sqlite3_stmt *s = NULL;
    char *body = NULL;
    if ((s = db_stmt(b->db, "SELECT body FROM events WHERE seq=?1")) != NULL) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
        if (sqlite3_step(s) == SQLITE_ROW)
            body = bb_xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    db_stmt_done(s);
    return body;
}

static void finish(struct bus *b, int64_t id, const struct bus_attempt_result *res)
{
    if (db_begin(b->db) < 0)
        return;
    if (res->ok)
        bus_queue_ack(b->queue, id);
    else
        bus_queue_fail(b->queue, id, res->code, res->message, res->retryable, res->retry_after_ms);
    if (db_commit(b->db) < 0)
        db_rollback(b->db);
}

static void attempt_done(void *arg, int64_t id, const struct bus_attempt_result *res)
{
    struct bus *b = arg;
    finish(b, id, res);
    schedule_dispatch(b, 0);
}

/* Renders and starts one taken delivery. */
static void start_delivery(struct bus *b, const struct bus_delivery *d)
{
    struct bus_rule *r = bus_rules_find(b->rules, d->bus, d->rule);
    struct bus_target *t = r ? bus_rule_target(r, d->target) : NULL;
    struct bus_attempt_result res;
    char *body = NULL;
    char *payload = NULL;
    size_t plen = 0;
    cJSON *ev = NULL;

    memset(&res, 0, sizeof(res));
    res.retry_after_ms = -1;
    if (t == NULL || strcmp(t->arn, d->arn) != 0) {
        res.code = "NO_RESOURCE";
        snprintf(res.message, sizeof(res.message), "The rule or target no longer exists.");
        goto fail;
    }
    body = event_body(b, d->seq);
    ev = body ? cJSON_Parse(body) : NULL;
    if (ev == NULL) {
        res.code = "INTERNAL_ERROR";
        snprintf(res.message, sizeof(res.message), "The event is no longer in the journal.");
        goto fail;
    }
    char ingestion[32];
    time_t now_s = (time_t)(bus_now_ms(b) / 1000);
    struct tm tm;
    gmtime_r(&now_s, &tm);
    strftime(ingestion, sizeof(ingestion), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct bus_input_ctx ictx = {r->name, r->arn, ingestion};
    if (bus_input_apply(t->input, ev, body, &ictx, &payload, &plen) < 0) {
        res.code = "INVALID_JSON";
        snprintf(res.message, sizeof(res.message),
                 "The input transformer produced invalid JSON for target %s.", t->id);
        goto fail;
    }
    bus_runner_start(b->runner, d->id, t, payload, plen);
    goto out;
fail:
    finish(b, d->id, &res);
out:
    free(payload);
    free(body);
    cJSON_Delete(ev);
}

static void dispatch_cb(lws_sorted_usec_list_t *sul)
{
    struct bus *b = lws_container_of(sul, struct bus, dispatch_sul);
    struct bus_delivery ds[BUS_DISPATCH_BATCH];
    int64_t now = bus_now_ms(b);
    int room = BUS_MAX_ACTIVE - bus_runner_active(b->runner);

    /* targets hear only of committed events (group commit, db.h) */
    if (db_flush(b->db) < 0) {
        schedule_dispatch(b, 100);
        return;
    }
    int n;

    if (room > BUS_DISPATCH_BATCH)
        room = BUS_DISPATCH_BATCH;
    if (room <= 0)
        return; /* an attempt finishing schedules us again */
    if (db_begin(b->db) < 0)
        return;
    n = bus_queue_take_due(b->queue, now, ds, room);
    if (n < 0 || db_commit(b->db) < 0) {
        db_rollback(b->db);
        schedule_dispatch(b, 1000);
        return;
    }
    for (int i = 0; i < n; i++) {
        start_delivery(b, &ds[i]);
        bus_delivery_cleanup(&ds[i]);
    }
    if (n == room) {
        schedule_dispatch(b, 0);
        return;
    }
    int64_t next = bus_queue_next_due(b->queue);
    if (next >= 0)
        schedule_dispatch(b, next - bus_now_ms(b));
}

static void retention(struct bus *b, int64_t now)
{
    const struct config *cfg = b->cfg;
    char sql[512];
    const char *keep = "seq NOT IN (SELECT seq FROM deliveries) AND seq NOT IN (SELECT seq FROM"
                       " dlq) AND seq NOT IN (SELECT seq FROM archive_events)";

    if (now - b->last_retention_ms < 60000)
        return;
    b->last_retention_ms = now;
    if (cfg->retention_days > 0) {
        snprintf(sql, sizeof(sql), "DELETE FROM events WHERE ingested_ms < %lld AND %s",
                 (long long)(now - (int64_t)cfg->retention_days * 86400000), keep);
        db_exec(b->db, sql);
    }
    if (cfg->retention_events > 0 && b->last_seq > (uint64_t)cfg->retention_events) {
        snprintf(sql, sizeof(sql), "DELETE FROM events WHERE seq <= %llu AND %s",
                 (unsigned long long)(b->last_seq - (uint64_t)cfg->retention_events), keep);
        db_exec(b->db, sql);
    }
}

static void housekeep_cb(lws_sorted_usec_list_t *sul)
{
    struct bus *b = lws_container_of(sul, struct bus, housekeep_sul);
    int64_t now = bus_now_ms(b);

    if (db_begin(b->db) == 0) {
        if (bus_queue_expire(b->queue, now) < 0 || db_commit(b->db) < 0)
            db_rollback(b->db);
    }
    retention(b, now);
    bus_archives_tick(b->archives, now);
    lws_sul_schedule(b->lws, 0, &b->housekeep_sul, housekeep_cb, BUS_HOUSEKEEP_US);
}

void bus_start(struct bus *b, struct lws_context *lws)
{
    b->lws = lws;
    b->runner = bus_runner_new(b, lws, attempt_done, b);
    lws_sul_schedule(lws, 0, &b->housekeep_sul, housekeep_cb, BUS_HOUSEKEEP_US);
    schedule_dispatch(b, 0);
}

static int bus_has_rules(struct bus *b, const char *name)
{
    for (size_t i = 0; i < bus_rules_count(b->rules); i++)
        if (strcmp(bus_rules_at(b->rules, i)->bus, name) == 0)
            return 1;
    return 0;
}

int bus_delete_eventbus(struct bus *b, const char *name)
{
    sqlite3_stmt *s = NULL;
    int rc = BB_OK;

    if (strcmp(name, BUS_DEFAULT) == 0)
        return BB_EINVAL;
    if (bus_eventbuses_find(b->buses, name) == NULL)
        return BB_ENOTFOUND;
    for (size_t i = 0; rc == BB_OK && i < bus_rules_count(b->rules);) {
        struct bus_rule *r = bus_rules_at(b->rules, i);
        if (strcmp(r->bus, name) == 0)
            rc = bus_rules_delete(b->rules, r, 1);
        else
            i++;
    }
    /* what was queued for its rules and not yet taken goes with them */
    if (rc == BB_OK) {
        rc = BB_EDB;
        if (sqlite3_prepare_v2(b->db->sql, "DELETE FROM deliveries WHERE bus=?1 AND state=0", -1,
                               &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_DONE)
                rc = BB_OK;
        }
        sqlite3_finalize(s);
    }
    if (rc == BB_OK)
        rc = bus_eventbuses_delete(b->buses, name);
    return rc;
}

int bus_reset(struct bus *b)
{
    static const char *const sql[] = {
        "DELETE FROM deliveries", "DELETE FROM dlq",     "DELETE FROM archive_events",
        "DELETE FROM archives",   "DELETE FROM replays", "DELETE FROM notifications",
        "DELETE FROM events",
    };
    char floor[128];
    struct bus_archives *fresh = NULL;
    int rc = BB_OK;

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == BB_OK; i++)
        rc = db_exec(b->db, sql[i]);
    if (rc == BB_OK) {
        snprintf(floor, sizeof(floor),
                 "INSERT OR REPLACE INTO counters(name, value) VALUES('seq_floor', %llu)",
                 (unsigned long long)b->last_seq);
        rc = db_exec(b->db, floor);
    }
    for (size_t i = 0; rc == BB_OK && i < bus_rules_count(b->rules);) {
        struct bus_rule *r = bus_rules_at(b->rules, i);
        if (strcmp(r->origin, "config") != 0)
            rc = bus_rules_delete(b->rules, r, 1);
        else
            i++;
    }
    /* buses created through the API go too, unless a configured rule
     * still names them */
    for (size_t i = 0; rc == BB_OK && i < bus_eventbuses_count(b->buses);) {
        const struct bus_eventbus *e = bus_eventbuses_at(b->buses, i);
        if (strcmp(e->origin, "api") == 0 && !bus_has_rules(b, e->name))
            rc = bus_eventbuses_delete(b->buses, e->name);
        else
            i++;
    }
    if (rc == BB_OK && bus_archives_open(b, &fresh) == BB_OK) {
        bus_archives_free(b->archives);
        b->archives = fresh;
    }
    return rc;
}
