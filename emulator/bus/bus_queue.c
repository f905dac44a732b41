/* SPDX-License-Identifier: MIT */
/* bus_queue: deliveries, retries with backoff, dead-letter queues. */
#include "bus_queue.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"
#include "db_stmt.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 300000

enum { Q_ENQUEUE, Q_TAKE, Q_MARK, Q_NEXT, Q_ACK, Q_GET, Q_RETRY, Q_DLQ_ADD, Q_EVENT_BODY, Q_COUNT };

static const char *const sql_text[Q_COUNT] = {
    [Q_ENQUEUE] = "INSERT INTO deliveries(seq, bus, rule, target, arn, state, attempts, next_ms,"
                  " first_ms, grp) VALUES(?1,?2,?3,?4,?5,0,0,?6,?6,?7)",
    [Q_TAKE] = "SELECT id, seq, bus, rule, target, arn, attempts, first_ms FROM deliveries"
               " WHERE grp='' AND state=0 AND next_ms<=?1 ORDER BY next_ms, id LIMIT ?2",
    [Q_MARK] = "UPDATE deliveries SET state=1 WHERE id=?1",
    [Q_NEXT] = "SELECT min(next_ms) FROM deliveries WHERE grp='' AND state=0",
    [Q_ACK] = "DELETE FROM deliveries WHERE id=?1 RETURNING arn",
    [Q_GET] = "SELECT id, seq, bus, rule, target, arn, attempts, first_ms FROM deliveries"
              " WHERE id=?1",
    [Q_RETRY] = "UPDATE deliveries SET state=0, attempts=?2, next_ms=?3, error_code=?4,"
                " error_message=?5, holder=NULL WHERE id=?1",
    [Q_DLQ_ADD] = "INSERT INTO dlq(arn, seq, rule, target, body, attributes, created_ms, bus)"
                  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [Q_EVENT_BODY] = "SELECT body FROM events WHERE seq=?1",
};

/* delivery counters of one target ARN ("other" once the table is full) */
struct target_stats {
    char *arn;
    struct bus_queue_stats st;
};

struct bus_queue {
    struct bus *bus;
    sqlite3_stmt *q[Q_COUNT];
    struct bus_queue_stats stats;
    struct target_stats targets[BUS_QUEUE_MAX_TARGETS + 1]; /* the last: "other" */
    int ntargets;
};

void bus_delivery_cleanup(struct bus_delivery *d)
{
    free(d->bus);
    free(d->rule);
    free(d->target);
    free(d->arn);
    memset(d, 0, sizeof(*d));
}

struct bus_queue *bus_queue_new(struct bus *b)
{
    struct bus_queue *q = bb_xcalloc(1, sizeof(*q));
    sqlite3 *db = bus_db(b)->sql;
    q->bus = b;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &q->q[i], NULL) !=
            SQLITE_OK) {
            BB_LOG_ERROR("bus", "prepare failed", "error=\"%s\"", sqlite3_errmsg(db));
            bus_queue_free(q);
            return NULL;
        }
    }
    return q;
}

void bus_queue_free(struct bus_queue *q)
{
    if (q == NULL)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(q->q[i]);
    for (int i = 0; i < q->ntargets; i++)
        free(q->targets[i].arn);
    free(q);
}

/* The counters of target @arn, made on first use; "other" when full. */
static struct bus_queue_stats *target_stats(struct bus_queue *q, const char *arn)
{
    int i;
    if (arn == NULL)
        arn = "";
    for (i = 0; i < q->ntargets; i++)
        if (strcmp(q->targets[i].arn, arn) == 0)
            return &q->targets[i].st;
    if (q->ntargets == BUS_QUEUE_MAX_TARGETS) {
        q->targets[i].arn = bb_xstrdup("other");
        q->ntargets++;
        return &q->targets[i].st;
    }
    if (q->ntargets > BUS_QUEUE_MAX_TARGETS)
        return &q->targets[BUS_QUEUE_MAX_TARGETS].st;
    q->targets[i].arn = bb_xstrdup(arn);
    q->ntargets++;
    return &q->targets[i].st;
}

