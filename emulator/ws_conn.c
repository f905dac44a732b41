/* SPDX-License-Identifier: MIT */
/*
 * ws_conn: per-connection state lives on the heap (struct client; the lws
 * per-session storage holds a pointer). Outgoing messages are a bounded
 * queue per client; live-stream events are not queued at all: each
 * subscription keeps a cursor and the next matching event is read from a
 * shared ring of recent events (or from the journal when the cursor is
 * older) only when lws says the socket is writable. So a client that stops
 * reading costs nothing but its cursor, and is told it lagged once it falls
 * WS_LAG_LIMIT events behind.
 *
 * A writable turn frames everything it has for the connection (queued
 * messages first, then live events, up to OUT_TURN_MSGS or OUT_TURN_BYTES)
 * into one buffer and hands it to lws in one raw write: one send per
 * connection per turn, which is what makes a 100-subscriber fan-out cheap.
 * Subscriptions with the same pattern text share one compiled pattern
 * (struct pat), and a ring event remembers its match per pattern.
 */
#include "ws_conn.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_event.h"
#include "bus_eventbus.h"
#include "bus_input.h"
#include "bus_pattern.h"
#include "bus_queue.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"
#include "db_stmt.h"
#include "metrics.h"
#include "server.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_CAP 4096
#define RING_MEMO 4 /* distinct patterns remembered per ring event */
#define OUTQ_MAX_BYTES (8 * 1024 * 1024)
#define OUTQ_MAX_COUNT 4096
#define GROUP_TICK_US (100 * 1000)
#define SCAN_PER_WRITE 256
#define CATCHUP_BATCH 32           /* journal events queued per catch-up read, at most */
#define OUT_TURN_BYTES (64 * 1024) /* framed per writable turn, about (one more may pass) */
#define OUT_TURN_MSGS 512          /* messages framed per writable turn, at most */
#define OUT_LIMIT                                                                                  \
    (OUTQ_MAX_BYTES + OUT_TURN_BYTES + 64) /* the turn buffer's cap: any queued message fits */
#define GROUP_TAKE_MAX 8                   /* deliveries handed to a member per queue query */
#define MAX_GROUPS 64

struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE + text */
};

struct sub {
    int used;
    char id[64];
    char idq[400];       /* id as a JSON string (quoted, escaped), made once */
    struct pat *pattern; /* NULL: every event */
    char *bus;           /* the event bus followed; NULL: the default bus */
    uint64_t cursor;     /* last seq considered */
    int live;            /* caught up once: lag applies */
    int paused;
};

struct client {
    struct lws *wsi;
    struct server *srv;
    struct client *next;
    unsigned long serial;
    char token[32]; /* member token in deliveries.holder */
    struct bb_buf rx;
    struct out_msg *oq_head, *oq_tail;
    size_t oq_bytes;
    int oq_count;
    struct sub subs[WS_MAX_SUBS];
    int next_sub;
    /* consumer group membership */
    char group[65];
    int credit;
    int vis_s;
    int64_t *inflight;
    int ninflight;
    /* status stream */
    int status_ms;
    int64_t status_next;
    int closing;
};

struct ring_ev {
    uint64_t seq;
    char *body;
    size_t body_len;
    const char *bus; /* the event's bus: in body's allocation, after its NUL */
    cJSON *parsed;
    /* match results of the patterns tried on it so far (struct pat ids):
     * subscribers with the same pattern share one match per event */
    struct {
        uint64_t pat;
        int hit;
    } memo[RING_MEMO];
    int nmemo;
};

/* A compiled pattern shared by every subscription with the same text. Ids
 * are never reused, so a ring event's memo cannot mistake one for another. */
struct pat {
    struct pat *next;
    uint64_t id;
    char *text;
    struct bus_pattern *p;
    int refs;
};

struct group_stats {
    char name[65];
    uint64_t acked, failed;
    unsigned long rr; /* round-robin position */
};

static struct {
    struct server *srv;
    struct client *clients;
    unsigned long serial;
    struct ring_ev *ring;           /* RING_CAP slots, calloc: pages become resident as used */
    uint64_t ring_first, ring_last; /* seqs held: (ring_first, ring_last] */
    lws_sorted_usec_list_t tick;
    int ticking;
    struct group_stats groups[MAX_GROUPS];
    int ngroups;
    struct bb_buf out; /* the writable turn's frames (loop thread) */
    int out_bad;       /* a frame of this turn did not fit: nothing is sent */
    struct pat *pats;  /* compiled patterns in use */
    uint64_t next_pat;
} g;

/* The shared compiled pattern for @text: 0 and *out (release with
 * pat_put), or BB_EINVAL with the compiler's message in @err. */
static int pat_get(const char *text, struct pat **out, char *err, size_t errlen)
{
    struct bus_pattern *p = NULL;
    struct pat *e;

    for (e = g.pats; e != NULL; e = e->next) {
        if (strcmp(e->text, text) == 0) {
            e->refs++;
            *out = e;
            return BB_OK;
        }
    }
    if (bus_pattern_compile(text, strlen(text), &p, err, errlen) < 0)
        return BB_EINVAL;
    e = bb_xcalloc(1, sizeof(*e));
    e->id = ++g.next_pat;
    e->text = bb_xstrdup(text);
    e->p = p;
    e->refs = 1;
    e->next = g.pats;
    g.pats = e;
    *out = e;
    return BB_OK;
}

