/* SPDX-License-Identifier: MIT */
/*
 * bb_busbench: events committed per second by the event bus.
 *
 * Two producers, each at several concurrencies (closed loop: every thread
 * has one keep-alive connection and sends its next request as soon as the
 * previous one is answered):
 *   putevents  SigV4-signed EventBridge PutEvents (AWS JSON 1.1) with
 *              --batch (10) entries per request, Source "bench.bus";
 *   s3         SigV4-signed S3 PutObject of --size (1024) bytes into
 *              my-raw-images (EventBridge on), keys without an image suffix;
 *              each committed PUT journals one "Object Created" event.
 * Every run starts a fresh daemon (bench_daemon.h: --ephemeral, port 0,
 * --no-consumers, --log-level warn, the embedded default configuration, so
 * the default rules' deliveries are written too) and stops it afterwards.
 * After a run the journal is read back twice: the daemon's health
 * last_sequence, and count(*) of the events table in state.db opened
 * read-only; both must have grown by exactly the number of events the
 * clients had acknowledged ("verified": true), else the run is flagged.
 *
 * Each run also reports the daemon's CPU use (utime+stime) and its threads'
 * run-queue wait (schedstat) over the wall time, and events per second of
 * daemon CPU time, which depends much less on what else the machine runs.
 *
 * Output: one JSON line per run, then one "summary" line per scenario with
 * the median events/s (and the p50/p99 request latency medians) of the runs.
 *
 *   bb_busbench --bin PATH [--mode putevents|s3|all] [--concurrency 1,4,16]
 *               [--seconds 5] [--repeats 3] [--batch 10] [--size 1024] [--check]
 *
 * --check: exit 1 unless every run verified (no errors, journal = acks).
 */
#include "bench_daemon.h"
#include "bench_http.h"
#include "bench_stats.h"

#include "bb_log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONC 64
#define MAX_LEVELS 8
#define MAX_REPEATS 20

enum mode { MODE_PUTEVENTS, MODE_S3 };

struct opts {
    const char *bin;
    int putevents, s3;
    int levels[MAX_LEVELS];
    int nlevels;
    double seconds;
    int repeats;
    int batch;
    size_t size;
    int check; /* exit 1 unless every run verified */
};

static struct opts opt = {
    .putevents = 1,
    .s3 = 1,
    .levels = {1, 4, 16},
    .nlevels = 3,
    .seconds = 5,
    .repeats = 3,
    .batch = 10,
    .size = 1024,
};

/* shared by the producer threads of one run */
struct run {
    enum mode mode;
    const struct bench_daemon *d;
    int64_t end_ns;
    const char *body; /* S3 object body */
    char body_hash[65];
    pthread_barrier_t go; /* the producers and the main thread */
};

struct worker {
    struct run *run;
    int index;
    pthread_t thread;
    uint64_t requests, events, errors;
    int64_t *lat; /* per-request latency, ns */
    size_t nlat, caplat;
    int64_t finished_ns;
};

/* Set when a scenario's runs did not all complete and verify (--check). */
static int any_failed;

static int note_result(int ok)
{
    if (!ok)
        any_failed = 1;
    return ok;
}

static void usage(void)
{
    fprintf(stderr, "usage: bb_busbench --bin PATH [--mode putevents|s3|all] "
                    "[--concurrency 1,4,16] [--seconds 5] [--repeats 3] [--batch 10] "
                    "[--size 1024] [--check]\n");
    exit(2);
}

static void add_lat(struct worker *w, int64_t ns)
{
    if (w->nlat == w->caplat) {
        size_t cap = w->caplat ? w->caplat * 2 : 4096;
        int64_t *p = realloc(w->lat, cap * sizeof(*p));
        if (p == NULL)
            return;
        w->lat = p;
        w->caplat = cap;
    }
    w->lat[w->nlat++] = ns;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct bench_http h;
    char body[4096], key[128];
    uint64_t n = 0;

    int init = bench_http_init(&h, r->d->port, r->d->access_key, r->d->secret_key);
    pthread_barrier_wait(&r->go);
    if (init != 0) {
        w->errors++;
        return NULL;
    }
    while (bench_now_ns() < r->end_ns) {
        int64_t t0 = bench_now_ns();
        int rc;
        if (r->mode == MODE_PUTEVENTS) {
            int failed = 0;
            size_t len = bench_put_events_body(body, sizeof(body), "bench.bus", "Bench Event",
                                               ((uint64_t)w->index << 40) + n, opt.batch);
            rc = bench_http_put_events(&h, body, len, &failed);
            if (rc == 0) {
                w->events += (uint64_t)(opt.batch - failed);
                if (failed != 0)
                    w->errors++;
            }
        } else {
            snprintf(key, sizeof(key), "busbench/t%d/%llu.bin", w->index, (unsigned long long)n);
            rc = bench_http_put_object(&h, "my-raw-images", key, r->body, opt.size, r->body_hash);
            if (rc == 0)
                w->events++;
        }
        int64_t t1 = bench_now_ns();
        if (rc == 0) {
            w->requests++;
            add_lat(w, t1 - t0);
        } else {
            w->errors++;
        }
        n++;
    }
    w->finished_ns = bench_now_ns();
    bench_http_cleanup(&h);
    return NULL;
}

