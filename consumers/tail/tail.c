/* SPDX-License-Identifier: MIT */
/*
 * tail: prints what bb_wsclient hands over. A group delivery is acked only
 * after its line reached stdout, so a tail killed mid-line leaves the event
 * to be redelivered. The pretty format escapes control bytes: an object key
 * holding "\n" must not split a line.
 */
#include "tail.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bb_wsclient.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "tail"
#define SUB_ID "tail"
#define DETAIL_MAX 200 /* bytes of a non-S3 detail shown in pretty lines */
#define RUN_SLICE_MS 200

struct state {
    const struct tail_opts *o;
    struct bb_wsclient *c;
    int rc;    /* first fatal failure */
    char *why; /* the caller's buffer for a refusal, or NULL */
    size_t whylen;
};

/* Appends @s (@n bytes) with control bytes and backslashes as escapes. */
static void append_clean(struct bb_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            bb_buf_appendf(b, "\\x%02x", ch);
        else
            bb_buf_append(b, &s[i], 1);
    }
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_GetStringValue(v);
}

static void pretty(struct bb_buf *b, const struct bb_wsclient_msg *m)
{
    const cJSON *ev = m->event;
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(ev, "detail");
    const char *time = str_at(ev, "time", NULL);
    const char *source = str_at(ev, "source", NULL);
    const char *dtype = str_at(ev, "detail-type", NULL);
    const char *bucket = str_at(detail, "bucket", "name");
    const char *key = str_at(detail, "object", "key");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(detail, "object"), "size");

    bb_buf_appendf(b, "#%llu", (unsigned long long)m->seq);
    if (m->type == BB_WSCLIENT_MSG_DELIVERY)
        bb_buf_appendf(b, " [%s attempt %d]", m->group, m->attempt);
    if (!cJSON_IsObject(ev)) {
        /* an input transformer made it a string or a number */
        char *t = cJSON_PrintUnformatted(ev);
        bb_buf_appends(b, " ");
        append_clean(b, t, strlen(t));
        cJSON_free(t);
        return;
    }
    bb_buf_appends(b, " ");
    bb_buf_appends(b, time ? time : "-");
    bb_buf_appends(b, " ");
    append_clean(b, source ? source : "-", strlen(source ? source : "-"));
    bb_buf_appends(b, " \"");
    append_clean(b, dtype ? dtype : "", strlen(dtype ? dtype : ""));
    bb_buf_appends(b, "\"");
    if (bucket != NULL) {
        bb_buf_appends(b, " ");
        append_clean(b, bucket, strlen(bucket));
        if (key != NULL) {
            bb_buf_appends(b, "/");
            append_clean(b, key, strlen(key));
        }
        if (cJSON_IsNumber(size))
            bb_buf_appendf(b, " size=%.0f", size->valuedouble);
    } else if (detail != NULL) {
        char *t = cJSON_PrintUnformatted(detail);
        size_t n = strlen(t);
        bb_buf_appends(b, " ");
        append_clean(b, t, n > DETAIL_MAX ? DETAIL_MAX : n);
        if (n > DETAIL_MAX)
            bb_buf_appends(b, "...");
        cJSON_free(t);
    }
}

char *tail_format_line(const struct bb_wsclient_msg *m, enum tail_format format)
{
    struct bb_buf b;
    char *t;

    if ((m->type != BB_WSCLIENT_MSG_EVENT && m->type != BB_WSCLIENT_MSG_DELIVERY) ||
        m->event == NULL)
        return NULL;
    bb_buf_init(&b, (size_t)BB_WSCLIENT_MAX_IN * 2);
    if (format == TAIL_FORMAT_PRETTY) {
        pretty(&b, m);
    } else {
        /* cJSON escapes control bytes in strings: one line per event */
        t = cJSON_PrintUnformatted(m->event);
        bb_buf_appends(&b, t);
        cJSON_free(t);
    }
    bb_buf_appends(&b, "\n");
    return bb_buf_detach(&b, NULL);
}

static void fail(struct state *st, int rc)
{
    if (st->rc == BB_OK)
        st->rc = rc;
    bb_wsclient_stop(st->c);
}

static void on_msg(struct bb_wsclient *c, const struct bb_wsclient_msg *m, void *arg)
{
    struct state *st = arg;
    const struct tail_opts *o = st->o;
    char *line;

    switch (m->type) {
    case BB_WSCLIENT_MSG_EVENT:
    case BB_WSCLIENT_MSG_DELIVERY:
        line = tail_format_line(m, o->format);
        if (line == NULL)
            return;
        if (fputs(line, stdout) == EOF || fflush(stdout) == EOF) {
            free(line);
            fail(st, errno ? -errno : -EPIPE);
            return;
        }
        free(line);
        if (m->type == BB_WSCLIENT_MSG_DELIVERY)
            bb_wsclient_ack(c, m->delivery);
        return;
    case BB_WSCLIENT_MSG_SUBSCRIBED:
        BB_LOG_INFO(MOD, "following", "after=%llu", (unsigned long long)m->seq);
        return;
    case BB_WSCLIENT_MSG_JOINED:
        BB_LOG_INFO(MOD, "joined", "group=%s", m->group);
        return;
    case BB_WSCLIENT_MSG_ERROR: {
        char q[600];
        bb_log_quote(q, sizeof(q), m->message, strlen(m->message));
        /* an answer to our subscribe or join is final: retrying won't help */
        if (m->ref != NULL && (o->group ? strcmp(m->ref, o->group) : strcmp(m->ref, SUB_ID)) == 0) {
            BB_LOG_INFO(MOD, "the daemon refused", "message=%s", q);
            if (st->why != NULL && st->whylen > 0 && st->rc == BB_OK)
                snprintf(st->why, st->whylen, "%s", m->message);
            fail(st, BB_EINVAL);
        } else {
            BB_LOG_WARN(MOD, "error from the daemon", "message=%s", q);
        }
        return;
    }
    default:
        return;
    }
}

int tail_run(const struct tail_opts *o, volatile sig_atomic_t *stop, char *why, size_t whylen)
{
    struct state st;
    int rc;

    memset(&st, 0, sizeof(st));
    st.o = o;
    st.why = why;
    st.whylen = whylen;
    if (o->tls)
        rc = bb_wsclient_new_tls(o->host, o->port, o->token, o->ca_file, on_msg, &st, &st.c);
    else
        rc = bb_wsclient_new(o->host, o->port, o->token, on_msg, &st, &st.c);
    if (rc < 0)
        return rc;
    if (o->group != NULL)
        rc = bb_wsclient_join(st.c, o->group, o->credit, o->visibility_timeout_s);
    else
        rc = bb_wsclient_subscribe(st.c, SUB_ID, o->pattern, o->since, o->bus);
    if (rc < 0)
        goto out;
    while (!*stop && st.rc == BB_OK) {
        if (bb_wsclient_run(st.c, RUN_SLICE_MS) == -ECANCELED)
            break;
    }
    /* a clean close frame, so the daemon releases our deliveries at once */
    bb_wsclient_stop(st.c);
    bb_wsclient_run(st.c, RUN_SLICE_MS);
    rc = st.rc;
out:
    bb_wsclient_free(st.c);
    return rc;
}
