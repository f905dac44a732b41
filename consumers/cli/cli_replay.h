/* SPDX-License-Identifier: MIT */
/*
 * cli_replay: `replay`, EventBridge StartReplay (and DescribeReplay for
 * --wait) through the daemon's JSON 1.1 API, SigV4-signed with the
 * emulator's pure signer (emulator/s3/s3_sigv4.h).
 */
#ifndef BB_CONSUMERS_CLI_CLI_REPLAY_H
#define BB_CONSUMERS_CLI_CLI_REPLAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct cli_args;
struct cli_conf;

/** Starts the replay (and with a->wait, waits for it); a CLI_EXIT_* code. */
int cli_replay_run(const struct cli_args *a, const struct cli_conf *c, volatile sig_atomic_t *stop);

/**
 * The Authorization header value for a POST / to the events API with the
 * headers host @hosthdr, x-amz-date @amz_date (yyyymmddThhmmssZ) and
 * x-amz-target @target, content type application/x-amz-json-1.1 and
 * @body. New string, or NULL when signing failed.
 */
char *cli_replay_authorization(const struct cli_conf *c, const char *hosthdr, const char *amz_date,
                               const char *target, const char *body, size_t body_len);

#endif
