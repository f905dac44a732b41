/* SPDX-License-Identifier: MIT */
/* config_print: struct config back into the JSON that config_apply_json reads. */
#include "config_print.h"
#include "bb_mem.h"
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *host_port(const char *host, int port)
{
    /* an IPv6 literal goes back in brackets, as --listen takes it */
    return strchr(host, ':') != NULL ? bb_xasprintf("[%s]:%d", host, port)
                                     : bb_xasprintf("%s:%d", host, port);
}

static void add_hostport(cJSON *o, const char *key, const char *host, int port)
{
    char *s = host_port(host, port);
    cJSON_AddStringToObject(o, key, s);
    free(s);
}

/* A stored JSON text (rules, consumers...) as an item; @fallback when NULL. */
static void add_json(cJSON *o, const char *key, const char *text, const char *fallback)
{
    cJSON *v = cJSON_Parse(text != NULL ? text : fallback);
    cJSON_AddItemToObject(o, key, v != NULL ? v : cJSON_Parse(fallback));
}

char *config_print(const struct config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *x;
    char *text;
    char *out;

    add_hostport(o, "listen", c->listen_host, c->listen_port);
    cJSON_AddStringToObject(o, "data_dir", c->data_dir);
    cJSON_AddStringToObject(o, "region", c->region);
    cJSON_AddStringToObject(o, "account_id", c->account_id);
    if (c->auth_enabled) {
        x = cJSON_AddObjectToObject(o, "auth");
        cJSON_AddStringToObject(x, "access_key", c->access_key);
        cJSON_AddStringToObject(x, "secret_key", c->secret_key);
    } else {
        cJSON_AddStringToObject(o, "auth", "none");
    }
    cJSON_AddStringToObject(o, "durability", c->durability_full ? "full" : "fast");
    cJSON_AddStringToObject(o, "log_level", c->log_level);
    cJSON_AddNumberToObject(o, "max_clock_skew_seconds", c->max_skew_s);
    x = cJSON_AddArrayToObject(o, "buckets");
    for (size_t i = 0; i < c->nbuckets; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "name", c->buckets[i].name);
        cJSON_AddBoolToObject(b, "eventbridge", c->buckets[i].eventbridge);
        cJSON_AddItemToArray(x, b);
    }
    x = cJSON_AddArrayToObject(o, "virtual_host_domains");
    for (size_t i = 0; i < c->nvhost_domains; i++)
        cJSON_AddItemToArray(x, cJSON_CreateString(c->vhost_domains[i]));
    if (c->https_explicit) {
        /* only when configured: a configured https listener that cannot
         * start stops the daemon, the default one is just left off */
        x = cJSON_AddObjectToObject(o, "https");
        cJSON_AddBoolToObject(x, "enabled", c->https_enabled);
        add_hostport(x, "listen", c->https_host, c->https_port);
    }
    x = cJSON_AddObjectToObject(o, "http");
    cJSON_AddNumberToObject(x, "max_connections", c->http_max_connections);
    cJSON_AddNumberToObject(x, "head_timeout_seconds", c->http_head_timeout_s);
    cJSON_AddNumberToObject(x, "body_timeout_seconds", c->http_body_timeout_s);
    cJSON_AddNumberToObject(x, "idle_timeout_seconds", c->http_idle_timeout_s);
    x = cJSON_AddObjectToObject(o, "watcher");
    cJSON_AddBoolToObject(x, "enabled", c->watcher_enabled);
    if (c->watcher_ignore_json != NULL)
        add_json(x, "ignore", c->watcher_ignore_json, "[]");
    x = cJSON_AddObjectToObject(o, "eventbridge");
    cJSON_AddStringToObject(x, "key_encoding", c->key_encoding_raw ? "raw" : "form");
    cJSON_AddNumberToObject(x, "retry_time_scale", c->retry_time_scale);
    cJSON_AddNumberToObject(x, "max_put_events_bytes", (double)c->max_put_events_bytes);
    cJSON_AddNumberToObject(x, "retention_days", (double)c->retention_days);
    cJSON_AddNumberToObject(x, "retention_events", (double)c->retention_events);
    cJSON_AddNumberToObject(x, "command_timeout_seconds", c->command_timeout_s);
    if (c->ws_token != NULL)
        cJSON_AddStringToObject(x, "websocket_token", c->ws_token);
    if (c->has_seed || c->clock_offset_s != 0) {
        x = cJSON_AddObjectToObject(o, "deterministic");
        if (c->has_seed)
            cJSON_AddNumberToObject(x, "seed", (double)c->seed);
        cJSON_AddNumberToObject(x, "clock_offset_seconds", (double)c->clock_offset_s);
    }
    add_json(o, "consumers", c->consumers_json, "[]");
    add_json(o, "functions", c->functions_json, "{}");
    add_json(o, "webhooks", c->webhooks_json, "{}");
    add_json(o, "rules", c->rules_json, "[]");
    text = cJSON_Print(o);
    out = bb_xasprintf("%s\n", text != NULL ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(o);
    return out;
}
