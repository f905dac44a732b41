/* SPDX-License-Identifier: MIT */
/*
 * bb_wsclient: the client end of docs/websocket.md. The first half is the
 * pure codec; the second drives one lws client connection. The connection
 * is disposable: all that matters survives in struct bb_wsclient (the
 * subscriptions with their last sequence numbers, the group, publishes not
 * yet written), and every (re)connect replays it. Acks are tied to the
 * connection that received the delivery, so they are dropped with it.
 */
#include "bb_wsclient.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MOD "wsclient"
#define WS_MAX_CREDIT 1000
#define WS_MAX_VISIBILITY_S 43200
#define MAX_PUBLISH_ENTRIES 10
#define STABLE_MS 2000     /* a connection up this long resets the backoff */
#define CLOSE_WAIT_MS 1000 /* how long bb_wsclient_run waits for a clean close */

/* ---- pure codec ---- */

static const struct {
    const char *name;
    enum bb_wsclient_msg_type type;
} msg_types[] = {
    {"subscribed", BB_WSCLIENT_MSG_SUBSCRIBED}, {"joined", BB_WSCLIENT_MSG_JOINED},
    {"event", BB_WSCLIENT_MSG_EVENT},           {"delivery", BB_WSCLIENT_MSG_DELIVERY},
    {"published", BB_WSCLIENT_MSG_PUBLISHED},   {"status", BB_WSCLIENT_MSG_STATUS},
    {"lagged", BB_WSCLIENT_MSG_LAGGED},         {"error", BB_WSCLIENT_MSG_ERROR},
};

static const char *get_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* A non-negative integral JSON number that a double holds exactly. */
static int get_u64(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return BB_ECORRUPT;
    *out = (uint64_t)v->valuedouble;
    return BB_OK;
}

int bb_wsclient_msg_decode(const char *text, size_t len, struct bb_wsclient_msg *out)
{
    struct bb_wsclient_msg m;
    const char *type;
    uint64_t u = 0;
    int rc = BB_OK;

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    m.json = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(m.json)) {
        rc = BB_EINVAL;
        goto out;
    }
    type = get_str(m.json, "type");
    if (type == NULL) {
        rc = BB_EINVAL;
        goto out;
    }
    m.type = BB_WSCLIENT_MSG_UNKNOWN;
    for (size_t i = 0; i < sizeof(msg_types) / sizeof(msg_types[0]); i++)
        if (strcmp(type, msg_types[i].name) == 0)
            m.type = msg_types[i].type;
    m.ref = get_str(m.json, "ref");
    m.message = get_str(m.json, "message");
    switch (m.type) {
    case BB_WSCLIENT_MSG_SUBSCRIBED:
        m.sub = get_str(m.json, "id");
        if (m.sub == NULL || get_u64(m.json, "after", &m.seq) < 0)
            rc = BB_ECORRUPT;
        break;
    case BB_WSCLIENT_MSG_JOINED:
        m.group = get_str(m.json, "group");
        if (m.group == NULL)
            rc = BB_ECORRUPT;
        break;
    case BB_WSCLIENT_MSG_EVENT:
        m.sub = get_str(m.json, "sub");
        m.event = cJSON_GetObjectItemCaseSensitive(m.json, "event");
        if (m.sub == NULL || m.event == NULL || get_u64(m.json, "seq", &m.seq) < 0)
            rc = BB_ECORRUPT;
        break;
    case BB_WSCLIENT_MSG_DELIVERY:
        m.group = get_str(m.json, "group");
        m.rule = get_str(m.json, "rule");
        m.event = cJSON_GetObjectItemCaseSensitive(m.json, "event");
        if (m.group == NULL || m.event == NULL || get_u64(m.json, "seq", &m.seq) < 0 ||
            get_u64(m.json, "delivery", &u) < 0) {
            rc = BB_ECORRUPT;
            break;
        }
        m.delivery = (int64_t)u;
        if (get_u64(m.json, "attempt", &u) == BB_OK && u <= 1000000)
            m.attempt = (int)u;
        break;
    case BB_WSCLIENT_MSG_LAGGED:
        m.sub = get_str(m.json, "sub");
        if (m.sub == NULL || get_u64(m.json, "resume_from", &m.seq) < 0)
            rc = BB_ECORRUPT;
        break;
    case BB_WSCLIENT_MSG_ERROR:
        if (m.message == NULL)
            rc = BB_ECORRUPT;
        break;
    default:
        break;
    }