void bus_queue_each_target(const struct bus_queue *q, bus_queue_target_cb *cb, void *arg)
{
    for (int i = 0; i < q->ntargets; i++)
        cb(arg, q->targets[i].arn, &q->targets[i].st);
}

static sqlite3_stmt *stmt(struct bus_queue *q, int i)
{
    sqlite3_reset(q->q[i]);
    sqlite3_clear_bindings(q->q[i]);
    return q->q[i];
}

static int done(struct bus_queue *q, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        BB_LOG_ERROR("bus", "sql failed", "error=\"%s\"", sqlite3_errmsg(bus_db(q->bus)->sql));
        return BB_EDB;
    }
    return BB_OK;
}

int bus_queue_recover(struct bus_queue *q)
{
    sqlite3_stmt *s = NULL;
    int rc = BB_EDB;
    /* nobody holds anything after a restart: a consumer group's row kept
     * its visibility deadline in next_ms, which would hold it back for up
     * to the visibility timeout; due again at once, as on a release */
    if (sqlite3_prepare_v2(bus_db(q->bus)->sql,
                           "UPDATE deliveries SET state=0, holder=NULL, next_ms=min(next_ms, ?1)"
                           " WHERE state=1",
                           -1, &s, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(s, 1, bus_now_ms(q->bus));
    if (sqlite3_step(s) == SQLITE_DONE)
        rc = BB_OK;
out:
    if (rc < 0)
        BB_LOG_ERROR("bus", "recovering deliveries failed", "error=\"%s\"",
                     sqlite3_errmsg(bus_db(q->bus)->sql));
    sqlite3_finalize(s);
    return rc;
}

int bus_queue_enqueue(struct bus_queue *q, uint64_t seq, const struct bus_rule *r,
                      const struct bus_target *t, int64_t now_ms)
{
    sqlite3_stmt *s = stmt(q, Q_ENQUEUE);
    sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(s, 2, r->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, t->arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now_ms);
    sqlite3_bind_text(s, 7, t->kind == BUS_TARGET_QUEUE && t->resource ? t->resource : "", -1,
                      SQLITE_STATIC);
    return done(q, s);
}

static char *col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return bb_xstrdup(t ? (const char *)t : "");
}

static void row_to(sqlite3_stmt *s, struct bus_delivery *d)
{
    d->id = sqlite3_column_int64(s, 0);
    d->seq = (uint64_t)sqlite3_column_int64(s, 1);
    d->bus = col(s, 2);
    d->rule = col(s, 3);
    d->target = col(s, 4);
    d->arn = col(s, 5);
    d->attempts = sqlite3_column_int(s, 6);
    d->first_ms = sqlite3_column_int64(s, 7);
}

int bus_queue_take_due(struct bus_queue *q, int64_t now_ms, struct bus_delivery *out, int max)
{
    sqlite3_stmt *s = stmt(q, Q_TAKE);
    int n = 0;
    int rc;

    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_int(s, 2, max);
    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        row_to(s, &out[n++]);
    sqlite3_reset(s);
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *m = stmt(q, Q_MARK);
        sqlite3_bind_int64(m, 1, out[i].id);
        if (done(q, m) < 0)
            return BB_EDB;
    }
    return n;
}

int64_t bus_queue_next_due(struct bus_queue *q)
{
    sqlite3_stmt *s = stmt(q, Q_NEXT);
    int64_t v = -1;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return v;
}

int bus_queue_ack(struct bus_queue *q, int64_t id)
{
    sqlite3_stmt *s = stmt(q, Q_ACK);
    int rc;
    sqlite3_bind_int64(s, 1, id);
    q->stats.delivered++;
    /* the row goes in the first step; RETURNING names its target */
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
        target_stats(q, (const char *)sqlite3_column_text(s, 0))->delivered++;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        BB_LOG_ERROR("bus", "sql failed", "error=\"%s\"", sqlite3_errmsg(bus_db(q->bus)->sql));
        return BB_EDB;
    }
    return BB_OK;
}

