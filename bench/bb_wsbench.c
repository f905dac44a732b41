/* SPDX-License-Identifier: MIT */
/*
 * bb_wsbench: WebSocket delivery of the event bus (docs/websocket.md).
 *
 * Each run starts a fresh daemon (bench_daemon.h: --ephemeral, port 0,
 * --no-consumers, --log-level warn) and stops it afterwards; the clients
 * are bench_ws connections on loopback, served by epoll threads.
 *
 *   latency  one live subscriber (pattern: S3 "Object Created" events whose
 *            key starts with "lat-"); --put-threads threads PUT 100-byte
 *            objects lat-N into my-raw-images on a fixed schedule of --rate
 *            (1,000) PUTs/s for --seconds. Latency of event N = its arrival
 *            at the subscriber (monotonic clock, taken when the message is
 *            cut from the socket) minus the moment the PUT's response was
 *            complete at the client. An event can arrive before the client
 *            has finished reading the response; such latencies are
 *            negative and counted ("before_response"). Also reported: from
 *            the PUT's start to the event.
 *   fanout   --subs (100) live subscribers, each on its own connection with
 *            the pattern {"source":["bench.fanout"]}; --pub-threads threads
 *            send PutEvents batches of 10 on a fixed schedule of --rate
 *            (5,000) events/s for --seconds. Every subscriber must receive
 *            every accepted event once, in sequence order. Reported: the
 *            delivered rate (all subscribers), the share not delivered by
 *            the end of the wait (undelivered_pct: late or lost; a
 *            duplicate or an out-of-order event is counted apart), lagged
 *            notices, the
 *            daemon's CPU (utime+stime over the wall time, from /proc) and
 *            its peak VmRSS (sampled every 20 ms) and VmHWM.
 *   group    a rule sends source "bench.group" to consumer group benchgroup
 *            (a --config file written by this program; the default rules
 *            are replaced). --members (4) members with --credit (32) ack
 *            each delivery as it arrives. backlog: --events (20,000) are
 *            published first, then the members join; acks/s until every
 *            event is acked. live: members joined, then 4 PutEvents
 *            producers send for --seconds as fast as answered; acked/s from
 *            the first publish to the last ack. Both check that every event
 *            was acked exactly once (no delivery of an acked event) and that
 *            the group's status shows depth 0 and in_flight 0.
 *
 * Output: one JSON line per run, then a "summary" line per scenario with
 * medians over --repeats runs.
 *
 *   bb_wsbench --bin PATH [--scenario latency|fanout|group|all] [--repeats 3]
 *              [--seconds 10] [--rate N] [--subs 100] [--recv-threads 1]
 *              [--put-threads 4] [--pub-threads 2] [--members 4]
 *              [--credit 32] [--events 20000] [--drain-max 60] [--dump FILE]
 *              [--check]
 *
 * --check: exit 1 unless every run completed and verified (all events
 * received once and in order, every group event acked once); no timing is
 * checked. The ctest entry bench/wsbench_check uses it at a small scale.
 * --dump FILE (latency) writes every PUT's start, response and event times.
 * Each run also reports the daemon's CPU use and its threads' run-queue
 * wait (schedstat: time runnable without a CPU), over the wall time: a
 * large wait means the machine, not the daemon, set the pace.
 *
 * After the producers stop, a run waits for the remaining deliveries until
 * all have come, 10 s pass without progress, or --drain-max seconds pass;
 * whatever has not come by then counts as missing (latency, fanout) or
 * unacked (group).
 */
#include "bench_daemon.h"
#include "bench_http.h"
#include "bench_stats.h"
#include "bench_ws.h"

#include "bb_log.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPEATS 20
#define MAX_SUBS 1000
#define MAX_THREADS 32
#define GROUP "benchgroup"
#define DRAIN_IDLE_NS (10LL * 1000000000LL) /* give up after 10 s without progress */

struct opts {
    const char *bin;
    const char *scenario;
    int repeats;
    double seconds;
    double rate; /* 0: the scenario's default */
    int subs;
    int recv_threads;
    int put_threads;
    int pub_threads;
    int members;
    int credit;
    int events;
    int drain_max;    /* s: stop waiting for deliveries this long after the producers */
    const char *dump; /* latency: per-PUT times written here */
    int check;        /* exit 1 unless every run completed and verified */
};

static struct opts opt = {
    .scenario = "all",
    .repeats = 3,
    .seconds = 10,
    .subs = 100,
    .recv_threads = 1,
    .put_threads = 4,
    .pub_threads = 2,
    .members = 4,
    .credit = 32,
    .events = 20000,
    .drain_max = 60,
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
    fprintf(stderr,
            "usage: bb_wsbench --bin PATH [--scenario latency|fanout|group|all] [--repeats 3]\n"
            "                  [--seconds 10] [--rate N] [--subs 100] [--recv-threads 1]\n"
            "                  [--put-threads 4] [--pub-threads 2] [--members 4] [--credit 32]\n"
            "                  [--events 20000] [--drain-max 60] [--dump FILE] [--check]\n");
    exit(2);
}