out:
    if (rc < 0) {
        cJSON_Delete(m.json);
        return rc;
    }
    *out = m;
    return BB_OK;
}

void bb_wsclient_msg_cleanup(struct bb_wsclient_msg *m)
{
    if (m == NULL)
        return;
    cJSON_Delete(m->json);
    memset(m, 0, sizeof(*m));
}

/* Prints @o (taken: deleted here) into a new string under the size cap. */
static int finish(cJSON *o, char **out)
{
    char *t = cJSON_PrintUnformatted(o);
    int rc = BB_OK;

    cJSON_Delete(o);
    *out = NULL;
    if (t == NULL)
        return BB_EINVAL;
    if (strlen(t) > BB_WSCLIENT_MAX_OUT)
        rc = BB_ETOOBIG;
    else
        *out = bb_xstrdup(t);
    cJSON_free(t);
    return rc;
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SS" at the start of @s (the daemon's time form). */
static int looks_like_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    return 1;
}

/* The "from" value for @from; NULL when it is none of the accepted forms. */
static cJSON *from_value(const char *from)
{
    if (from == NULL || strcmp(from, "latest") == 0)
        return cJSON_CreateString("latest");
    if (strcmp(from, "earliest") == 0)
        return cJSON_CreateString("earliest");
    if (all_digits(from)) {
        char *end = NULL;
        unsigned long long v;
        errno = 0;
        v = strtoull(from, &end, 10);
        if (errno != 0 || v > 9007199254740992ULL)
            return NULL;
        return cJSON_CreateNumber((double)v);
    }
    if (looks_like_time(from))
        return cJSON_CreateString(from);
    return NULL;
}

int bb_wsclient_encode_subscribe(const char *id, const char *pattern, const char *from,
                                 const char *bus, char **out)
{
    cJSON *o, *fv, *pv = NULL;

    *out = NULL;
    if (id == NULL || id[0] == '\0' || strlen(id) > BB_WSCLIENT_ID_MAX)
        return BB_EINVAL;
    if (bus != NULL && (bus[0] == '\0' || strlen(bus) > BB_WSCLIENT_BUS_MAX))
        return BB_EINVAL;
    if (pattern != NULL) {
        pv = cJSON_Parse(pattern);
        if (!cJSON_IsObject(pv) && !cJSON_IsNull(pv)) {
            cJSON_Delete(pv);
            return BB_EINVAL;
        }
    }
    fv = from_value(from);
    if (fv == NULL) {
        cJSON_Delete(pv);
        return BB_EINVAL;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "subscribe");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddItemToObject(o, "pattern", pv ? pv : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "from", fv);
    if (bus != NULL)
        cJSON_AddStringToObject(o, "bus", bus);
    return finish(o, out);
}

int bb_wsclient_encode_unsubscribe(const char *id, char **out)
{
    cJSON *o;

    *out = NULL;
    if (id == NULL || id[0] == '\0' || strlen(id) > BB_WSCLIENT_ID_MAX)
        return BB_EINVAL;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "unsubscribe");
    cJSON_AddStringToObject(o, "id", id);
    return finish(o, out);
}

static int valid_group(const char *name)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= BB_WSCLIENT_GROUP_MAX && strspn(name, ok) == n;
}

int bb_wsclient_encode_join(const char *group, int credit, int visibility_timeout_s, char **out)
{
    cJSON *o;

    *out = NULL;
    if (!valid_group(group) || credit < 1 || credit > WS_MAX_CREDIT || visibility_timeout_s < 1 ||
        visibility_timeout_s > WS_MAX_VISIBILITY_S)
        return BB_EINVAL;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "join");
    cJSON_AddStringToObject(o, "group", group);
    cJSON_AddNumberToObject(o, "credit", credit);
    cJSON_AddNumberToObject(o, "visibility_timeout", visibility_timeout_s);
    return finish(o, out);
}

int bb_wsclient_encode_ack(int64_t delivery, char **out)
{
    cJSON *o;

    *out = NULL;
    if (delivery < 0)
        return BB_EINVAL;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ack");
    cJSON_AddNumberToObject(o, "delivery", (double)delivery);
    return finish(o, out);
}

