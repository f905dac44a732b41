/* SPDX-License-Identifier: MIT */
/* metrics: fixed-size label tables and the Prometheus text format. */
#include "metrics.h"
#include "bb_buf.h"
#include "bus.h"
#include "bus_queue.h"
#include "db.h"
#include "http_conn.h"
#include "server.h"
#include "store.h"
#include "supervise.h"

#include <cjson/cJSON.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const double buckets_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(buckets_s) / sizeof(buckets_s[0]))

struct req_series {
    char op[40];
    int status;
    uint64_t count;
};

struct op_hist {
    char op[40];
    uint64_t le[NBUCKETS];
    uint64_t count;
    double sum;
};

struct ev_series {
    char source[64];
    char detail_type[64];
    uint64_t count;
};

static struct {
    struct req_series req[METRICS_MAX_SERIES];
    int nreq;
    struct op_hist hist[64];
    int nhist;
    struct ev_series ev[METRICS_MAX_SERIES];
    int nev;
    uint64_t bytes_in, bytes_out;
    uint64_t rule_matches;
    uint64_t commits;
    double commit_sum;
    uint64_t commit_le[NBUCKETS];
    uint64_t watch_notes, watch_rescans;
} m;

static void copy_label(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void metrics_request(const char *op, int status, uint64_t bytes_in, uint64_t bytes_out,
                     int64_t duration_us)
{
    const char *o = op ? op : "other";
    int i;
    double s = (double)duration_us / 1e6;

    m.bytes_in += bytes_in;
    m.bytes_out += bytes_out;
    for (i = 0; i < m.nreq; i++)
        if (m.req[i].status == status && strcmp(m.req[i].op, o) == 0)
            break;
    if (i == m.nreq) {
        if (m.nreq == METRICS_MAX_SERIES)
            i = METRICS_MAX_SERIES - 1; /* the last series absorbs the overflow */
        else {
            copy_label(m.req[i].op, sizeof(m.req[i].op),
                       m.nreq == METRICS_MAX_SERIES - 1 ? "other" : o);
            m.req[i].status = status;
            m.nreq++;
        }
    }
    m.req[i].count++;
    for (i = 0; i < m.nhist; i++)
        if (strcmp(m.hist[i].op, o) == 0)
            break;
    if (i == m.nhist) {
        if (m.nhist == 64)
            i = 63;
        else {
            copy_label(m.hist[i].op, sizeof(m.hist[i].op), o);
            m.nhist++;
        }
    }
    for (size_t b = 0; b < NBUCKETS; b++)
        if (s <= buckets_s[b])
            m.hist[i].le[b]++;
    m.hist[i].count++;
    m.hist[i].sum += s;
}

void metrics_event(const char *source, const char *detail_type)
{
    int i;
    for (i = 0; i < m.nev; i++)
        if (strcmp(m.ev[i].source, source) == 0 && strcmp(m.ev[i].detail_type, detail_type) == 0)
            break;
    if (i == m.nev) {
        if (m.nev == METRICS_MAX_SERIES) {
            i = METRICS_MAX_SERIES - 1;
        } else {
            copy_label(m.ev[i].source, sizeof(m.ev[i].source), source);
            copy_label(m.ev[i].detail_type, sizeof(m.ev[i].detail_type), detail_type);
            m.nev++;
        }
    }
    m.ev[i].count++;
}

void metrics_rule_match(void)
{
    m.rule_matches++;
}

void metrics_commit(int64_t us)
{
    double s = (double)us / 1e6;
    m.commits++;
    m.commit_sum += s;
    for (size_t b = 0; b < NBUCKETS; b++)
        if (s <= buckets_s[b])
            m.commit_le[b]++;
}

void metrics_watch(int rescan)
{
    if (rescan)
        m.watch_rescans++;
    else
        m.watch_notes++;
}

/* Label values are escaped as the exposition format asks. */
static struct {
    int64_t open;    /* WebSocket connections now */
    uint64_t total;  /* accepted since start */
    uint64_t lagged; /* subscriptions paused for lagging */
} ws;

void metrics_ws_connection(int delta)
{
    ws.open += delta;
    if (delta > 0)
        ws.total += (uint64_t)delta;
}

void metrics_ws_lagged(void)
{
    ws.lagged++;
}

static void label(struct bb_buf *out, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            bb_buf_append(out, "\\", 1);
        if (*p == '\n')
            bb_buf_appends(out, "\\n");
        else
            bb_buf_append(out, p, 1);
    }
}

static int64_t scalar(struct db *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void render_target(void *arg, const char *arn, const struct bus_queue_stats *st)
{
    struct bb_buf *out = arg;
    const struct {
        const char *result;
        uint64_t n;
    } v[] = {{"delivered", st->delivered},
             {"failed_attempt", st->failed_attempts},
             {"dead_lettered", st->dead_lettered},
             {"dropped", st->dropped}};

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        bb_buf_appends(out, "bucketbridge_target_deliveries_total{target=\"");
        label(out, arn);
        bb_buf_appendf(out, "\",result=\"%s\"} %llu\n", v[i].result, (unsigned long long)v[i].n);
    }
}

