/* SPDX-License-Identifier: MIT */
/*
 * thumb_worker: the consumer's running half. Each of wc->workers threads
 * is a group member on its own WebSocket client (credit 1) with its own S3
 * session (kept-alive connections): it runs thumb_handle() on what its
 * socket delivers and queues the publish and the ack/nack itself. The
 * calling thread starts them and waits; they share only the read-only
 * configuration and the stop flag.
 */
#ifndef BB_CONSUMERS_THUMBNAIL_THUMB_WORKER_H
#define BB_CONSUMERS_THUMBNAIL_THUMB_WORKER_H

#include <signal.h>

struct thumb_config;
struct thumb_s3;

#define THUMB_WORKER_MAX 64
#define THUMB_WORKER_POLL_MS 50 /* loop slice: how soon a stop signal is seen */

struct thumb_worker_conf {
    const char *ws_host; /* borrowed, as all the pointers here */
    int ws_port;
    const char *token; /* NULL or "" without auth */
    const char *group;
    int workers; /* 1..THUMB_WORKER_MAX members, credit 1 each */
    int visibility_timeout_s;
    const struct thumb_config *cfg;
    struct thumb_s3 *s3;
};

/**
 * Runs until *@stop becomes non-zero (a signal handler sets it; each
 * thread sees it within THUMB_WORKER_POLL_MS when idle), then lets each
 * thread finish the delivery it is working on, write its event and ack,
 * and close. Deliveries not acked are redelivered by the daemon. Returns
 * 0, or BB_EINVAL / BB_EAGAIN when a client cannot be created.
 */
int thumb_worker_run(const struct thumb_worker_conf *wc, volatile sig_atomic_t *stop);

#endif
