/* SPDX-License-Identifier: MIT */
/*
 * logger_run: the logger's loop. Joins the consumer group, and for each
 * delivery writes the record (logger_record) to the sink (logger_sink),
 * prints the human line on stdout, and acks; a record that cannot be
 * written is nacked, so the daemon retries it.
 */
#ifndef BB_CONSUMERS_LOGGER_LOGGER_RUN_H
#define BB_CONSUMERS_LOGGER_LOGGER_RUN_H

#include <signal.h>

#define LOGGER_RUN_POLL_MS 200

struct logger_run_conf {
    const char *ws_host; /* borrowed, as all the pointers here */
    int ws_port;
    const char *token; /* NULL or "" without auth */
    const char *group;
    int credit;
    int visibility_timeout_s;
    const char *log_dir; /* where processing-YYYY-MM-DD.jsonl go */
    int quiet;           /* no human lines on stdout */
};

/**
 * Runs until *@stop becomes non-zero (a signal handler sets it). Returns
 * 0, or BB_EINVAL / BB_EAGAIN when the client cannot be created.
 */
int logger_run(const struct logger_run_conf *rc, volatile sig_atomic_t *stop);

#endif
