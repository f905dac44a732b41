/* SPDX-License-Identifier: MIT */
/*
 * cli_args: a small table-driven parser rather than getopt_long, so that
 * global flags work on either side of the command, every flag is checked
 * against the command it is used with, and the unit tests can call it
 * repeatedly without resetting getopt's globals.
 */
#include "cli_args.h"
#include "bb_err.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DURATION_MS (30LL * 24 * 3600 * 1000)
#define MAX_COUNT 10000
#define MAX_LIMIT 1000

/* Bits naming the commands a flag applies to. */
#define ON(c) (1u << (c))
#define ON_ALL 0xffffffffu
#define ON_TIMEOUT                                                                                 \
    (ON(CLI_CMD_EVENTS_WAIT) | ON(CLI_CMD_EVENTS_PUT) | ON(CLI_CMD_EVENTS_SEQ) |                   \
     ON(CLI_CMD_DLQ_LIST) | ON(CLI_CMD_DLQ_SHOW) | ON(CLI_CMD_DLQ_REDRIVE) | ON(CLI_CMD_REPLAY) |  \
     ON(CLI_CMD_STATUS) | ON(CLI_CMD_RESET))

enum opt_id {
    OPT_ENDPOINT,
    OPT_TOKEN,
    OPT_CA,
    OPT_READY_FILE,
    OPT_HELP,
    OPT_VERBOSE,
    OPT_PATTERN,
    OPT_SINCE,
    OPT_FORMAT,
    OPT_COUNT,
    OPT_TIMEOUT,
    OPT_SOURCE,
    OPT_DETAIL_TYPE,
    OPT_DETAIL,
    OPT_BUS,
    OPT_ARN,
    OPT_LIMIT,
    OPT_ARCHIVE,
    OPT_NAME,
    OPT_FROM,
    OPT_TO,
    OPT_WAIT,
    OPT_COUNT_ALL,
};

struct opt {
    const char *name;
    char short_name;
    int has_arg;
    unsigned int cmds;
};

static const struct opt opts[OPT_COUNT_ALL] = {
    [OPT_ENDPOINT] = {"endpoint", 0, 1, ON_ALL},
    [OPT_TOKEN] = {"token", 0, 1, ON_ALL},
    [OPT_CA] = {"ca", 0, 1, ON_ALL},
    [OPT_READY_FILE] = {"ready-file", 0, 1, ON_ALL},
    [OPT_HELP] = {"help", 'h', 0, ON_ALL},
    [OPT_VERBOSE] = {"verbose", 'v', 0, ON_ALL},
    [OPT_PATTERN] = {"pattern", 0, 1, ON(CLI_CMD_EVENTS_TAIL) | ON(CLI_CMD_EVENTS_WAIT)},
    [OPT_SINCE] = {"since", 0, 1, ON(CLI_CMD_EVENTS_TAIL) | ON(CLI_CMD_EVENTS_WAIT)},
    [OPT_FORMAT] = {"format", 0, 1, ON(CLI_CMD_EVENTS_TAIL)},
    [OPT_COUNT] = {"count", 0, 1, ON(CLI_CMD_EVENTS_WAIT)},
    [OPT_TIMEOUT] = {"timeout", 0, 1, ON_TIMEOUT},
    [OPT_SOURCE] = {"source", 0, 1, ON(CLI_CMD_EVENTS_PUT)},
    [OPT_DETAIL_TYPE] = {"detail-type", 0, 1, ON(CLI_CMD_EVENTS_PUT)},
    [OPT_DETAIL] = {"detail", 0, 1, ON(CLI_CMD_EVENTS_PUT)},
    [OPT_BUS] = {"bus", 0, 1,
                 ON(CLI_CMD_EVENTS_TAIL) | ON(CLI_CMD_EVENTS_WAIT) | ON(CLI_CMD_EVENTS_PUT)},
    [OPT_ARN] = {"arn", 0, 1, ON(CLI_CMD_DLQ_SHOW) | ON(CLI_CMD_DLQ_REDRIVE)},
    [OPT_LIMIT] = {"limit", 0, 1, ON(CLI_CMD_DLQ_SHOW)},
    [OPT_ARCHIVE] = {"archive", 0, 1, ON(CLI_CMD_REPLAY)},
    [OPT_NAME] = {"name", 0, 1, ON(CLI_CMD_REPLAY)},
    [OPT_FROM] = {"from", 0, 1, ON(CLI_CMD_REPLAY)},
    [OPT_TO] = {"to", 0, 1, ON(CLI_CMD_REPLAY)},
    [OPT_WAIT] = {"wait", 0, 0, ON(CLI_CMD_REPLAY)},
};