static void sleep_until(int64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000LL), (long)(t_ns % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* The unsigned number after @field (e.g. "\"seq\":") in @s, or -1. */
static int64_t field_num(const char *s, const char *field)
{
    const char *p = strstr(s, field);
    if (p == NULL)
        return -1;
    p += strlen(field);
    if (*p < '0' || *p > '9')
        return -1;
    return strtoll(p, NULL, 10);
}

static int is_type(const char *text, const char *type)
{
    static const char prefix[] = "{\"type\":\"";
    size_t tl = strlen(type);
    return strncmp(text, prefix, sizeof(prefix) - 1) == 0 &&
           strncmp(text + sizeof(prefix) - 1, type, tl) == 0 &&
           text[sizeof(prefix) - 1 + tl] == '"';
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Reads messages on @w until @done(arg) says so or 10 s pass. 0 or -1. */
static int read_until(struct bench_ws *w, bench_ws_msg_cb *cb, void *arg, int (*done)(void *),
                      void *darg)
{
    int64_t deadline = bench_now_ns() + 10LL * 1000000000LL;
    while (!done(darg)) {
        if (bench_now_ns() > deadline)
            return -1;
        if (bench_ws_read(w, cb, arg) < 0)
            return -1;
        usleep(500);
    }
    return 0;
}

/* ---------------------------------------------------------------- latency */

struct lat_run {
    const struct bench_daemon *d;
    size_t n;
    int64_t t0;
    int64_t interval_ns;
    int64_t *start_ns, *resp_ns; /* per PUT, 0 if it failed */
    _Atomic int64_t *recv_ns;    /* per event, 0 until it arrived */
    atomic_ullong dups, others, put_errors;
    atomic_int stop;
    struct bench_ws ws;
    int subscribed;
    char body[100];
    char body_hash[65];
};

struct lat_putter {
    struct lat_run *r;
    int index;
    pthread_t thread;
};

static void lat_on_msg(struct bench_ws *w, char *text, size_t len, void *arg)
{
    struct lat_run *r = arg;
    int64_t now = bench_now_ns();
    (void)w;
    (void)len;
    if (is_type(text, "event")) {
        int64_t n = field_num(text, "\"key\":\"lat-");
        if (n < 0 || (size_t)n >= r->n) {
            atomic_fetch_add(&r->others, 1);
            return;
        }
        int64_t zero = 0;
        if (!atomic_compare_exchange_strong(&r->recv_ns[n], &zero, now))
            atomic_fetch_add(&r->dups, 1);
    } else if (is_type(text, "subscribed")) {
        r->subscribed = 1;
    } else {
        fprintf(stderr, "bb_wsbench: latency subscriber got: %.200s\n", text);
        atomic_fetch_add(&r->others, 1);
    }
}

static void *lat_recv_main(void *arg)
{
    struct lat_run *r = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, r->ws.fd, &ev);
    while (!atomic_load(&r->stop)) {
        struct epoll_event out[1];
        int n = epoll_wait(ep, out, 1, 50);
        if (n > 0 && bench_ws_read(&r->ws, lat_on_msg, r) < 0)
            break;
    }
    close(ep);
    return NULL;
}

static void *lat_put_main(void *arg)
{
    struct lat_putter *p = arg;
    struct lat_run *r = p->r;
    struct bench_http h;
    char key[32];

    if (bench_http_init(&h, r->d->port, r->d->access_key, r->d->secret_key) != 0)
        return NULL;
    for (size_t i = (size_t)p->index; i < r->n; i += (size_t)opt.put_threads) {
        sleep_until(r->t0 + (int64_t)i * r->interval_ns);
        snprintf(key, sizeof(key), "lat-%07zu", i);
        int64_t t0 = bench_now_ns();
        int rc =
            bench_http_put_object(&h, "my-raw-images", key, r->body, sizeof(r->body), r->body_hash);
        int64_t t1 = bench_now_ns();
        if (rc == 0) {
            r->start_ns[i] = t0;
            r->resp_ns[i] = t1;
        } else {
            atomic_fetch_add(&r->put_errors, 1);
        }
    }
    bench_http_cleanup(&h);
    return NULL;
}

static int lat_subscribed(void *arg)
{
    return ((struct lat_run *)arg)->subscribed;
}

struct lat_result {
    double p50_ms, p99_ms, start_p50_ms, start_p99_ms, rate;
    int ok;
};

static int run_latency(int rep, struct lat_result *res)
{
    struct bench_daemon d;
    struct lat_run *r = calloc(1, sizeof(*r));
    struct lat_putter put[MAX_THREADS];
    struct bench_rss_watch rw;
    pthread_t recv_thread;
    int rc = -1, recv_started = 0, watching = 0;
    double rate = opt.rate > 0 ? opt.rate : 1000;
    int64_t *lat = NULL, *slat = NULL;

    memset(res, 0, sizeof(*res));
    if (r == NULL)
        return -1;
    r->ws.fd = -1;
    if (bench_daemon_start(opt.bin, NULL, &d) != 0) {
        free(r);
        return -1;
    }
    r->d = &d;
    r->n = (size_t)(rate * opt.seconds);
    r->interval_ns = (int64_t)(1e9 / rate);
    r->start_ns = calloc(r->n, sizeof(int64_t));
    r->resp_ns = calloc(r->n, sizeof(int64_t));
    r->recv_ns = calloc(r->n, sizeof(*r->recv_ns));
    lat = calloc(r->n, sizeof(int64_t));
    slat = calloc(r->n, sizeof(int64_t));
    if (!r->start_ns || !r->resp_ns || !r->recv_ns || !lat || !slat)
        goto out;
    memset(r->body, 'x', sizeof(r->body));
    bench_sha256_hex(r->body, sizeof(r->body), r->body_hash);

    if (bench_ws_connect(&r->ws, d.port, d.token) != 0)
        goto out;
    static const char sub[] =
        "{\"type\":\"subscribe\",\"id\":\"lat\",\"from\":\"latest\",\"pattern\":"
        "{\"source\":[\"aws.s3\"],\"detail-type\":[\"Object Created\"],"
        "\"detail\":{\"object\":{\"key\":[{\"prefix\":\"lat-\"}]}}}}";
    if (bench_ws_send(&r->ws, sub, sizeof(sub) - 1) != 0 ||
        read_until(&r->ws, lat_on_msg, r, lat_subscribed, r) != 0) {
        BB_LOG_ERROR("bench", "latency: no subscribed answer", NULL);
        goto out;
    }
    if (pthread_create(&recv_thread, NULL, lat_recv_main, r) != 0)
        goto out;
    recv_started = 1;
    if (bench_rss_watch_start(&rw, d.pid, 20) == 0)
        watching = 1;

    int nput = opt.put_threads;
    struct bench_proc_sample ps0;
    bench_proc_sample(d.pid, &ps0);
    r->t0 = bench_now_ns() + 20000000; /* 20 ms for the threads to start */
    for (int i = 0; i < nput; i++) {
        put[i].r = r;
        put[i].index = i;
        if (pthread_create(&put[i].thread, NULL, lat_put_main, &put[i]) != 0) {
            BB_LOG_ERROR("bench", "cannot start a PUT thread", NULL);
            exit(1);
        }
    }
    for (int i = 0; i < nput; i++)
        pthread_join(put[i].thread, NULL);
    int64_t put_end = bench_now_ns();

    /* wait for the events of every successful PUT */
    size_t want = 0, got = 0, last_got = (size_t)-1;
    int64_t progress = bench_now_ns(), cap = progress + (int64_t)opt.drain_max * 1000000000LL;
    for (size_t i = 0; i < r->n; i++)
        want += r->resp_ns[i] != 0;
    for (;;) {
        got = 0;
        for (size_t i = 0; i < r->n; i++)
            got += r->resp_ns[i] != 0 && atomic_load(&r->recv_ns[i]) != 0;
        if (got >= want)
            break;
        if (got != last_got) {
            last_got = got;
            progress = bench_now_ns();
        } else if (bench_now_ns() - progress > DRAIN_IDLE_NS) {
            break;
        }
        if (bench_now_ns() > cap)
            break;
        usleep(20000);
    }
    usleep(200000); /* late duplicates */
    atomic_store(&r->stop, 1);
    pthread_join(recv_thread, NULL);
    recv_started = 0;
    struct bench_proc_sample ps;
    bench_proc_sample(d.pid, &ps);
    double wall = (double)(bench_now_ns() - r->t0) / 1e9;
    if (watching)
        bench_rss_watch_stop(&rw);
    watching = 0;

    size_t nl = 0, before = 0;
    int64_t first = INT64_MAX, last = 0;
    for (size_t i = 0; i < r->n; i++) {
        int64_t rv = atomic_load(&r->recv_ns[i]);
        if (r->resp_ns[i] == 0 || rv == 0)
            continue;
        lat[nl] = rv - r->resp_ns[i];
        slat[nl] = rv - r->start_ns[i];
        before += lat[nl] < 0;
        nl++;
        if (r->start_ns[i] < first)
            first = r->start_ns[i];
        if (r->resp_ns[i] > last)
            last = r->resp_ns[i];
    }
    if (opt.dump != NULL) {
        FILE *f = fopen(opt.dump, "w");
        if (f != NULL) {
            fprintf(f, "n put_start_us put_response_us event_us latency_us\n");
            for (size_t i = 0; i < r->n; i++) {
                int64_t rv = atomic_load(&r->recv_ns[i]);
                fprintf(f, "%zu %.1f %.1f %.1f %.1f\n", i, (double)(r->start_ns[i] - r->t0) / 1e3,
                        (double)(r->resp_ns[i] - r->t0) / 1e3,
                        rv ? (double)(rv - r->t0) / 1e3 : -1.0,
                        rv && r->resp_ns[i] ? (double)(rv - r->resp_ns[i]) / 1e3 : -1.0);
            }
            fclose(f);
        }
    }
    bench_sort_i64(lat, nl);
    bench_sort_i64(slat, nl);
    res->p50_ms = (double)bench_percentile_i64(lat, nl, 50) / 1e6;
    res->p99_ms = (double)bench_percentile_i64(lat, nl, 99) / 1e6;
    res->start_p50_ms = (double)bench_percentile_i64(slat, nl, 50) / 1e6;
    res->start_p99_ms = (double)bench_percentile_i64(slat, nl, 99) / 1e6;
    res->rate = last > first ? (double)want / ((double)(last - first) / 1e9) : 0;
    unsigned long long dups = atomic_load(&r->dups), errs = atomic_load(&r->put_errors);
    res->ok = got == want && dups == 0 && errs == 0 && want == r->n;
    printf("{\"scenario\":\"latency\",\"run\":%d,\"target_rate\":%.0f,\"achieved_put_rate\":%.0f,"
           "\"puts\":%zu,\"put_errors\":%llu,\"events\":%zu,\"missing\":%zu,\"duplicates\":%llu,"
           "\"other_messages\":%llu,\"before_response\":%zu,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"min_ms\":%.3f,"
           "\"from_put_start_p50_ms\":%.3f,\"from_put_start_p99_ms\":%.3f,"
           "\"put_seconds\":%.2f,\"daemon_cpu_pct\":%.1f,\"daemon_runq_wait_pct\":%.1f,"
           "\"daemon_max_rss_mib\":%.1f,\"daemon_hwm_mib\":%.1f}\n",
           rep, rate, res->rate, want, errs, got, want - got, dups,
           (unsigned long long)atomic_load(&r->others), before, res->p50_ms,
           (double)bench_percentile_i64(lat, nl, 90) / 1e6, res->p99_ms,
           nl ? (double)lat[nl - 1] / 1e6 : 0, nl ? (double)lat[0] / 1e6 : 0, res->start_p50_ms,
           res->start_p99_ms, (double)(put_end - r->t0) / 1e9,
           wall > 0 ? 100.0 * (ps.cpu_s - ps0.cpu_s) / wall : 0,
           wall > 0 ? 100.0 * (ps.wait_s - ps0.wait_s) / wall : 0, (double)rw.max_rss_kib / 1024.0,
           (double)ps.hwm_kib / 1024.0);
    fflush(stdout);
    rc = 0;
out:
    if (recv_started) {
        atomic_store(&r->stop, 1);
        pthread_join(recv_thread, NULL);
    }
    if (watching)
        bench_rss_watch_stop(&rw);
    bench_ws_close(&r->ws);
    bench_daemon_stop(&d);
    free(r->start_ns);
    free(r->resp_ns);
    free((void *)r->recv_ns);
    free(lat);
    free(slat);
    free(r);
    return rc;
}

/* ----------------------------------------------------------------- fanout */

struct fan_sub {
    struct bench_ws ws;
    atomic_ullong count; /* events received (read by the main thread) */
    uint64_t last_seq;
    uint64_t disorder; /* an event at or before the last seq */
    uint64_t lagged;
    uint64_t others;
    int subscribed;
    int closed;
    _Atomic int64_t last_ns; /* arrival of its latest event */
};

struct fan_run {
    const struct bench_daemon *d;
    struct fan_sub *subs;
    int nsubs;
    atomic_int stop;
    /* producers */
    int64_t t0;
    int64_t interval_ns; /* between PutEvents requests of 10 */
    size_t nreq;
    atomic_ullong accepted, failed_entries, req_errors;
    int64_t first_pub_ns;
    _Atomic int64_t last_pub_ns;
};

struct fan_thread {
    struct fan_run *r;
    int index;
    pthread_t thread;
};

static void fan_on_msg(struct bench_ws *w, char *text, size_t len, void *arg)
{
    struct fan_sub *s = arg;
    (void)w;
    (void)len;
    if (is_type(text, "event")) {
        int64_t seq = field_num(text, "\"seq\":");
        if (seq <= 0 || (uint64_t)seq <= s->last_seq)
            s->disorder++;
        else
            s->last_seq = (uint64_t)seq;
        s->count++;
        atomic_store_explicit(&s->last_ns, bench_now_ns(), memory_order_relaxed);
    } else if (is_type(text, "subscribed")) {
        s->subscribed = 1;
    } else if (is_type(text, "lagged")) {
        s->lagged++;
        fprintf(stderr, "bb_wsbench: fanout subscriber lagged: %.200s\n", text);
    } else {
        s->others++;
        fprintf(stderr, "bb_wsbench: fanout subscriber got: %.200s\n", text);
    }
}

static void *fan_recv_main(void *arg)
{
    struct fan_thread *t = arg;
    struct fan_run *r = t->r;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = t->index; i < r->nsubs; i += opt.recv_threads) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &r->subs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, r->subs[i].ws.fd, &ev);
    }
    while (!atomic_load(&r->stop)) {
        struct epoll_event out[64];
        int n = epoll_wait(ep, out, 64, 50);
        for (int k = 0; k < n; k++) {
            struct fan_sub *s = out[k].data.ptr;
            if (s->closed)
                continue;
            if (bench_ws_read(&s->ws, fan_on_msg, s) < 0) {
                s->closed = 1;
                fprintf(stderr, "bb_wsbench: a fanout subscriber's connection closed\n");
            }
        }
    }
    close(ep);
    return NULL;
}