int64_t bus_queue_backoff_ms(int attempts, double jitter01)
{
    int64_t d = BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    return d / 2 + (int64_t)((double)(d / 2) * jitter01);
}

static double jitter(void)
{
    unsigned char r[4];
    bb_random_bytes(r, sizeof(r));
    uint32_t v = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    return (double)v / 4294967296.0;
}

static char *event_body(struct bus_queue *q, uint64_t seq)
{
    sqlite3_stmt *s = stmt(q, Q_EVENT_BODY);
    char *body = NULL;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
    if (sqlite3_step(s) == SQLITE_ROW)
        body = col(s, 0);
    sqlite3_reset(s);
    return body;
}

/* Moves delivery @d to its target's DLQ (or drops it); deletes the row. */
static int dead_letter(struct bus_queue *q, const struct bus_delivery *d, const char *code,
                       const char *message, const char *exhausted)
{
    struct bus_rules *rules = bus_get_rules(q->bus);
    struct bus_rule *r = bus_rules_find(rules, d->bus, d->rule);
    struct bus_target *t = r ? bus_rule_target(r, d->target) : NULL;
    const struct config *cfg = bus_config(q->bus);
    int rc = BB_OK;

    if (t != NULL && t->dlq_arn != NULL) {
        cJSON *a = cJSON_CreateObject();
        char attempts[16];
        char *rule_arn = bus_rule_make_arn(cfg->region, cfg->account_id, d->bus, d->rule);
        char *body = event_body(q, d->seq);
        snprintf(attempts, sizeof(attempts), "%d", d->attempts > 0 ? d->attempts - 1 : 0);
        cJSON_AddStringToObject(a, "RULE_ARN", rule_arn);
        cJSON_AddStringToObject(a, "TARGET_ARN", d->arn);
        cJSON_AddStringToObject(a, "ERROR_CODE", code);
        cJSON_AddStringToObject(a, "ERROR_MESSAGE", message ? message : "");
        if (exhausted != NULL)
            cJSON_AddStringToObject(a, "EXHAUSTED_RETRY_CONDITION", exhausted);
        cJSON_AddStringToObject(a, "RETRY_ATTEMPTS", attempts);
        char *attrs = cJSON_PrintUnformatted(a);
        sqlite3_stmt *s = stmt(q, Q_DLQ_ADD);
        sqlite3_bind_text(s, 1, t->dlq_arn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)d->seq);
        sqlite3_bind_text(s, 3, d->rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, d->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, body ? body : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, attrs, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, bus_now_ms(q->bus));
        sqlite3_bind_text(s, 8, d->bus, -1, SQLITE_STATIC);
        rc = done(q, s);
        cJSON_free(attrs);
        cJSON_Delete(a);
        free(rule_arn);
        free(body);
        q->stats.dead_lettered++;
        target_stats(q, d->arn)->dead_lettered++;
        BB_LOG_WARN("bus", "event dead-lettered", "ev=%llu rule=%s target=%s dlq=%s code=%s",
                    (unsigned long long)d->seq, d->rule, d->target, t->dlq_arn, code);
    } else {
        q->stats.dropped++;
        target_stats(q, d->arn)->dropped++;
        BB_LOG_WARN("bus", "event dropped after failed deliveries",
                    "ev=%llu rule=%s target=%s code=%s", (unsigned long long)d->seq, d->rule,
                    d->target, code);
    }
    if (rc == BB_OK) {
        sqlite3_stmt *s = stmt(q, Q_ACK);
        sqlite3_bind_int64(s, 1, d->id);
        rc = done(q, s);
    }
    return rc;
}