struct word {
    const char *group; /* NULL: a top-level command */
    const char *name;
    enum cli_cmd cmd;
};

static const struct word words[] = {
    {NULL, "events", CLI_CMD_EVENTS},        {"events", "tail", CLI_CMD_EVENTS_TAIL},
    {"events", "wait", CLI_CMD_EVENTS_WAIT}, {"events", "put", CLI_CMD_EVENTS_PUT},
    {"events", "seq", CLI_CMD_EVENTS_SEQ},   {NULL, "dlq", CLI_CMD_DLQ},
    {"dlq", "list", CLI_CMD_DLQ_LIST},       {"dlq", "show", CLI_CMD_DLQ_SHOW},
    {"dlq", "redrive", CLI_CMD_DLQ_REDRIVE}, {NULL, "replay", CLI_CMD_REPLAY},
    {NULL, "status", CLI_CMD_STATUS},        {NULL, "reset", CLI_CMD_RESET},
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int cli_args_duration_ms(const char *s, int64_t *out_ms)
{
    const char *p = s;
    char num[32];
    size_t n;
    double v, scale;
    int dots = 0;

    while (isdigit((unsigned char)*p) || *p == '.') {
        dots += *p == '.';
        p++;
    }
    n = (size_t)(p - s);
    if (n == 0 || n >= sizeof(num) || dots > 1 || (n == 1 && dots == 1))
        return BB_EINVAL;
    memcpy(num, s, n);
    num[n] = '\0';
    if (*p == '\0' || strcmp(p, "s") == 0)
        scale = 1000.0;
    else if (strcmp(p, "ms") == 0)
        scale = 1.0;
    else if (strcmp(p, "m") == 0)
        scale = 60000.0;
    else if (strcmp(p, "h") == 0)
        scale = 3600000.0;
    else
        return BB_EINVAL;
    v = strtod(num, NULL) * scale;
    if (!(v >= 0.0) || v > (double)MAX_DURATION_MS)
        return BB_EINVAL;
    *out_ms = (int64_t)(v + 0.5);
    return BB_OK;
}

/* "YYYY-MM-DD[(T| )HH:MM:SS[.frac]][Z|+HH:MM|-HH:MM|+HHMM]" in epoch seconds. */
static int parse_rfc3339(const char *s, int64_t *out_s)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, off = 0;
    const char *p;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return BB_EINVAL;
    p = s + n;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
            return BB_EINVAL;
        p += 1 + n;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return BB_EINVAL;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            int sign = *p == '-' ? -1 : 1;
            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) {
                p += 1 + n;
            } else if (strlen(p) == 5 && all_digits(p + 1)) {
                oh = (p[1] - '0') * 10 + (p[2] - '0');
                om = (p[3] - '0') * 10 + (p[4] - '0');
                p += 5;
            } else {
                return BB_EINVAL;
            }
            if (oh > 23 || om > 59)
                return BB_EINVAL;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p != '\0')
        return BB_EINVAL;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return BB_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    /* timegm normalises 2026-02-31 into March: refuse what it had to move */
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
        return BB_EINVAL;
    *out_s = (int64_t)t - off;
    return *out_s < 0 ? BB_EINVAL : BB_OK;
}

int cli_args_time(const char *s, int64_t now_s, int64_t *out_s)
{
    int64_t ms;

    if (s == NULL || *s == '\0')
        return BB_EINVAL;
    if (all_digits(s)) {
        char *end = NULL;
        unsigned long long v;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || v > (unsigned long long)INT64_MAX / 1000)
            return BB_EINVAL;
        *out_s = (int64_t)v;
        return BB_OK;
    }
    if (strcmp(s, "now") == 0) {
        *out_s = now_s;
        return BB_OK;
    }
    if (strncmp(s, "now-", 4) == 0 || s[0] == '-') {
        if (cli_args_duration_ms(s + (s[0] == '-' ? 1 : 4), &ms) < 0)
            return BB_EINVAL;
        *out_s = now_s - ms / 1000;
        return *out_s < 0 ? BB_EINVAL : BB_OK;
    }
    return parse_rfc3339(s, out_s);
}