int bb_wsclient_encode_nack(int64_t delivery, const char *error, int permanent, char **out)
{
    cJSON *o;

    *out = NULL;
    if (delivery < 0)
        return BB_EINVAL;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "nack");
    cJSON_AddNumberToObject(o, "delivery", (double)delivery);
    if (error != NULL)
        cJSON_AddStringToObject(o, "error", error);
    cJSON_AddBoolToObject(o, "permanent", permanent != 0);
    return finish(o, out);
}

int bb_wsclient_encode_publish(const char *ref, const cJSON *entries, char **out)
{
    cJSON *o, *copy;
    int n;

    *out = NULL;
    n = cJSON_IsArray(entries) ? cJSON_GetArraySize(entries) : 0;
    if (n < 1 || n > MAX_PUBLISH_ENTRIES)
        return BB_EINVAL;
    copy = cJSON_Duplicate(entries, 1);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "publish");
    if (ref != NULL)
        cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddItemToObject(o, "entries", copy);
    return finish(o, out);
}

int bb_wsclient_encode_status(char **out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "status");
    return finish(o, out);
}

int bb_wsclient_backoff_ms(int attempt, int min_ms, int max_ms, double jitter01)
{
    double d;

    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    d = min_ms;
    for (int i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (jitter01 < 0)
        jitter01 = 0;
    if (jitter01 > 1)
        jitter01 = 1;
    d = d / 2 + d / 2 * jitter01;
    return d < 1 ? 1 : (int)d;
}

int bb_wsclient_parse_endpoint(const char *url, char *host, size_t hostlen, int *port)
{
    int tls = 0;
    char h[256];
    int pt = 0;

    if (hostlen == 0 || bb_wsclient_parse_url(url, h, sizeof(h), &pt, &tls) < 0 || tls ||
        strlen(h) >= hostlen)
        return BB_EINVAL;
    memcpy(host, h, strlen(h) + 1);
    *port = pt;
    return BB_OK;
}

int bb_wsclient_host_is_loopback(const char *host)
{
    static const char suffix[] = ".localhost";
    struct in_addr a4;
    struct in6_addr a6;
    size_t n;

    if (host == NULL || host[0] == '\0')
        return 0;
    n = strlen(host);
    if (strcasecmp(host, "localhost") == 0 ||
        (n > sizeof(suffix) - 1 && strcasecmp(host + n - (sizeof(suffix) - 1), suffix) == 0))
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return 0;
}

int bb_wsclient_parse_url(const char *url, char *host, size_t hostlen, int *port, int *tls)
{
    const char *p = url, *hend, *pstart;
    size_t hl;
    long v = 80;

    if (url == NULL || hostlen == 0)
        return BB_EINVAL;
    *tls = 0;
    if (strncmp(p, "ws://", 5) == 0) {
        p += 5;
    } else if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strncmp(p, "wss://", 6) == 0) {
        p += 6;
        v = 443;
        *tls = 1;
    } else if (strncmp(p, "https://", 8) == 0) {
        p += 8;
        v = 443;
        *tls = 1;
    } else {
        return BB_EINVAL;
    }
    if (*p == '[') {
        hend = strchr(p, ']');
        if (hend == NULL)
            return BB_EINVAL;
        pstart = hend + 1;
        p++;
    } else {
        hend = p + strcspn(p, ":/");
        pstart = hend;
    }
    hl = (size_t)(hend - p);
    if (hl == 0 || hl >= hostlen)
        return BB_EINVAL;
    if (*pstart == ':') {
        char *end = NULL;
        pstart++;
        if (*pstart < '0' || *pstart > '9')
            return BB_EINVAL;
        errno = 0;
        v = strtol(pstart, &end, 10);
        if (errno != 0 || v < 1 || v > 65535)
            return BB_EINVAL;
        pstart = end;
    }
    if (*pstart != '\0' && strcmp(pstart, "/") != 0 && strcmp(pstart, BB_WSCLIENT_PATH) != 0)
        return BB_EINVAL;
    memcpy(host, p, hl);
    host[hl] = '\0';
    *port = (int)v;
    return BB_OK;
}

char *bb_wsclient_request_path(const char *token)
{
    static const char hex[] = "0123456789ABCDEF";
    struct bb_buf b;

    bb_buf_init(&b, 64 * 1024);
    bb_buf_appends(&b, BB_WSCLIENT_PATH);
    if (token != NULL && token[0] != '\0') {
        bb_buf_appends(&b, "?token=");
        for (const unsigned char *s = (const unsigned char *)token; *s != '\0'; s++) {
            char e[3] = {'%', hex[*s >> 4], hex[*s & 15]};
            if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                strchr("-._~", *s) != NULL)
                bb_buf_append(&b, s, 1);
            else
                bb_buf_append(&b, e, 3);
        }
    }
    return bb_buf_detach(&b, NULL);
}