/* count(*) of the default bus's journal, from state.db opened read-only. */
static int journal_count(const struct bench_daemon *d, uint64_t *out)
{
    char path[700];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/.bucketbridge/state.db", d->data_dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE bus='default'", -1, &st, NULL) !=
        SQLITE_OK)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *out = (uint64_t)sqlite3_column_int64(st, 0);
    rc = 0;
out:
    if (rc != 0)
        BB_LOG_ERROR("bench", "cannot count the journal", "db=%s err=\"%s\"", path,
                     db ? sqlite3_errmsg(db) : "open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

struct result {
    double events_per_s, req_per_s, p50_ms, p99_ms;
    double per_cpu_s; /* events per second of daemon CPU time */
    int ok;
};

static int run_once(enum mode mode, int conc, int rep, struct result *res)
{
    struct bench_daemon d;
    struct run r;
    struct worker w[MAX_CONC];
    struct bench_http h;
    uint64_t seq0 = 0, seq1 = 0, cnt0 = 0, cnt1 = 0;
    int rc = -1, nstarted = 0, have_http = 0;
    char *obj = NULL;

    memset(&r, 0, sizeof(r));
    memset(w, 0, sizeof(w));
    memset(res, 0, sizeof(*res));
    if (bench_daemon_start(opt.bin, NULL, &d) != 0)
        return -1;
    if (bench_http_init(&h, d.port, d.access_key, d.secret_key) != 0)
        goto out;
    have_http = 1;
    if (bench_http_last_seq(&h, &seq0) != 0 || journal_count(&d, &cnt0) != 0)
        goto out;

    r.mode = mode;
    r.d = &d;
    obj = malloc(opt.size ? opt.size : 1);
    if (obj == NULL)
        goto out;
    for (size_t i = 0; i < opt.size; i++)
        obj[i] = (char)('a' + i % 26);
    r.body = obj;
    bench_sha256_hex(obj, opt.size, r.body_hash);

    /* the clock starts once every producer has its handle */
    pthread_barrier_init(&r.go, NULL, (unsigned)conc + 1);
    r.end_ns = INT64_MAX;
    for (int i = 0; i < conc; i++) {
        w[i].run = &r;
        w[i].index = i;
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            BB_LOG_ERROR("bench", "cannot start a producer thread", "n=%d", i);
            exit(1); /* the barrier would never open */
        }
        nstarted++;
    }
    struct bench_proc_sample ps0, ps1;
    bench_proc_sample(d.pid, &ps0);
    int64_t t0 = bench_now_ns();
    r.end_ns = t0 + (int64_t)(opt.seconds * 1e9);
    pthread_barrier_wait(&r.go);
    for (int i = 0; i < nstarted; i++)
        pthread_join(w[i].thread, NULL);
    pthread_barrier_destroy(&r.go);
    bench_proc_sample(d.pid, &ps1);

    int64_t t1 = t0;
    uint64_t events = 0, requests = 0, errors = 0;
    size_t nlat = 0;
    for (int i = 0; i < conc; i++) {
        if (w[i].finished_ns > t1)
            t1 = w[i].finished_ns;
        events += w[i].events;
        requests += w[i].requests;
        errors += w[i].errors;
        nlat += w[i].nlat;
    }
    int64_t *lat = malloc((nlat ? nlat : 1) * sizeof(*lat));
    if (lat == NULL)
        goto out;
    size_t k = 0;
    for (int i = 0; i < conc; i++) {
        memcpy(lat + k, w[i].lat, w[i].nlat * sizeof(*lat));
        k += w[i].nlat;
    }
    bench_sort_i64(lat, nlat);

    if (bench_http_last_seq(&h, &seq1) != 0 || journal_count(&d, &cnt1) != 0) {
        free(lat);
        goto out;
    }
    double secs = (double)(t1 - t0) / 1e9;
    int verified = seq1 - seq0 == events && cnt1 - cnt0 == events;
    res->events_per_s = (double)events / secs;
    res->req_per_s = (double)requests / secs;
    res->p50_ms = (double)bench_percentile_i64(lat, nlat, 50) / 1e6;
    res->p99_ms = (double)bench_percentile_i64(lat, nlat, 99) / 1e6;
    res->ok = verified && errors == 0;
    double cpu = ps1.cpu_s - ps0.cpu_s;
    res->per_cpu_s = cpu > 0 ? (double)events / cpu : 0;
    printf("{\"scenario\":\"%s\",\"concurrency\":%d,\"run\":%d,\"seconds\":%.3f,"
           "\"requests\":%llu,\"errors\":%llu,\"events\":%llu,\"journal_seq_delta\":%llu,"
           "\"journal_rows_delta\":%llu,\"verified\":%s,\"events_per_s\":%.0f,\"req_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"daemon_cpu_pct\":%.1f,"
           "\"daemon_runq_wait_pct\":%.1f,\"events_per_daemon_cpu_s\":%.0f}\n",
           mode == MODE_PUTEVENTS ? "putevents" : "s3", conc, rep, secs,
           (unsigned long long)requests, (unsigned long long)errors, (unsigned long long)events,
           (unsigned long long)(seq1 - seq0), (unsigned long long)(cnt1 - cnt0),
           verified ? "true" : "false", res->events_per_s, res->req_per_s, res->p50_ms, res->p99_ms,
           100.0 * cpu / secs, 100.0 * (ps1.wait_s - ps0.wait_s) / secs, res->per_cpu_s);
    fflush(stdout);
    free(lat);
    rc = 0;
out:
    for (int i = 0; i < MAX_CONC; i++)
        free(w[i].lat);
    free(obj);
    if (have_http)
        bench_http_cleanup(&h);
    bench_daemon_stop(&d);
    return rc;
}