int cli_args_since(const char *s, int64_t now_s, char *out, size_t outlen)
{
    int64_t t;
    time_t tt;
    struct tm tm;

    if (s == NULL || outlen < CLI_SINCE_MAX)
        return BB_EINVAL;
    if (strcmp(s, "latest") == 0 || strcmp(s, "earliest") == 0) {
        snprintf(out, outlen, "%s", s);
        return BB_OK;
    }
    if (all_digits(s)) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0)
            return BB_EINVAL;
        snprintf(out, outlen, "%llu", v);
        return BB_OK;
    }
    if (cli_args_time(s, now_s, &t) < 0)
        return BB_EINVAL;
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return BB_EINVAL;
    return BB_OK;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return BB_EINVAL;
    *out = (int)v;
    return BB_OK;
}

/* Finds the flag @arg ("--name", "--name=value", "-h") names; *inline_val
 * points after '=' when there is one. */
static int find_opt(const char *arg, const char **inline_val)
{
    *inline_val = NULL;
    if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0') {
        for (int i = 0; i < OPT_COUNT_ALL; i++)
            if (opts[i].short_name == arg[1])
                return i;
        return -1;
    }
    if (strncmp(arg, "--", 2) != 0)
        return -1;
    arg += 2;
    for (int i = 0; i < OPT_COUNT_ALL; i++) {
        size_t n = strlen(opts[i].name);
        if (strncmp(arg, opts[i].name, n) != 0)
            continue;
        if (arg[n] == '\0')
            return i;
        if (arg[n] == '=' && opts[i].has_arg) {
            *inline_val = arg + n + 1;
            return i;
        }
    }
    return -1;
}

static enum cli_cmd find_cmd(const char *group, const char *name)
{
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        const struct word *w = &words[i];
        if (((group == NULL && w->group == NULL) ||
             (group != NULL && w->group != NULL && strcmp(group, w->group) == 0)) &&
            strcmp(name, w->name) == 0)
            return w->cmd;
    }
    return CLI_CMD_NONE;
}

static int set_value(struct cli_args *a, int id, const char *v, int64_t now_s, char *err,
                     size_t errlen)
{
    switch (id) {
    case OPT_ENDPOINT:
        a->endpoint = v;
        break;
    case OPT_TOKEN:
        a->token = v;
        break;
    case OPT_CA:
        a->ca_file = v;
        break;
    case OPT_READY_FILE:
        a->ready_file = v;
        break;
    case OPT_PATTERN:
        a->pattern = v;
        break;
    case OPT_SINCE:
        if (cli_args_since(v, now_s, a->since, sizeof(a->since)) < 0) {
            set_err(err, errlen,
                    "--since wants latest, earliest, a sequence number, a UTC time like "
                    "2026-11-26T08:00:00Z, or -DURATION like -5m");
            return BB_EINVAL;
        }
        break;
    case OPT_FORMAT:
        if (strcmp(v, "json") == 0) {
            a->format = CLI_FORMAT_JSON;
        } else if (strcmp(v, "pretty") == 0) {
            a->format = CLI_FORMAT_PRETTY;
        } else {
            set_err(err, errlen, "--format wants json or pretty");
            return BB_EINVAL;
        }
        break;
    case OPT_COUNT:
        if (parse_int(v, 1, MAX_COUNT, &a->count) < 0) {
            set_err(err, errlen, "--count wants 1..%d", MAX_COUNT);
            return BB_EINVAL;
        }
        break;
    case OPT_TIMEOUT:
        if (cli_args_duration_ms(v, &a->timeout_ms) < 0 || a->timeout_ms == 0) {
            set_err(err, errlen, "--timeout wants a duration like 10s, 500ms or 2m");
            return BB_EINVAL;
        }
        break;
    case OPT_SOURCE:
        a->source = v;
        break;
    case OPT_DETAIL_TYPE:
        a->detail_type = v;
        break;
    case OPT_DETAIL:
        a->detail = v;
        break;
    case OPT_BUS:
        if (v[0] == '\0' || strlen(v) > CLI_BUS_MAX) {
            set_err(err, errlen, "--bus wants an event bus name or ARN (1-%d bytes)", CLI_BUS_MAX);
            return BB_EINVAL;
        }
        a->bus = v;
        break;
    case OPT_ARN:
        a->arn = v;
        break;
    case OPT_LIMIT:
        if (parse_int(v, 1, MAX_LIMIT, &a->limit) < 0) {
            set_err(err, errlen, "--limit wants 1..%d", MAX_LIMIT);
            return BB_EINVAL;
        }
        break;
    case OPT_ARCHIVE:
        a->archive = v;
        break;
    case OPT_NAME:
        a->name = v;
        break;
    case OPT_FROM:
    case OPT_TO:
        if (cli_args_time(v, now_s, id == OPT_FROM ? &a->from_s : &a->to_s) < 0) {
            set_err(err, errlen,
                    "--%s wants a time: 2026-11-26T08:00:00Z, epoch seconds, now or -5m",
                    opts[id].name);
            return BB_EINVAL;
        }
        break;
    default:
        break;
    }
    return BB_OK;
}