/* Consumer processes from the supervisor's status: restarts (a counter: the
 * supervisor keeps each slot's count for the daemon's life) and instances by
 * state. */
static void render_consumers(struct bb_buf *out, struct server *srv)
{
    static const char *const states[] = {"running", "stopping", "restarting", "stopped"};
    cJSON *arr = supervise_status(srv->supervise);
    const cJSON *c;

    bb_buf_appends(out, "# HELP bucketbridge_consumer_restarts_total Consumer processes restarted "
                        "after an exit.\n# TYPE bucketbridge_consumer_restarts_total counter\n");
    cJSON_ArrayForEach(c, arr)
    {
        const cJSON *i;
        double restarts = 0;
        cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(c, "instances"))
        {
            restarts += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(i, "restarts"));
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        bb_buf_appends(out, "bucketbridge_consumer_restarts_total{consumer=\"");
        label(out, name ? name : "");
        bb_buf_appendf(out, "\"} %.0f\n", restarts);
    }
    bb_buf_appends(out, "# HELP bucketbridge_consumer_instances Consumer process slots by "
                        "state.\n# TYPE bucketbridge_consumer_instances gauge\n");
    cJSON_ArrayForEach(c, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
            const cJSON *i;
            int n = 0;
            cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(c, "instances"))
            {
                const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(i, "state"));
                n += st != NULL && strcmp(st, states[k]) == 0;
            }
            bb_buf_appends(out, "bucketbridge_consumer_instances{consumer=\"");
            label(out, name ? name : "");
            bb_buf_appendf(out, "\",state=\"%s\"} %d\n", states[k], n);
        }
    }
    cJSON_Delete(arr);
}

