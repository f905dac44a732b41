/* SPDX-License-Identifier: MIT */
/* bucketbridge-cli: argv, signals and dispatch; the commands live in cli_*.c. */
#include "bb_err.h"
#include "bb_log.h"
#include "bb_wsclient.h"
#include "cli_admin.h"
#include "cli_args.h"
#include "cli_conf.h"
#include "cli_events.h"
#include "cli_replay.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int dispatch(const struct cli_args *a, const struct cli_conf *c)
{
    switch (a->cmd) {
    case CLI_CMD_EVENTS_TAIL:
        return cli_events_tail(a, c, &g_stop);
    case CLI_CMD_EVENTS_WAIT:
        return cli_events_wait(a, c, &g_stop);
    case CLI_CMD_EVENTS_PUT:
        return cli_events_put(a, c, &g_stop);
    case CLI_CMD_EVENTS_SEQ:
        return cli_events_seq(a, c, &g_stop);
    case CLI_CMD_DLQ_LIST:
        return cli_admin_dlq_list(a, c, &g_stop);
    case CLI_CMD_DLQ_SHOW:
        return cli_admin_dlq_show(a, c);
    case CLI_CMD_DLQ_REDRIVE:
        return cli_admin_dlq_redrive(a, c);
    case CLI_CMD_REPLAY:
        return cli_replay_run(a, c, &g_stop);
    case CLI_CMD_STATUS:
        return cli_admin_status(a, c, &g_stop);
    case CLI_CMD_RESET:
        return cli_admin_reset(a, c);
    default:
        fputs(cli_args_usage(CLI_CMD_NONE), stderr);
        return CLI_EXIT_USAGE;
    }
}

int main(int argc, char **argv)
{
    struct cli_args a;
    struct cli_conf c;
    struct sigaction sa;
    char err[512];
    int rc;

    if (cli_args_parse(argc, argv, (int64_t)time(NULL), &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "bucketbridge-cli: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (a.help) {
        fputs(cli_args_usage(a.cmd), stdout);
        return CLI_EXIT_OK;
    }
    bb_log_set_level(a.verbose ? BB_LOG_LEVEL_DEBUG : BB_LOG_LEVEL_ERROR);
    if (getenv("BB_LOG_LEVEL") != NULL && !a.verbose)
        bb_log_set_level_name(getenv("BB_LOG_LEVEL"));
    bb_wsclient_log_lws(a.verbose);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    rc = cli_conf_resolve(&c, &a, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "bucketbridge-cli: %s\n", err);
        cli_conf_cleanup(&c);
        return rc == BB_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
    }
    rc = dispatch(&a, &c);
    cli_conf_cleanup(&c);
    return rc;
}