static void *fan_pub_main(void *arg)
{
    struct fan_thread *t = arg;
    struct fan_run *r = t->r;
    struct bench_http h;
    char body[4096];

    if (bench_http_init(&h, r->d->port, r->d->access_key, r->d->secret_key) != 0)
        return NULL;
    for (size_t i = (size_t)t->index; i < r->nreq; i += (size_t)opt.pub_threads) {
        sleep_until(r->t0 + (int64_t)i * r->interval_ns);
        size_t len =
            bench_put_events_body(body, sizeof(body), "bench.fanout", "Fanout", i * 10, 10);
        int failed = 0;
        if (bench_http_put_events(&h, body, len, &failed) == 0) {
            atomic_fetch_add(&r->accepted, (unsigned long long)(10 - failed));
            atomic_fetch_add(&r->failed_entries, (unsigned long long)failed);
        } else {
            atomic_fetch_add(&r->req_errors, 1);
        }
        int64_t now = bench_now_ns();
        int64_t prev = atomic_load(&r->last_pub_ns);
        while (now > prev && !atomic_compare_exchange_weak(&r->last_pub_ns, &prev, now))
            ;
    }
    bench_http_cleanup(&h);
    return NULL;
}

static int fan_subscribed(void *arg)
{
    return ((struct fan_sub *)arg)->subscribed;
}