static void pat_put(struct pat *e)
{
    if (e == NULL || --e->refs > 0)
        return;
    for (struct pat **pp = &g.pats; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    bus_pattern_free(e->p);
    free(e->text);
    free(e);
}

/* Does ring event @e match @p (NULL: everything)? */
static int ring_match(struct ring_ev *e, const struct pat *p)
{
    int hit;
    if (p == NULL)
        return 1;
    for (int i = 0; i < e->nmemo; i++)
        if (e->memo[i].pat == p->id)
            return e->memo[i].hit;
    hit = bus_pattern_match(p->p, e->parsed) == 1;
    if (e->nmemo < RING_MEMO) {
        e->memo[e->nmemo].pat = p->id;
        e->memo[e->nmemo].hit = hit;
        e->nmemo++;
    }
    return hit;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct group_stats *group_stats(const char *name)
{
    for (int i = 0; i < g.ngroups; i++)
        if (strcmp(g.groups[i].name, name) == 0)
            return &g.groups[i];
    if (g.ngroups == MAX_GROUPS)
        return &g.groups[MAX_GROUPS - 1];
    struct group_stats *s = &g.groups[g.ngroups++];
    memset(s, 0, sizeof(*s));
    size_t n = strnlen(name, sizeof(s->name) - 1);
    memcpy(s->name, name, n);
    s->name[n] = '\0';
    return s;
}

/* ---- outgoing queue ---- */

static int enqueue(struct client *c, const char *text, size_t len)
{
    struct out_msg *m;
    if (c->closing)
        return BB_EINVAL;
    if (c->oq_bytes + len > OUTQ_MAX_BYTES || c->oq_count >= OUTQ_MAX_COUNT) {
        BB_LOG_WARN("ws", "client not reading, closing", "client=%lu", c->serial);
        c->closing = 1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return BB_ETOOBIG;
    }
    m = bb_xmalloc(sizeof(*m) + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (c->oq_tail)
        c->oq_tail->next = m;
    else
        c->oq_head = m;
    c->oq_tail = m;
    c->oq_bytes += len;
    c->oq_count++;
    lws_callback_on_writable(c->wsi);
    return BB_OK;
}

static void send_json(struct client *c, cJSON *o)
{
    char *t = cJSON_PrintUnformatted(o);
    enqueue(c, t, strlen(t));
    cJSON_free(t);
}

static void send_error(struct client *c, const char *ref, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "error");
    if (ref != NULL)
        cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddStringToObject(o, "message", message);
    send_json(c, o);
    cJSON_Delete(o);
}

/* ---- the ring of recent events ---- */

static struct ring_ev *ring_at(uint64_t seq)
{
    if (seq <= g.ring_first || seq > g.ring_last)
        return NULL;
    return &g.ring[seq % RING_CAP];
}

static void ring_fill(void)
{
    struct db *db = store_get_db(g.srv->store);
    sqlite3_stmt *s = NULL;
    uint64_t last = bus_last_seq(g.srv->bus);

    if (last <= g.ring_last)
        return;
    if (last - g.ring_last > RING_CAP) {
        /* too far behind: restart the ring at the newest events */
        for (uint64_t q = g.ring_first + 1; q <= g.ring_last; q++) {
            struct ring_ev *e = &g.ring[q % RING_CAP];
            free(e->body);
            cJSON_Delete(e->parsed);
            memset(e, 0, sizeof(*e));
        }
        g.ring_first = g.ring_last = last - RING_CAP;
    }
    s = db_stmt(db, "SELECT seq, body, bus FROM events WHERE seq>?1 ORDER BY seq LIMIT ?2");
    if (s == NULL)
        return;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)g.ring_last);
    sqlite3_bind_int(s, 2, RING_CAP);
    while (sqlite3_step(s) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        /* gaps (retention, other buses) become empty slots */
        while (g.ring_last < seq) {
            g.ring_last++;
            if (g.ring_last - g.ring_first > RING_CAP) {
                struct ring_ev *old = &g.ring[(g.ring_first + 1) % RING_CAP];
                free(old->body);
                cJSON_Delete(old->parsed);
                memset(old, 0, sizeof(*old));
                g.ring_first++;
            }
            struct ring_ev *e = &g.ring[g.ring_last % RING_CAP];
            e->seq = g.ring_last;
        }
        struct ring_ev *e = &g.ring[seq % RING_CAP];
        const char *body = (const char *)sqlite3_column_text(s, 1);
        const char *bus = (const char *)sqlite3_column_text(s, 2);
        size_t blen = strlen(body), ulen = strlen(bus);
        e->body = bb_xmalloc(blen + 1 + ulen + 1);
        memcpy(e->body, body, blen + 1);
        memcpy(e->body + blen + 1, bus, ulen + 1);
        e->bus = e->body + blen + 1;
        e->body_len = blen;
        e->parsed = cJSON_Parse(e->body);
    }
    db_stmt_done(s);
}

/* ---- live streams ---- */

static void sub_clear(struct sub *s)
{
    pat_put(s->pattern);
    free(s->bus);
    memset(s, 0, sizeof(*s));
}

/* ---- the writable turn: frames built in one buffer, written at once ---- */

/* Appends a WebSocket text frame header for a @len-byte payload (server to
 * client: unmasked, RFC 6455 5.2). */