/* What each command needs beyond its flags' own syntax. */
static int check_cmd(struct cli_args *a, const unsigned char *seen, char *err, size_t errlen)
{
    switch (a->cmd) {
    case CLI_CMD_EVENTS_WAIT:
        if (a->pattern == NULL) {
            set_err(err, errlen, "events wait needs --pattern JSON");
            return BB_EINVAL;
        }
        if (a->since[0] == '\0')
            snprintf(a->since, sizeof(a->since), "earliest");
        break;
    case CLI_CMD_EVENTS_TAIL:
        if (a->since[0] == '\0')
            snprintf(a->since, sizeof(a->since), "latest");
        break;
    case CLI_CMD_EVENTS_PUT:
        if (a->source == NULL || a->detail_type == NULL) {
            set_err(err, errlen, "events put needs --source and --detail-type");
            return BB_EINVAL;
        }
        if (a->detail == NULL)
            a->detail = "{}";
        break;
    case CLI_CMD_DLQ_SHOW:
    case CLI_CMD_DLQ_REDRIVE:
        if (a->arn == NULL || a->arn[0] == '\0') {
            set_err(err, errlen, "dlq %s needs --arn (the dead-letter queue ARN or name)",
                    a->cmd == CLI_CMD_DLQ_SHOW ? "show" : "redrive");
            return BB_EINVAL;
        }
        break;
    case CLI_CMD_REPLAY:
        if (a->archive == NULL || !seen[OPT_FROM] || !seen[OPT_TO]) {
            set_err(err, errlen, "replay needs --archive, --from and --to");
            return BB_EINVAL;
        }
        if (a->to_s <= a->from_s) {
            set_err(err, errlen, "replay: --from must be before --to");
            return BB_EINVAL;
        }
        break;
    case CLI_CMD_NONE:
    case CLI_CMD_EVENTS:
    case CLI_CMD_DLQ:
        set_err(err, errlen, "a command is needed (--help lists them)");
        return BB_EINVAL;
    default:
        break;
    }
    return BB_OK;
}

int cli_args_parse(int argc, char *const *argv, int64_t now_s, struct cli_args *out, char *err,
                   size_t errlen)
{
    unsigned char seen[OPT_COUNT_ALL];
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    int i;

    memset(out, 0, sizeof(*out));
    memset(seen, 0, sizeof(seen));
    out->count = 1;
    out->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
    out->limit = 100;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        int id;

        if (arg[0] != '-' || arg[1] == '\0') {
            if (npos == 2) {
                set_err(err, errlen, "unexpected argument \"%s\"", arg);
                return BB_EINVAL;
            }
            pos[npos++] = arg;
            continue;
        }
        id = find_opt(arg, &val);
        if (id < 0) {
            set_err(err, errlen, "unknown option %s", arg);
            return BB_EINVAL;
        }
        seen[id] = 1;
        if (id == OPT_HELP) {
            out->help = 1;
            continue;
        }
        if (id == OPT_VERBOSE) {
            out->verbose = 1;
            continue;
        }
        if (id == OPT_WAIT) {
            out->wait = 1;
            continue;
        }
        if (val == NULL) {
            if (i + 1 >= argc) {
                set_err(err, errlen, "--%s needs a value", opts[id].name);
                return BB_EINVAL;
            }
            val = argv[++i];
        }
        if (set_value(out, id, val, now_s, err, errlen) < 0)
            return BB_EINVAL;
    }

    if (npos > 0) {
        out->cmd = find_cmd(NULL, pos[0]);
        if (out->cmd == CLI_CMD_NONE) {
            set_err(err, errlen, "unknown command \"%s\" (--help lists them)", pos[0]);
            return BB_EINVAL;
        }
        if (npos == 2) {
            enum cli_cmd sub = find_cmd(pos[0], pos[1]);
            if (sub == CLI_CMD_NONE) {
                set_err(err, errlen, "unknown command \"%s %s\" (%s --help lists them)", pos[0],
                        pos[1], pos[0]);
                return BB_EINVAL;
            }
            out->cmd = sub;
        }
    }
    if (out->help)
        return BB_OK;
    for (i = 0; i < OPT_COUNT_ALL; i++) {
        if (seen[i] && (opts[i].cmds & ON(out->cmd)) == 0) {
            set_err(err, errlen, "--%s does not apply to this command", opts[i].name);
            return BB_EINVAL;
        }
    }
    return check_cmd(out, seen, err, errlen);
}