struct fan_result {
    double delivered_rate, loss_pct, daemon_cpu_pct, max_rss_mib, drain_ms, per_cpu_s;
    int ok;
};

static int run_fanout(int rep, struct fan_result *res)
{
    struct bench_daemon d;
    struct fan_run r;
    struct fan_thread recv[MAX_THREADS], pub[MAX_THREADS];
    struct bench_rss_watch rw;
    int rc = -1, nrecv = 0, watching = 0;
    double rate = opt.rate > 0 ? opt.rate : 5000;
    static const char sub[] = "{\"type\":\"subscribe\",\"id\":\"fan\",\"from\":\"latest\","
                              "\"pattern\":{\"source\":[\"bench.fanout\"]}}";

    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    if (bench_daemon_start(opt.bin, NULL, &d) != 0)
        return -1;
    r.d = &d;
    r.nsubs = opt.subs;
    r.subs = calloc((size_t)r.nsubs, sizeof(*r.subs));
    if (r.subs == NULL)
        goto out;
    for (int i = 0; i < r.nsubs; i++)
        r.subs[i].ws.fd = -1;
    for (int i = 0; i < r.nsubs; i++) {
        struct fan_sub *s = &r.subs[i];
        if (bench_ws_connect(&s->ws, d.port, d.token) != 0 ||
            bench_ws_send(&s->ws, sub, sizeof(sub) - 1) != 0 ||
            read_until(&s->ws, fan_on_msg, s, fan_subscribed, s) != 0) {
            BB_LOG_ERROR("bench", "fanout: a subscriber could not subscribe", "n=%d", i);
            goto out;
        }
    }
    for (int i = 0; i < opt.recv_threads; i++) {
        recv[i].r = &r;
        recv[i].index = i;
        if (pthread_create(&recv[i].thread, NULL, fan_recv_main, &recv[i]) != 0)
            goto out;
        nrecv++;
    }
    if (bench_rss_watch_start(&rw, d.pid, 20) == 0)
        watching = 1;

    r.nreq = (size_t)(rate * opt.seconds / 10);
    r.interval_ns = (int64_t)(10e9 / rate);
    struct bench_proc_sample ps0, ps1;
    bench_proc_sample(d.pid, &ps0);
    double self0 = cpu_self_s();
    r.t0 = bench_now_ns() + 20000000;
    for (int i = 0; i < opt.pub_threads; i++) {
        pub[i].r = &r;
        pub[i].index = i;
        if (pthread_create(&pub[i].thread, NULL, fan_pub_main, &pub[i]) != 0) {
            BB_LOG_ERROR("bench", "cannot start a publisher thread", NULL);
            exit(1);
        }
    }
    for (int i = 0; i < opt.pub_threads; i++)
        pthread_join(pub[i].thread, NULL);
    uint64_t accepted = atomic_load(&r.accepted);
    int64_t pub_end = bench_now_ns();
    uint64_t at_pub_end = 0;
    for (int i = 0; i < r.nsubs; i++)
        at_pub_end += atomic_load(&r.subs[i].count);

    /* drain: every subscriber has every accepted event, or no progress */
    uint64_t total = 0, last_total = UINT64_MAX;
    int64_t progress = bench_now_ns(), cap = progress + (int64_t)opt.drain_max * 1000000000LL;
    for (;;) {
        total = 0;
        int all = 1;
        for (int i = 0; i < r.nsubs; i++) {
            uint64_t c = atomic_load(&r.subs[i].count);
            total += c;
            all &= c >= accepted;
        }
        if (all)
            break;
        if (total != last_total) {
            last_total = total;
            progress = bench_now_ns();
        } else if (bench_now_ns() - progress > DRAIN_IDLE_NS) {
            break;
        }
        if (bench_now_ns() > cap)
            break;
        usleep(10000);
    }
    int64_t last_ev = 0;
    for (int i = 0; i < r.nsubs; i++) {
        int64_t t = atomic_load(&r.subs[i].last_ns);
        if (t > last_ev)
            last_ev = t;
    }
    bench_proc_sample(d.pid, &ps1);
    double self1 = cpu_self_s();
    usleep(200000); /* anything extra would show as a duplicate */
    atomic_store(&r.stop, 1);
    for (int i = 0; i < nrecv; i++)
        pthread_join(recv[i].thread, NULL);
    nrecv = 0;
    if (watching)
        bench_rss_watch_stop(&rw);
    watching = 0;

    uint64_t delivered = 0, disorder = 0, lagged = 0, others = 0, min_c = UINT64_MAX, extra = 0;
    int closed = 0;
    for (int i = 0; i < r.nsubs; i++) {
        struct fan_sub *s = &r.subs[i];
        delivered += s->count < accepted ? s->count : accepted;
        extra += s->count > accepted ? s->count - accepted : 0;
        disorder += s->disorder;
        lagged += s->lagged;
        others += s->others;
        closed += s->closed;
        if (s->count < min_c)
            min_c = s->count;
    }
    uint64_t expected = accepted * (uint64_t)r.nsubs;
    double span = (double)(last_ev - r.t0) / 1e9;
    double wall = (double)(bench_now_ns() - r.t0) / 1e9;
    (void)wall;
    double pub_span = (double)(atomic_load(&r.last_pub_ns) - r.t0) / 1e9;
    res->delivered_rate = span > 0 ? (double)(delivered + extra) / span : 0;
    res->loss_pct = expected ? 100.0 * (double)(expected - delivered) / (double)expected : 100;
    res->daemon_cpu_pct = span > 0 ? 100.0 * (ps1.cpu_s - ps0.cpu_s) / span : 0;
    res->max_rss_mib = (double)rw.max_rss_kib / 1024.0;
    res->drain_ms = (double)(last_ev - atomic_load(&r.last_pub_ns)) / 1e6;
    res->per_cpu_s =
        ps1.cpu_s > ps0.cpu_s ? (double)(delivered + extra) / (ps1.cpu_s - ps0.cpu_s) : 0;
    res->ok = delivered == expected && extra == 0 && disorder == 0 && lagged == 0 && closed == 0 &&
              atomic_load(&r.req_errors) == 0 && atomic_load(&r.failed_entries) == 0;
    printf("{\"scenario\":\"fanout\",\"run\":%d,\"subscribers\":%d,\"target_rate\":%.0f,"
           "\"published\":%" PRIu64 ",\"publish_rate\":%.0f,\"request_errors\":%llu,"
           "\"failed_entries\":%llu,\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64
           ",\"extra\":%" PRIu64 ",\"undelivered_pct\":%.4f,\"min_per_subscriber\":%" PRIu64
           ",\"out_of_order\":%" PRIu64 ",\"lagged\":%" PRIu64 ",\"closed\":%d,"
           "\"delivered_rate\":%.0f,\"delivered_rate_while_publishing\":%.0f,"
           "\"behind_at_publish_end\":%" PRIu64 ",\"drain_ms_after_last_publish\":%.1f,"
           "\"daemon_cpu_pct\":%.1f,\"daemon_runq_wait_pct\":%.1f,\"bench_cpu_pct\":%.1f,"
           "\"daemon_max_rss_mib\":%.1f,"
           "\"daemon_hwm_mib\":%.1f,\"rss_samples\":%" PRIu64
           ",\"delivered_per_daemon_cpu_s\":%.0f}\n",
           rep, r.nsubs, rate, accepted, pub_span > 0 ? (double)accepted / pub_span : 0,
           (unsigned long long)atomic_load(&r.req_errors),
           (unsigned long long)atomic_load(&r.failed_entries), expected, delivered, extra,
           res->loss_pct, min_c, disorder, lagged, closed, res->delivered_rate,
           pub_end > r.t0 ? (double)at_pub_end / ((double)(pub_end - r.t0) / 1e9) : 0,
           expected - (at_pub_end < expected ? at_pub_end : expected), res->drain_ms,
           res->daemon_cpu_pct, span > 0 ? 100.0 * (ps1.wait_s - ps0.wait_s) / span : 0,
           span > 0 ? 100.0 * (self1 - self0) / span : 0, res->max_rss_mib,
           (double)ps1.hwm_kib / 1024.0, rw.samples, res->per_cpu_s);
    fflush(stdout);
    (void)others;
    rc = 0;
out:
    atomic_store(&r.stop, 1);
    for (int i = 0; i < nrecv; i++)
        pthread_join(recv[i].thread, NULL);
    if (watching)
        bench_rss_watch_stop(&rw);
    for (int i = 0; r.subs != NULL && i < r.nsubs; i++)
        bench_ws_close(&r.subs[i].ws);
    free(r.subs);
    bench_daemon_stop(&d);
    return rc;
}