static void frame_head(struct bb_buf *b, size_t len)
{
    unsigned char h[10];
    size_t n;

    /* a frame goes in whole or not at all; one that cannot (larger than
     * OUT_LIMIT, more than any message the queue takes) spoils the turn */
    if (g.out_bad || len + 10 > b->limit - b->len) {
        g.out_bad = 1;
        return;
    }

    h[0] = 0x81; /* FIN, text */
    if (len < 126) {
        h[1] = (unsigned char)len;
        n = 2;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    bb_buf_append(b, h, n);
}

/* Frames one event message for @s into the turn buffer @b. */
static void send_event(struct bb_buf *b, struct sub *s, uint64_t seq, const char *body, size_t blen)
{
    static const char t1[] = "{\"type\":\"event\",\"sub\":";
    static const char t2[] = ",\"seq\":";
    static const char t3[] = ",\"event\":";
    char num[24];
    size_t nn = 0, ql = strlen(s->idq);
    /* by hand, not printf: this runs once per event per subscriber */
    do {
        num[sizeof(num) - 1 - nn++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq > 0);
    frame_head(b, sizeof(t1) - 1 + ql + sizeof(t2) - 1 + nn + sizeof(t3) - 1 + blen + 1);
    if (g.out_bad)
        return;
    bb_buf_append(b, t1, sizeof(t1) - 1);
    bb_buf_append(b, s->idq, ql);
    bb_buf_append(b, t2, sizeof(t2) - 1);
    bb_buf_append(b, num + sizeof(num) - nn, nn);
    bb_buf_append(b, t3, sizeof(t3) - 1);
    bb_buf_append(b, body, blen);
    bb_buf_append(b, "}", 1);
}

/* Journal read for cursors older than the ring: scans at most
 * SCAN_PER_WRITE rows after @s->cursor and sends up to CATCHUP_BATCH of the
 * matching ones (one query per batch, not per event: a subscriber that
 * starts far behind catches up at the journal's read speed). Returns 1 when
 * at least one was sent. */
static int catch_up(struct client *c, struct sub *s, struct bb_buf *b)
{
    struct db *db = store_get_db(g.srv->store);
    sqlite3_stmt *st = NULL;
    int sent = 0;

    st = db_stmt(db, "SELECT seq, body FROM events WHERE seq>?1 AND bus=?3"
                     " ORDER BY seq LIMIT ?2");
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->cursor);
    sqlite3_bind_int(st, 2, SCAN_PER_WRITE);
    sqlite3_bind_text(st, 3, s->bus ? s->bus : BUS_DEFAULT, -1, SQLITE_STATIC);
    while (sent < CATCHUP_BATCH && !c->closing && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        const char *body = (const char *)sqlite3_column_text(st, 1);
        cJSON *ev = s->pattern ? cJSON_Parse(body) : NULL;
        if (s->pattern == NULL || (ev != NULL && bus_pattern_match(s->pattern->p, ev) == 1)) {
            send_event(b, s, seq, body, strlen(body));
            sent++;
        }
        cJSON_Delete(ev);
        s->cursor = seq;
    }
    db_stmt_done(st);
    return sent > 0;
}

/* Advances @s by at most SCAN_PER_WRITE events; 1 when an event was
 * framed into @b. */
static int sub_step(struct client *c, struct sub *s, struct bb_buf *b)
{
    uint64_t last = g.ring_last;
    if (s->paused)
        return 0;
    if (s->cursor < g.ring_first)
        return catch_up(c, s, b);
    for (int n = 0; n < SCAN_PER_WRITE && s->cursor < last; n++) {
        uint64_t seq = s->cursor + 1;
        struct ring_ev *e = ring_at(seq);
        s->cursor = seq;
        if (e == NULL || e->body == NULL || e->parsed == NULL ||
            strcmp(e->bus, s->bus ? s->bus : BUS_DEFAULT) != 0)
            continue;
        if (ring_match(e, s->pattern)) {
            send_event(b, s, seq, e->body, e->body_len);
            if (s->cursor >= last)
                s->live = 1; /* caught up: from now on it can lag */
            return 1;
        }
    }
    if (s->cursor >= last)
        s->live = 1;
    return 0;
}

static int subs_pending(struct client *c)
{
    for (int i = 0; i < WS_MAX_SUBS; i++) {
        struct sub *s = &c->subs[i];
        if (s->used && !s->paused && s->cursor < g.ring_last)
            return 1;
    }
    return 0;
}

static void check_lag(struct client *c)
{
    for (int i = 0; i < WS_MAX_SUBS; i++) {
        struct sub *s = &c->subs[i];
        if (!s->used || s->paused || !s->live || g.ring_last - s->cursor <= WS_LAG_LIMIT)
            continue;
        s->paused = 1;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "lagged");
        cJSON_AddStringToObject(o, "sub", s->id);
        cJSON_AddNumberToObject(o, "resume_from", (double)s->cursor);
        cJSON_AddStringToObject(o, "message",
                                "This subscription fell too far behind and is paused; "
                                "subscribe again from resume_from to catch up.");
        send_json(c, o);
        cJSON_Delete(o);
        BB_LOG_INFO("ws", "subscriber lagged", "client=%lu sub=\"%s\" resume_from=%llu", c->serial,
                    s->id, (unsigned long long)s->cursor);
        metrics_ws_lagged();
    }
}

/* Start position: "latest", "earliest", a sequence number, or a time. */
static int parse_from(const cJSON *from, uint64_t *cursor, const char **why)
{
    uint64_t last = bus_last_seq(g.srv->bus);
    if (from == NULL || (cJSON_IsString(from) && strcmp(from->valuestring, "latest") == 0)) {
        *cursor = last;
        return BB_OK;
    }
    if (cJSON_IsString(from) && strcmp(from->valuestring, "earliest") == 0) {
        *cursor = 0;
        return BB_OK;
    }
    if (cJSON_IsNumber(from) && from->valuedouble >= 0) {
        /* "from": N starts after N: the sequence number a client saw last */
        *cursor = (uint64_t)from->valuedouble;
        return BB_OK;
    }
    if (cJSON_IsString(from)) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *rest = strptime(from->valuestring, "%Y-%m-%dT%H:%M:%S", &tm);
        int64_t off = 0;
        if (rest != NULL) {
            /* fractions of a second, then Z or +HH:MM / -HH:MM */
            if (*rest == '.')
                for (rest++; *rest >= '0' && *rest <= '9'; rest++)
                    ;
            if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
                int hh = (rest[1] - '0') * 10 + (rest[2] - '0');
                int mm = (rest[4] - '0') * 10 + (rest[5] - '0');
                off = (int64_t)(hh * 3600 + mm * 60) * (*rest == '+' ? 1 : -1);
                rest += 6;
            } else if (*rest == 'Z') {
                rest++;
            }
        }
        if (rest != NULL && *rest == '\0') {
            int64_t t = ((int64_t)timegm(&tm) - off) * 1000;
            struct db *db = store_get_db(g.srv->store);
            sqlite3_stmt *s = NULL;
            *cursor = last;
            if (sqlite3_prepare_v2(db->sql, "SELECT min(seq) FROM events WHERE ingested_ms>=?1", -1,
                                   &s, NULL) == SQLITE_OK) {
                sqlite3_bind_int64(s, 1, t);
                if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
                    *cursor = (uint64_t)sqlite3_column_int64(s, 0) - 1;
            }
            sqlite3_finalize(s);
            return BB_OK;
        }
    }
    *why = "\"from\" must be \"latest\", \"earliest\", a sequence number, or a time like "
           "\"2026-11-26T08:00:00Z\"";
    return BB_EINVAL;
}

