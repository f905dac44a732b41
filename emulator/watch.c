/* SPDX-License-Identifier: MIT */
/*
 * watch: libinotifytools keeps global state, so only this file's thread
 * ever calls it (after watch_start initialised it).
 */
#include "watch.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_queue.h"
#include "metrics.h"
#include "store_own.h"
#include "watch_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* a wait for an event longer than this was a sleep in the kernel */
#define WATCH_WOKEN_US 20
/* how long events gather after such a wake-up */
#define WATCH_GATHER_US 1000

#define WATCH_EVENTS                                                                               \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF |       \
     IN_MOVE_SELF)

struct note {
    enum watch_kind kind;
    char *path;
};

struct watch {
    char *data_dir;
    char *internal; /* <data>/.bucketbridge */
    struct lws_context *lws;
    struct watch_scan *scan;
    struct bb_queue q;
    pthread_t thread;
    atomic_int stop; /* set by watch_stop on the loop thread */
    int max_wd; /* the highest watch descriptor handed out so far */
};

static void wake(void *arg)
{
    struct watch *w = arg;
    lws_cancel_service(w->lws);
}

static void push(struct watch *w, enum watch_kind kind, const char *path)
{
    struct note *n = bb_xmalloc(sizeof(*n));
    n->kind = kind;
    n->path = path ? bb_xstrdup(path) : NULL;
    bb_queue_push(&w->q, n);
}

static void note_free(void *p)
{
    struct note *n = p;
    free(n->path);
    free(n);
}

static int internal_path(const struct watch *w, const char *path)
{
    size_t n = strlen(w->internal);
    return strncmp(path, w->internal, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int add_watches(struct watch *w, const char *dir)
{
    char *with_slash = bb_xasprintf("%s/", w->internal);
    const char *exclude[] = {w->internal, with_slash, NULL};
    int ok = inotifytools_watch_recursively_with_exclude(dir, WATCH_EVENTS, exclude);
    free(with_slash);
    /* the kernel numbers new watches upwards: the ones just added follow
     * (libinotifytools names an unknown descriptor "") */
    for (;;) {
        const char *name = inotifytools_filename_from_wd(w->max_wd + 1);
        if (name == NULL || *name == '\0')
            break;
        w->max_wd++;
    }
    if (!ok) {
        int e = inotifytools_error();
        if (e == ENOSPC)
            BB_LOG_ERROR("watch", "the kernel's inotify watch limit is reached",
                         "dir=\"%s\" fix=\"sysctl -w fs.inotify.max_user_watches=524288\"", dir);
        else
            BB_LOG_WARN("watch", "cannot watch directory", "dir=\"%s\" error=\"%s\"", dir,
                        strerror(e));
    }
    return ok;
}

/* 1 when directory @dir has a watch */
static int watched(const char *dir)
{
    char *slash = bb_xasprintf("%s/", dir);
    int wd = inotifytools_wd_from_filename(slash);
    free(slash);
    return wd > 0;
}

/* Files found under a directory that appeared: their watches may have come
 * after they were written, so they are announced from here. */
static void scan_dir(struct watch *w, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    if (depth > 64 || internal_path(w, dir))
        return;
    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *p;
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = bb_xasprintf("%s/%s", dir, e->d_name);
        if (lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                /* made before its parent's watch, and missed by the
                 * recursive watch's own walk (which read the parent before
                 * it existed): watched from here, as this walk starts
                 * after the parent is watched (mkdir -p, then files) */
                if (!watched(p))
                    add_watches(w, p);
                scan_dir(w, p, depth + 1);
            } else if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))
                push(w, WATCH_FILE_FOUND, p);
        }
        free(p);
    }
    closedir(d);
}

/* A directory moved out of the buckets keeps its watches in the kernel,
 * under names that are no longer true (and the same directory moved back
 * would be watched twice): its watch and those of every directory below
 * it are removed. */
static void unwatch_tree(struct watch *w, const char *dir)
{
    size_t n = strlen(dir);
    for (int wd = 1; wd <= w->max_wd; wd++) {
        const char *name = inotifytools_filename_from_wd(wd);
        if (name != NULL && strncmp(name, dir, n) == 0 && name[n] == '/')
            inotifytools_remove_watch_by_wd(wd);
    }
}