#define GLOBAL_HELP                                                                                \
    "Global options (before or after the command):\n"                                              \
    "  --endpoint URL     http://HOST:PORT of the daemon ($BUCKETBRIDGE_ENDPOINT,\n"               \
    "                     default " CLI_DEFAULT_ENDPOINT "), or https://HOST:PORT for its\n"       \
    "                     TLS port (then events tail/wait/put use wss://)\n"                       \
    "  --ca FILE          with https: check the daemon's certificate against FILE\n"               \
    "                     (its <data>/.bucketbridge/tls/cert.pem, tls_cert in the ready\n"         \
    "                     file); without it any self-signed certificate is accepted,\n"            \
    "                     on a loopback host only (localhost, 127.x.x.x, ::1)\n"                   \
    "  --token T          admin/WebSocket token ($BUCKETBRIDGE_TOKEN, default \"test\")\n"         \
    "  --ready-file PATH  take endpoint, token and credentials from the daemon's\n"                \
    "                     --ready-file ($BUCKETBRIDGE_READY_FILE); waits up to 30 s for it\n"      \
    "  -v, --verbose      debug logging on stderr\n"                                               \
    "  -h, --help         help (of a command: bucketbridge-cli events wait --help)\n"

static const char usage_overview[] =
    "usage: bucketbridge-cli [global options] COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  events tail   follow the event bus like tail -f\n"
    "  events wait   wait until N events match a pattern (instead of sleep in tests)\n"
    "  events put    publish one event\n"
    "  events seq    print the newest sequence number\n"
    "  dlq list      dead-letter queues and their depths\n"
    "  dlq show      the messages of one dead-letter queue\n"
    "  dlq redrive   move a dead-letter queue's messages back to their targets\n"
    "  replay        replay an archive (EventBridge StartReplay)\n"
    "  status        health, groups, queue depths, consumers\n"
    "  reset         empty buckets, journal, queues, DLQs, archives (for tests)\n"
    "\n" GLOBAL_HELP "\n"
    "Exit codes: 0 ok, 1 timed out / not found / refused, 2 usage, 3 daemon unreachable.\n"
    "Output is JSON (one object per line) unless a command says otherwise.\n";

static const char usage_events[] = "usage: bucketbridge-cli events tail|wait|put|seq [options]\n"
                                   "  (bucketbridge-cli events COMMAND --help for each)\n";

static const char usage_tail[] =
    "usage: bucketbridge-cli events tail [--pattern JSON] [--since POS] [--format json|pretty]\n"
    "                                    [--bus NAME]\n"
    "Follows the bus like tail -f, one event per line, until Ctrl-C (exit 0).\n"
    "  --pattern JSON   EventBridge event pattern (default: every event)\n"
    "  --since POS      latest (default), earliest, a sequence number (start after it),\n"
    "                   a UTC time 2026-11-26T08:00:00Z, or -DURATION (-5m)\n"
    "  --format F       json: the event object per line (default); pretty: readable\n"
    "  --bus NAME       the event bus to follow, a name or an ARN (default: the\n"
    "                   default bus); one that does not exist exits 1\n"
    "\n" GLOBAL_HELP;

static const char usage_wait[] =
    "usage: bucketbridge-cli events wait --pattern JSON [--count N] [--timeout 10s]\n"
    "                                    [--since earliest|latest|SEQ|TIME] [--bus NAME]\n"
    "Exits 0 as soon as N events matching the pattern were seen, printing them as\n"
    "JSON Lines; exits 1 after the timeout, saying on stderr what was seen instead.\n"
    "  --pattern JSON   EventBridge event pattern (required)\n"
    "  --count N        how many matching events (default 1)\n"
    "  --timeout D      10s (default), 500ms, 2m\n"
    "  --since POS      earliest (default): every event in the journal, which after a\n"
    "                   reset is exactly this test's events; SEQ: after that sequence\n"
    "                   number (from `events seq` or `reset` before the action);\n"
    "                   latest: only events from now on (races with an action done\n"
    "                   just before); a time or -DURATION\n"
    "  --bus NAME       wait on this event bus, a name or an ARN (default: the\n"
    "                   default bus); one that does not exist exits 1 at once\n"
    "\n" GLOBAL_HELP;

