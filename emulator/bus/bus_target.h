/* SPDX-License-Identifier: MIT */
/*
 * bus_target: runs one delivery attempt to a push target and reports the
 * outcome once: a webhook (HTTP POST of the payload through an lws client
 * connection; 2xx acks, 429/5xx/timeouts retry, other statuses fail for
 * good) or a command (the configured program run with the payload on
 * stdin; exit 0 acks, anything else retries). Loop thread only.
 */
#ifndef BB_EMULATOR_BUS_BUS_TARGET_H
#define BB_EMULATOR_BUS_BUS_TARGET_H

#include <stddef.h>
#include <stdint.h>

struct bus;
struct bus_target;
struct bus_runner;
struct lws_context;

#define BUS_TARGET_HTTP_TIMEOUT_S 5

/** Outcome of one attempt. code: NULL on success, else an AWS ERROR_CODE. */
struct bus_attempt_result {
    int ok;
    const char *code;
    char message[256];
    int retryable;
    int64_t retry_after_ms; /* -1: none */
};

typedef void bus_attempt_cb(void *arg, int64_t delivery_id, const struct bus_attempt_result *res);

/** Returns a new runner on @lws; free with bus_runner_free (pending
 * attempts are abandoned: their rows stay INFLIGHT until the next start). */
struct bus_runner *bus_runner_new(struct bus *b, struct lws_context *lws, bus_attempt_cb *cb,
                                  void *arg);
void bus_runner_free(struct bus_runner *rn);

/**
 * Starts an attempt to deliver @payload (copied) to @t. The callback is
 * called exactly once, later, with the outcome (also when the attempt
 * cannot start: NO_RESOURCE for an unknown function, a webhook name with no
 * URL configured, or an unknown target kind). Returns 0.
 */
int bus_runner_start(struct bus_runner *rn, int64_t delivery_id, const struct bus_target *t,
                     const char *payload, size_t len);

/** Attempts in progress. */
int bus_runner_active(const struct bus_runner *rn);

#endif