/* ---- the connection ---- */

struct out_msg {
    struct out_msg *next;
    int keep; /* survives a lost connection (publish) */
    size_t len;
    unsigned char data[]; /* LWS_PRE + text */
};

struct wsub {
    int used;
    char id[BB_WSCLIENT_ID_MAX + 1];
    char *pattern; /* JSON text or NULL */
    char *from;    /* the first start position */
    char *bus;     /* name or ARN, or NULL (the default bus); kept for reconnects */
    int have_seq;
    uint64_t last_seq; /* events up to here were passed on (or skipped) */
};

struct bb_wsclient {
    struct lws_context *ctx;
    struct lws *wsi;
    char host[256];
    char hosthdr[300];
    int port;
    char *path;
    int tls;       /* wss */
    char *ca_file; /* NULL: accept a self-signed certificate unchecked */
    bb_wsclient_msg_cb *cb;
    void *arg;

    struct wsub subs[BB_WSCLIENT_MAX_SUBS];
    char group[BB_WSCLIENT_GROUP_MAX + 1];
    int credit;
    int vis_s;

    struct out_msg *oq_head, *oq_tail;
    int oq_count;
    struct bb_buf rx;

    int connecting;
    int connected;
    int closing; /* stop requested: close once writable */
    int freeing;
    int64_t up_since_ms;
    int heard; /* a message arrived on this connection */
    int close_code;
    char close_why[128];
    int attempts; /* consecutive failed connections */
    int backoff_min_ms, backoff_max_ms;
    uint64_t rng;

    lws_sorted_usec_list_t retry_sul;
    int retry_pending;
    lws_sorted_usec_list_t deadline_sul;
    int deadline_hit;
    atomic_int stop;
    atomic_int wake; /* bb_wsclient_wake() was called */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter only, nothing secret */
static double jitter(struct bb_wsclient *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void emit(struct bb_wsclient *c, const struct bb_wsclient_msg *m)
{
    if (c->cb != NULL && !c->freeing)
        c->cb(c, m, c->arg);
}

static void notice(struct bb_wsclient *c, enum bb_wsclient_msg_type type, const char *why)
{
    struct bb_wsclient_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.message = why;
    emit(c, &m);
}

/* Takes @text (a string from an encoder). */
static int queue_text(struct bb_wsclient *c, char *text, int keep)
{
    size_t len = strlen(text);
    struct out_msg *m;

    if (c->oq_count >= BB_WSCLIENT_MAX_QUEUED) {
        free(text);
        return BB_ETOOBIG;
    }
    m = bb_xmalloc(sizeof(*m) + LWS_PRE + len);
    m->next = NULL;
    m->keep = keep;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    free(text);
    if (c->oq_tail != NULL)
        c->oq_tail->next = m;
    else
        c->oq_head = m;
    c->oq_tail = m;
    c->oq_count++;
    if (c->connected)
        lws_callback_on_writable(c->wsi);
    return BB_OK;
}

/* Drops queued messages that belong to the lost connection. */
static void queue_prune(struct bb_wsclient *c, int all)
{
    struct out_msg **pp = &c->oq_head;
    c->oq_tail = NULL;
    while (*pp != NULL) {
        struct out_msg *m = *pp;
        if (all || !m->keep) {
            *pp = m->next;
            free(m);
            c->oq_count--;
        } else {
            c->oq_tail = m;
            pp = &m->next;
        }
    }
}

static struct wsub *sub_find(struct bb_wsclient *c, const char *id)
{
    for (int i = 0; i < BB_WSCLIENT_MAX_SUBS; i++)
        if (c->subs[i].used && strcmp(c->subs[i].id, id) == 0)
            return &c->subs[i];
    return NULL;
}

/* The subscribe message for @s: from the last sequence seen, if any. */
static int send_subscribe(struct bb_wsclient *c, struct wsub *s)
{
    char seq[32];
    char *text = NULL;
    int rc;

    if (s->have_seq)
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)s->last_seq);
    rc =
        bb_wsclient_encode_subscribe(s->id, s->pattern, s->have_seq ? seq : s->from, s->bus, &text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 0);
}

