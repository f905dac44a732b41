/* SPDX-License-Identifier: MIT */
/*
 * logger_run: the logger's loop. Joins the consumer group, and for each
 * delivery writes the record (logger_record) to the sink (logger_sink),
 * prints the human line on stdout, and acks; a record that cannot be
 * written is nacked, so the daemon retries it. Acks (and the stdout lines)
 * are held for up to ack_delay_ms and sent together, so that the daemon,
 * which commits once per batch it reads, is not interrupted three times
 * per image in the middle of the thumbnail consumer's requests.
 */
#ifndef BB_CONSUMERS_LOGGER_LOGGER_RUN_H
#define BB_CONSUMERS_LOGGER_LOGGER_RUN_H

#include <signal.h>

#define LOGGER_RUN_POLL_MS 50       /* loop slice: how soon a stop signal is seen */
#define LOGGER_RUN_ACK_DELAY_MS 20  /* default ack_delay_ms */
#define LOGGER_RUN_STOP_FLUSH_MS 20 /* at stop: time for the last acks to go out */

struct logger_run_conf {
    const char *ws_host; /* borrowed, as all the pointers here */
    int ws_port;
    int ws_tls;          /* wss:// */
    const char *ca_file; /* with ws_tls: the CA to check the daemon against; NULL: none
                            (a self-signed certificate is accepted: loopback only) */
    const char *token;   /* NULL or "" without auth */
    const char *group;
    int credit;
    int visibility_timeout_s;
    const char *log_dir; /* where processing-YYYY-MM-DD.jsonl go */
    int quiet;           /* no human lines on stdout */
    int ack_delay_ms;    /* 0: ack each record at once; else hold acks this long at most,
                            or until credit/2 are held */
};

/**
 * The WebSocket URL for the S3 endpoint @endpoint ("http://HOST:PORT",
 * "https://HOST:PORT", any path dropped): "ws://HOST:PORT" or, for https,
 * "wss://HOST:PORT", followed by BB_WSCLIENT_PATH. Returns a new string
 * (free()), or NULL when @endpoint is not http:// or https://.
 */
char *logger_run_ws_url(const char *endpoint);

/**
 * Runs until *@stop becomes non-zero (a signal handler sets it). Returns
 * 0, or BB_EINVAL / BB_EAGAIN when the client cannot be created.
 */
int logger_run(const struct logger_run_conf *rc, volatile sig_atomic_t *stop);

#endif
