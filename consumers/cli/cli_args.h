/* SPDX-License-Identifier: MIT */
/*
 * cli_args: the command line of bucketbridge-cli, parsed into one struct,
 * plus the pure parsers it needs (durations, times, start positions) and
 * the help texts. No I/O: the clock comes in as an argument, so the unit
 * tests (tests/unit/consumers/cli/test_cli_args.c) pin it.
 */
#ifndef BB_CONSUMERS_CLI_CLI_ARGS_H
#define BB_CONSUMERS_CLI_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes, the same for every command (docs/testing.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* timed out, not found, refused by the daemon */
#define CLI_EXIT_USAGE 2 /* bad command line */
#define CLI_EXIT_ERROR 3 /* the daemon could not be reached (or wrong token) */

#define CLI_DEFAULT_ENDPOINT "http://127.0.0.1:4566"
#define CLI_DEFAULT_TOKEN "test"
#define CLI_DEFAULT_TIMEOUT_MS 10000
#define CLI_SINCE_MAX 32 /* "2026-11-26T08:00:00Z" and sequence numbers fit */
#define CLI_BUS_MAX 1600 /* --bus: an event bus name or ARN (BB_WSCLIENT_BUS_MAX) */

enum cli_cmd {
    CLI_CMD_NONE = 0, /* no command: the overview help */
    CLI_CMD_EVENTS,   /* "events" alone: its help */
    CLI_CMD_EVENTS_TAIL,
    CLI_CMD_EVENTS_WAIT,
    CLI_CMD_EVENTS_PUT,
    CLI_CMD_EVENTS_SEQ,
    CLI_CMD_DLQ, /* "dlq" alone: its help */
    CLI_CMD_DLQ_LIST,
    CLI_CMD_DLQ_SHOW,
    CLI_CMD_DLQ_REDRIVE,
    CLI_CMD_REPLAY,
    CLI_CMD_STATUS,
    CLI_CMD_RESET,
};

enum cli_format {
    CLI_FORMAT_JSON = 0, /* one JSON object per line */
    CLI_FORMAT_PRETTY,   /* readable lines */
};

/**
 * A parsed command line. Strings borrow from argv, except @since, which is
 * normalised into the struct ("latest", "earliest", digits, or a UTC time
 * "YYYY-MM-DDTHH:MM:SSZ").
 */
struct cli_args {
    enum cli_cmd cmd;
    int help;
    int verbose;
    /* global: NULL when not given on the command line */
    const char *endpoint;
    const char *token;
    const char *ca_file; /* --ca: the CA for https/wss */
    const char *ready_file;
    /* events */
    const char *pattern;
    char since[CLI_SINCE_MAX]; /* "" when not given */
    enum cli_format format;
    int count;
    int64_t timeout_ms;
    const char *source;
    const char *detail_type;
    const char *detail;
    const char *bus; /* NULL: the default bus */
    /* dlq */
    const char *arn;
    int limit;
    /* replay */
    const char *archive;
    const char *name;
    int64_t from_s;
    int64_t to_s;
    int wait;
};

/**
 * Parses @argv (argv[0] is the program) into @out, with @now_s (epoch
 * seconds) for relative times. Global flags may come before or after the
 * command. Returns 0, or BB_EINVAL with a one-line reason in @err.
 */
int cli_args_parse(int argc, char *const *argv, int64_t now_s, struct cli_args *out, char *err,
                   size_t errlen);

/**
 * A duration: a number with an optional unit ms, s, m or h ("10s",
 * "1.5m", "250ms"); a bare number means seconds. Returns 0 with *out_ms,
 * or BB_EINVAL (also for negative values and more than 30 days).
 */
int cli_args_duration_ms(const char *s, int64_t *out_ms);

/**
 * A point in time, in epoch seconds: RFC 3339 ("2026-11-26T08:00:00Z",
 * fractions dropped, "+02:00" offsets applied, a space for the 'T'),
 * epoch seconds (digits), "now", or a duration back from now ("-5m",
 * "now-5m"). Returns 0 with *out_s, or BB_EINVAL.
 */
int cli_args_time(const char *s, int64_t now_s, int64_t *out_s);

/**
 * A start position for --since: "latest", "earliest", a sequence number
 * (digits: start after it), or any time cli_args_time() takes except bare
 * digits, written into @out (CLI_SINCE_MAX bytes) in the daemon's form.
 * Returns 0 or BB_EINVAL.
 */
int cli_args_since(const char *s, int64_t now_s, char *out, size_t outlen);

/** The help text of @cmd (CLI_CMD_NONE: the overview). Static string. */
const char *cli_args_usage(enum cli_cmd cmd);

#endif
