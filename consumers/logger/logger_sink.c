/* SPDX-License-Identifier: MIT */
/*
 * logger_sink: the open file is checked against its path before each
 * write (stat vs fstat, device and inode): cheap, and the only way to
 * notice that someone removed or renamed the file, since writes to an
 * unlinked file succeed silently.
 */
#include "logger_sink.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct logger_sink {
    char *dir;
    char *path; /* of the open file */
    int fd;
    dev_t dev;
    ino_t ino;
};

struct logger_sink *logger_sink_new(const char *dir)
{
    struct logger_sink *s = bb_xcalloc(1, sizeof(*s));

    s->dir = bb_xstrdup(dir);
    s->fd = -1;
    return s;
}

static void close_file(struct logger_sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->path);
    s->path = NULL;
}

void logger_sink_free(struct logger_sink *s)
{
    if (s == NULL)
        return;
    close_file(s);
    free(s->dir);
    free(s);
}

char *logger_sink_path(const struct logger_sink *s, int64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    return bb_xasprintf("%s/" LOGGER_SINK_PREFIX "%04d-%02d-%02d" LOGGER_SINK_SUFFIX, s->dir,
                        (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday);
}

/* mkdir -p @dir. */
static int make_dirs(const char *dir)
{
    char *p = bb_xstrdup(dir);
    int rc = 0;

    for (char *q = p + 1; *q != '\0'; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            rc = -errno;
        *q = '/';
        if (rc < 0)
            goto out;
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        rc = -errno;
out:
    free(p);
    return rc;
}

/* 1 when the open file is still the one at its path. */
static int still_there(const struct logger_sink *s)
{
    struct stat st;

    if (stat(s->path, &st) < 0)
        return 0;
    return st.st_dev == s->dev && st.st_ino == s->ino;
}

static int open_file(struct logger_sink *s, char *path)
{
    struct stat st;
    int fd, rc;

    close_file(s);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        rc = make_dirs(s->dir);
        if (rc < 0) {
            free(path);
            return rc;
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        free(path);
        return rc;
    }
    s->fd = fd;
    s->path = path;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return BB_OK;
}

int logger_sink_write(struct logger_sink *s, int64_t now_ms, const char *line, size_t len)
{
    char *path = logger_sink_path(s, now_ms);
    char *rec;
    size_t off = 0;
    int rc = BB_OK;

    if (s->fd < 0 || strcmp(path, s->path) != 0 || !still_there(s)) {
        rc = open_file(s, path); /* takes @path */
        if (rc < 0)
            return rc;
    } else {
        free(path);
    }
    rec = bb_xmalloc(len + 1);
    memcpy(rec, line, len);
    rec[len] = '\n';
    while (off < len + 1) {
        ssize_t n = write(s->fd, rec + off, len + 1 - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            close_file(s); /* reopen next time */
            break;
        }
        off += (size_t)n;
    }
    free(rec);
    return rc;
}