static int send_join(struct bb_wsclient *c)
{
    char *text = NULL;
    int rc = bb_wsclient_encode_join(c->group, c->credit, c->vis_s, &text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 0);
}

static void retry_cb(lws_sorted_usec_list_t *sul);

/* The connection is gone (or never came up): plan the next attempt. */
static void lost(struct bb_wsclient *c, const char *why)
{
    int64_t up;
    int delay;

    if (!c->connecting && !c->connected)
        return;
    up = c->connected ? mono_ms() - c->up_since_ms : 0;
    c->wsi = NULL;
    c->connecting = 0;
    c->connected = 0;
    bb_buf_reset(&c->rx);
    queue_prune(c, 0);
    if (c->heard || up >= STABLE_MS)
        c->attempts = 0;
    if (c->freeing)
        return;
    notice(c, BB_WSCLIENT_MSG_DISCONNECTED, why);
    if (c->closing || atomic_load(&c->stop))
        return;
    delay = bb_wsclient_backoff_ms(c->attempts, c->backoff_min_ms, c->backoff_max_ms, jitter(c));
    if (c->attempts < 30)
        c->attempts++;
    BB_LOG_INFO(MOD, "connection lost, retrying", "host=%s port=%d why=\"%s\" retry_ms=%d", c->host,
                c->port, why, delay);
    c->retry_pending = 1;
    lws_sul_schedule(c->ctx, 0, &c->retry_sul, retry_cb, (lws_usec_t)delay * 1000);
}

static void start_connect(struct bb_wsclient *c)
{
    struct lws_client_connect_info ci;
    struct in6_addr a6;
    struct lws *wsi;

    memset(&ci, 0, sizeof(ci));
    ci.context = c->ctx;
    ci.address = c->host;
    ci.port = c->port;
    ci.path = c->path;
    ci.host = c->hosthdr;
    ci.origin = NULL; /* no Origin: the daemon refuses foreign ones */
    ci.protocol = NULL;
    ci.local_protocol_name = "bb-events";
    ci.ietf_version_or_minus_one = -1;
    ci.pwsi = &c->wsi;
    if (c->tls) {
        /* with the daemon's certificate as the CA the chain is checked; its
         * names are localhost and 127.0.0.1, which OpenSSL's host check
         * matches as a DNS name only, so an address literal skips that */
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (c->ca_file == NULL)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
        else if (inet_pton(AF_INET, c->host, &a6) == 1 || inet_pton(AF_INET6, c->host, &a6) == 1)
            ci.ssl_connection |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    }
    c->connecting = 1;
    c->heard = 0;
    c->close_code = 0;
    c->close_why[0] = '\0';
    wsi = lws_client_connect_via_info(&ci);
    if (wsi == NULL)
        lost(c, "connect failed");
}

static void retry_cb(lws_sorted_usec_list_t *sul)
{
    struct bb_wsclient *c = lws_container_of(sul, struct bb_wsclient, retry_sul);
    c->retry_pending = 0;
    if (!c->connecting && !c->connected && !atomic_load(&c->stop))
        start_connect(c);
}

static void deadline_cb(lws_sorted_usec_list_t *sul)
{
    struct bb_wsclient *c = lws_container_of(sul, struct bb_wsclient, deadline_sul);
    c->deadline_hit = 1;
    /* lws runs ripe timers just before it polls, and with no other timer
     * pending that poll would sleep for lws's default 30 s: wake it */
    lws_cancel_service(c->ctx);
}

static void on_established(struct bb_wsclient *c)
{
    c->connecting = 0;
    c->connected = 1;
    c->up_since_ms = mono_ms();
    BB_LOG_INFO(MOD, "connected", "host=%s port=%d", c->host, c->port);
    notice(c, BB_WSCLIENT_MSG_CONNECTED, NULL);
    for (int i = 0; i < BB_WSCLIENT_MAX_SUBS; i++)
        if (c->subs[i].used)
            send_subscribe(c, &c->subs[i]);
    if (c->group[0] != '\0')
        send_join(c);
    if (c->oq_head != NULL && c->wsi != NULL)
        lws_callback_on_writable(c->wsi);
}

