/* SPDX-License-Identifier: MIT */
/*
 * thumb_worker: each worker thread is a member of the consumer group on its
 * own WebSocket connection (credit 1) with its own S3 session. A delivery
 * is worked on by the thread whose socket it arrived on, at once: no
 * hand-off between threads, so no thread wake-up sits between the daemon's
 * delivery and the work, or between the work and its publish and ack (on
 * this project's VMs a wake-up across CPUs costs 0.1-1 ms; see
 * bench/README.md, pipeline). The threads share nothing but the read-only
 * configuration and the stop flag.
 *
 * A job remembers the connection it arrived on: after a reconnect the
 * daemon has already handed its delivery to someone else, so its ack is
 * dropped, but its "Thumbnail Created/Failed" event is still published
 * (the redelivered copy will find the work done and publish nothing).
 */
#include "thumb_worker.h"
#include "thumb.h"
#include "thumb_s3.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOBS_MAX 8 /* deliveries held by one member; its credit is 1 */

struct job {
    int64_t delivery;
    uint64_t seq;
    int attempt;
    unsigned long conn; /* connection generation it arrived on */
    cJSON *event;       /* the delivered event (a copy) */
    int64_t t_recv_us;  /* CLOCK_REALTIME: the delivery decoded (debug timeline) */
    int64_t t_start_us; /* work began */
    int64_t t_done_us;  /* work ended */
    struct thumb_outcome outcome;
};

/* One worker thread: a group member with its own connections. */
struct worker {
    const struct thumb_worker_conf *wc;
    volatile sig_atomic_t *stop;
    int index;
    struct thumb_s3_session *s3;
    struct bb_wsclient *client;
    pthread_t thread;
    int started;
    int rc;
    /* the worker's thread only */
    struct job *jobs[JOBS_MAX]; /* received, not yet worked on */
    int njobs;
    unsigned long conn;
    int stopping;
};

static int64_t real_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    thumb_outcome_cleanup(&j->outcome);
    cJSON_Delete(j->event);
    free(j);
}

static void on_msg(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct worker *w = arg;
    char q[256];

    switch (m->type) {
    case BB_WSCLIENT_MSG_DELIVERY: {
        struct job *j;
        if (w->stopping || w->njobs == JOBS_MAX)
            return; /* not acked: the daemon hands it on (at once when we close) */
        j = bb_xcalloc(1, sizeof(*j));
        j->t_recv_us = real_us();
        j->delivery = m->delivery;
        j->seq = m->seq;
        j->attempt = m->attempt;
        j->conn = w->conn;
        j->event = m->event ? cJSON_Duplicate(m->event, 1) : NULL;
        w->jobs[w->njobs++] = j;
        bb_wsclient_wake(c); /* bb_wsclient_run returns: the work starts now */
        break;
    }
    case BB_WSCLIENT_MSG_JOINED:
        BB_LOG_INFO("thumb", "joined the consumer group", "group=%s worker=%d", m->group, w->index);
        break;
    case BB_WSCLIENT_MSG_CONNECTED:
        if (w->index == 0)
            BB_LOG_INFO("thumb", "connected", "host=%s port=%d", w->wc->ws_host, w->wc->ws_port);
        break;
    case BB_WSCLIENT_MSG_DISCONNECTED:
        w->conn++;
        if (w->stopping)
            break;
        bb_log_quote(q, sizeof(q), m->message ? m->message : "",
                     m->message ? strlen(m->message) : 0);
        BB_LOG_WARN("thumb", "disconnected; reconnecting", "worker=%d why=%s", w->index, q);
        break;
    case BB_WSCLIENT_MSG_ERROR:
        bb_log_quote(q, sizeof(q), m->message ? m->message : "",
                     m->message ? strlen(m->message) : 0);
        BB_LOG_WARN("thumb", "daemon reported an error", "ref=%s message=%s", m->ref ? m->ref : "-",
                    q);
        break;
    case BB_WSCLIENT_MSG_PUBLISHED: {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m->json, "entries"))
        {
            const char *code =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "ErrorCode"));
            if (code != NULL)
                BB_LOG_WARN("thumb", "event not published", "code=%s", code);
        }
        break;
    }
    default:
        break;
    }
}

