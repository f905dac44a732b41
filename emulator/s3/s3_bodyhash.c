/* SPDX-License-Identifier: MIT */
/*
 * s3_bodyhash: one hashing thread for the whole process, started at the
 * first large upload; a FIFO of submitted buffers guarded by one mutex.
 * Each upload's digest is touched only by the hashing thread while any of
 * its buffers is in flight, and by the loop thread once none is (the mutex
 * orders the two).
 */
#include "s3_bodyhash.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct job {
    struct job *next;
    struct s3_bodyhash *h;
    int slot;
    size_t len;
};

struct s3_bodyhash {
    struct bb_hash *md5;
    unsigned char *buf[S3_BODYHASH_BUFS];
    struct job jobs[S3_BODYHASH_BUFS];
    int busy[S3_BODYHASH_BUFS]; /* guarded by g.mu */
    int inflight;               /* guarded by g.mu */
    int next;                   /* loop thread: the slot filled next */
    pthread_cond_t back;        /* a buffer of this upload was hashed */
};

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct job *head, *tail; /* guarded by mu */
    int stop;                /* guarded by mu */
    int started;
    pthread_t thread;
} g = {PTHREAD_ONCE_INIT, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0};

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.mu);
    for (;;) {
        struct job *j;
        while (g.head == NULL && !g.stop)
            pthread_cond_wait(&g.work, &g.mu);
        if (g.head == NULL)
            break; /* stopping, nothing left */
        j = g.head;
        g.head = j->next;
        if (g.head == NULL)
            g.tail = NULL;
        pthread_mutex_unlock(&g.mu);
        bb_hash_update(j->h->md5, j->h->buf[j->slot], j->len);
        pthread_mutex_lock(&g.mu);
        j->h->busy[j->slot] = 0;
        j->h->inflight--;
        pthread_cond_signal(&j->h->back);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

static void start(void)
{
    if (pthread_create(&g.thread, NULL, run, NULL) == 0)
        g.started = 1;
    else
        BB_LOG_WARN("s3", "no hashing thread; large uploads are hashed on the loop", NULL);
}

struct s3_bodyhash *s3_bodyhash_new(void)
{
    struct s3_bodyhash *h;

    pthread_once(&g.once, start);
    if (!g.started)
        return NULL;
    h = bb_xcalloc(1, sizeof(*h));
    h->md5 = bb_hash_new(BB_HASH_MD5);
    pthread_cond_init(&h->back, NULL);
    return h;
}

unsigned char *s3_bodyhash_buffer(struct s3_bodyhash *h)
{
    int slot = h->next;

    pthread_mutex_lock(&g.mu);
    while (h->busy[slot])
        pthread_cond_wait(&h->back, &g.mu);
    pthread_mutex_unlock(&g.mu);
    if (h->buf[slot] == NULL)
        h->buf[slot] = bb_xmalloc(S3_BODYHASH_BUF);
    return h->buf[slot];
}

void s3_bodyhash_submit(struct s3_bodyhash *h, size_t len)
{
    int slot = h->next;
    struct job *j = &h->jobs[slot];

    j->next = NULL;
    j->h = h;
    j->slot = slot;
    j->len = len;
    pthread_mutex_lock(&g.mu);
    h->busy[slot] = 1;
    h->inflight++;
    if (g.tail != NULL)
        g.tail->next = j;
    else
        g.head = j;
    g.tail = j;
    pthread_cond_signal(&g.work);
    pthread_mutex_unlock(&g.mu);
    h->next = (slot + 1) % S3_BODYHASH_BUFS;
}

static void drain(struct s3_bodyhash *h)
{
    pthread_mutex_lock(&g.mu);
    while (h->inflight > 0)
        pthread_cond_wait(&h->back, &g.mu);
    pthread_mutex_unlock(&g.mu);
}

void s3_bodyhash_final(struct s3_bodyhash *h, unsigned char *md5)
{
    drain(h);
    bb_hash_final(h->md5, md5);
}

void s3_bodyhash_free(struct s3_bodyhash *h)
{
    if (h == NULL)
        return;
    drain(h);
    for (int i = 0; i < S3_BODYHASH_BUFS; i++)
        free(h->buf[i]);
    bb_hash_free(h->md5);
    pthread_cond_destroy(&h->back);
    free(h);
}

void s3_bodyhash_shutdown(void)
{
    if (!g.started)
        return;
    pthread_mutex_lock(&g.mu);
    g.stop = 1;
    pthread_cond_signal(&g.work);
    pthread_mutex_unlock(&g.mu);
    pthread_join(g.thread, NULL);
    g.started = 0;
}
