/* SPDX-License-Identifier: MIT */
/*
 * cli_admin: the commands on the daemon's /_bucketbridge/ HTTP endpoints
 * (emulator/admin.c), plus the WebSocket status where they need it:
 * status, reset, dlq list|show|redrive. Each returns a CLI_EXIT_* code.
 */
#ifndef BB_CONSUMERS_CLI_CLI_ADMIN_H
#define BB_CONSUMERS_CLI_CLI_ADMIN_H

#include <signal.h>

struct cli_args;
struct cli_conf;

int cli_admin_status(const struct cli_args *a, const struct cli_conf *c,
                     volatile sig_atomic_t *stop);
int cli_admin_reset(const struct cli_args *a, const struct cli_conf *c);
int cli_admin_dlq_list(const struct cli_args *a, const struct cli_conf *c,
                       volatile sig_atomic_t *stop);
int cli_admin_dlq_show(const struct cli_args *a, const struct cli_conf *c);
int cli_admin_dlq_redrive(const struct cli_args *a, const struct cli_conf *c);

/**
 * The queue ARN for @arn: itself when it holds a ':', else
 * "arn:aws:sqs:<region>:<account>:<arn>" (a bare queue name). New string.
 */
char *cli_admin_queue_arn(const struct cli_conf *c, const char *arn);

#endif