static void op_subscribe(struct client *c, const cJSON *m)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(m, "pattern");
    const cJSON *busv = cJSON_GetObjectItemCaseSensitive(m, "bus");
    const struct bus_eventbus *eb =
        bus_eventbuses_find(bus_get_eventbuses(g.srv->bus), BUS_DEFAULT);
    struct pat *p = NULL;
    struct sub *slot = NULL;
    const char *why = NULL;
    uint64_t cursor;
    char err[512];

    if (id == NULL)
        id = "default";
    if (strlen(id) >= sizeof(slot->id)) {
        send_error(c, NULL, "subscription id is longer than 63 bytes");
        return;
    }
    /* "bus": an event bus name or ARN (the default bus when absent) */
    if (busv != NULL && !cJSON_IsNull(busv)) {
        if (!cJSON_IsString(busv)) {
            send_error(c, id, "\"bus\" must be an event bus name or ARN");
            return;
        }
        eb = bus_eventbuses_find(bus_get_eventbuses(g.srv->bus),
                                 bus_eventbus_name_of(busv->valuestring));
        if (eb == NULL) {
            char msg[320];
            snprintf(msg, sizeof(msg), "event bus %.256s does not exist",
                     bus_eventbus_name_of(busv->valuestring));
            send_error(c, id, msg);
            return;
        }
    }
    if (pat != NULL && !cJSON_IsNull(pat)) {
        char *text = cJSON_IsString(pat) ? bb_xstrdup(pat->valuestring) : NULL;
        if (text == NULL) {
            char *t = cJSON_PrintUnformatted(pat);
            text = bb_xstrdup(t);
            cJSON_free(t);
        }
        int rc = pat_get(text, &p, err, sizeof(err));
        free(text);
        if (rc < 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "invalid event pattern: %s", err);
            send_error(c, id, msg);
            return;
        }
    }
    if (parse_from(cJSON_GetObjectItemCaseSensitive(m, "from"), &cursor, &why) < 0) {
        pat_put(p);
        send_error(c, id, why);
        return;
    }
    for (int i = 0; i < WS_MAX_SUBS; i++) {
        if (c->subs[i].used && strcmp(c->subs[i].id, id) == 0) {
            sub_clear(&c->subs[i]);
            slot = &c->subs[i];
            break;
        }
    }
    for (int i = 0; slot == NULL && i < WS_MAX_SUBS; i++)
        if (!c->subs[i].used)
            slot = &c->subs[i];
    if (slot == NULL) {
        pat_put(p);
        send_error(c, id, "too many subscriptions on this connection (16 at most)");
        return;
    }
    slot->used = 1;
    snprintf(slot->id, sizeof(slot->id), "%s", id);
    {
        cJSON *q = cJSON_CreateString(id);
        char *qt = q ? cJSON_PrintUnformatted(q) : NULL;
        snprintf(slot->idq, sizeof(slot->idq), "%s", qt ? qt : "\"\"");
        cJSON_free(qt);
        cJSON_Delete(q);
    }
    slot->pattern = p;
    slot->bus = strcmp(eb->name, BUS_DEFAULT) != 0 ? bb_xstrdup(eb->name) : NULL;
    slot->cursor = cursor;
    /* from the head of the journal it is live at once, so it can lag (a
     * subscriber that never caught up would otherwise never be told) */
    slot->live = cursor >= bus_last_seq(g.srv->bus);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "subscribed");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "bus", eb->name);
    cJSON_AddNumberToObject(o, "after", (double)cursor);
    cJSON_AddNumberToObject(o, "last_seq", (double)bus_last_seq(g.srv->bus));
    send_json(c, o);
    cJSON_Delete(o);
    ring_fill();
    lws_callback_on_writable(c->wsi);
}

static void op_unsubscribe(struct client *c, const cJSON *m)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
    for (int i = 0; i < WS_MAX_SUBS; i++) {
        if (c->subs[i].used && id != NULL && strcmp(c->subs[i].id, id) == 0) {
            sub_clear(&c->subs[i]);
            return;
        }
    }
    send_error(c, id, "no such subscription");
}

/* ---- consumer groups ---- */

static int valid_group(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 64 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static void inflight_remove(struct client *c, int64_t id)
{
    for (int i = 0; i < c->ninflight; i++) {
        if (c->inflight[i] == id) {
            c->inflight[i] = c->inflight[--c->ninflight];
            return;
        }
    }
}

static struct client *member_by_token(const char *token)
{
    for (struct client *c = g.clients; c != NULL; c = c->next)
        if (c->group[0] != '\0' && strcmp(c->token, token) == 0)
            return c;
    return NULL;
}

/* The payload a group member receives: the target's input applied. */
static char *render(const struct bus_delivery *d, const char *body)
{
    struct bus_rule *r = bus_rules_find(bus_get_rules(g.srv->bus), d->bus, d->rule);
    struct bus_target *t = r ? bus_rule_target(r, d->target) : NULL;
    cJSON *ev = cJSON_Parse(body);
    char *out = NULL;
    size_t len = 0;
    if (t != NULL && ev != NULL) {
        struct bus_input_ctx ictx = {r->name, r->arn, ""};
        if (bus_input_apply(t->input, ev, body, &ictx, &out, &len) < 0)
            out = NULL;
    }
    cJSON_Delete(ev);
    return out ? out : bb_xstrdup(body);
}

static char *event_body(uint64_t seq)
{
    struct ring_ev *e = ring_at(seq);
    struct db *db;
    sqlite3_stmt *s = NULL;
    char *body = NULL;
    if (e != NULL && e->body != NULL)
        return bb_xstrdup(e->body);
    db = store_get_db(g.srv->store);
    s = db_stmt(db, "SELECT body FROM events WHERE seq=?1");
    if (s != NULL) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
        if (sqlite3_step(s) == SQLITE_ROW)
            body = bb_xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    db_stmt_done(s);
    return body;
}

static void send_delivery(struct client *c, const struct bus_delivery *d)
{
    char *body = event_body(d->seq);
    char *payload;
    cJSON *o, *pj;
    if (body == NULL)
        body = bb_xstrdup("{}");
    payload = render(d, body);
    pj = cJSON_Parse(payload);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "delivery");
    cJSON_AddStringToObject(o, "group", c->group);
    cJSON_AddNumberToObject(o, "delivery", (double)d->id);
    cJSON_AddNumberToObject(o, "seq", (double)d->seq);
    cJSON_AddNumberToObject(o, "attempt", d->attempts + 1);
    cJSON_AddStringToObject(o, "rule", d->rule);
    cJSON_AddItemToObject(o, "event", pj ? pj : cJSON_CreateString(payload));
    send_json(c, o);
    cJSON_Delete(o);
    free(payload);
    free(body);
}