/* ------------------------------------------------------------------ group */

struct grp_member {
    struct bench_ws ws;
    struct grp_run *r;
    int joined;
    uint64_t deliveries, acks;
};

struct grp_run {
    const struct bench_daemon *d;
    struct grp_member *m;
    int nm;
    uint64_t seq_base; /* last_seq before publishing */
    size_t span;       /* seqs tracked: seq_base+1 .. seq_base+span */
    unsigned char *acked;
    atomic_ullong acked_n; /* distinct seqs acked (read by the main thread) */
    uint64_t dup_deliveries, redeliveries, out_of_range, ack_errors, errors;
    _Atomic int64_t last_ack_ns;
    atomic_int stop;
    /* live producers */
    int64_t end_ns;
    atomic_ullong accepted, req_errors;
};

static void grp_on_msg(struct bench_ws *w, char *text, size_t len, void *arg)
{
    struct grp_member *m = arg;
    struct grp_run *r = m->r;
    char ack[64];
    (void)len;
    if (is_type(text, "delivery")) {
        int64_t id = field_num(text, "\"delivery\":");
        int64_t seq = field_num(text, "\"seq\":");
        int64_t attempt = field_num(text, "\"attempt\":");
        m->deliveries++;
        if (attempt > 1)
            r->redeliveries++;
        if (seq <= (int64_t)r->seq_base || (uint64_t)seq > r->seq_base + r->span) {
            r->out_of_range++;
        } else if (r->acked[seq - (int64_t)r->seq_base - 1]) {
            r->dup_deliveries++;
        } else {
            r->acked[seq - (int64_t)r->seq_base - 1] = 1;
            r->acked_n++;
        }
        int n = snprintf(ack, sizeof(ack), "{\"type\":\"ack\",\"delivery\":%" PRId64 "}", id);
        if (bench_ws_send(w, ack, (size_t)n) != 0)
            r->ack_errors++;
        m->acks++;
        atomic_store_explicit(&r->last_ack_ns, bench_now_ns(), memory_order_relaxed);
    } else if (is_type(text, "joined")) {
        m->joined = 1;
    } else {
        r->errors++;
        fprintf(stderr, "bb_wsbench: group member got: %.200s\n", text);
    }
}