static void on_message(struct bb_wsclient *c, const char *text, size_t len)
{
    struct bb_wsclient_msg m;
    struct wsub *s;

    if (bb_wsclient_msg_decode(text, len, &m) < 0) {
        BB_LOG_WARN(MOD, "undecodable message from the daemon", "len=%zu", len);
        return;
    }
    c->heard = 1;
    switch (m.type) {
    case BB_WSCLIENT_MSG_SUBSCRIBED:
        s = sub_find(c, m.sub);
        /* "after" is where the stream starts: resuming from there after a
         * reconnect loses nothing even before the first event */
        if (s != NULL && (!s->have_seq || m.seq > s->last_seq)) {
            s->last_seq = m.seq;
            s->have_seq = 1;
        }
        break;
    case BB_WSCLIENT_MSG_EVENT:
        s = sub_find(c, m.sub);
        if (s == NULL || (s->have_seq && m.seq <= s->last_seq))
            goto out; /* unsubscribed, or seen already */
        s->last_seq = m.seq;
        s->have_seq = 1;
        break;
    case BB_WSCLIENT_MSG_LAGGED:
        s = sub_find(c, m.sub);
        BB_LOG_WARN(MOD, "subscription lagged, resuming", "sub=\"%s\" resume_from=%llu", m.sub,
                    (unsigned long long)m.seq);
        if (s != NULL) {
            if (!s->have_seq || m.seq > s->last_seq)
                s->last_seq = m.seq;
            s->have_seq = 1;
            send_subscribe(c, s);
        }
        break;
    default:
        break;
    }
    emit(c, &m);
out:
    bb_wsclient_msg_cleanup(&m);
}

/* Writes what is queued (a publish and its ack go out together, not one
 * loop turn apart), then, when stopping, closes: acks queued before
 * bb_wsclient_stop() are not lost. */