/* Hands due deliveries of @group to its members with credit, round robin. */
static void group_pump(const char *group)
{
    struct bus_queue *q = bus_get_queue(g.srv->bus);
    struct db *db = store_get_db(g.srv->store);
    struct group_stats *gs = group_stats(group);
    struct client *members[256];
    int nm = 0;
    int64_t now = now_ms();

    for (struct client *c = g.clients; c != NULL && nm < 256; c = c->next)
        if (!c->closing && strcmp(c->group, group) == 0)
            members[nm++] = c;
    if (nm == 0)
        return;
    for (int round = 0; round < WS_MAX_CREDIT; round++) {
        int gave = 0;
        for (int k = 0; k < nm; k++) {
            struct client *c = members[(gs->rr + (unsigned long)k) % (unsigned long)nm];
            struct bus_delivery d[GROUP_TAKE_MAX];
            int want = c->credit - c->ninflight;
            if (want <= 0)
                continue;
            if (want > GROUP_TAKE_MAX)
                want = GROUP_TAKE_MAX;
            memset(d, 0, sizeof(d));
            if (db_begin(db) < 0)
                return;
            /* a few at once: one query for up to GROUP_TAKE_MAX deliveries */
            int n = bus_queue_group_take(q, group, now, now + (int64_t)c->vis_s * 1000, c->token, d,
                                         want);
            if (n < 0 || db_commit(db) < 0) {
                db_rollback(db);
                return;
            }
            for (int i = 0; i < n; i++) {
                c->inflight[c->ninflight++] = d[i].id;
                send_delivery(c, &d[i]);
                bus_delivery_cleanup(&d[i]);
            }
            if (n < want) {
                /* nothing more due; the next event goes to the next member */
                if (n > 0)
                    gs->rr += (unsigned long)k + 1;
                return;
            }
            gave = 1;
        }
        gs->rr++;
        if (!gave)
            return;
    }
}

static void pump_all(void)
{
    char done[MAX_GROUPS][65];
    int nd = 0;
    for (struct client *c = g.clients; c != NULL; c = c->next) {
        int seen = 0;
        if (c->group[0] == '\0')
            continue;
        for (int i = 0; i < nd; i++)
            if (strcmp(done[i], c->group) == 0)
                seen = 1;
        if (seen || nd == MAX_GROUPS)
            continue;
        snprintf(done[nd++], sizeof(done[0]), "%s", c->group);
        group_pump(c->group);
    }
}

static void op_join(struct client *c, const cJSON *m)
{
    const char *group = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "group"));
    const cJSON *credit = cJSON_GetObjectItemCaseSensitive(m, "credit");
    const cJSON *vis = cJSON_GetObjectItemCaseSensitive(m, "visibility_timeout");
    int cr = cJSON_IsNumber(credit) ? (int)credit->valuedouble : 1;
    int vs = cJSON_IsNumber(vis) ? (int)vis->valuedouble : WS_DEFAULT_VISIBILITY_S;

    if (!valid_group(group)) {
        send_error(c, NULL, "\"group\" must be 1-64 characters of [A-Za-z0-9_.-]");
        return;
    }
    if (c->group[0] != '\0') {
        send_error(c, group, "this connection is already a member of a group; open another");
        return;
    }
    if (cr < 1 || cr > WS_MAX_CREDIT || vs < 1 || vs > 43200) {
        send_error(c, group, "\"credit\" must be 1..1000 and \"visibility_timeout\" 1..43200 s");
        return;
    }
    snprintf(c->group, sizeof(c->group), "%s", group);
    c->credit = cr;
    c->vis_s = vs;
    c->inflight = bb_xcalloc((size_t)cr, sizeof(int64_t));
    group_stats(group);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "joined");
    cJSON_AddStringToObject(o, "group", group);
    cJSON_AddStringToObject(o, "member", c->token);
    cJSON_AddNumberToObject(o, "credit", cr);
    cJSON_AddNumberToObject(o, "visibility_timeout", vs);
    send_json(c, o);
    cJSON_Delete(o);
    BB_LOG_INFO("ws", "group member joined", "group=%s member=%s credit=%d", group, c->token, cr);
    group_pump(group);
}

static void op_ack(struct client *c, const cJSON *m, int ack)
{
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(m, "delivery");
    struct bus_queue *q = bus_get_queue(g.srv->bus);
    struct db *db = store_get_db(g.srv->store);
    int64_t id;
    char ref[32];

    if (!cJSON_IsNumber(dv)) {
        send_error(c, NULL, "\"delivery\" (the delivery number) is required");
        return;
    }
    id = (int64_t)dv->valuedouble;
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    if (c->group[0] == '\0' || !bus_queue_group_held(q, id, c->token)) {
        send_error(c, ref,
                   "this delivery is not held by this member (already acked, timed out and "
                   "redelivered, or never delivered here)");
        return;
    }
    if (db_begin(db) < 0)
        return;
    if (ack) {
        bus_queue_ack(q, id);
        group_stats(c->group)->acked++;
    } else {
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "error"));
        int permanent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "permanent"));
        bus_queue_fail(q, id, "ERROR_FROM_TARGET", msg ? msg : "nacked by the consumer", !permanent,
                       -1);
        group_stats(c->group)->failed++;
    }
    if (db_commit(db) < 0)
        db_rollback(db);
    inflight_remove(c, id);
    group_pump(c->group);
}

