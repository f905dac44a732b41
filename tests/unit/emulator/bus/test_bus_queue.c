/* SPDX-License-Identifier: MIT */
/*
 * Tests for emulator/bus/bus_queue.c: the retry schedule and the
 * dead-letter path, against a real SQLite database in a temp dir. Time is
 * moved with the configuration's clock offset (the bus's clock seam).
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_queue.h"
#include "config.h"
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rules[] =
    "[{\"Name\":\"g\",\"EventPattern\":{\"source\":[\"t\"]},\"Targets\":[{\"Id\":\"q\","
    "\"Arn\":\"arn:aws:sqs:us-east-1:000000000000:grp\",\"RetryPolicy\":{"
    "\"MaximumRetryAttempts\":1}}]},"
    "{\"Name\":\"r\",\"EventPattern\":{\"source\":[\"t\"]},\"Targets\":[{\"Id\":\"hook\","
    "\"Arn\":\"http://127.0.0.1:9/x\",\"RetryPolicy\":{\"MaximumRetryAttempts\":3,"
    "\"MaximumEventAgeInSeconds\":3600},\"DeadLetterConfig\":{\"Arn\":"
    "\"arn:aws:sqs:us-east-1:000000000000:dlq\"}}]}]";

static const char event[] = "{\"version\":\"0\",\"id\":\"e1\",\"detail-type\":\"x\",\"source\":"
                            "\"t\",\"account\":\"000000000000\",\"time\":\"2026-01-01T00:00:00Z\","
                            "\"region\":\"us-east-1\",\"resources\":[],\"detail\":{}}";

struct fixture {
    char *dir;
    struct config cfg;
    struct db db;
    struct bus *bus;
};

static int setup(void **state)
{
    struct fixture *f = bb_xcalloc(1, sizeof(*f));
    char err[256];
    char *path;
    f->dir = bb_test_tmpdir();
    config_init(&f->cfg);
    free(f->cfg.rules_json);
    f->cfg.rules_json = bb_xstrdup(rules);
    f->cfg.retry_time_scale = 1;
    path = bb_xasprintf("%s/state.db", f->dir);
    assert_int_equal(db_open(&f->db, path, 0), BB_OK);
    free(path);
    assert_int_equal(bus_open(&f->db, &f->cfg, &f->bus, err, sizeof(err)), BB_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bus_free(f->bus);
    db_close(&f->db);
    config_cleanup(&f->cfg);
    bb_test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int64_t scalar(struct fixture *f, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(f->db.sql, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void publish(struct fixture *f)
{
    uint64_t seq = 0;
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_publish(f->bus, BUS_DEFAULT, event, strlen(event), NULL, NULL, &seq),
                     BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_true(seq > 0);
}

static void test_bus_queue_backoff_ms_doubles_from_one_second_with_jitter(void **state)
{
    (void)state;
    /* attempt n: d = 1 s * 2^(n-1) capped at 300 s, jittered into [d/2, d] */
    assert_int_equal(bus_queue_backoff_ms(1, 0.0), 500);
    assert_int_equal(bus_queue_backoff_ms(1, 1.0), 1000);
    assert_int_equal(bus_queue_backoff_ms(2, 0.0), 1000);
    assert_int_equal(bus_queue_backoff_ms(3, 1.0), 4000);
    assert_int_equal(bus_queue_backoff_ms(9, 1.0), 256000);
    assert_int_equal(bus_queue_backoff_ms(10, 1.0), 300000);
    assert_int_equal(bus_queue_backoff_ms(185, 0.0), 150000);
    for (int n = 1; n < 20; n++)
        assert_true(bus_queue_backoff_ms(n, 0.5) <= bus_queue_backoff_ms(n + 1, 0.5));
}