static void scenario(enum mode mode, int conc)
{
    double eps[MAX_REPEATS] = {0}, rps[MAX_REPEATS] = {0}, p50[MAX_REPEATS] = {0},
           p99[MAX_REPEATS] = {0}, pcpu[MAX_REPEATS] = {0};
    int n = 0, all_ok = 1;
    for (int rep = 0; rep < opt.repeats; rep++) {
        struct result res;
        if (run_once(mode, conc, rep, &res) != 0) {
            all_ok = 0;
            continue;
        }
        all_ok &= res.ok;
        eps[n] = res.events_per_s;
        rps[n] = res.req_per_s;
        p50[n] = res.p50_ms;
        p99[n] = res.p99_ms;
        pcpu[n] = res.per_cpu_s;
        n++;
    }
    printf("{\"summary\":\"%s\",\"concurrency\":%d,\"runs\":%d,\"verified\":%s,"
           "\"events_per_s\":%.0f,\"req_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"events_per_daemon_cpu_s\":%.0f}\n",
           mode == MODE_PUTEVENTS ? "putevents" : "s3", conc, n,
           note_result(all_ok && n == opt.repeats) ? "true" : "false", bench_median(eps, (size_t)n),
           bench_median(rps, (size_t)n), bench_median(p50, (size_t)n), bench_median(p99, (size_t)n),
           bench_median(pcpu, (size_t)n));
    fflush(stdout);
}

static void parse_levels(const char *s)
{
    opt.nlevels = 0;
    while (*s && opt.nlevels < MAX_LEVELS) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > MAX_CONC)
            usage();
        opt.levels[opt.nlevels++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            usage();
    }
    if (opt.nlevels == 0)
        usage();
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--check") == 0) {
            opt.check = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage();
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--bin") == 0) {
            opt.bin = v;
        } else if (strcmp(a, "--mode") == 0) {
            opt.putevents = strcmp(v, "putevents") == 0 || strcmp(v, "all") == 0;
            opt.s3 = strcmp(v, "s3") == 0 || strcmp(v, "all") == 0;
            if (!opt.putevents && !opt.s3)
                usage();
        } else if (strcmp(a, "--concurrency") == 0) {
            parse_levels(v);
        } else if (strcmp(a, "--seconds") == 0) {
            opt.seconds = atof(v);
            if (opt.seconds <= 0 || opt.seconds > 600)
                usage();
        } else if (strcmp(a, "--repeats") == 0) {
            opt.repeats = atoi(v);
            if (opt.repeats < 1 || opt.repeats > MAX_REPEATS)
                usage();
        } else if (strcmp(a, "--batch") == 0) {
            opt.batch = atoi(v);
            if (opt.batch < 1 || opt.batch > 10)
                usage();
        } else if (strcmp(a, "--size") == 0) {
            long s = atol(v);
            if (s < 0 || s > 16L * 1024 * 1024)
                usage();
            opt.size = (size_t)s;
        } else {
            usage();
        }
    }
    if (opt.bin == NULL)
        usage();
    bb_log_set_level(BB_LOG_LEVEL_WARN);
    bench_daemon_on_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int l = 0; l < opt.nlevels; l++) {
        if (opt.putevents)
            scenario(MODE_PUTEVENTS, opt.levels[l]);
        if (opt.s3)
            scenario(MODE_S3, opt.levels[l]);
    }
    curl_global_cleanup();
    return opt.check && (any_failed || bench_daemon_bad_exits() > 0) ? 1 : 0;
}
