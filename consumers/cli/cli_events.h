/* SPDX-License-Identifier: MIT */
/*
 * cli_events: the commands that talk to the daemon over its WebSocket
 * (docs/websocket.md) through bb_wsclient: events tail|wait|put|seq, and
 * the "status" message the admin commands show. Each command returns a
 * CLI_EXIT_* code and has said why on stderr when it is not 0.
 */
#ifndef BB_CONSUMERS_CLI_CLI_EVENTS_H
#define BB_CONSUMERS_CLI_CLI_EVENTS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct cli_args;
struct cli_conf;

/** Follows the bus until *@stop (exit 0) or a refused subscription. */
int cli_events_tail(const struct cli_args *a, const struct cli_conf *c,
                    volatile sig_atomic_t *stop);

/** Waits for a->count events matching a->pattern, printing them. */
int cli_events_wait(const struct cli_args *a, const struct cli_conf *c,
                    volatile sig_atomic_t *stop);

/** Publishes one event and prints its {"EventId": ...}. */
int cli_events_put(const struct cli_args *a, const struct cli_conf *c, volatile sig_atomic_t *stop);

/** Prints the newest sequence number. */
int cli_events_seq(const struct cli_args *a, const struct cli_conf *c, volatile sig_atomic_t *stop);

/**
 * One "status" message within @timeout_ms: 0 and *out (without its
 * "type"; free with cJSON_Delete), or a CLI_EXIT_* code with the reason in
 * @err.
 */
int cli_events_status(const struct cli_conf *c, int64_t timeout_ms, volatile sig_atomic_t *stop,
                      struct cJSON **out, char *err, size_t errlen);

/**
 * 1 when @why, a wss connection failure reported by bb_wsclient, says the
 * daemon's certificate did not verify (against --ca): final, since a retry
 * meets the same certificate. 0 for anything else (refused, reset, ...).
 */
int cli_events_tls_refused(const char *why);

#endif