static const char usage_put[] =
    "usage: bucketbridge-cli events put --source S --detail-type T [--detail JSON]\n"
    "                                   [--bus NAME]\n"
    "Publishes one event (like PutEvents) and prints {\"EventId\": ...}.\n"
    "  --source S        the event's source (not aws.*)\n"
    "  --detail-type T   its detail-type\n"
    "  --detail JSON     its detail, a JSON object (default {})\n"
    "  --bus NAME        the event bus, a name or an ARN (default: the default bus;\n"
    "                   as PutEvents, an event for a bus that does not exist gets\n"
    "                   an EventId and is dropped)\n"
    "  --timeout D       how long to try (default 10s)\n"
    "\n" GLOBAL_HELP;

static const char usage_seq[] = "usage: bucketbridge-cli events seq\n"
                                "Prints the newest sequence number: pass it to\n"
                                "`events wait --since` to wait only for what comes after.\n"
                                "\n" GLOBAL_HELP;

static const char usage_dlq[] =
    "usage: bucketbridge-cli dlq list|show|redrive [options]\n"
    "  dlq list                      [{\"arn\": ..., \"depth\": N}, ...]\n"
    "  dlq show --arn ARN [--limit N]  the dead letters (GET /_bucketbridge/dlq)\n"
    "  dlq redrive --arn ARN         requeue them (POST /_bucketbridge/dlq/redrive)\n"
    "ARN may be a queue name (thumbnail-dlq): it becomes arn:aws:sqs:REGION:ACCOUNT:NAME.\n"
    "\n" GLOBAL_HELP;

static const char usage_replay[] =
    "usage: bucketbridge-cli replay --archive NAME --from TIME --to TIME [--name N] [--wait]\n"
    "Replays the archive's events from [FROM, TO) onto the default bus (EventBridge\n"
    "StartReplay, SigV4-signed with the ready file's or AWS_* credentials).\n"
    "  --from, --to  2026-11-26T08:00:00Z, epoch seconds, now, or -DURATION (-10m)\n"
    "  --name N      the replay's name (default cli-EPOCH-PID)\n"
    "  --wait        wait (up to --timeout, default 10s) until the replay completed\n"
    "\n" GLOBAL_HELP;

static const char usage_status[] =
    "usage: bucketbridge-cli status\n"
    "Prints one JSON object: last_seq, groups (depth, in_flight, members, ...),\n"
    "dead_letter_queues (over the WebSocket) and health (GET /_bucketbridge/health,\n"
    "with consumers and queue_depths). Exit 1 when the daemon is not healthy.\n"
    "\n" GLOBAL_HELP;

static const char usage_reset[] =
    "usage: bucketbridge-cli reset\n"
    "Empties the buckets back to the configured ones and clears the journal,\n"
    "queues, DLQs, archives and API-created rules (POST /_bucketbridge/reset).\n"
    "Prints {\"reset\": true, \"last_sequence\": N, ...}; sequence numbers keep\n"
    "growing, so N works as --since for `events wait`.\n"
    "\n" GLOBAL_HELP;

const char *cli_args_usage(enum cli_cmd cmd)
{
    switch (cmd) {
    case CLI_CMD_EVENTS:
        return usage_events;
    case CLI_CMD_EVENTS_TAIL:
        return usage_tail;
    case CLI_CMD_EVENTS_WAIT:
        return usage_wait;
    case CLI_CMD_EVENTS_PUT:
        return usage_put;
    case CLI_CMD_EVENTS_SEQ:
        return usage_seq;
    case CLI_CMD_DLQ:
    case CLI_CMD_DLQ_LIST:
    case CLI_CMD_DLQ_SHOW:
    case CLI_CMD_DLQ_REDRIVE:
        return usage_dlq;
    case CLI_CMD_REPLAY:
        return usage_replay;
    case CLI_CMD_STATUS:
        return usage_status;
    case CLI_CMD_RESET:
        return usage_reset;
    default:
        return usage_overview;
    }
}