static void *grp_member_main(void *arg)
{
    struct grp_run *r = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < r->nm; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &r->m[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, r->m[i].ws.fd, &ev);
    }
    while (!atomic_load(&r->stop)) {
        struct epoll_event out[16];
        int n = epoll_wait(ep, out, 16, 50);
        for (int k = 0; k < n; k++) {
            struct grp_member *m = out[k].data.ptr;
            if (m->ws.fd >= 0 && bench_ws_read(&m->ws, grp_on_msg, m) < 0)
                fprintf(stderr, "bb_wsbench: a group member's connection closed\n");
        }
    }
    close(ep);
    return NULL;
}

struct grp_pub {
    struct grp_run *r;
    int index;
    size_t nreq; /* backlog: requests of this thread; live: 0 (until end_ns) */
    pthread_t thread;
};

static void *grp_pub_main(void *arg)
{
    struct grp_pub *p = arg;
    struct grp_run *r = p->r;
    struct bench_http h;
    char body[4096];

    if (bench_http_init(&h, r->d->port, r->d->access_key, r->d->secret_key) != 0)
        return NULL;
    for (size_t i = 0; p->nreq ? i < p->nreq : bench_now_ns() < r->end_ns; i++) {
        size_t len = bench_put_events_body(body, sizeof(body), "bench.group", "Work",
                                           ((uint64_t)p->index << 32) + i * 10, 10);
        int failed = 0;
        if (bench_http_put_events(&h, body, len, &failed) == 0)
            atomic_fetch_add(&r->accepted, (unsigned long long)(10 - failed));
        else
            atomic_fetch_add(&r->req_errors, 1);
    }
    bench_http_cleanup(&h);
    return NULL;
}

static int grp_joined(void *arg)
{
    return ((struct grp_member *)arg)->joined;
}

static void grp_status_cb(struct bench_ws *ws, char *text, size_t len, void *arg)
{
    char **out = arg;
    (void)ws;
    (void)len;
    if (*out == NULL && is_type(text, "status"))
        *out = strdup(text);
}

/* The group's depth, in_flight and acked from a "status" message. */
static int grp_status(const struct bench_daemon *d, int64_t *depth, int64_t *inflight,
                      int64_t *acked)
{
    struct bench_ws w;
    int rc = -1;
    char *got = NULL;
    cJSON *o = NULL;
    const cJSON *g;
    static const char req[] = "{\"type\":\"status\"}";

    if (bench_ws_connect(&w, d->port, d->token) != 0)
        return -1;
    if (bench_ws_send(&w, req, sizeof(req) - 1) != 0)
        goto out;
    int64_t deadline = bench_now_ns() + 10LL * 1000000000LL;
    while (got == NULL && bench_now_ns() < deadline) {
        if (bench_ws_read(&w, grp_status_cb, &got) < 0)
            goto out;
        usleep(1000);
    }
    if (got == NULL)
        goto out;
    o = cJSON_Parse(got);
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(o, "groups"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "name"));
        if (name && strcmp(name, GROUP) == 0) {
            *depth = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "depth"));
            *inflight =
                (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "in_flight"));
            *acked = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "acked"));
            rc = 0;
        }
    }
out:
    cJSON_Delete(o);
    free(got);
    bench_ws_close(&w);
    return rc;
}

static char config_path[256];

