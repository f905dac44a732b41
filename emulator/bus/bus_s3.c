/* SPDX-License-Identifier: MIT */
/* bus_s3: the store change hook that publishes S3 events. */
#include "bus_s3.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_event.h"
#include "bus_notify.h"
#include "config.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hook_ctx {
    struct bus *bus;
    struct store *store;
};

static struct hook_ctx g_hook; /* one store, one bus per process */

void bus_s3_sequencer(char out[19])
{
    static unsigned long long last;
    struct timespec ts;
    unsigned long long now;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
    if (now <= last)
        now = last + 1;
    last = now;
    snprintf(out, 19, "%018llX", now);
}

static int on_change(void *arg, const struct store_change *c)
{
    struct hook_ctx *h = arg;
    const struct config *cfg = bus_config(h->bus);
    struct bus_s3_event e;
    struct bus_event_env env;
    char id[37];
    char seqr[19];
    int rc = BB_OK;

    memset(&e, 0, sizeof(e));
    bus_event_uuid(id);
    bus_s3_sequencer(seqr);
    env.id = id;
    env.account = cfg->account_id;
    env.region = cfg->region;
    env.time_s = bus_now_ms(h->bus) / 1000;
    env.key_encoding = cfg->key_encoding_raw ? BUS_KEY_RAW : BUS_KEY_FORM;
    e.bucket = c->bucket;
    e.key = c->key;
    e.size = -1;
    e.sequencer = seqr;
    e.request_id = c->cause ? c->cause->request_id : NULL;
    e.requester = c->cause ? c->cause->requester : cfg->account_id;
    e.source_ip = c->cause ? c->cause->source_ip : NULL;
    e.reason = c->cause ? c->cause->reason : NULL;
    if (c->kind == STORE_CHANGE_TAGS_ADDED || c->kind == STORE_CHANGE_TAGS_DELETED) {
        /* eventbridge.md 1.4: key and etag; no size, sequencer or reason */
        e.detail_type =
            c->kind == STORE_CHANGE_TAGS_ADDED ? "Object Tags Added" : "Object Tags Deleted";
        e.etag = c->object != NULL ? c->object->etag : NULL;
        e.sequencer = NULL;
        e.reason = NULL;
    } else if (c->deleted) {
        e.detail_type = "Object Deleted";
        e.deletion_type = "Permanently Deleted";
    } else {
        e.detail_type = "Object Created";
        e.size = (int64_t)c->object->size;
        e.etag = c->object->etag;
    }
    if (store_index_bucket_eventbridge(store_get_index(h->store), c->bucket)) {
        char *json = bus_event_s3(&e, &env);
        rc = bus_publish(h->bus, BUS_DEFAULT, json, strlen(json), NULL, NULL, NULL);
        free(json);
    }
    if (rc == BB_OK)
        rc = bus_notify_publish(h->bus, h->store, &e, &env);
    return rc;
}

static void after_commit(void *arg)
{
    struct hook_ctx *h = arg;
    bus_kick(h->bus);
}

void bus_s3_attach(struct bus *b, struct store *st)
{
    g_hook.bus = b;
    g_hook.store = st;
    store_set_change_hook(st, on_change, after_commit, &g_hook);
}