int bus_queue_fail(struct bus_queue *q, int64_t id, const char *code, const char *message,
                   int retryable, int64_t retry_after_ms)
{
    struct bus_rules *rules = bus_get_rules(q->bus);
    struct bus_delivery d;
    sqlite3_stmt *s = stmt(q, Q_GET);
    int64_t now = bus_now_ms(q->bus);
    int rc;

    memset(&d, 0, sizeof(d));
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return BB_OK; /* already gone */
    }
    row_to(s, &d);
    sqlite3_reset(s);
    d.attempts++;
    q->stats.failed_attempts++;
    target_stats(q, d.arn)->failed_attempts++;

    struct bus_rule *r = bus_rules_find(rules, d.bus, d.rule);
    struct bus_target *t = r ? bus_rule_target(r, d.target) : NULL;
    int max_retries = t ? t->max_retries : 0;
    int64_t max_age_ms = (int64_t)(t ? t->max_age_s : 0) * 1000;
    const char *exhausted = NULL;

    if (!retryable)
        exhausted = NULL;
    else if (d.attempts - 1 >= max_retries)
        exhausted = "MaximumRetryAttempts";
    else if (now - d.first_ms >= max_age_ms)
        exhausted = "MaximumEventAgeInSeconds";
    if (!retryable || exhausted != NULL) {
        rc = dead_letter(q, &d, code, message, exhausted);
        bus_delivery_cleanup(&d);
        return rc < 0 ? rc : 1;
    }
    double scale = bus_config(q->bus)->retry_time_scale;
    int64_t delay = (int64_t)((double)bus_queue_backoff_ms(d.attempts, jitter()) * scale);
    if (retry_after_ms > delay)
        delay = retry_after_ms;
    s = stmt(q, Q_RETRY);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, d.attempts);
    sqlite3_bind_int64(s, 3, now + delay);
    sqlite3_bind_text(s, 4, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, message ? message : "", -1, SQLITE_STATIC);
    rc = done(q, s);
    BB_LOG_INFO("bus", "delivery failed, will retry",
                "ev=%llu rule=%s target=%s attempt=%d code=%s retry_in_ms=%lld",
                (unsigned long long)d.seq, d.rule, d.target, d.attempts, code, (long long)delay);
    bus_delivery_cleanup(&d);
    return rc < 0 ? rc : 0;
}

int bus_queue_expire(struct bus_queue *q, int64_t now_ms)
{
    struct bus_rules *rules = bus_get_rules(q->bus);
    sqlite3 *db = bus_db(q->bus)->sql;
    sqlite3_stmt *s = NULL;
    int n = 0;

    for (size_t i = 0; i < bus_rules_count(rules); i++) {
        struct bus_rule *r = bus_rules_at(rules, i);
        for (size_t k = 0; k < r->ntargets; k++) {
            struct bus_target *t = &r->targets[k];
            if (t->kind != BUS_TARGET_QUEUE)
                continue;
            if (sqlite3_prepare_v2(db,
                                   "SELECT id, seq, bus, rule, target, arn, attempts, first_ms"
                                   " FROM deliveries WHERE bus=?1 AND rule=?2 AND target=?3"
                                   " AND state=0 AND first_ms<?4 LIMIT 1000",
                                   -1, &s, NULL) != SQLITE_OK)
                return BB_EDB;
            sqlite3_bind_text(s, 1, r->bus, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, r->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, t->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, now_ms - (int64_t)t->max_age_s * 1000);
            struct bus_delivery batch[64];
            int nb = 0;
            while (nb < 64 && sqlite3_step(s) == SQLITE_ROW)
                row_to(s, &batch[nb++]);
            sqlite3_finalize(s);
            for (int j = 0; j < nb; j++) {
                dead_letter(q, &batch[j], "TIMEOUT", "The event was not consumed in time.",
                            "MaximumEventAgeInSeconds");
                bus_delivery_cleanup(&batch[j]);
                n++;
            }
        }
    }
    return n;
}