/* ---- publish and status ---- */

static void op_publish(struct client *c, const cJSON *m)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(m, "entries");
    const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "ref"));
    const struct config *cfg = g.srv->cfg;
    struct db *db = store_get_db(g.srv->store);
    const cJSON *e;
    cJSON *out, *o;

    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "entry"))) {
        entries = NULL;
    }
    if (!cJSON_IsArray(entries) || cJSON_GetArraySize(entries) < 1 ||
        cJSON_GetArraySize(entries) > 10) {
        send_error(c, ref, "\"entries\" must be an array of 1 to 10 PutEvents entries");
        return;
    }
    if (db_begin(db) < 0)
        return;
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(e, entries)
    {
        struct bus_event_env env = {NULL, cfg->account_id, cfg->region, now_ms() / 1000,
                                    BUS_KEY_FORM};
        char id[37];
        char *json = NULL;
        const char *bus = NULL, *code = NULL, *msg = NULL;
        cJSON *r = cJSON_CreateObject();
        bus_event_uuid(id);
        env.id = id;
        const struct bus_eventbus *eb = NULL;
        int ok = cJSON_IsObject(e) && bus_event_from_entry(e, &env, &json, &bus, &code, &msg) == 0;
        if (ok) {
            /* as PutEvents: an entry for a bus that does not exist gets an
             * id and is dropped (logged) */
            eb = bus_eventbuses_find(bus_get_eventbuses(g.srv->bus), bus_eventbus_name_of(bus));
            if (eb == NULL)
                BB_LOG_WARN("ws", "event for an unknown bus dropped", "client=%lu bus=\"%.256s\"",
                            c->serial, bus_eventbus_name_of(bus));
            else if (bus_publish(g.srv->bus, eb->name, json, strlen(json), NULL, NULL, NULL) < 0)
                ok = 0;
        }
        if (!ok) {
            cJSON_AddStringToObject(r, "ErrorCode", code ? code : "InternalFailure");
            cJSON_AddStringToObject(r, "ErrorMessage", msg ? msg : "The entry was not published.");
        } else {
            cJSON_AddStringToObject(r, "EventId", id);
        }
        free(json);
        cJSON_AddItemToArray(out, r);
    }
    if (db_commit(db) < 0)
        db_rollback(db);
    bus_kick(g.srv->bus);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "published");
    if (ref != NULL)
        cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddItemToObject(o, "entries", out);
    send_json(c, o);
    cJSON_Delete(o);
}

static cJSON *status_json(void)
{
    struct bus_rules *rs = bus_get_rules(g.srv->bus);
    struct bus_queue *q = bus_get_queue(g.srv->bus);
    struct db *db = store_get_db(g.srv->store);
    cJSON *o = cJSON_CreateObject();
    cJSON *groups = cJSON_CreateArray();
    cJSON *dlqs = cJSON_CreateArray();
    char names[MAX_GROUPS][65];
    int nn = 0;
    sqlite3_stmt *s = NULL;
    int conns = 0;

    for (size_t i = 0; i < bus_rules_count(rs); i++) {
        struct bus_rule *r = bus_rules_at(rs, i);
        for (size_t k = 0; k < r->ntargets && nn < MAX_GROUPS; k++) {
            int seen = 0;
            if (r->targets[k].kind != BUS_TARGET_QUEUE)
                continue;
            for (int j = 0; j < nn; j++)
                if (strcmp(names[j], r->targets[k].resource) == 0)
                    seen = 1;
            if (!seen)
                snprintf(names[nn++], sizeof(names[0]), "%s", r->targets[k].resource);
        }
    }
    for (int i = 0; i < g.ngroups && nn < MAX_GROUPS; i++) {
        int seen = 0;
        for (int j = 0; j < nn; j++)
            if (strcmp(names[j], g.groups[i].name) == 0)
                seen = 1;
        if (!seen)
            snprintf(names[nn++], sizeof(names[0]), "%s", g.groups[i].name);
    }
    for (int i = 0; i < nn; i++) {
        int64_t pending, inflight;
        int members = 0;
        struct group_stats *gs = group_stats(names[i]);
        cJSON *x = cJSON_CreateObject();
        bus_queue_group_depth(q, names[i], &pending, &inflight);
        for (struct client *c = g.clients; c != NULL; c = c->next)
            if (strcmp(c->group, names[i]) == 0)
                members++;
        cJSON_AddStringToObject(x, "name", names[i]);
        cJSON_AddNumberToObject(x, "depth", (double)pending);
        cJSON_AddNumberToObject(x, "in_flight", (double)inflight);
        cJSON_AddNumberToObject(x, "acked", (double)gs->acked);
        cJSON_AddNumberToObject(x, "failed", (double)gs->failed);
        cJSON_AddNumberToObject(x, "members", members);
        cJSON_AddItemToArray(groups, x);
    }
    if (sqlite3_prepare_v2(db->sql, "SELECT arn, count(*) FROM dlq GROUP BY arn", -1, &s, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "arn", (const char *)sqlite3_column_text(s, 0));
            cJSON_AddNumberToObject(x, "depth", (double)sqlite3_column_int64(s, 1));
            cJSON_AddItemToArray(dlqs, x);
        }
    }
    sqlite3_finalize(s);
    for (struct client *c = g.clients; c != NULL; c = c->next)
        conns++;
    cJSON_AddStringToObject(o, "type", "status");
    cJSON_AddNumberToObject(o, "last_seq", (double)bus_last_seq(g.srv->bus));
    cJSON_AddNumberToObject(o, "connections", conns);
    cJSON_AddItemToObject(o, "groups", groups);
    cJSON_AddItemToObject(o, "dead_letter_queues", dlqs);
    return o;
}