static void log_outcome(const struct job *j)
{
    const struct thumb_outcome *o = &j->outcome;
    char err[400];
    char key[400];

    bb_log_quote(err, sizeof(err), o->error, strlen(o->error));
    bb_log_quote(key, sizeof(key), o->out_key ? o->out_key : "",
                 o->out_key ? strlen(o->out_key) : 0);
    switch (o->status) {
    case THUMB_DONE:
        BB_LOG_INFO("thumb", "thumbnail created",
                    "ev=%llu delivery=%lld out=%s ms=%lld image_ms=%.2f",
                    (unsigned long long)j->seq, (long long)j->delivery, key,
                    (long long)o->duration_ms, o->image_ms);
        break;
    case THUMB_SKIPPED:
        BB_LOG_INFO("thumb", "already done for this ETag", "ev=%llu delivery=%lld out=%s",
                    (unsigned long long)j->seq, (long long)j->delivery, key);
        break;
    case THUMB_FAILED:
        BB_LOG_WARN("thumb", "failed for good; to the dead-letter queue",
                    "ev=%llu delivery=%lld error=%s", (unsigned long long)j->seq,
                    (long long)j->delivery, err);
        break;
    case THUMB_RETRY:
        BB_LOG_WARN("thumb", "failed; will be retried", "ev=%llu delivery=%lld attempt=%d error=%s",
                    (unsigned long long)j->seq, (long long)j->delivery, j->attempt, err);
        break;
    }
}

/* Works on @j, then queues its event and its ack or nack (written by the
 * next bb_wsclient_run). */
static void work(struct worker *w, struct job *j)
{
    const struct thumb_outcome *o = &j->outcome;
    struct bb_wsclient *c = w->client;
    int rc = 0;

    j->t_start_us = real_us();
    thumb_handle(w->wc->cfg, w->s3, j->event, &j->outcome);
    j->t_done_us = real_us();
    log_outcome(j);
    if (o->detail != NULL && o->status != THUMB_RETRY) {
        cJSON *entries = thumb_entries(o->status, o->detail);
        if (bb_wsclient_publish(c, NULL, entries) < 0)
            BB_LOG_WARN("thumb", "could not queue the event", "ev=%llu",
                        (unsigned long long)j->seq);
        cJSON_Delete(entries);
    }
    if (j->conn == w->conn) {
        if (o->status == THUMB_DONE || o->status == THUMB_SKIPPED)
            rc = bb_wsclient_ack(c, j->delivery);
        else
            rc = bb_wsclient_nack(c, j->delivery, o->error, o->status == THUMB_FAILED);
    }
    BB_LOG_DEBUG("thumb", "timeline",
                 "ev=%llu worker=%d recv_us=%lld wait_us=%lld fetch_ms=%.3f image_ms=%.3f "
                 "put_ms=%.3f work_us=%lld",
                 (unsigned long long)j->seq, w->index, (long long)j->t_recv_us,
                 (long long)(j->t_start_us - j->t_recv_us), o->fetch_ms, o->image_ms, o->put_ms,
                 (long long)(j->t_done_us - j->t_start_us));
    if (rc < 0)
        BB_LOG_DEBUG("thumb", "ack dropped", "delivery=%lld rc=%s", (long long)j->delivery,
                     bb_strerror(rc));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (;;) {
        if (bb_wsclient_run(w->client, THUMB_WORKER_POLL_MS) == -ECANCELED)
            break;
        /* in arrival order; each publish and ack is queued before the next job */
        for (int i = 0; i < w->njobs; i++) {
            work(w, w->jobs[i]);
            job_free(w->jobs[i]);
            w->jobs[i] = NULL;
        }
        w->njobs = 0;
        /* the acks just queued are written before the close (bb_wsclient.h) */
        if (*w->stop && !w->stopping) {
            w->stopping = 1;
            bb_wsclient_stop(w->client);
        }
    }
    return NULL;
}

int thumb_worker_run(const struct thumb_worker_conf *wc, volatile sig_atomic_t *stop)
{
    struct worker *ws;
    int rc = BB_OK;

    if (wc->workers < 1 || wc->workers > THUMB_WORKER_MAX)
        return BB_EINVAL;
    ws = bb_xcalloc((size_t)wc->workers, sizeof(*ws));
    for (int i = 0; i < wc->workers; i++) {
        struct worker *w = &ws[i];
        w->wc = wc;
        w->stop = stop;
        w->index = i;
        rc = bb_wsclient_new(wc->ws_host, wc->ws_port, wc->token, on_msg, w, &w->client);
        if (rc == BB_OK)
            rc = bb_wsclient_join(w->client, wc->group, 1, wc->visibility_timeout_s);
        if (rc == BB_OK)
            rc = thumb_s3_session_new(wc->s3, &w->s3);
        if (rc < 0)
            goto out;
    }
    for (int i = 0; i < wc->workers; i++) {
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
            rc = BB_EAGAIN;
            *stop = 1; /* the ones started end within a loop slice */
            break;
        }
        ws[i].started = 1;
    }
out:
    for (int i = 0; i < wc->workers; i++) {
        struct worker *w = &ws[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        for (int k = 0; k < w->njobs; k++)
            job_free(w->jobs[k]);
        bb_wsclient_free(w->client);
        thumb_s3_session_free(w->s3);
    }
    free(ws);
    return rc;
}
