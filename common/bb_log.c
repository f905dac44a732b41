/* SPDX-License-Identifier: MIT */
/* bb_log: logfmt lines to stderr or a swapped-in sink. */
#include "bb_log.h"
#include "bb_err.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int bb_log_level_current = BB_LOG_LEVEL_INFO;
static bb_log_sink_cb *sink_cb;
static void *sink_arg;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int bb_log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            bb_log_level_current = i;
            return BB_OK;
        }
    }
    return BB_EINVAL;
}

void bb_log_set_level(enum bb_log_level level)
{
    bb_log_level_current = (int)level;
}

void bb_log_set_sink(bb_log_sink_cb *cb, void *arg)
{
    pthread_mutex_lock(&sink_lock);
    sink_cb = cb;
    sink_arg = arg;
    pthread_mutex_unlock(&sink_lock);
}

char *bb_log_quote(char *out, size_t outlen, const char *s, size_t len)
{
    size_t o = 0;

    if (outlen < 8) {
        if (outlen)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= outlen) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

void bb_log_write(enum bb_log_level level, const char *mod, const char *msg, const char *fmt, ...)
{
    char line[2048];
    char qmsg[256];
    struct timeval tv;
    struct tm tm;
    size_t n;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ level=%s mod=%s msg=%s",
                          (int)(tv.tv_usec / 1000), level_names[level], mod,
                          bb_log_quote(qmsg, sizeof(qmsg), msg, strlen(msg)));
    if (fmt != NULL && fmt[0] != '\0' && n < sizeof(line) - 2) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&sink_lock);
    if (sink_cb != NULL)
        sink_cb(level, line, sink_arg);
    else
        fprintf(stderr, "%s\n", line);
    pthread_mutex_unlock(&sink_lock);
}