const char *ws_conn_message_type(const cJSON *msg, const char **why)
{
    static const char *const types[] = {"subscribe", "unsubscribe", "join",   "ack",
                                        "nack",      "publish",     "status", "subscribe_status"};
    const char *t;
    if (!cJSON_IsObject(msg)) {
        *why = "a message must be a JSON object";
        return NULL;
    }
    t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "type"));
    if (t == NULL) {
        *why = "a message needs a \"type\"";
        return NULL;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i]) == 0)
            return types[i];
    *why = "unknown message type (want subscribe, unsubscribe, join, ack, nack, publish, status "
           "or subscribe_status)";
    return NULL;
}

static void handle_message(struct client *c, const char *text, size_t len)
{
    cJSON *m = cJSON_ParseWithLength(text, len);
    const char *why = NULL;
    const char *t = ws_conn_message_type(m, &why);

    if (m == NULL)
        why = "the message is not valid JSON";
    if (t == NULL) {
        send_error(c, NULL, why);
    } else if (strcmp(t, "subscribe") == 0) {
        op_subscribe(c, m);
    } else if (strcmp(t, "unsubscribe") == 0) {
        op_unsubscribe(c, m);
    } else if (strcmp(t, "join") == 0) {
        op_join(c, m);
    } else if (strcmp(t, "ack") == 0) {
        op_ack(c, m, 1);
    } else if (strcmp(t, "nack") == 0) {
        op_ack(c, m, 0);
    } else if (strcmp(t, "publish") == 0) {
        op_publish(c, m);
    } else if (strcmp(t, "status") == 0) {
        cJSON *o = status_json();
        send_json(c, o);
        cJSON_Delete(o);
    } else if (strcmp(t, "subscribe_status") == 0) {
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(m, "interval_ms");
        int ms = cJSON_IsNumber(iv) ? (int)iv->valuedouble : 1000;
        /* 0 turns the stream off */
        c->status_ms = ms <= 0 ? 0 : ms < 100 ? 100 : ms > 60000 ? 60000 : ms;
        c->status_next = 0;
    }
    cJSON_Delete(m);
}

/* ---- timers and the bus observer ---- */

static void expire_visibility(void)
{
    struct bus_queue *q = bus_get_queue(g.srv->bus);
    struct db *db = store_get_db(g.srv->store);
    struct bus_delivery ds[64];
    int n = bus_queue_group_expired(q, now_ms(), ds, 64);
    if (n <= 0)
        return;
    if (db_begin(db) < 0)
        return;
    for (int i = 0; i < n; i++) {
        char *holder = bus_queue_holder(q, ds[i].id);
        struct client *c = holder ? member_by_token(holder) : NULL;
        if (c != NULL) {
            inflight_remove(c, ds[i].id);
            group_stats(c->group)->failed++;
        }
        free(holder);
        bus_queue_fail(q, ds[i].id, "TIMEOUT",
                       "The consumer did not ack within the visibility timeout.", 1, -1);
        bus_delivery_cleanup(&ds[i]);
    }
    if (db_commit(db) < 0)
        db_rollback(db);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    int64_t now = now_ms();
    int any = 0;
    (void)sul;
    g.ticking = 0;
    expire_visibility();
    pump_all();
    for (struct client *c = g.clients; c != NULL; c = c->next) {
        any = 1;
        if (c->status_ms > 0 && now >= c->status_next) {
            cJSON *o = status_json();
            send_json(c, o);
            cJSON_Delete(o);
            c->status_next = now + c->status_ms;
        }
    }
    if (any) {
        g.ticking = 1;
        lws_sul_schedule(g.srv->lws, 0, &g.tick, tick_cb, GROUP_TICK_US);
    }
}

static void arm_tick(void)
{
    if (g.ticking || g.srv == NULL)
        return;
    g.ticking = 1;
    lws_sul_schedule(g.srv->lws, 0, &g.tick, tick_cb, GROUP_TICK_US);
}

static void on_bus_kick(void *arg)
{
    (void)arg;
    if (g.clients == NULL)
        return;
    ring_fill();
    for (struct client *c = g.clients; c != NULL; c = c->next) {
        check_lag(c);
        if (subs_pending(c))
            lws_callback_on_writable(c->wsi);
    }
    pump_all();
}

int ws_conn_start(struct server *srv)
{
    memset(&g, 0, sizeof(g));
    g.ring = bb_xcalloc(RING_CAP, sizeof(*g.ring));
    g.srv = srv;
    bb_buf_init(&g.out, OUT_LIMIT);
    g.ring_first = g.ring_last = bus_last_seq(srv->bus);
    bus_set_observer(srv->bus, on_bus_kick, NULL);
    return BB_OK;
}

void ws_conn_stop(struct server *srv)
{
    if (g.srv == NULL)
        return;
    bus_set_observer(srv->bus, NULL, NULL);
    if (g.ticking)
        lws_sul_schedule(srv->lws, 0, &g.tick, NULL, LWS_SET_TIMER_USEC_CANCEL);
    for (uint64_t q = g.ring_first + 1; q <= g.ring_last; q++) {
        struct ring_ev *e = &g.ring[q % RING_CAP];
        free(e->body);
        cJSON_Delete(e->parsed);
        memset(e, 0, sizeof(*e));
    }
    bb_buf_cleanup(&g.out);
    free(g.ring);
    g.ring = NULL;
    g.srv = NULL;
}

/* ---- lws ---- */

static int authorized(struct lws *wsi)
{
    const struct config *cfg = g.srv->cfg;
    char frag[256];
    const char *want = cfg->ws_token ? cfg->ws_token : cfg->secret_key;
    if (!cfg->auth_enabled)
        return 1;
    for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
         i++) {
        if (strncmp(frag, "token=", 6) == 0 && strcmp(frag + 6, want) == 0)
            return 1;
    }
    return 0;
}

