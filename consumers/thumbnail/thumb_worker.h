/* SPDX-License-Identifier: MIT */
/*
 * thumb_worker: the consumer's running half. The calling thread owns the
 * WebSocket client (joined to the group with credit = number of workers);
 * each delivery becomes a job for a pool of worker threads that run
 * thumb_handle(), each through its own S3 session (kept-alive connections); their outcomes come
 * back over a bb_queue and are turned into publish + ack/nack on the calling thread, the only one
 * that touches the client.
 */
#ifndef BB_CONSUMERS_THUMBNAIL_THUMB_WORKER_H
#define BB_CONSUMERS_THUMBNAIL_THUMB_WORKER_H

#include <signal.h>

struct thumb_config;
struct thumb_s3;

#define THUMB_WORKER_MAX 64
#define THUMB_WORKER_POLL_MS 50    /* loop slice: how soon a stop signal is seen */
#define THUMB_WORKER_DRAIN_MS 4000 /* at stop: time given to jobs in progress */

struct thumb_worker_conf {
    const char *ws_host; /* borrowed, as all the pointers here */
    int ws_port;
    const char *token; /* NULL or "" without auth */
    const char *group;
    int workers; /* 1..THUMB_WORKER_MAX; also the credit */
    int visibility_timeout_s;
    const struct thumb_config *cfg;
    struct thumb_s3 *s3;
};

/**
 * Runs until *@stop becomes non-zero (a signal handler sets it), then
 * lets jobs in progress finish for up to THUMB_WORKER_DRAIN_MS, sends
 * their acks and closes. Deliveries not acked by then are redelivered by
 * the daemon. Returns 0, or BB_EINVAL / BB_EAGAIN when the client cannot
 * be created.
 */
int thumb_worker_run(const struct thumb_worker_conf *wc, volatile sig_atomic_t *stop);

#endif