void bus_queue_stats(const struct bus_queue *q, struct bus_queue_stats *out)
{
    *out = q->stats;
}

char *bus_queue_dlq_list(struct bus_queue *q, const char *arn, int64_t after, int limit)
{
    sqlite3 *db = bus_db(q->bus)->sql;
    sqlite3_stmt *s = NULL;
    cJSON *arr = cJSON_CreateArray();
    char *text;
    char *out;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, seq, rule, target, body, attributes, created_ms FROM dlq"
                           " WHERE arn=?1 AND id>?2 ORDER BY id LIMIT ?3",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, after);
        sqlite3_bind_int(s, 3, limit);
        while (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "MessageId", (double)sqlite3_column_int64(s, 0));
            cJSON_AddNumberToObject(m, "Sequence", (double)sqlite3_column_int64(s, 1));
            cJSON_AddStringToObject(m, "Rule", (const char *)sqlite3_column_text(s, 2));
            cJSON_AddStringToObject(m, "Target", (const char *)sqlite3_column_text(s, 3));
            cJSON_AddStringToObject(m, "Body", (const char *)sqlite3_column_text(s, 4));
            cJSON *attrs = cJSON_Parse((const char *)sqlite3_column_text(s, 5));
            cJSON_AddItemToObject(m, "MessageAttributes", attrs ? attrs : cJSON_CreateObject());
            cJSON_AddNumberToObject(m, "SentTimestamp", (double)sqlite3_column_int64(s, 6));
            cJSON_AddItemToArray(arr, m);
        }
        sqlite3_finalize(s);
    }
    text = cJSON_PrintUnformatted(arr);
    out = bb_xstrdup(text);
    cJSON_free(text);
    cJSON_Delete(arr);
    return out;
}