static int nclients;

int ws_conn_count(void)
{
    return nclients;
}

static void client_free(struct client *c)
{
    for (struct client **pp = &g.clients; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    if (c->group[0] != '\0' && g.srv != NULL) {
        struct db *db = store_get_db(g.srv->store);
        int n = 0;
        if (db_begin(db) == 0) {
            n = bus_queue_group_release(bus_get_queue(g.srv->bus), c->token);
            if (db_commit(db) < 0)
                db_rollback(db);
        }
        BB_LOG_INFO("ws", "group member left", "group=%s member=%s redelivered=%d", c->group,
                    c->token, n);
        if (n > 0)
            group_pump(c->group);
    }
    for (int i = 0; i < WS_MAX_SUBS; i++)
        sub_clear(&c->subs[i]);
    while (c->oq_head != NULL) {
        struct out_msg *m = c->oq_head;
        c->oq_head = m->next;
        free(m);
    }
    bb_buf_cleanup(&c->rx);
    free(c->inflight);
    free(c);
}

int ws_conn_callback(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct client **pc = user;
    struct client *c = pc ? *pc : NULL;

    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        if (g.srv == NULL)
            return -1;
        if (!authorized(wsi)) {
            static const char why[] = "authentication required: ?token=<token>";
            lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why,
                             sizeof(why) - 1);
            return -1;
        }
        c = bb_xcalloc(1, sizeof(*c));
        c->wsi = wsi;
        c->srv = g.srv;
        c->serial = ++g.serial;
        metrics_ws_connection(1);
        nclients++;
        snprintf(c->token, sizeof(c->token), "ws-%d-%lu", (int)getpid(), c->serial);
        bb_buf_init(&c->rx, WS_MAX_MESSAGE);
        c->next = g.clients;
        g.clients = c;
        *pc = c;
        arm_tick();
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c == NULL)
            return -1;
        if (lws_frame_is_binary(wsi)) {
            send_error(c, NULL, "binary messages are not understood; send JSON text");
            return 0;
        }
        if (bb_buf_append(&c->rx, in, len) < 0) {
            static const char why[] = "message too large (256 KiB at most)";
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                             sizeof(why) - 1);
            return -1;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
            return 0;
        handle_message(c, c->rx.data ? c->rx.data : "", c->rx.len);
        bb_buf_reset(&c->rx);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        struct bb_buf *b = &g.out;
        static const unsigned char pre[LWS_PRE];
        int msgs = 0;
        if (c == NULL || c->closing)
            return 0;
        /* what is sent must be committed first (group commit, db.h) */
        if (db_flush(store_get_db(g.srv->store)) < 0)
            return -1;
        /* every message of the turn framed into one buffer and written by
         * one send: a subscriber behind by many events gets them in one
         * segment, and the kernel's transmit path (on loopback, the
         * receiver's too: most of the cost of a fan-out) runs once per
         * turn, not once per message. lws writes it raw (LWS_WRITE_HTTP
         * skips its framing) and keeps what the socket does not take,
         * sending that first at the next writable turn. */
        bb_buf_reset(b);
        bb_buf_append(b, pre, LWS_PRE);
        g.out_bad = 0;
        while (msgs < OUT_TURN_MSGS && b->len < LWS_PRE + OUT_TURN_BYTES && !c->closing) {
            if (c->oq_head != NULL) {
                struct out_msg *m = c->oq_head;
                c->oq_head = m->next;
                if (c->oq_head == NULL)
                    c->oq_tail = NULL;
                c->oq_bytes -= m->len;
                c->oq_count--;
                frame_head(b, m->len);
                if (!g.out_bad)
                    bb_buf_append(b, m->data + LWS_PRE, m->len);
                free(m);
                msgs++;
                continue;
            }
            int sent = 0;
            for (int k = 0; k < WS_MAX_SUBS; k++) {
                struct sub *s = &c->subs[(c->next_sub + k) % WS_MAX_SUBS];
                if (!s->used || s->paused)
                    continue;
                if (sub_step(c, s, b)) {
                    c->next_sub = (c->next_sub + k + 1) % WS_MAX_SUBS;
                    sent = 1;
                    break;
                }
            }
            if (!sent)
                break;
            msgs++;
        }
        if (g.out_bad) {
            BB_LOG_ERROR("ws", "a message does not fit the turn buffer; closing", "client=%lu",
                         c->serial);
            return -1;
        }
        if (b->len > LWS_PRE && lws_write(wsi, (unsigned char *)b->data + LWS_PRE, b->len - LWS_PRE,
                                          LWS_WRITE_HTTP) < 0)
            return -1;
        if (c->oq_head != NULL || subs_pending(c))
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (c != NULL) {
            metrics_ws_connection(-1);
            nclients--;
            client_free(c);
            *pc = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

void ws_conn_reset(struct server *srv)
{
    (void)srv;
    for (uint64_t q = g.ring_first + 1; q <= g.ring_last; q++) {
        struct ring_ev *e = &g.ring[q % RING_CAP];
        free(e->body);
        cJSON_Delete(e->parsed);
        memset(e, 0, sizeof(*e));
    }
    g.ring_first = g.ring_last = bus_last_seq(g.srv->bus);
    for (int i = 0; i < g.ngroups; i++) {
        g.groups[i].acked = 0;
        g.groups[i].failed = 0;
    }
    for (struct client *c = g.clients; c != NULL; c = c->next) {
        c->ninflight = 0;
        for (int i = 0; i < WS_MAX_SUBS; i++)
            if (c->subs[i].used && c->subs[i].cursor > g.ring_last)
                c->subs[i].cursor = g.ring_last;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "reset");
        cJSON_AddNumberToObject(o, "last_seq", (double)g.ring_last);
        send_json(c, o);
        cJSON_Delete(o);
    }
}