static void test_bus_queue_fail_schedules_retries_then_dead_letters(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[4];

    publish(f);
    assert_int_equal(scalar(f, "SELECT count(*) FROM deliveries WHERE grp=''"), 1);
    for (int attempt = 1; attempt <= 4; attempt++) {
        int64_t t0 = bus_now_ms(f->bus);
        assert_int_equal(db_begin(&f->db), BB_OK);
        int n = bus_queue_take_due(q, t0 + 3600000, d, 4);
        assert_int_equal(n, 1);
        int left = bus_queue_fail(q, d[0].id, "ERROR_FROM_TARGET", "boom", 1, -1);
        assert_int_equal(db_commit(&f->db), BB_OK);
        int64_t t1 = bus_now_ms(f->bus);
        bus_delivery_cleanup(&d[0]);
        if (attempt <= 3) {
            /* retried: due again after the jittered backoff of this attempt,
             * counted from the moment of the failure (between t0 and t1) */
            int64_t next = scalar(f, "SELECT next_ms FROM deliveries WHERE grp=''");
            assert_int_equal(left, 0);
            assert_int_equal(scalar(f, "SELECT attempts FROM deliveries WHERE grp=''"), attempt);
            assert_true(next >= t0 + bus_queue_backoff_ms(attempt, 0.0));
            assert_true(next <= t1 + bus_queue_backoff_ms(attempt, 1.0));
        } else {
            /* MaximumRetryAttempts 3 spent: the 4th failure dead-letters */
            assert_int_equal(left, 1);
        }
    }
    assert_int_equal(scalar(f, "SELECT count(*) FROM deliveries WHERE grp=''"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM dlq"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM dlq WHERE json_extract(attributes,"
                               " '$.EXHAUSTED_RETRY_CONDITION')='MaximumRetryAttempts'"),
                     1);
    assert_int_equal(scalar(f, "SELECT json_extract(attributes, '$.RETRY_ATTEMPTS') FROM dlq"), 3);
}