int bus_queue_dlq_redrive(struct bus_queue *q, const char *arn)
{
    struct db *db = bus_db(q->bus);
    int64_t now = bus_now_ms(q->bus);
    sqlite3_stmt *s = NULL;
    int n = 0;
    int rc;

    rc = db_begin(db);
    if (rc < 0)
        return rc;
    if (sqlite3_prepare_v2(db->sql,
                           "INSERT INTO deliveries(seq, bus, rule, target, arn, state, attempts,"
                           " next_ms, first_ms, grp) SELECT dlq.seq, targets.bus, dlq.rule,"
                           " dlq.target, targets.arn, 0, 0, ?2, ?2, CASE WHEN targets.arn LIKE"
                           " 'arn:aws:sqs:%' THEN substr(targets.arn, length(rtrim(targets.arn,"
                           " replace(targets.arn, ':', ''))) + 1) ELSE '' END FROM dlq JOIN"
                           " targets ON targets.bus=dlq.bus AND targets.rule=dlq.rule AND"
                           " targets.id=dlq.target WHERE dlq.arn=?1",
                           -1, &s, NULL) != SQLITE_OK) {
        db_rollback(db);
        return BB_EDB;
    }
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    rc = sqlite3_step(s) == SQLITE_DONE ? BB_OK : BB_EDB;
    n = sqlite3_changes(db->sql);
    sqlite3_finalize(s);
    if (rc == BB_OK) {
        const char *del = "DELETE FROM dlq WHERE arn=?1";
        if (sqlite3_prepare_v2(db->sql, del, -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
            rc = sqlite3_step(s) == SQLITE_DONE ? BB_OK : BB_EDB;
            sqlite3_finalize(s);
        }
    }
    if (rc == BB_OK)
        rc = db_commit(db);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    bus_kick(q->bus);
    return n;
}

/* ---- consumer groups ---- */

int bus_queue_group_take(struct bus_queue *q, const char *group, int64_t now_ms,
                         int64_t visible_until_ms, const char *holder, struct bus_delivery *out,
                         int max)
{
    sqlite3_stmt *s = NULL;
    int n = 0;

    if ((s = db_stmt(bus_db(q->bus),
                     "SELECT id, seq, bus, rule, target, arn, attempts, first_ms FROM"
                     " deliveries WHERE grp=?2 AND state=0 AND next_ms<=?1"
                     " ORDER BY next_ms, id LIMIT ?3")) == NULL)
        return BB_EDB;
    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_text(s, 2, group, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, max);
    while (n < max && sqlite3_step(s) == SQLITE_ROW)
        row_to(s, &out[n++]);
    db_stmt_done(s);
    for (int i = 0; i < n; i++) {
        if ((s = db_stmt(bus_db(q->bus), "UPDATE deliveries SET state=1, holder=?2, next_ms=?3"
                                         " WHERE id=?1")) == NULL)
            return BB_EDB;
        sqlite3_bind_int64(s, 1, out[i].id);
        sqlite3_bind_text(s, 2, holder, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, visible_until_ms);
        sqlite3_step(s);
        db_stmt_done(s);
    }
    return n;
}

int bus_queue_group_held(struct bus_queue *q, int64_t id, const char *holder)
{
    char *h = bus_queue_holder(q, id);
    int held = h != NULL && strcmp(h, holder) == 0;
    free(h);
    return held;
}

char *bus_queue_holder(struct bus_queue *q, int64_t id)
{
    sqlite3_stmt *s = NULL;
    char *h = NULL;
    if ((s = db_stmt(bus_db(q->bus), "SELECT holder FROM deliveries WHERE id=?1 AND state=1")) !=
        NULL) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
            h = bb_xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    db_stmt_done(s);
    return h;
}

int bus_queue_group_release(struct bus_queue *q, const char *holder)
{
    sqlite3 *db = bus_db(q->bus)->sql;
    sqlite3_stmt *s = NULL;
    int n = 0;
    /* a vanished member is not a failed attempt: due again at once */
    if ((s = db_stmt(bus_db(q->bus), "UPDATE deliveries SET state=0, holder=NULL, next_ms=?2"
                                     " WHERE state=1 AND holder=?1")) == NULL)
        return BB_EDB;
    sqlite3_bind_text(s, 1, holder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, bus_now_ms(q->bus));
    if (sqlite3_step(s) == SQLITE_DONE)
        n = sqlite3_changes(db);
    db_stmt_done(s);
    return n;
}

int bus_queue_group_expired(struct bus_queue *q, int64_t now_ms, struct bus_delivery *out, int max)
{
    sqlite3_stmt *s = NULL;
    int n = 0;
    if ((s = db_stmt(bus_db(q->bus),
                     "SELECT id, seq, bus, rule, target, arn, attempts, first_ms FROM"
                     " deliveries WHERE state=1 AND holder IS NOT NULL AND next_ms<=?1"
                     " LIMIT ?2")) == NULL)
        return BB_EDB;
    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_int(s, 2, max);
    while (n < max && sqlite3_step(s) == SQLITE_ROW)
        row_to(s, &out[n++]);
    db_stmt_done(s);
    return n;
}

int64_t bus_queue_group_next_due(struct bus_queue *q, const char *group)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if ((s = db_stmt(bus_db(q->bus),
                     "SELECT min(next_ms) FROM deliveries WHERE grp=?1 AND state=0")) != NULL) {
        sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(s, 0);
    }
    db_stmt_done(s);
    return v;
}

void bus_queue_group_depth(struct bus_queue *q, const char *group, int64_t *pending,
                           int64_t *inflight)
{
    sqlite3_stmt *s = NULL;
    *pending = 0;
    *inflight = 0;
    if ((s = db_stmt(bus_db(q->bus),
                     "SELECT state, count(*) FROM deliveries WHERE grp=?1 GROUP BY state")) !=
        NULL) {
        sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (sqlite3_column_int(s, 0) == 0)
                *pending = sqlite3_column_int64(s, 1);
            else
                *inflight = sqlite3_column_int64(s, 1);
        }
    }
    db_stmt_done(s);
}