static void handle(struct watch *w, struct inotify_event *ev)
{
    const char *dir = inotifytools_filename_from_wd(ev->wd);
    char *path;
    size_t dl;

    if (ev->mask & IN_Q_OVERFLOW) {
        BB_LOG_WARN("watch", "inotify queue overflowed; rescanning", NULL);
        store_own_clear();
        push(w, WATCH_RESCAN, NULL);
        return;
    }
    if (ev->wd > w->max_wd)
        w->max_wd = ev->wd;
    if (dir == NULL || ev->len == 0)
        return; /* events about a watched directory itself */
    dl = strlen(dir);
    path =
        bb_xasprintf("%.*s/%s", (int)(dl > 0 && dir[dl - 1] == '/' ? dl - 1 : dl), dir, ev->name);
    if (internal_path(w, path)) {
        free(path);
        return;
    }
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            /* a new directory may already be watched by its parent's
             * recursive watch (watching it again would leak the library's
             * record of it) */
            if (!(ev->mask & IN_CREATE) || !watched(path))
                add_watches(w, path);
            scan_dir(w, path, 0);
            /* files renamed in while the watch was being added are caught
             * by a second look */
            push(w, WATCH_DIR_NEW, path);
        } else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
            if (ev->mask & IN_MOVED_FROM)
                unwatch_tree(w, path);
            push(w, WATCH_DIR_GONE, path);
        }
    } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        struct stat sb;
        /* the store's own upload arriving: already indexed, nothing to do */
        if (!((ev->mask & IN_MOVED_TO) && lstat(path, &sb) == 0 &&
              store_own_claim(path, (uint64_t)sb.st_ino)))
            push(w, WATCH_FILE_READY, path);
    } else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        push(w, WATCH_FILE_GONE, path);
    } else if ((ev->mask & IN_CREATE)) {
        struct stat sb;
        /* a symlink or hard link arrives without a close */
        if (lstat(path, &sb) == 0 && (S_ISLNK(sb.st_mode) || sb.st_nlink > 1))
            push(w, WATCH_FILE_READY, path);
    }
    free(path);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *thread_main(void *arg)
{
    struct watch *w = arg;
    while (!atomic_load(&w->stop)) {
        int64_t t0 = mono_us();
        struct inotify_event *ev = inotifytools_next_event(1);
        int waited = mono_us() - t0 > WATCH_WOKEN_US;
        if (ev != NULL)
            handle(w, ev);
        /* Woken for this event (not handed one already read): let the next
         * ones gather for a moment. While this thread waits in the kernel,
         * every rename into a bucket, the store's own on every PUT, pays for
         * waking it; a burst is then read in one go instead, and its first
         * event is still handled at once. */
        if (ev != NULL && waited && !atomic_load(&w->stop)) {
            struct timespec nap = {0, WATCH_GATHER_US * 1000};
            nanosleep(&nap, NULL);
        }
    }
    return NULL;
}

struct watch *watch_start(const char *data_dir, struct lws_context *lws, struct watch_scan *scan)
{
    struct watch *w;

    if (!inotifytools_initialize()) {
        BB_LOG_ERROR("watch",
                     "inotify is not available; files dropped into buckets will not "
                     "be noticed",
                     "error=\"%s\"", strerror(inotifytools_error()));
        return NULL;
    }
    w = bb_xcalloc(1, sizeof(*w));
    w->data_dir = bb_xstrdup(data_dir);
    w->internal = bb_xasprintf("%s/.bucketbridge", data_dir);
    w->lws = lws;
    w->scan = scan;
    bb_queue_init(&w->q, wake, w);
    if (!add_watches(w, data_dir)) {
        watch_stop(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        w->thread = 0;
        watch_stop(w);
        return NULL;
    }
    BB_LOG_INFO("watch", "watching bucket directories", "dir=\"%s\" watches=%d", data_dir,
                inotifytools_get_num_watches());
    return w;
}

void watch_stop(struct watch *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stop, 1);
    if (w->thread) {
        /* the thread waits up to a second for an event: give it one (a
         * hidden name, ignored) so the stop is immediate */
        char *p = bb_xasprintf("%s/.bucketbridge-wake-%d", w->data_dir, (int)getpid());
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            unlink(p);
        }
        free(p);
        pthread_join(w->thread, NULL);
    }
    inotifytools_cleanup();
    bb_queue_cleanup(&w->q, note_free);
    free(w->data_dir);
    free(w->internal);
    free(w);
}

void watch_drain(struct watch *w)
{
    struct note *n;
    if (w == NULL)
        return;
    while ((n = bb_queue_pop(&w->q)) != NULL) {
        metrics_watch(n->kind == WATCH_RESCAN);
        switch (n->kind) {
        case WATCH_FILE_READY:
            watch_scan_file(w->scan, n->path);
            break;
        case WATCH_FILE_FOUND:
            watch_scan_found(w->scan, n->path);
            break;
        case WATCH_DIR_NEW:
            watch_scan_dir_new(w->scan, n->path);
            break;
        case WATCH_FILE_GONE:
            watch_scan_gone(w->scan, n->path);
            break;
        case WATCH_DIR_GONE:
            watch_scan_dir_gone(w->scan, n->path);
            break;
        case WATCH_RESCAN:
            watch_scan_reconcile(w->scan);
            break;
        }
        note_free(n);
    }
}
