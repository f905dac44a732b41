/* SPDX-License-Identifier: MIT */
/*
 * cli_events: one bb_wsclient per command, serviced in slices until the
 * command is done, its deadline passes or a signal arrives. bb_wsclient
 * reconnects by itself (and resumes subscriptions without repeats), so a
 * daemon that is still starting only costs time; a command that never
 * got a connection says so and exits CLI_EXIT_ERROR.
 *
 * `events wait` keeps a second subscription without a pattern from the
 * same start position (and on the same bus), only to count what went by:
 * on a timeout, "seen 3 events: 2 x Object Created (aws.s3), ..." is what
 * tells a test author that the pattern, not the pipeline, is wrong.
 *
 * The daemon's "error" answering one of our own subscriptions or publishes
 * (an unknown --bus, a pattern it cannot compile) is final: it is printed
 * and the command exits, rather than reconnecting into the same refusal.
 */
#include "cli_events.h"
#include "cli_args.h"
#include "cli_conf.h"
#include "cli_http.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"
#include "tail.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLICE_MS 100
#define SUB_MATCH "match"
#define SUB_ALL "all"
#define PUT_REF "cli-put"
#define KINDS_MAX 16
#define WHY_MAX 200

struct kind {
    char *source;
    char *detail_type;
    unsigned long n;
};

struct session {
    const struct cli_args *a;
    const struct cli_conf *cf;
    struct bb_wsclient *c;
    const char *what; /* the command, for messages */
    int connected;    /* ever */
    int heard;        /* any answer from the daemon, ever */
    int done;
    int rc;            /* exit code once done */
    char why[WHY_MAX]; /* the last disconnect reason */
    /* wait */
    int matched;
    unsigned long seen;
    unsigned long seen_other; /* beyond KINDS_MAX kinds */
    struct kind kinds[KINDS_MAX];
    size_t nkinds;
    /* put, status */
    cJSON *answer;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void finish(struct session *s, int rc)
{
    if (s->done)
        return;
    s->done = 1;
    s->rc = rc;
    bb_wsclient_stop(s->c);
}

/* Writes @line to stdout now; a closed pipe (| head) ends the command. */
static int emit_line(struct session *s, const struct bb_wsclient_msg *m, enum tail_format f)
{
    char *line = tail_format_line(m, f);
    int ok;
    if (line == NULL)
        return 0;
    ok = fputs(line, stdout) != EOF && fflush(stdout) != EOF;
    free(line);
    if (!ok)
        finish(s, CLI_EXIT_OK);
    return ok;
}

static void count_kind(struct session *s, const cJSON *ev)
{
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "source"));
    const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "detail-type"));
    size_t i;

    s->seen++;
    src = src ? src : "?";
    dt = dt ? dt : "?";
    for (i = 0; i < s->nkinds; i++) {
        if (strcmp(s->kinds[i].source, src) == 0 && strcmp(s->kinds[i].detail_type, dt) == 0) {
            s->kinds[i].n++;
            return;
        }
    }
    if (s->nkinds == KINDS_MAX) {
        s->seen_other++;
        return;
    }
    s->kinds[s->nkinds].source = bb_xstrdup(src);
    s->kinds[s->nkinds].detail_type = bb_xstrdup(dt);
    s->kinds[s->nkinds].n = 1;
    s->nkinds++;
}

/* The exit code when the daemon refuses our own request: a bus that does
 * not exist is "not found" (1, as a missing DLQ); anything else, such as a
 * pattern it cannot compile, is a usage error (2). The message is the one
 * docs/websocket.md lists under errors. */
static int refusal_rc(const char *message)
{
    static const char pre[] = "event bus ", post[] = " does not exist";
    size_t n = message ? strlen(message) : 0;

    if (n > strlen(pre) + strlen(post) && strncmp(message, pre, strlen(pre)) == 0 &&
        strcmp(message + n - strlen(post), post) == 0)
        return CLI_EXIT_FAIL;
    return CLI_EXIT_USAGE;
}