static int write_group_config(void)
{
    static const char cfg[] =
        "{\"rules\":[{\"Name\":\"bench-group\",\"EventPattern\":{\"source\":[\"bench.group\"]},"
        "\"Targets\":[{\"Id\":\"g\",\"Arn\":\"arn:aws:sqs:us-east-1:000000000000:" GROUP
        "\"}]}]}\n";
    const char *tmp = getenv("TMPDIR");
    snprintf(config_path, sizeof(config_path), "%s/bbwsbench-config.XXXXXX.json",
             tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemps(config_path, 5);
    if (fd < 0)
        return -1;
    int ok = write(fd, cfg, sizeof(cfg) - 1) == (ssize_t)(sizeof(cfg) - 1);
    close(fd);
    return ok ? 0 : -1;
}

struct grp_result {
    double acked_rate, publish_rate, daemon_cpu_pct, max_rss_mib, per_cpu_s;
    int ok;
};

static int run_group(int live, int rep, struct grp_result *res)
{
    struct bench_daemon d;
    struct grp_run r;
    struct grp_pub pub[4];
    struct bench_http h;
    struct bench_rss_watch rw;
    pthread_t mthread;
    int rc = -1, mstarted = 0, have_http = 0, watching = 0;
    uint64_t seq_end = 0;
    char join[160];

    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    if (bench_daemon_start(opt.bin, config_path, &d) != 0)
        return -1;
    r.d = &d;
    if (bench_http_init(&h, d.port, d.access_key, d.secret_key) != 0)
        goto out;
    have_http = 1;
    if (bench_http_last_seq(&h, &r.seq_base) != 0)
        goto out;
    r.span = live ? 4000000 : (size_t)opt.events + 1000;
    r.acked = calloc(r.span, 1);
    r.nm = opt.members;
    r.m = calloc((size_t)r.nm, sizeof(*r.m));
    if (r.acked == NULL || r.m == NULL)
        goto out;
    for (int i = 0; i < r.nm; i++)
        r.m[i].ws.fd = -1;
    int n = snprintf(join, sizeof(join),
                     "{\"type\":\"join\",\"group\":\"" GROUP "\",\"credit\":%d,"
                     "\"visibility_timeout\":60}",
                     opt.credit);
    for (int i = 0; i < r.nm; i++) {
        r.m[i].r = &r;
        if (bench_ws_connect(&r.m[i].ws, d.port, d.token) != 0)
            goto out;
    }

    int64_t t_pub0 = 0, t_pub1 = 0, t_start;
    if (!live) {
        /* the backlog first, 4 producers, closed loop */
        size_t nreq = (size_t)opt.events / 10;
        t_pub0 = bench_now_ns();
        for (int i = 0; i < 4; i++) {
            pub[i].r = &r;
            pub[i].index = i;
            pub[i].nreq = nreq / 4 + ((size_t)i < nreq % 4);
            if (pthread_create(&pub[i].thread, NULL, grp_pub_main, &pub[i]) != 0)
                exit(1);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(pub[i].thread, NULL);
        t_pub1 = bench_now_ns();
    }
    if (bench_rss_watch_start(&rw, d.pid, 20) == 0)
        watching = 1;
    struct bench_proc_sample ps0, ps1;
    bench_proc_sample(d.pid, &ps0);
    t_start = bench_now_ns();
    for (int i = 0; i < r.nm; i++) {
        if (bench_ws_send(&r.m[i].ws, join, (size_t)n) != 0)
            goto out;
    }
    if (live) {
        for (int i = 0; i < r.nm; i++)
            if (read_until(&r.m[i].ws, grp_on_msg, &r.m[i], grp_joined, &r.m[i]) != 0)
                goto out;
    }
    if (pthread_create(&mthread, NULL, grp_member_main, &r) != 0)
        goto out;
    mstarted = 1;
    if (live) {
        t_start = t_pub0 = bench_now_ns();
        r.end_ns = t_pub0 + (int64_t)(opt.seconds * 1e9);
        for (int i = 0; i < 4; i++) {
            pub[i].r = &r;
            pub[i].index = i;
            pub[i].nreq = 0;
            if (pthread_create(&pub[i].thread, NULL, grp_pub_main, &pub[i]) != 0)
                exit(1);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(pub[i].thread, NULL);
        t_pub1 = bench_now_ns();
    }
    uint64_t accepted = atomic_load(&r.accepted);

    uint64_t last = UINT64_MAX;
    int64_t progress = bench_now_ns(), cap = progress + (int64_t)opt.drain_max * 1000000000LL;
    for (;;) {
        uint64_t a = atomic_load(&r.acked_n);
        if (a >= accepted)
            break;
        if (a != last) {
            last = a;
            progress = bench_now_ns();
        } else if (bench_now_ns() - progress > DRAIN_IDLE_NS) {
            break;
        }
        if (bench_now_ns() > cap)
            break;
        usleep(5000);
    }
    int64_t t_end = atomic_load(&r.last_ack_ns);
    bench_proc_sample(d.pid, &ps1);
    usleep(300000); /* acks reach the daemon; late duplicates show */
    int64_t depth = -1, inflight = -1, sacked = -1;
    grp_status(&d, &depth, &inflight, &sacked);
    atomic_store(&r.stop, 1);
    pthread_join(mthread, NULL);
    mstarted = 0;
    if (watching)
        bench_rss_watch_stop(&rw);
    watching = 0;
    bench_http_last_seq(&h, &seq_end);

    double secs = (double)(t_end - t_start) / 1e9;
    uint64_t acked_n = atomic_load(&r.acked_n);
    res->acked_rate = secs > 0 ? (double)acked_n / secs : 0;
    res->publish_rate = t_pub1 > t_pub0 ? (double)accepted / ((double)(t_pub1 - t_pub0) / 1e9) : 0;
    res->daemon_cpu_pct = secs > 0 ? 100.0 * (ps1.cpu_s - ps0.cpu_s) / secs : 0;
    res->max_rss_mib = (double)rw.max_rss_kib / 1024.0;
    res->per_cpu_s = ps1.cpu_s > ps0.cpu_s ? (double)acked_n / (ps1.cpu_s - ps0.cpu_s) : 0;
    res->ok = acked_n == accepted && seq_end - r.seq_base == accepted && r.dup_deliveries == 0 &&
              r.out_of_range == 0 && r.errors == 0 && r.ack_errors == 0 && depth == 0 &&
              inflight == 0 && sacked == (int64_t)accepted && atomic_load(&r.req_errors) == 0;
    printf("{\"scenario\":\"group_%s\",\"run\":%d,\"members\":%d,\"credit\":%d,"
           "\"events\":%llu,\"journal_delta\":%" PRIu64 ",\"acked_distinct\":%" PRIu64
           ",\"duplicate_deliveries\":%" PRIu64 ",\"redeliveries\":%" PRIu64
           ",\"status_depth\":%" PRId64 ",\"status_in_flight\":%" PRId64
           ",\"status_acked\":%" PRId64 ",\"verified\":%s,\"seconds\":%.3f,"
           "\"acked_per_s\":%.0f,\"publish_per_s\":%.0f,\"daemon_cpu_pct\":%.1f,"
           "\"daemon_runq_wait_pct\":%.1f,\"acked_per_daemon_cpu_s\":%.0f,"
           "\"daemon_max_rss_mib\":%.1f,\"per_member_acks\":[",
           live ? "live" : "backlog", rep, r.nm, opt.credit, (unsigned long long)accepted,
           seq_end - r.seq_base, acked_n, r.dup_deliveries, r.redeliveries, depth, inflight, sacked,
           res->ok ? "true" : "false", secs, res->acked_rate, res->publish_rate,
           res->daemon_cpu_pct, secs > 0 ? 100.0 * (ps1.wait_s - ps0.wait_s) / secs : 0,
           res->per_cpu_s, res->max_rss_mib);
    for (int i = 0; i < r.nm; i++)
        printf("%s%" PRIu64, i ? "," : "", r.m[i].acks);
    printf("]}\n");
    fflush(stdout);
    rc = 0;
out:
    atomic_store(&r.stop, 1);
    if (mstarted)
        pthread_join(mthread, NULL);
    if (watching)
        bench_rss_watch_stop(&rw);
    for (int i = 0; r.m != NULL && i < r.nm; i++)
        bench_ws_close(&r.m[i].ws);
    free(r.m);
    free(r.acked);
    if (have_http)
        bench_http_cleanup(&h);
    bench_daemon_stop(&d);
    return rc;
}

/* ------------------------------------------------------------------- main */

static int want(const char *name)
{
    return strcmp(opt.scenario, "all") == 0 || strcmp(opt.scenario, name) == 0;
}

static void scenario_latency(void)
{
    double p50[MAX_REPEATS] = {0}, p99[MAX_REPEATS] = {0}, sp50[MAX_REPEATS] = {0},
           sp99[MAX_REPEATS] = {0}, rate[MAX_REPEATS] = {0};
    int n = 0, ok = 1;
    for (int rep = 0; rep < opt.repeats; rep++) {
        struct lat_result res;
        if (run_latency(rep, &res) != 0) {
            ok = 0;
            continue;
        }
        ok &= res.ok;
        p50[n] = res.p50_ms;
        p99[n] = res.p99_ms;
        sp50[n] = res.start_p50_ms;
        sp99[n] = res.start_p99_ms;
        rate[n] = res.rate;
        n++;
    }
    printf("{\"summary\":\"latency\",\"runs\":%d,\"complete\":%s,\"put_rate\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"from_put_start_p50_ms\":%.3f,"
           "\"from_put_start_p99_ms\":%.3f}\n",
           n, note_result(ok && n == opt.repeats) ? "true" : "false", bench_median(rate, (size_t)n),
           bench_median(p50, (size_t)n), bench_median(p99, (size_t)n),
           bench_median(sp50, (size_t)n), bench_median(sp99, (size_t)n));
    fflush(stdout);
}

static void scenario_fanout(void)
{
    double rate[MAX_REPEATS] = {0}, loss[MAX_REPEATS] = {0}, cpu[MAX_REPEATS] = {0},
           rss[MAX_REPEATS] = {0}, drain[MAX_REPEATS] = {0}, pcpu[MAX_REPEATS] = {0};
    int n = 0, ok = 1;
    for (int rep = 0; rep < opt.repeats; rep++) {
        struct fan_result res;
        if (run_fanout(rep, &res) != 0) {
            ok = 0;
            continue;
        }
        ok &= res.ok;
        rate[n] = res.delivered_rate;
        loss[n] = res.loss_pct;
        cpu[n] = res.daemon_cpu_pct;
        rss[n] = res.max_rss_mib;
        drain[n] = res.drain_ms;
        pcpu[n] = res.per_cpu_s;
        n++;
    }
    double max_rss = 0;
    for (int i = 0; i < n; i++)
        max_rss = rss[i] > max_rss ? rss[i] : max_rss;
    printf(
        "{\"summary\":\"fanout\",\"runs\":%d,\"all_delivered_all_runs\":%s,\"delivered_rate\":%.0f,"
        "\"undelivered_pct\":%.4f,\"daemon_cpu_pct\":%.1f,\"daemon_max_rss_mib_median\":%.1f,"
        "\"daemon_max_rss_mib_max\":%.1f,\"drain_ms\":%.1f,\"delivered_per_daemon_cpu_s\":%.0f}\n",
        n, note_result(ok && n == opt.repeats) ? "true" : "false", bench_median(rate, (size_t)n),
        bench_median(loss, (size_t)n), bench_median(cpu, (size_t)n), bench_median(rss, (size_t)n),
        max_rss, bench_median(drain, (size_t)n), bench_median(pcpu, (size_t)n));
    fflush(stdout);
}

static void scenario_group(int live)
{
    double rate[MAX_REPEATS] = {0}, prate[MAX_REPEATS] = {0}, cpu[MAX_REPEATS] = {0},
           rss[MAX_REPEATS] = {0}, pcpu[MAX_REPEATS] = {0};
    int n = 0, ok = 1;
    for (int rep = 0; rep < opt.repeats; rep++) {
        struct grp_result res;
        if (run_group(live, rep, &res) != 0) {
            ok = 0;
            continue;
        }
        ok &= res.ok;
        rate[n] = res.acked_rate;
        prate[n] = res.publish_rate;
        cpu[n] = res.daemon_cpu_pct;
        rss[n] = res.max_rss_mib;
        pcpu[n] = res.per_cpu_s;
        n++;
    }
    printf("{\"summary\":\"group_%s\",\"runs\":%d,\"verified\":%s,\"acked_per_s\":%.0f,"
           "\"publish_per_s\":%.0f,\"daemon_cpu_pct\":%.1f,\"daemon_max_rss_mib\":%.1f,"
           "\"acked_per_daemon_cpu_s\":%.0f}\n",
           live ? "live" : "backlog", n, note_result(ok && n == opt.repeats) ? "true" : "false",
           bench_median(rate, (size_t)n), bench_median(prate, (size_t)n),
           bench_median(cpu, (size_t)n), bench_median(rss, (size_t)n),
           bench_median(pcpu, (size_t)n));
    fflush(stdout);
}

static int int_arg(const char *v, int lo, int hi)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi)
        usage();
    return (int)x;
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
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--bin") == 0)
            opt.bin = v;
        else if (strcmp(a, "--scenario") == 0)
            opt.scenario = v;
        else if (strcmp(a, "--repeats") == 0)
            opt.repeats = int_arg(v, 1, MAX_REPEATS);
        else if (strcmp(a, "--seconds") == 0)
            opt.seconds = int_arg(v, 1, 600);
        else if (strcmp(a, "--rate") == 0)
            opt.rate = int_arg(v, 10, 1000000);
        else if (strcmp(a, "--subs") == 0)
            opt.subs = int_arg(v, 1, MAX_SUBS);
        else if (strcmp(a, "--recv-threads") == 0)
            opt.recv_threads = int_arg(v, 1, MAX_THREADS);
        else if (strcmp(a, "--put-threads") == 0)
            opt.put_threads = int_arg(v, 1, MAX_THREADS);
        else if (strcmp(a, "--pub-threads") == 0)
            opt.pub_threads = int_arg(v, 1, MAX_THREADS);
        else if (strcmp(a, "--members") == 0)
            opt.members = int_arg(v, 1, 64);
        else if (strcmp(a, "--credit") == 0)
            opt.credit = int_arg(v, 1, 1000);
        else if (strcmp(a, "--events") == 0)
            opt.events = int_arg(v, 10, 2000000);
        else if (strcmp(a, "--dump") == 0)
            opt.dump = v;
        else if (strcmp(a, "--drain-max") == 0)
            opt.drain_max = int_arg(v, 1, 3600);
        else
            usage();
    }
    if (opt.bin == NULL || (!want("latency") && !want("fanout") && !want("group") &&
                            !want("group_backlog") && !want("group_live")))
        usage();
    bb_log_set_level(BB_LOG_LEVEL_WARN);
    bench_daemon_on_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (want("latency"))
        scenario_latency();
    if (want("fanout"))
        scenario_fanout();
    if (want("group") || want("group_backlog") || want("group_live")) {
        if (write_group_config() != 0) {
            fprintf(stderr, "bb_wsbench: cannot write the group configuration\n");
            return 1;
        }
        if (want("group") || want("group_backlog"))
            scenario_group(0);
        if (want("group") || want("group_live"))
            scenario_group(1);
        unlink(config_path);
    }
    curl_global_cleanup();
    return opt.check && (any_failed || bench_daemon_bad_exits() > 0) ? 1 : 0;
}