void metrics_render(struct bb_buf *out, struct server *srv)
{
    struct db *db = store_get_db(srv->store);
    struct bus_queue_stats st;
    sqlite3_stmt *s = NULL;

    bb_buf_appends(out, "# HELP bucketbridge_requests_total HTTP requests by operation and "
                        "status.\n# TYPE bucketbridge_requests_total counter\n");
    for (int i = 0; i < m.nreq; i++) {
        bb_buf_appends(out, "bucketbridge_requests_total{operation=\"");
        label(out, m.req[i].op);
        bb_buf_appendf(out, "\",status=\"%d\"} %llu\n", m.req[i].status,
                       (unsigned long long)m.req[i].count);
    }
    bb_buf_appends(out, "# HELP bucketbridge_request_duration_seconds Request latency by "
                        "operation.\n# TYPE bucketbridge_request_duration_seconds histogram\n");
    for (int i = 0; i < m.nhist; i++) {
        for (size_t b = 0; b < NBUCKETS; b++) {
            bb_buf_appends(out, "bucketbridge_request_duration_seconds_bucket{operation=\"");
            label(out, m.hist[i].op);
            bb_buf_appendf(out, "\",le=\"%g\"} %llu\n", buckets_s[b],
                           (unsigned long long)m.hist[i].le[b]);
        }
        bb_buf_appends(out, "bucketbridge_request_duration_seconds_bucket{operation=\"");
        label(out, m.hist[i].op);
        bb_buf_appendf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)m.hist[i].count);
        bb_buf_appends(out, "bucketbridge_request_duration_seconds_sum{operation=\"");
        label(out, m.hist[i].op);
        bb_buf_appendf(out, "\"} %.6f\n", m.hist[i].sum);
        bb_buf_appends(out, "bucketbridge_request_duration_seconds_count{operation=\"");
        label(out, m.hist[i].op);
        bb_buf_appendf(out, "\"} %llu\n", (unsigned long long)m.hist[i].count);
    }
    bb_buf_appendf(out,
                   "# HELP bucketbridge_bytes_received_total Request body bytes.\n"
                   "# TYPE bucketbridge_bytes_received_total counter\n"
                   "bucketbridge_bytes_received_total %llu\n"
                   "# HELP bucketbridge_bytes_sent_total Response body bytes.\n"
                   "# TYPE bucketbridge_bytes_sent_total counter\n"
                   "bucketbridge_bytes_sent_total %llu\n",
                   (unsigned long long)m.bytes_in, (unsigned long long)m.bytes_out);
    bb_buf_appends(out, "# HELP bucketbridge_events_total Events committed to the journal.\n"
                        "# TYPE bucketbridge_events_total counter\n");
    for (int i = 0; i < m.nev; i++) {
        bb_buf_appends(out, "bucketbridge_events_total{source=\"");
        label(out, m.ev[i].source);
        bb_buf_appends(out, "\",detail_type=\"");
        label(out, m.ev[i].detail_type);
        bb_buf_appendf(out, "\"} %llu\n", (unsigned long long)m.ev[i].count);
    }
    bus_queue_stats(bus_get_queue(srv->bus), &st);
    bb_buf_appendf(out,
                   "# HELP bucketbridge_rule_matches_total Rule matches.\n"
                   "# TYPE bucketbridge_rule_matches_total counter\n"
                   "bucketbridge_rule_matches_total %llu\n"
                   "# HELP bucketbridge_deliveries_total Push-target delivery outcomes.\n"
                   "# TYPE bucketbridge_deliveries_total counter\n"
                   "bucketbridge_deliveries_total{result=\"delivered\"} %llu\n"
                   "bucketbridge_deliveries_total{result=\"failed_attempt\"} %llu\n"
                   "bucketbridge_deliveries_total{result=\"dead_lettered\"} %llu\n"
                   "bucketbridge_deliveries_total{result=\"dropped\"} %llu\n",
                   (unsigned long long)m.rule_matches, (unsigned long long)st.delivered,
                   (unsigned long long)st.failed_attempts, (unsigned long long)st.dead_lettered,
                   (unsigned long long)st.dropped);
    bb_buf_appends(out, "# HELP bucketbridge_target_deliveries_total Delivery outcomes by target "
                        "ARN.\n# TYPE bucketbridge_target_deliveries_total counter\n");
    bus_queue_each_target(bus_get_queue(srv->bus), render_target, out);
    bb_buf_appends(out, "# HELP bucketbridge_queue_depth Deliveries waiting, by target ARN.\n"
                        "# TYPE bucketbridge_queue_depth gauge\n");
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT arn, sum(state=0), sum(state=1) FROM deliveries GROUP BY arn"
                           " LIMIT 128",
                           -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *arn = (const char *)sqlite3_column_text(s, 0);
            bb_buf_appends(out, "bucketbridge_queue_depth{target=\"");
            label(out, arn);
            bb_buf_appendf(out, "\",state=\"pending\"} %lld\n",
                           (long long)sqlite3_column_int64(s, 1));
            bb_buf_appends(out, "bucketbridge_queue_depth{target=\"");
            label(out, arn);
            bb_buf_appendf(out, "\",state=\"in_flight\"} %lld\n",
                           (long long)sqlite3_column_int64(s, 2));
        }
    }
    sqlite3_finalize(s);
    bb_buf_appendf(out,
                   "# HELP bucketbridge_dead_letters Messages in dead-letter queues.\n"
                   "# TYPE bucketbridge_dead_letters gauge\n"
                   "bucketbridge_dead_letters %lld\n"
                   "# HELP bucketbridge_connections Open HTTP connections.\n"
                   "# TYPE bucketbridge_connections gauge\n"
                   "bucketbridge_connections %d\n"
                   "# HELP bucketbridge_journal_last_sequence Last journalled sequence.\n"
                   "# TYPE bucketbridge_journal_last_sequence gauge\n"
                   "bucketbridge_journal_last_sequence %llu\n"
                   "# HELP bucketbridge_watcher_notes_total Watcher notes handled.\n"
                   "# TYPE bucketbridge_watcher_notes_total counter\n"
                   "bucketbridge_watcher_notes_total %llu\n"
                   "# HELP bucketbridge_watcher_rescans_total Reconciliations run.\n"
                   "# TYPE bucketbridge_watcher_rescans_total counter\n"
                   "bucketbridge_watcher_rescans_total %llu\n",
                   (long long)scalar(db, "SELECT count(*) FROM dlq"), http_conn_count(),
                   (unsigned long long)bus_last_seq(srv->bus), (unsigned long long)m.watch_notes,
                   (unsigned long long)m.watch_rescans);
    bb_buf_appends(out, "# HELP bucketbridge_sqlite_commit_seconds SQLite commit latency.\n"
                        "# TYPE bucketbridge_sqlite_commit_seconds histogram\n");
    for (size_t b = 0; b < NBUCKETS; b++)
        bb_buf_appendf(out, "bucketbridge_sqlite_commit_seconds_bucket{le=\"%g\"} %llu\n",
                       buckets_s[b], (unsigned long long)m.commit_le[b]);
    bb_buf_appendf(out,
                   "bucketbridge_sqlite_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
                   "bucketbridge_sqlite_commit_seconds_sum %.6f\n"
                   "bucketbridge_sqlite_commit_seconds_count %llu\n",
                   (unsigned long long)m.commits, m.commit_sum, (unsigned long long)m.commits);
    bb_buf_appendf(out,
                   "# HELP bucketbridge_websocket_connections Open WebSocket connections.\n"
                   "# TYPE bucketbridge_websocket_connections gauge\n"
                   "bucketbridge_websocket_connections %lld\n"
                   "# HELP bucketbridge_websocket_connections_total WebSocket connections "
                   "accepted.\n"
                   "# TYPE bucketbridge_websocket_connections_total counter\n"
                   "bucketbridge_websocket_connections_total %llu\n"
                   "# HELP bucketbridge_websocket_lagged_total Live subscriptions paused for "
                   "falling behind.\n"
                   "# TYPE bucketbridge_websocket_lagged_total counter\n"
                   "bucketbridge_websocket_lagged_total %llu\n",
                   (long long)ws.open, (unsigned long long)ws.total, (unsigned long long)ws.lagged);
    render_consumers(out, srv);
}