int cli_events_tls_refused(const char *why)
{
    static const char *const marks[] = {"certificate", "verify", "issuer", "SSL err"};
    if (why == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (strstr(why, marks[i]) != NULL)
            return 1;
    return 0;
}

/* Messages every command treats alike; returns 1 when @m was one. */
static int common_msg(struct session *s, const struct bb_wsclient_msg *m)
{
    if (m->type != BB_WSCLIENT_MSG_CONNECTED && m->type != BB_WSCLIENT_MSG_DISCONNECTED)
        s->heard = 1;
    switch (m->type) {
    case BB_WSCLIENT_MSG_CONNECTED:
        s->connected = 1;
        return 1;
    case BB_WSCLIENT_MSG_DISCONNECTED:
        snprintf(s->why, sizeof(s->why), "%s", m->message ? m->message : "connection closed");
        if (s->cf->tls && !s->connected && cli_events_tls_refused(s->why)) {
            /* a certificate that does not verify will not on a retry either */
            fprintf(stderr,
                    "bucketbridge-cli: %s: no TLS connection to wss://%s:%d (%s); is --ca %s the "
                    "daemon's tls_cert, and this its https port?\n",
                    s->what, s->cf->host, s->cf->port, s->why,
                    s->cf->ca_file ? s->cf->ca_file : "-");
            finish(s, CLI_EXIT_ERROR);
        }
        return 1;
    case BB_WSCLIENT_MSG_ERROR:
        if (m->ref == NULL || (strcmp(m->ref, SUB_MATCH) != 0 && strcmp(m->ref, SUB_ALL) != 0 &&
                               strcmp(m->ref, PUT_REF) != 0)) {
            BB_LOG_WARN("cli", "error from the daemon", "message=\"%s\"", m->message);
            return 1;
        }
        /* the answer to our own request: final */
        fprintf(stderr, "bucketbridge-cli: %s: the daemon refused: %s\n", s->what, m->message);
        finish(s, refusal_rc(m->message));
        return 1;
    default:
        return 0;
    }
}

static void on_tail(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct session *s = arg;
    if (common_msg(s, m))
        return;
    if (m->type == BB_WSCLIENT_MSG_EVENT)
        emit_line(s, m, s->a->format == CLI_FORMAT_PRETTY ? TAIL_FORMAT_PRETTY : TAIL_FORMAT_JSON);
}

static void on_wait(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct session *s = arg;
    if (common_msg(s, m) || m->type != BB_WSCLIENT_MSG_EVENT || s->done)
        return;
    if (strcmp(m->sub, SUB_ALL) == 0) {
        count_kind(s, m->event);
        return;
    }
    if (!emit_line(s, m, TAIL_FORMAT_JSON))
        return;
    s->matched++;
    if (s->matched >= s->a->count)
        finish(s, CLI_EXIT_OK);
}

static void on_put(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct session *s = arg;
    if (common_msg(s, m))
        return;
    if (m->type == BB_WSCLIENT_MSG_PUBLISHED && m->ref != NULL && strcmp(m->ref, PUT_REF) == 0) {
        const cJSON *e =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m->json, "entries"), 0);
        s->answer = cJSON_Duplicate(e, 1);
        finish(s, CLI_EXIT_OK);
    }
}

