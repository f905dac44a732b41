/* SPDX-License-Identifier: MIT */
/*
 * logger_run: single-threaded: writing a line is much cheaper than a
 * round trip to the daemon, so the WebSocket callback does the work
 * itself and acks in place.
 */
#include "logger_run.h"
#include "logger_record.h"
#include "logger_sink.h"
#include "bb_err.h"
#include "bb_log.h"
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
};

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
            fflush(stdout);
        }
        bb_wsclient_ack(c, m->delivery);
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

int logger_run(const struct logger_run_conf *conf, volatile sig_atomic_t *stop)
{
    struct run r = {conf, NULL, NULL, 0};
    struct bb_wsclient *c = NULL;
    int rc;

    r.rec = logger_record_new();
    r.sink = logger_sink_new(conf->log_dir);
    rc = bb_wsclient_new(conf->ws_host, conf->ws_port, conf->token, on_msg, &r, &c);
    if (rc < 0)
        goto out;
    rc = bb_wsclient_join(c, conf->group, conf->credit, conf->visibility_timeout_s);
    if (rc < 0)
        goto out;
    for (;;) {
        if (bb_wsclient_run(c, LOGGER_RUN_POLL_MS) == -ECANCELED)
            break;
        if (*stop && !r.stopping) {
            r.stopping = 1;
            bb_wsclient_stop(c);
        }
    }
    rc = BB_OK;
out:
    bb_wsclient_free(c);
    logger_sink_free(r.sink);
    logger_record_free(r.rec);
    return rc;
}
