/* SPDX-License-Identifier: MIT */
/* store_tmp: a pool of pre-created temporary upload files (store_tmp.h). */
#include "store_tmp.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_TMP_POOL 32

struct tmp_file {
    int fd;
    char *path;
};

struct store_tmp {
    char *dir;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct tmp_file ready[STORE_TMP_POOL]; /* guarded by mu */
    int n;                                 /* guarded by mu */
    int target; /* guarded by mu; 0 until the first upload, then the pool */
    int stop;                              /* guarded by mu */
};

static atomic_ulong g_seq;

/* Names are unique per process; the pid keeps two daemons apart. */
static int create(const char *dir, int *fd, char **path)
{
    char *p = bb_xasprintf("%s/spare-%d-%lu", dir, (int)getpid(), atomic_fetch_add(&g_seq, 1) + 1);
    int f = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f < 0 && errno == ENOENT && (mkdir(dir, 0755) == 0 || errno == EEXIST))
        f = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); /* the first upload */
    if (f < 0) {
        int e = errno;
        free(p);
        return -e;
    }
    *fd = f;
    *path = p;
    return BB_OK;
}

static void *fill(void *arg)
{
    struct store_tmp *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->stop && t->n >= t->target)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->mu);
        int fd = -1;
        char *path = NULL;
        int rc = create(t->dir, &fd, &path);
        pthread_mutex_lock(&t->mu);
        if (rc < 0) {
            /* the loop creates its own and reports the error; try again
             * when it next takes one */
            pthread_cond_wait(&t->cv, &t->mu);
            continue;
        }
        t->ready[t->n].fd = fd;
        t->ready[t->n].path = path;
        t->n++;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct store_tmp *store_tmp_new(const char *dir)
{
    struct store_tmp *t = bb_xcalloc(1, sizeof(*t));
    t->dir = bb_xstrdup(dir);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, fill, t) != 0) {
        BB_LOG_WARN("store", "no temporary-file thread; uploads create their own", NULL);
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t->dir);
        free(t);
        return NULL;
    }
    return t;
}

void store_tmp_free(struct store_tmp *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    for (int i = 0; i < t->n; i++) {
        close(t->ready[i].fd);
        unlink(t->ready[i].path);
        free(t->ready[i].path);
    }
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t->dir);
    free(t);
}

int store_tmp_take(struct store_tmp *t, const char *dir, int *fd, char **path)
{
    if (t != NULL) {
        int got = 0;
        pthread_mutex_lock(&t->mu);
        /* none made before the first upload: a daemon that stores
         * nothing (a CI job's, a quick start and stop) churns no inodes */
        t->target = STORE_TMP_POOL;
        if (t->n > 0) {
            t->n--;
            *fd = t->ready[t->n].fd;
            *path = t->ready[t->n].path;
            got = 1;
        }
        /* the thread refills in batches: fewer wake-ups */
        if (t->n <= STORE_TMP_POOL / 2)
            pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        if (got)
            return BB_OK;
    }
    return create(dir, fd, path);
}