static void on_status(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct session *s = arg;
    if (m->type == BB_WSCLIENT_MSG_CONNECTED)
        bb_wsclient_request_status(c);
    if (common_msg(s, m))
        return;
    if (m->type == BB_WSCLIENT_MSG_STATUS && s->answer == NULL) {
        s->answer = cJSON_Duplicate(m->json, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(s->answer, "type");
        finish(s, CLI_EXIT_OK);
    }
}

static int open_session(struct session *s, const struct cli_args *a, const struct cli_conf *cf,
                        const char *what, bb_wsclient_msg_cb *cb)
{
    int rc;
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->cf = cf;
    s->what = what;
    if (cf->tls && cf->ca_file != NULL) {
        /* a certificate that does not verify is final, and lws only says
         * "SSL err" on each retry: check it once here, with the reason */
        struct cli_http_peer peer = {
            .host = cf->host, .port = cf->port, .tls = 1, .ca_file = cf->ca_file};
        rc = cli_http_tls_check(&peer, a != NULL && a->timeout_ms > 0 ? a->timeout_ms : 10000);
        if (rc == -EPROTO) {
            fprintf(stderr, "bucketbridge-cli: %s: cannot reach the daemon at wss://%s:%d: %s\n",
                    what, cf->host, cf->port, peer.why);
            return CLI_EXIT_ERROR;
        }
        /* anything else (not up yet, ...): bb_wsclient retries as on ws:// */
    }
    if (cf->tls)
        rc = bb_wsclient_new_tls(cf->host, cf->port, cf->token, cf->ca_file, cb, s, &s->c);
    else
        rc = bb_wsclient_new(cf->host, cf->port, cf->token, cb, s, &s->c);
    if (rc < 0) {
        fprintf(stderr, "bucketbridge-cli: %s: %s\n", what, bb_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    bb_wsclient_set_backoff(s->c, 100, 1000);
    return CLI_EXIT_OK;
}

/* 1 when stdout is a pipe whose reader went away (| head -1): a follower
 * then ends now rather than at its next write, which may never come. */
static int reader_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

/* Services @s until done, *@stop or @timeout_ms (< 0: no limit). Returns 1
 * when done, 0 otherwise. */
static int run(struct session *s, int64_t timeout_ms, volatile sig_atomic_t *stop)
{
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    while (!s->done && !*stop) {
        if (reader_gone()) {
            finish(s, CLI_EXIT_OK);
            break;
        }
        int64_t left = deadline < 0 ? SLICE_MS : deadline - mono_ms();
        if (left <= 0)
            break;
        if (bb_wsclient_run(s->c, (int)(left < SLICE_MS ? left : SLICE_MS)) == -ECANCELED)
            break;
    }
    return s->done;
}

/* Closes cleanly (a close frame) and frees @s. */
static void close_session(struct session *s)
{
    if (s->c != NULL) {
        bb_wsclient_stop(s->c);
        bb_wsclient_run(s->c, SLICE_MS);
        bb_wsclient_free(s->c);
    }
    for (size_t i = 0; i < s->nkinds; i++) {
        free(s->kinds[i].source);
        free(s->kinds[i].detail_type);
    }
    cJSON_Delete(s->answer);
    memset(s, 0, sizeof(*s));
}

static void unreachable(const struct session *s, char *err, size_t errlen)
{
    const char *scheme = s->cf->tls ? "wss" : "ws";
    if (!s->connected)
        snprintf(err, errlen, "cannot reach the daemon at %s://%s:%d (%s)", scheme, s->cf->host,
                 s->cf->port, s->why[0] ? s->why : "no answer");
    else if (!s->heard)
        snprintf(err, errlen,
                 "the daemon at %s://%s:%d closed the connection (%s); is the token right?", scheme,
                 s->cf->host, s->cf->port, s->why[0] ? s->why : "no reason");
    else
        snprintf(err, errlen, "no answer from the daemon at %s://%s:%d%s%s", scheme, s->cf->host,
                 s->cf->port, s->why[0] ? ": " : "", s->why);
}

int cli_events_tail(const struct cli_args *a, const struct cli_conf *cf,
                    volatile sig_atomic_t *stop)
{
    struct session s;
    int rc = open_session(&s, a, cf, "events tail", on_tail);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (bb_wsclient_subscribe(s.c, SUB_MATCH, a->pattern, a->since, a->bus) < 0) {
        fprintf(stderr, "bucketbridge-cli: events tail: --pattern must be a JSON object\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    run(&s, -1, stop);
    rc = s.done ? s.rc : CLI_EXIT_OK;
out:
    close_session(&s);
    return rc;
}

static void report_timeout(const struct session *s)
{
    const struct cli_args *a = s->a;
    char err[400];

    if (!s->heard) {
        unreachable(s, err, sizeof(err));
        fprintf(stderr, "bucketbridge-cli: events wait: %s\n", err);
        return;
    }
    fprintf(stderr,
            "bucketbridge-cli: events wait: timed out after %.1f s with %d of %d matching "
            "event%s; %lu event%s since %s%s%s%s",
            (double)a->timeout_ms / 1000.0, s->matched, a->count, a->count == 1 ? "" : "s", s->seen,
            s->seen == 1 ? "" : "s", a->since, a->bus ? " on bus " : "", a->bus ? a->bus : "",
            s->seen ? ":" : "");
    for (size_t i = 0; i < s->nkinds; i++)
        fprintf(stderr, "%s %lu x \"%s\" (%s)", i ? "," : "", s->kinds[i].n,
                s->kinds[i].detail_type, s->kinds[i].source);
    if (s->seen_other)
        fprintf(stderr, ", %lu of other kinds", s->seen_other);
    fprintf(stderr, "\n");
}

int cli_events_wait(const struct cli_args *a, const struct cli_conf *cf,
                    volatile sig_atomic_t *stop)
{
    struct session s;
    int rc = open_session(&s, a, cf, "events wait", on_wait);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* the counting stream first: the daemon answers in order, so it starts
     * no later than the matching one */
    if (bb_wsclient_subscribe(s.c, SUB_ALL, NULL, a->since, a->bus) < 0 ||
        bb_wsclient_subscribe(s.c, SUB_MATCH, a->pattern, a->since, a->bus) < 0) {
        fprintf(stderr, "bucketbridge-cli: events wait: --pattern must be a JSON object\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (run(&s, a->timeout_ms, stop)) {
        rc = s.rc;
    } else if (*stop) {
        fprintf(stderr, "bucketbridge-cli: events wait: interrupted with %d of %d\n", s.matched,
                a->count);
        rc = CLI_EXIT_FAIL;
    } else {
        report_timeout(&s);
        rc = s.heard ? CLI_EXIT_FAIL : CLI_EXIT_ERROR;
    }
out:
    close_session(&s);
    return rc;
}

int cli_events_put(const struct cli_args *a, const struct cli_conf *cf, volatile sig_atomic_t *stop)
{
    struct session s;
    cJSON *detail = cJSON_Parse(a->detail);
    cJSON *entries = NULL, *e;
    const char *code;
    char err[400];
    int rc;

    if (!cJSON_IsObject(detail)) {
        fprintf(stderr, "bucketbridge-cli: events put: --detail must be a JSON object\n");
        cJSON_Delete(detail);
        return CLI_EXIT_USAGE;
    }
    cJSON_Delete(detail);
    rc = open_session(&s, a, cf, "events put", on_put);
    if (rc != CLI_EXIT_OK)
        return rc;
    entries = cJSON_CreateArray();
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "Source", a->source);
    cJSON_AddStringToObject(e, "DetailType", a->detail_type);
    cJSON_AddStringToObject(e, "Detail", a->detail);
    if (a->bus != NULL)
        cJSON_AddStringToObject(e, "EventBusName", a->bus);
    cJSON_AddItemToArray(entries, e);
    if (bb_wsclient_publish(s.c, PUT_REF, entries) < 0) {
        fprintf(stderr, "bucketbridge-cli: events put: the event is too large\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (!run(&s, a->timeout_ms, stop)) {
        unreachable(&s, err, sizeof(err));
        fprintf(stderr, "bucketbridge-cli: events put: no answer within %.1f s: %s\n",
                (double)a->timeout_ms / 1000.0, err);
        rc = s.heard ? CLI_EXIT_FAIL : CLI_EXIT_ERROR;
        goto out;
    }
    rc = s.rc;
    if (rc != CLI_EXIT_OK)
        goto out;
    code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s.answer, "ErrorCode"));
    if (code != NULL || s.answer == NULL) {
        const char *msg =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s.answer, "ErrorMessage"));
        fprintf(stderr, "bucketbridge-cli: events put: %s: %s\n", code ? code : "error",
                msg ? msg : "no result");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    char *text = cJSON_PrintUnformatted(s.answer);
    printf("%s\n", text);
    cJSON_free(text);
out:
    cJSON_Delete(entries);
    close_session(&s);
    return rc;
}

int cli_events_status(const struct cli_conf *cf, int64_t timeout_ms, volatile sig_atomic_t *stop,
                      cJSON **out, char *err, size_t errlen)
{
    struct session s;
    int rc = open_session(&s, NULL, cf, "status", on_status);
    if (rc != CLI_EXIT_OK) {
        snprintf(err, errlen, "cannot create a WebSocket client");
        return rc;
    }
    if (!run(&s, timeout_ms, stop)) {
        unreachable(&s, err, errlen);
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    *out = s.answer;
    s.answer = NULL;
    rc = CLI_EXIT_OK;
out:
    close_session(&s);
    return rc;
}

int cli_events_seq(const struct cli_args *a, const struct cli_conf *cf, volatile sig_atomic_t *stop)
{
    cJSON *st = NULL;
    char err[400];
    const cJSON *seq;
    int rc = cli_events_status(cf, a->timeout_ms, stop, &st, err, sizeof(err));
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "bucketbridge-cli: events seq: %s\n", err);
        return rc;
    }
    seq = cJSON_GetObjectItemCaseSensitive(st, "last_seq");
    if (!cJSON_IsNumber(seq)) {
        fprintf(stderr, "bucketbridge-cli: events seq: the status has no last_seq\n");
        cJSON_Delete(st);
        return CLI_EXIT_FAIL;
    }
    printf("%.0f\n", seq->valuedouble);
    cJSON_Delete(st);
    return CLI_EXIT_OK;
}