static void test_bus_queue_fail_dead_letters_at_once_when_not_retryable(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[1];

    publish(f);
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_take_due(q, bus_now_ms(f->bus), d, 1), 1);
    assert_int_equal(bus_queue_fail(q, d[0].id, "NO_RESOURCE", "gone", 0, -1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    assert_int_equal(scalar(f, "SELECT count(*) FROM dlq WHERE json_extract(attributes,"
                               " '$.ERROR_CODE')='NO_RESOURCE'"),
                     1);
}

struct seen_target {
    int n;
    char arn[64];
    struct bus_queue_stats st;
};

static void collect_target(void *arg, const char *arn, const struct bus_queue_stats *st)
{
    struct seen_target *t = arg;
    t->n++;
    snprintf(t->arn, sizeof(t->arn), "%s", arn);
    t->st = *st;
}

static void test_bus_queue_counts_outcomes_by_target(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[1];
    struct seen_target t;

    memset(&t, 0, sizeof(t));
    bus_queue_each_target(q, collect_target, &t);
    assert_int_equal(t.n, 0);
    /* the webhook target: one failed attempt, then (not retryable) its DLQ */
    publish(f);
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_take_due(q, bus_now_ms(f->bus), d, 1), 1);
    assert_int_equal(bus_queue_fail(q, d[0].id, "NO_RESOURCE", "gone", 0, -1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    bus_queue_each_target(q, collect_target, &t);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.arn, "http://127.0.0.1:9/x");
    assert_int_equal(t.st.failed_attempts, 1);
    assert_int_equal(t.st.dead_lettered, 1);
    assert_int_equal(t.st.delivered, 0);
    /* a second event's webhook delivery acked: delivered, same target */
    publish(f);
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_take_due(q, bus_now_ms(f->bus), d, 1), 1);
    assert_int_equal(bus_queue_ack(q, d[0].id), BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    memset(&t, 0, sizeof(t));
    bus_queue_each_target(q, collect_target, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.st.delivered, 1);
    assert_int_equal(t.st.failed_attempts, 1);
    /* acking a delivery that is gone counts in the totals only */
    assert_int_equal(bus_queue_ack(q, d[0].id), BB_OK);
    memset(&t, 0, sizeof(t));
    bus_queue_each_target(q, collect_target, &t);
    assert_int_equal(t.st.delivered, 1);
}

static void test_bus_queue_fail_dead_letters_when_the_event_is_too_old(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[1];

    publish(f);
    /* the fake clock: two hours later, past MaximumEventAgeInSeconds 3600 */
    f->cfg.clock_offset_s = 7200;
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_take_due(q, bus_now_ms(f->bus), d, 1), 1);
    assert_int_equal(bus_queue_fail(q, d[0].id, "TIMEOUT", "slow", 1, -1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    assert_int_equal(scalar(f, "SELECT count(*) FROM dlq WHERE json_extract(attributes,"
                               " '$.EXHAUSTED_RETRY_CONDITION')='MaximumEventAgeInSeconds'"),
                     1);
}

static void test_bus_queue_group_hands_out_holds_and_releases(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[4];
    int64_t now, pending, inflight;

    publish(f);
    publish(f);
    now = bus_now_ms(f->bus); /* after publishing: the deliveries are due by now */
    bus_queue_group_depth(q, "grp", &pending, &inflight);
    assert_int_equal(pending, 2);
    assert_int_equal(inflight, 0);
    /* member A takes one with a 30 s visibility timeout */
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_take(q, "grp", now, now + 30000, "A", d, 1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_true(bus_queue_group_held(q, d[0].id, "A"));
    assert_false(bus_queue_group_held(q, d[0].id, "B"));
    bus_queue_group_depth(q, "grp", &pending, &inflight);
    assert_int_equal(pending, 1);
    assert_int_equal(inflight, 1);
    /* the push dispatcher never sees group deliveries */
    struct bus_delivery push[4];
    assert_int_equal(db_begin(&f->db), BB_OK);
    int np = bus_queue_take_due(q, now + 1000, push, 4);
    assert_int_equal(db_commit(&f->db), BB_OK);
    for (int i = 0; i < np; i++) {
        assert_string_not_equal(push[i].arn, "arn:aws:sqs:us-east-1:000000000000:grp");
        bus_delivery_cleanup(&push[i]);
    }
    /* A goes away: its delivery is due again at once, no attempt counted */
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_release(q, "A"), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    bus_queue_group_depth(q, "grp", &pending, &inflight);
    assert_int_equal(pending, 2);
    assert_int_equal(inflight, 0);
    assert_int_equal(scalar(f, "SELECT max(attempts) FROM deliveries WHERE grp='grp'"), 0);
}

static void test_bus_queue_group_visibility_timeout_expires_then_retries(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[2];
    int64_t now;

    publish(f);
    now = bus_now_ms(f->bus);
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_take(q, "grp", now, now + 1000, "A", d, 1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    /* not yet expired; then, with the fake clock 2 s later, expired */
    assert_int_equal(bus_queue_group_expired(q, now, d, 2), 0);
    f->cfg.clock_offset_s = 2;
    int n = bus_queue_group_expired(q, bus_now_ms(f->bus), d, 2);
    assert_int_equal(n, 1);
    assert_int_equal(db_begin(&f->db), BB_OK);
    /* the first timeout is retried (MaximumRetryAttempts 1) ... */
    assert_int_equal(bus_queue_fail(q, d[0].id, "TIMEOUT", "no ack", 1, -1), 0);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    assert_true(bus_queue_group_next_due(q, "grp") > now);
    /* ... the second is dropped (no DLQ on this target) */
    f->cfg.clock_offset_s = 3600;
    now = bus_now_ms(f->bus);
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_take(q, "grp", now, now + 1000, "B", d, 1), 1);
    assert_int_equal(bus_queue_fail(q, d[0].id, "TIMEOUT", "no ack", 1, -1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    assert_int_equal(scalar(f, "SELECT count(*) FROM deliveries WHERE grp='grp'"), 0);
}

static void test_bus_queue_recover_makes_held_group_deliveries_due_at_once(void **state)
{
    struct fixture *f = *state;
    struct bus_queue *q = bus_get_queue(f->bus);
    struct bus_delivery d[2];
    int64_t now, pending, inflight;

    publish(f);
    now = bus_now_ms(f->bus);
    /* a member took it with a 60 s visibility timeout, then the daemon died */
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_take(q, "grp", now, now + 60000, "A", d, 1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    /* the next start: pending again, due now rather than in 60 s, no
     * attempt counted */
    assert_int_equal(bus_queue_recover(q), BB_OK);
    bus_queue_group_depth(q, "grp", &pending, &inflight);
    assert_int_equal(pending, 1);
    assert_int_equal(inflight, 0);
    assert_true(bus_queue_group_next_due(q, "grp") <= bus_now_ms(f->bus));
    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_queue_group_take(q, "grp", bus_now_ms(f->bus), now + 1000, "B", d, 1), 1);
    assert_int_equal(db_commit(&f->db), BB_OK);
    bus_delivery_cleanup(&d[0]);
    assert_int_equal(scalar(f, "SELECT max(attempts) FROM deliveries WHERE grp='grp'"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_queue_backoff_ms_doubles_from_one_second_with_jitter),
        cmocka_unit_test_setup_teardown(test_bus_queue_fail_schedules_retries_then_dead_letters,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_queue_fail_dead_letters_at_once_when_not_retryable,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_queue_counts_outcomes_by_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_queue_fail_dead_letters_when_the_event_is_too_old,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_queue_group_hands_out_holds_and_releases, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_bus_queue_group_visibility_timeout_expires_then_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bus_queue_recover_makes_held_group_deliveries_due_at_once, setup, teardown),
    };
    return cmocka_run_group_tests_name("emulator/bus/bus_queue", tests, NULL, NULL);
}
