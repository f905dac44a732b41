/* SPDX-License-Identifier: MIT */
/* worker: a thread, a job queue in, a result queue out. */
#include "worker.h"
#include "bb_mem.h"
#include "bb_queue.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdlib.h>

struct job {
    worker_fn *run;
    void (*done)(void *arg, int cancelled);
    void *arg;
};

struct worker {
    struct lws_context *lws;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct bb_queue in;
    struct bb_queue out;
    int stop;
};

static void wake_loop(void *arg)
{
    struct worker *w = arg;
    lws_cancel_service(w->lws);
}

static void wake_worker(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->lock);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *thread_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        struct job *j;
        pthread_mutex_lock(&w->lock);
        while (!w->stop && bb_queue_count(&w->in) == 0)
            pthread_cond_wait(&w->cond, &w->lock);
        int stop = w->stop;
        pthread_mutex_unlock(&w->lock);
        if (stop)
            return NULL;
        j = bb_queue_pop(&w->in);
        if (j == NULL)
            continue;
        j->run(j->arg);
        bb_queue_push(&w->out, j);
    }
}

struct worker *worker_new(struct lws_context *lws)
{
    struct worker *w = bb_xcalloc(1, sizeof(*w));
    w->lws = lws;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    bb_queue_init(&w->in, wake_worker, w);
    bb_queue_init(&w->out, wake_loop, w);
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        bb_queue_cleanup(&w->in, NULL);
        bb_queue_cleanup(&w->out, NULL);
        free(w);
        return NULL;
    }
    return w;
}

static void cancel(void *p)
{
    struct job *j = p;
    j->done(j->arg, 1);
    free(j);
}

void worker_free(struct worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    bb_queue_cleanup(&w->in, cancel);
    bb_queue_cleanup(&w->out, cancel);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void worker_submit(struct worker *w, worker_fn *run, void (*done)(void *arg, int cancelled),
                   void *arg)
{
    struct job *j = bb_xmalloc(sizeof(*j));
    j->run = run;
    j->done = done;
    j->arg = arg;
    bb_queue_push(&w->in, j);
}

void worker_drain(struct worker *w)
{
    struct job *j;
    while ((j = bb_queue_pop(&w->out)) != NULL) {
        j->done(j->arg, 0);
        free(j);
    }
}
