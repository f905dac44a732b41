/* SPDX-License-Identifier: MIT */
/*
 * logger_sink: appends records to <dir>/processing-YYYY-MM-DD.jsonl (the
 * UTC date of each record). Each record is one write(2) with O_APPEND, so
 * nothing waits in a buffer and several logger processes can share a file
 * without tearing lines. The file is reopened when the date changes and
 * when it was removed or replaced (rotation by hand, `rm`), and the
 * directory is created again when it is gone. One thread.
 */
#ifndef BB_CONSUMERS_LOGGER_LOGGER_SINK_H
#define BB_CONSUMERS_LOGGER_LOGGER_SINK_H

#include <stddef.h>
#include <stdint.h>

struct logger_sink;

#define LOGGER_SINK_PREFIX "processing-"
#define LOGGER_SINK_SUFFIX ".jsonl"

/**
 * A sink writing under @dir (copied; created with its parents on first
 * write). Returns a new sink; free with logger_sink_free. Opens nothing yet.
 */
struct logger_sink *logger_sink_new(const char *dir);
void logger_sink_free(struct logger_sink *s);

/**
 * Appends @line (@len bytes, no newline) and a newline to the file for
 * the UTC day of @now_ms. Returns 0 or -errno (the directory cannot be
 * made, the file cannot be opened, a short write).
 */
int logger_sink_write(struct logger_sink *s, int64_t now_ms, const char *line, size_t len);

/** The path of the file for the UTC day of @now_ms: a new string (free()). */
char *logger_sink_path(const struct logger_sink *s, int64_t now_ms);

#endif