static int on_writable(struct bb_wsclient *c, struct lws *wsi)
{
    struct out_msg *m;

    while ((m = c->oq_head) != NULL) {
        int w;
        c->oq_head = m->next;
        if (c->oq_head == NULL)
            c->oq_tail = NULL;
        c->oq_count--;
        w = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        if (w < 0)
            return -1;
        if (lws_send_pipe_choked(wsi))
            break;
    }
    if (c->oq_head != NULL) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->closing) {
        static const char bye[] = "client stopping";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)bye, sizeof(bye) - 1);
        return -1;
    }
    return 0;
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct bb_wsclient *c = ctx ? lws_context_user(ctx) : NULL;
    char why[200];

    if (c == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(why, sizeof(why), "%.*s", in ? (int)(len ? len : strlen(in)) : 0,
                 in ? (const char *)in : "");
        if (why[0] == '\0')
            snprintf(why, sizeof(why), "connection failed");
        BB_LOG_DEBUG(MOD, "connection error", "why=\"%s\"", why);
        lost(c, why);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        on_established(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (bb_buf_append(&c->rx, in, len) < 0) {
            BB_LOG_WARN(MOD, "message from the daemon too large, reconnecting", "limit=%d",
                        BB_WSCLIENT_MAX_IN);
            return -1;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
            return 0;
        on_message(c, c->rx.data ? c->rx.data : "", c->rx.len);
        bb_buf_reset(&c->rx);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* a close frame: 2-byte code, then the reason text */
        if (in != NULL && len >= 2) {
            const unsigned char *p = in;
            c->close_code = p[0] << 8 | p[1];
            snprintf(c->close_why, sizeof(c->close_why), "%.*s",
                     (int)(len - 2 < 100 ? len - 2 : 100), (const char *)p + 2);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c->close_code != 0)
            snprintf(why, sizeof(why), "closed by the daemon (%d %s)", c->close_code, c->close_why);
        else
            snprintf(why, sizeof(why), "connection closed");
        if (c->close_code == LWS_CLOSE_STATUS_POLICY_VIOLATION ||
            c->close_code == LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
            BB_LOG_WARN(MOD, "the daemon closed the connection", "code=%d reason=\"%s\"",
                        c->close_code, c->close_why);
        lost(c, why);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c->wsi == wsi || c->wsi == NULL)
            lost(c, "connection destroyed");
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"bb-events", ws_cb, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int client_new(const char *host, int port, const char *token, int tls, const char *ca_file,
                      bb_wsclient_msg_cb *cb, void *arg, struct bb_wsclient **out)
{
    struct lws_context_creation_info info;
    struct bb_wsclient *c;

    *out = NULL;
    if (host == NULL || host[0] == '\0' || strlen(host) >= sizeof(c->host) || port < 1 ||
        port > 65535)
        return BB_EINVAL;
    c = bb_xcalloc(1, sizeof(*c));
    c->tls = tls;
    c->ca_file = ca_file != NULL ? bb_xstrdup(ca_file) : NULL;
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    if (strchr(host, ':') != NULL)
        snprintf(c->hosthdr, sizeof(c->hosthdr), "[%s]:%d", host, port);
    else
        snprintf(c->hosthdr, sizeof(c->hosthdr), "%s:%d", host, port);
    c->path = bb_wsclient_request_path(token);
    c->cb = cb;
    c->arg = arg;
    c->backoff_min_ms = BB_WSCLIENT_BACKOFF_MIN_MS;
    c->backoff_max_ms = BB_WSCLIENT_BACKOFF_MAX_MS;
    c->rng =
        (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)c;
    if (c->rng == 0)
        c->rng = 1;
    bb_buf_init(&c->rx, BB_WSCLIENT_MAX_IN);
    atomic_init(&c->stop, 0);
    atomic_init(&c->wake, 0);

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = c;
    info.gid = -1;
    info.uid = -1;
    if (tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = c->ca_file;
    }
    c->ctx = lws_create_context(&info);
    if (c->ctx == NULL) {
        free(c->ca_file);
        free(c->path);
        bb_buf_cleanup(&c->rx);
        free(c);
        return BB_EAGAIN;
    }
    *out = c;
    return BB_OK;
}

void bb_wsclient_free(struct bb_wsclient *c)
{
    if (c == NULL)
        return;
    c->freeing = 1;
    /* closes the connection; the callbacks it raises see c->freeing */
    lws_context_destroy(c->ctx);
    queue_prune(c, 1);
    for (int i = 0; i < BB_WSCLIENT_MAX_SUBS; i++) {
        free(c->subs[i].pattern);
        free(c->subs[i].from);
        free(c->subs[i].bus);
    }
    bb_buf_cleanup(&c->rx);
    free(c->ca_file);
    free(c->path);
    free(c);
}

int bb_wsclient_new(const char *host, int port, const char *token, bb_wsclient_msg_cb *cb,
                    void *arg, struct bb_wsclient **out)
{
    return client_new(host, port, token, 0, NULL, cb, arg, out);
}

int bb_wsclient_new_tls(const char *host, int port, const char *token, const char *ca_file,
                        bb_wsclient_msg_cb *cb, void *arg, struct bb_wsclient **out)
{
    return client_new(host, port, token, 1, ca_file, cb, arg, out);
}

void bb_wsclient_set_backoff(struct bb_wsclient *c, int min_ms, int max_ms)
{
    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    c->backoff_min_ms = min_ms;
    c->backoff_max_ms = max_ms;
}

int bb_wsclient_subscribe(struct bb_wsclient *c, const char *id, const char *pattern,
                          const char *from, const char *bus)
{
    struct wsub *s;
    char *probe = NULL;
    int rc;

    /* validates everything once, so reconnects cannot fail on it */
    rc = bb_wsclient_encode_subscribe(id, pattern, from, bus, &probe);
    free(probe);
    if (rc < 0)
        return rc;
    s = sub_find(c, id);
    for (int i = 0; s == NULL && i < BB_WSCLIENT_MAX_SUBS; i++)
        if (!c->subs[i].used)
            s = &c->subs[i];
    if (s == NULL)
        return BB_ETOOBIG;
    free(s->pattern);
    free(s->from);
    free(s->bus);
    memset(s, 0, sizeof(*s));
    s->used = 1;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->pattern = pattern ? bb_xstrdup(pattern) : NULL;
    s->from = bb_xstrdup(from ? from : "latest");
    s->bus = bus ? bb_xstrdup(bus) : NULL;
    if (c->connected)
        return send_subscribe(c, s);
    return BB_OK;
}

int bb_wsclient_unsubscribe(struct bb_wsclient *c, const char *id)
{
    struct wsub *s = id ? sub_find(c, id) : NULL;
    char *text = NULL;

    if (s == NULL)
        return BB_ENOTFOUND;
    free(s->pattern);
    free(s->from);
    free(s->bus);
    memset(s, 0, sizeof(*s));
    if (c->connected && bb_wsclient_encode_unsubscribe(id, &text) == BB_OK)
        return queue_text(c, text, 0);
    return BB_OK;
}

int bb_wsclient_join(struct bb_wsclient *c, const char *group, int credit, int visibility_timeout_s)
{
    char *probe = NULL;
    int rc;

    if (c->group[0] != '\0')
        return BB_ECONFLICT;
    rc = bb_wsclient_encode_join(group, credit, visibility_timeout_s, &probe);
    free(probe);
    if (rc < 0)
        return rc;
    snprintf(c->group, sizeof(c->group), "%s", group);
    c->credit = credit;
    c->vis_s = visibility_timeout_s;
    if (c->connected)
        return send_join(c);
    return BB_OK;
}

int bb_wsclient_ack(struct bb_wsclient *c, int64_t delivery)
{
    char *text = NULL;
    int rc;

    if (!c->connected)
        return BB_EAGAIN;
    rc = bb_wsclient_encode_ack(delivery, &text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 0);
}

int bb_wsclient_nack(struct bb_wsclient *c, int64_t delivery, const char *error, int permanent)
{
    char *text = NULL;
    int rc;

    if (!c->connected)
        return BB_EAGAIN;
    rc = bb_wsclient_encode_nack(delivery, error, permanent, &text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 0);
}

int bb_wsclient_publish(struct bb_wsclient *c, const char *ref, const cJSON *entries)
{
    char *text = NULL;
    int rc = bb_wsclient_encode_publish(ref, entries, &text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 1);
}

int bb_wsclient_request_status(struct bb_wsclient *c)
{
    char *text = NULL;
    int rc;

    if (!c->connected)
        return BB_EAGAIN;
    rc = bb_wsclient_encode_status(&text);
    if (rc < 0)
        return rc;
    return queue_text(c, text, 0);
}

int bb_wsclient_connected(const struct bb_wsclient *c)
{
    return c->connected;
}

int bb_wsclient_run(struct bb_wsclient *c, int timeout_ms)
{
    int64_t close_deadline = 0;

    if (timeout_ms < 1)
        timeout_ms = 1;
    c->deadline_hit = 0;
    lws_sul_schedule(c->ctx, 0, &c->deadline_sul, deadline_cb, (lws_usec_t)timeout_ms * 1000);
    for (;;) {
        if (atomic_load(&c->stop)) {
            if (c->retry_pending) {
                lws_sul_schedule(c->ctx, 0, &c->retry_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
                c->retry_pending = 0;
            }
            if (c->wsi == NULL || (close_deadline != 0 && mono_ms() >= close_deadline))
                break;
            if (!c->closing) {
                c->closing = 1;
                close_deadline = mono_ms() + CLOSE_WAIT_MS;
                if (c->connected)
                    lws_callback_on_writable(c->wsi);
                /* still connecting: give up on it below, at the deadline */
                lws_sul_schedule(c->ctx, 0, &c->deadline_sul, deadline_cb,
                                 (lws_usec_t)CLOSE_WAIT_MS * 1000);
            }
        } else if (c->deadline_hit || atomic_exchange(&c->wake, 0)) {
            break;
        } else if (!c->connecting && !c->connected && !c->retry_pending) {
            start_connect(c);
        }
        if (lws_service(c->ctx, 0) < 0)
            break;
    }
    lws_sul_schedule(c->ctx, 0, &c->deadline_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
    return atomic_load(&c->stop) ? -ECANCELED : BB_OK;
}

void bb_wsclient_stop(struct bb_wsclient *c)
{
    atomic_store(&c->stop, 1);
    lws_cancel_service(c->ctx);
}

void bb_wsclient_wake(struct bb_wsclient *c)
{
    atomic_store(&c->wake, 1);
    lws_cancel_service(c->ctx);
}

static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    char q[512];

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    bb_log_quote(q, sizeof(q), line, n);
    if (level & LLL_ERR)
        BB_LOG_ERROR("lws", "libwebsockets", "line=%s", q);
    else if (level & LLL_WARN)
        BB_LOG_WARN("lws", "libwebsockets", "line=%s", q);
    else
        BB_LOG_DEBUG("lws", "libwebsockets", "line=%s", q);
}

void bb_wsclient_log_lws(int verbose)
{
    lws_set_log_level(LLL_ERR | LLL_WARN | (verbose ? LLL_NOTICE : 0), lws_emit);
}
