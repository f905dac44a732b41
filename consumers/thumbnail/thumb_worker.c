/* SPDX-License-Identifier: MIT */
/*
 * thumb_worker: jobs go to the workers through a mutex + condition
 * variable list (workers block while it is empty); outcomes come back
 * through a bb_queue, and the worker wakes the loop (bb_wsclient_wake) so
 * that it publishes and acks at once rather than at the end of its
 * bb_wsclient_run() slice.
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
#include "bb_queue.h"
#include "bb_wsclient.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    struct job *next;
    int64_t delivery;
    uint64_t seq;
    int attempt;
    unsigned long conn; /* connection generation it arrived on */
    cJSON *event;       /* the delivered event (a copy) */
    int64_t t_recv_us;  /* CLOCK_REALTIME: the delivery decoded (debug timeline) */
    int64_t t_start_us; /* a worker took it */
    int64_t t_done_us;  /* its outcome queued */
    struct thumb_outcome outcome;
};

struct pool;

/* One worker thread and its S3 connections. */
struct worker {
    struct pool *pool;
    struct thumb_s3_session *s3;
    pthread_t thread;
    int started;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    int quit;
    struct bb_queue done;
    struct bb_wsclient *client; /* woken when an outcome is queued */
    struct worker workers[THUMB_WORKER_MAX];
    const struct thumb_worker_conf *wc;
    /* loop thread only */
    int outstanding; /* jobs handed out whose outcome is not handled yet */
    unsigned long conn;
    int stopping;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void job_free(void *p)
{
    struct job *j = p;

    if (j == NULL)
        return;
    thumb_outcome_cleanup(&j->outcome);
    cJSON_Delete(j->event);
    free(j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *pl = w->pool;

    for (;;) {
        struct job *j;
        pthread_mutex_lock(&pl->lock);
        while (pl->head == NULL && !pl->quit)
            pthread_cond_wait(&pl->cond, &pl->lock);
        if (pl->quit) {
            /* jobs not started stay unacked: the daemon redelivers them */
            pthread_mutex_unlock(&pl->lock);
            return NULL;
        }
        j = pl->head;
        pl->head = j->next;
        if (pl->head == NULL)
            pl->tail = NULL;
        pthread_mutex_unlock(&pl->lock);

        j->t_start_us = real_us();
        thumb_handle(pl->wc->cfg, w->s3, j->event, &j->outcome);
        j->t_done_us = real_us();
        bb_queue_push(&pl->done, j);
        bb_wsclient_wake(pl->client);
    }
}

static void submit(struct pool *pl, struct job *j)
{
    pthread_mutex_lock(&pl->lock);
    j->next = NULL;
    if (pl->tail != NULL)
        pl->tail->next = j;
    else
        pl->head = j;
    pl->tail = j;
    pthread_cond_signal(&pl->cond);
    pthread_mutex_unlock(&pl->lock);
}

static void on_msg(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct pool *pl = arg;
    char q[256];

    switch (m->type) {
    case BB_WSCLIENT_MSG_DELIVERY: {
        struct job *j;
        if (pl->stopping)
            return; /* not acked: the daemon hands it on when we close */
        j = bb_xcalloc(1, sizeof(*j));
        j->t_recv_us = real_us();
        j->delivery = m->delivery;
        j->seq = m->seq;
        j->attempt = m->attempt;
        j->conn = pl->conn;
        j->event = m->event ? cJSON_Duplicate(m->event, 1) : NULL;
        pl->outstanding++;
        submit(pl, j);
        break;
    }
    case BB_WSCLIENT_MSG_JOINED:
        BB_LOG_INFO("thumb", "joined the consumer group", "group=%s workers=%d", m->group,
                    pl->wc->workers);
        break;
    case BB_WSCLIENT_MSG_CONNECTED:
        BB_LOG_INFO("thumb", "connected", "host=%s port=%d", pl->wc->ws_host, pl->wc->ws_port);
        break;
    case BB_WSCLIENT_MSG_DISCONNECTED:
        pl->conn++;
        if (pl->stopping)
            break;
        bb_log_quote(q, sizeof(q), m->message ? m->message : "",
                     m->message ? strlen(m->message) : 0);
        BB_LOG_WARN("thumb", "disconnected; reconnecting", "why=%s", q);
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

/* Publishes and acks the outcomes the workers finished. */
static void drain(struct pool *pl, struct bb_wsclient *c)
{
    struct job *j;

    while ((j = bb_queue_pop(&pl->done)) != NULL) {
        const struct thumb_outcome *o = &j->outcome;
        int rc = 0;
        pl->outstanding--;
        log_outcome(j);
        if (o->detail != NULL && o->status != THUMB_RETRY) {
            cJSON *entries = thumb_entries(o->status, o->detail);
            if (bb_wsclient_publish(c, NULL, entries) < 0)
                BB_LOG_WARN("thumb", "could not queue the event", "ev=%llu",
                            (unsigned long long)j->seq);
            cJSON_Delete(entries);
        }
        if (j->conn == pl->conn) {
            if (o->status == THUMB_DONE || o->status == THUMB_SKIPPED)
                rc = bb_wsclient_ack(c, j->delivery);
            else
                rc = bb_wsclient_nack(c, j->delivery, o->error, o->status == THUMB_FAILED);
        }
        BB_LOG_DEBUG("thumb", "timeline",
                     "ev=%llu recv_us=%lld wait_us=%lld fetch_ms=%.3f image_ms=%.3f "
                     "put_ms=%.3f work_us=%lld handoff_us=%lld",
                     (unsigned long long)j->seq, (long long)j->t_recv_us,
                     (long long)(j->t_start_us - j->t_recv_us), o->fetch_ms, o->image_ms, o->put_ms,
                     (long long)(j->t_done_us - j->t_start_us),
                     (long long)(real_us() - j->t_done_us));
        if (rc < 0)
            BB_LOG_DEBUG("thumb", "ack dropped", "delivery=%lld rc=%s", (long long)j->delivery,
                         bb_strerror(rc));
        job_free(j);
    }
}

static void pool_stop(struct pool *pl)
{
    pthread_mutex_lock(&pl->lock);
    pl->quit = 1;
    pthread_cond_broadcast(&pl->cond);
    pthread_mutex_unlock(&pl->lock);
    for (int i = 0; i < THUMB_WORKER_MAX; i++) {
        if (pl->workers[i].started)
            pthread_join(pl->workers[i].thread, NULL);
        pl->workers[i].started = 0;
        thumb_s3_session_free(pl->workers[i].s3);
        pl->workers[i].s3 = NULL;
    }
}

int thumb_worker_run(const struct thumb_worker_conf *wc, volatile sig_atomic_t *stop)
{
    struct bb_wsclient *c = NULL;
    struct pool *pl;
    int64_t deadline = 0;
    int rc;

    if (wc->workers < 1 || wc->workers > THUMB_WORKER_MAX)
        return BB_EINVAL;
    pl = bb_xcalloc(1, sizeof(*pl));
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->cond, NULL);
    bb_queue_init(&pl->done, NULL, NULL);
    pl->wc = wc;

    rc = bb_wsclient_new(wc->ws_host, wc->ws_port, wc->token, on_msg, pl, &c);
    if (rc < 0)
        goto out;
    rc = bb_wsclient_join(c, wc->group, wc->workers, wc->visibility_timeout_s);
    if (rc < 0)
        goto out;
    pl->client = c;
    for (int i = 0; i < wc->workers; i++) {
        struct worker *w = &pl->workers[i];
        w->pool = pl;
        rc = thumb_s3_session_new(wc->s3, &w->s3);
        if (rc < 0)
            goto out;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            rc = BB_EAGAIN;
            goto out;
        }
        w->started = 1;
    }

    for (;;) {
        if (bb_wsclient_run(c, THUMB_WORKER_POLL_MS) == -ECANCELED)
            break;
        drain(pl, c);
        if (*stop && !pl->stopping) {
            pl->stopping = 1;
            deadline = mono_ms() + THUMB_WORKER_DRAIN_MS;
            BB_LOG_INFO("thumb", "stopping", "in_progress=%d", pl->outstanding);
        }
        if (pl->stopping && (pl->outstanding == 0 || mono_ms() >= deadline))
            bb_wsclient_stop(c);
    }
    rc = BB_OK;
out:
    pool_stop(pl);
    bb_wsclient_free(c);
    bb_queue_cleanup(&pl->done, job_free);
    while (pl->head != NULL) {
        struct job *j = pl->head;
        pl->head = j->next;
        job_free(j);
    }
    pthread_cond_destroy(&pl->cond);
    pthread_mutex_destroy(&pl->lock);
    free(pl);
    return rc;
}
