/* SPDX-License-Identifier: MIT */
/*
 * logger_run: single-threaded: writing a line is much cheaper than a
 * round trip to the daemon, so the WebSocket callback does the work
 * itself. Its acks wait in held[] (the record is already written: holding
 * the ack only widens the window in which a crash gets the record written
 * twice) and go out together when the oldest is ack_delay_ms old or half
 * the credit is held, so the daemon never runs out of credit for us. A
 * lost connection drops them: the daemon hands those deliveries out again.
 */
#include "logger_run.h"
#include "logger_record.h"
#include "logger_sink.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
    const struct logger_run_conf *conf;
    struct logger_record *rec;
    struct logger_sink *sink;
    int stopping;
    int64_t *held; /* delivery numbers whose ack waits */
    int nheld;
    int maxheld;
    int64_t held_since_ms; /* monotonic: when held[0] came */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends the held acks and the stdout lines printed since the last time. */
static void flush(struct run *r, struct bb_wsclient *c)
{
    for (int i = 0; i < r->nheld; i++)
        if (bb_wsclient_ack(c, r->held[i]) < 0)
            BB_LOG_DEBUG("logger", "ack dropped", "delivery=%lld", (long long)r->held[i]);
    r->nheld = 0;
    if (!r->conf->quiet)
        fflush(stdout);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_delivery(struct run *r, struct bb_wsclient *c, const struct bb_wsclient_msg *m)
{
    struct logger_record_out out;
    int64_t now = wall_ms();
    int rc;

    logger_record_build(r->rec, m->event, m->seq, now, &out);
    rc = logger_sink_write(r->sink, now, out.json, strlen(out.json));
    if (rc < 0) {
        BB_LOG_WARN("logger", "cannot write the record; it will be redelivered", "ev=%llu rc=%s",
                    (unsigned long long)m->seq, bb_strerror(rc));
        bb_wsclient_nack(c, m->delivery, "the logger could not write its file", 0);
    } else {
        if (!r->conf->quiet) {
            fputs(out.human, stdout);
            fputc('\n', stdout);
        }
        if (r->nheld == 0)
            r->held_since_ms = mono_ms();
        r->held[r->nheld++] = m->delivery;
        if (r->nheld >= r->maxheld)
            flush(r, c);
    }
    free(out.json);
}

static void on_msg(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct run *r = arg;
    char q[256];

    switch (m->type) {
    case BB_WSCLIENT_MSG_DELIVERY:
        on_delivery(r, c, m);
        break;
    case BB_WSCLIENT_MSG_JOINED:
        BB_LOG_INFO("logger", "joined the consumer group", "group=%s", m->group);
        break;
    case BB_WSCLIENT_MSG_DISCONNECTED:
        r->nheld = 0; /* for the lost connection: the daemon redelivers them */
        if (r->stopping)
            break;
        bb_log_quote(q, sizeof(q), m->message ? m->message : "",
                     m->message ? strlen(m->message) : 0);
        BB_LOG_WARN("logger", "disconnected; reconnecting", "why=%s", q);
        break;
    case BB_WSCLIENT_MSG_ERROR:
        bb_log_quote(q, sizeof(q), m->message ? m->message : "",
                     m->message ? strlen(m->message) : 0);
        BB_LOG_WARN("logger", "daemon reported an error", "ref=%s message=%s",
                    m->ref ? m->ref : "-", q);
        break;
    default:
        break;
    }
}

char *logger_run_ws_url(const char *endpoint)
{
    const char *rest;
    const char *scheme;
    size_t n;

    if (endpoint == NULL)
        return NULL;
    if (strncmp(endpoint, "https://", 8) == 0) {
        rest = endpoint + 8;
        scheme = "wss";
    } else if (strncmp(endpoint, "http://", 7) == 0) {
        rest = endpoint + 7;
        scheme = "ws";
    } else {
        return NULL;
    }
    n = strcspn(rest, "/?#");
    if (n == 0)
        return NULL;
    return bb_xasprintf("%s://%.*s%s", scheme, (int)n, rest, BB_WSCLIENT_PATH);
}

int logger_run(const struct logger_run_conf *conf, volatile sig_atomic_t *stop)
{
    struct run r = {conf, NULL, NULL, 0, NULL, 0, 0, 0};
    struct bb_wsclient *c = NULL;
    int rc;

    /* at ack_delay_ms 0 every ack goes at once; else at most half the
     * credit waits, so deliveries keep coming while acks are held */
    r.maxheld = conf->ack_delay_ms > 0 && conf->credit > 1 ? conf->credit / 2 : 1;
    r.held = bb_xcalloc((size_t)r.maxheld, sizeof(*r.held));
    r.rec = logger_record_new();
    r.sink = logger_sink_new(conf->log_dir);
    if (conf->ws_tls)
        rc = bb_wsclient_new_tls(conf->ws_host, conf->ws_port, conf->token, conf->ca_file, on_msg,
                                 &r, &c);
    else
        rc = bb_wsclient_new(conf->ws_host, conf->ws_port, conf->token, on_msg, &r, &c);
    if (rc < 0)
        goto out;
    rc = bb_wsclient_join(c, conf->group, conf->credit, conf->visibility_timeout_s);
    if (rc < 0)
        goto out;
    for (;;) {
        int slice = LOGGER_RUN_POLL_MS;
        if (r.nheld > 0) {
            int64_t left = r.held_since_ms + conf->ack_delay_ms - mono_ms();
            slice = left < 1 ? 1 : left < slice ? (int)left : slice;
        }
        if (bb_wsclient_run(c, slice) == -ECANCELED)
            break;
        if (r.nheld > 0 && mono_ms() >= r.held_since_ms + conf->ack_delay_ms)
            flush(&r, c);
        if (*stop && !r.stopping) {
            /* a stopping client closes without writing what is queued:
             * give the held acks one slice to go out first */
            if (r.nheld > 0) {
                flush(&r, c);
                bb_wsclient_run(c, LOGGER_RUN_STOP_FLUSH_MS);
            }
            r.stopping = 1;
            bb_wsclient_stop(c);
        }
    }
    rc = BB_OK;
out:
    if (!conf->quiet)
        fflush(stdout);
    bb_wsclient_free(c);
    free(r.held);
    logger_sink_free(r.sink);
    logger_record_free(r.rec);
    return rc;
}
