/* SPDX-License-Identifier: MIT */
/*
 * bb_log: levelled logfmt logger. One line per call:
 *   ts=... level=info mod=s3 msg="..." k=v ...
 * The macros check the level before evaluating their arguments. Values that
 * came from clients must go through bb_log_quote() so a key holding "\n"
 * cannot fake a log line. Any thread.
 */
#ifndef BB_COMMON_BB_LOG_H
#define BB_COMMON_BB_LOG_H

#include <stddef.h>

enum bb_log_level {
    BB_LOG_LEVEL_ERROR = 0,
    BB_LOG_LEVEL_WARN = 1,
    BB_LOG_LEVEL_INFO = 2,
    BB_LOG_LEVEL_DEBUG = 3,
};

typedef void bb_log_sink_cb(enum bb_log_level level, const char *line, void *arg);

extern int bb_log_level_current;

/** Sets the level; returns 0, or BB_EINVAL for an unknown @name. */
int bb_log_set_level_name(const char *name);
void bb_log_set_level(enum bb_log_level level);
/** Replaces the stderr sink (tests); NULL restores stderr. */
void bb_log_set_sink(bb_log_sink_cb *cb, void *arg);
/** Formats one line; @fmt is the k=v tail (may be NULL). */
void bb_log_write(enum bb_log_level level, const char *mod, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/**
 * Writes @s as a logfmt value into @out (always quoted, control bytes as
 * \xNN, at most @outlen-1 bytes, truncated with "..."); returns @out.
 */
char *bb_log_quote(char *out, size_t outlen, const char *s, size_t len);

#define BB_LOG_(lvl, mod, msg, ...)                                                                \
    do {                                                                                           \
        if ((int)(lvl) <= bb_log_level_current)                                                    \
            bb_log_write((lvl), (mod), (msg), __VA_ARGS__);                                        \
    } while (0)
#define BB_LOG_ERROR(mod, msg, ...) BB_LOG_(BB_LOG_LEVEL_ERROR, mod, msg, __VA_ARGS__)
#define BB_LOG_WARN(mod, msg, ...) BB_LOG_(BB_LOG_LEVEL_WARN, mod, msg, __VA_ARGS__)
#define BB_LOG_INFO(mod, msg, ...) BB_LOG_(BB_LOG_LEVEL_INFO, mod, msg, __VA_ARGS__)
#define BB_LOG_DEBUG(mod, msg, ...) BB_LOG_(BB_LOG_LEVEL_DEBUG, mod, msg, __VA_ARGS__)

#endif
