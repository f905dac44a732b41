/* SPDX-License-Identifier: MIT */
/* config: defaults, JSON configuration file (cJSON) and flag helpers. */
#include "config.h"
#include "bb_err.h"
#include "bb_mem.h"
#include "store_key.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = bb_xstrdup(v);
}

void config_init(struct config *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    c->max_skew_s = 15 * 60;
    c->watcher_enabled = 1;
    c->consumers_enabled = 1;
    c->vhost_domains[0] = bb_xstrdup("localhost");
    c->vhost_domains[1] = bb_xstrdup("s3.localhost");
    c->nvhost_domains = 2;
    c->https_enabled = 1;
    c->https_host = bb_xstrdup("127.0.0.1");
    c->https_port = 4567;
    c->http_max_connections = 16384;
    c->http_head_timeout_s = 15;
    c->http_body_timeout_s = 60;
    c->http_idle_timeout_s = 120;
    if (config_apply_json(c, config_default_json, strlen(config_default_json), err,
                          sizeof(err)) < 0) {
        fprintf(stderr, "embedded default configuration is invalid: %s\n", err);
        abort();
    }
}

void config_cleanup(struct config *c)
{
    free(c->listen_host);
    free(c->data_dir);
    free(c->region);
    free(c->account_id);
    free(c->access_key);
    free(c->secret_key);
    free(c->log_level);
    free(c->rules_json);
    free(c->functions_json);
    free(c->webhooks_json);
    free(c->ws_token);
    free(c->watcher_ignore_json);
    free(c->consumers_json);
    for (size_t i = 0; i < c->nbuckets; i++)
        free(c->buckets[i].name);
    for (size_t i = 0; i < c->nvhost_domains; i++)
        free(c->vhost_domains[i]);
    free(c->https_host);
    memset(c, 0, sizeof(*c));
}

int config_set_listen(struct config *c, const char *spec, char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    const char *port_s = colon ? colon + 1 : spec;
    char *end = NULL;
    long port;

    errno = 0;
    port = strtol(port_s, &end, 10);
    if (errno != 0 || end == port_s || *end != '\0' || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen: bad port in \"%s\" (want HOST:PORT)", spec);
        return BB_EINVAL;
    }
    c->listen_port = (int)port;
    if (colon != NULL && colon != spec) {
        size_t hl = (size_t)(colon - spec);
        char *host = bb_xstrndup(spec, hl);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
            memmove(host, host + 1, hl - 2);
            host[hl - 2] = '\0';
        }
        free(c->listen_host);
        c->listen_host = host;
    } else if (c->listen_host == NULL) {
        c->listen_host = bb_xstrdup("127.0.0.1");
    }
    return BB_OK;
}

int config_set_auth(struct config *c, const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');

    if (strcmp(spec, "none") == 0) {
        c->auth_enabled = 0;
        return BB_OK;
    }
    if (colon == NULL || colon == spec || colon[1] == '\0') {
        snprintf(err, errlen, "auth: want ACCESS_KEY:SECRET_KEY or none, got \"%s\"", spec);
        return BB_EINVAL;
    }
    free(c->access_key);
    c->access_key = bb_xstrndup(spec, (size_t)(colon - spec));
    set_str(&c->secret_key, colon + 1);
    c->auth_enabled = 1;
    return BB_OK;
}

static int want_string(const cJSON *v, const char *key, char *err, size_t errlen)
{
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        snprintf(err, errlen, "%s: must be a non-empty string", key);
        return BB_EINVAL;
    }
    return BB_OK;
}

static int apply_buckets(struct config *c, const cJSON *arr, char *err, size_t errlen)
{
    const cJSON *b;
    size_t n = 0;

    if (!cJSON_IsArray(arr)) {
        snprintf(err, errlen, "buckets: must be an array");
        return BB_EINVAL;
    }
    for (size_t i = 0; i < c->nbuckets; i++)
        free(c->buckets[i].name);
    c->nbuckets = 0;
    cJSON_ArrayForEach(b, arr)
    {
        const cJSON *f;
        const char *why = NULL;
        const char *name = NULL;
        int eb = 1;
        if (n == CONFIG_MAX_BUCKETS) {
            snprintf(err, errlen, "buckets: more than %d buckets", CONFIG_MAX_BUCKETS);
            return BB_EINVAL;
        }
        if (cJSON_IsString(b)) {
            name = b->valuestring;
        } else if (cJSON_IsObject(b)) {
            cJSON_ArrayForEach(f, b)
            {
                if (strcmp(f->string, "name") == 0 && cJSON_IsString(f)) {
                    name = f->valuestring;
                } else if (strcmp(f->string, "eventbridge") == 0 && cJSON_IsBool(f)) {
                    eb = cJSON_IsTrue(f);
                } else {
                    snprintf(err, errlen, "buckets[%zu].%s: unknown key or bad value", n,
                             f->string);
                    return BB_EINVAL;
                }
            }
        }
        if (name == NULL) {
            snprintf(err, errlen, "buckets[%zu]: want a name string or {\"name\": ...}", n);
            return BB_EINVAL;
        }
        if (store_key_check_bucket(name, &why) < 0) {
            snprintf(err, errlen, "buckets[%zu].name: \"%s\": %s", n, name, why);
            return BB_EINVAL;
        }
        c->buckets[n].name = bb_xstrdup(name);
        c->buckets[n].eventbridge = eb;
        c->nbuckets = ++n;
    }
    return BB_OK;
}

/* "virtual_host_domains": ["localhost", "s3.localhost"] */
static int apply_vhost_domains(struct config *c, const cJSON *arr, char *err, size_t errlen)
{
    const cJSON *d;
    size_t n = 0;

    if (!cJSON_IsArray(arr)) {
        snprintf(err, errlen, "virtual_host_domains: must be an array of host names");
        return BB_EINVAL;
    }
    cJSON_ArrayForEach(d, arr)
    {
        const char *v = cJSON_IsString(d) ? d->valuestring : NULL;
        size_t len = v ? strlen(v) : 0;
        if (n == CONFIG_MAX_VHOST_DOMAINS) {
            snprintf(err, errlen, "virtual_host_domains: at most %d domains",
                     CONFIG_MAX_VHOST_DOMAINS);
            return BB_EINVAL;
        }
        if (len == 0 || len > 200 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-.") != len ||
            v[0] == '.' || v[0] == '-' || v[len - 1] == '.' || strstr(v, "..") != NULL) {
            snprintf(err, errlen,
                     "virtual_host_domains[%zu]: want a lowercase host name such as "
                     "\"s3.localhost\"",
                     n);
            return BB_EINVAL;
        }
        n++;
    }
    for (size_t i = 0; i < c->nvhost_domains; i++)
        free(c->vhost_domains[i]);
    c->nvhost_domains = 0;
    cJSON_ArrayForEach(d, arr)
    {
        c->vhost_domains[c->nvhost_domains++] = bb_xstrdup(d->valuestring);
    }
    return BB_OK;
}

/* "https": {"enabled": true, "listen": "127.0.0.1:4567"} */
static int apply_https(struct config *c, const cJSON *obj, char *err, size_t errlen)
{
    const cJSON *f;

    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "https: must be an object");
        return BB_EINVAL;
    }
    cJSON_ArrayForEach(f, obj)
    {
        if (strcmp(f->string, "enabled") == 0 && cJSON_IsBool(f)) {
            c->https_enabled = cJSON_IsTrue(f);
        } else if (strcmp(f->string, "listen") == 0 && cJSON_IsString(f)) {
            struct config tmp;
            memset(&tmp, 0, sizeof(tmp));
            if (config_set_listen(&tmp, f->valuestring, err, errlen) < 0) {
                free(tmp.listen_host);
                snprintf(err, errlen, "https.listen: want \"HOST:PORT\", got \"%s\"",
                         f->valuestring);
                return BB_EINVAL;
            }
            free(c->https_host);
            c->https_host = tmp.listen_host;
            c->https_port = tmp.listen_port;
        } else {
            snprintf(err, errlen, "https.%s: unknown key or bad value", f->string);
            return BB_EINVAL;
        }
    }
    c->https_explicit = 1;
    return BB_OK;
}

static void set_json(char **dst, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    free(*dst);
    *dst = bb_xstrdup(text);
    cJSON_free(text);
}

static int want_number(const cJSON *v, const char *key, double lo, double hi, char *err,
                       size_t errlen)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
        snprintf(err, errlen, "%s: want a number from %g to %g", key, lo, hi);
        return BB_EINVAL;
    }
    return BB_OK;
}

static int apply_http(struct config *c, const cJSON *obj, char *err, size_t errlen)
{
    const struct {
        const char *key;
        double lo, hi;
        int *dst;
    } fields[] = {
        {"max_connections", 1, 1000000, &c->http_max_connections},
        {"head_timeout_seconds", 1, 3600, &c->http_head_timeout_s},
        {"body_timeout_seconds", 1, 3600, &c->http_body_timeout_s},
        {"idle_timeout_seconds", 1, 86400, &c->http_idle_timeout_s},
    };
    const size_t nfields = sizeof(fields) / sizeof(fields[0]);
    const cJSON *f;

    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "http: must be an object");
        return BB_EINVAL;
    }
    cJSON_ArrayForEach(f, obj)
    {
        size_t i = 0;
        while (i < nfields && strcmp(f->string, fields[i].key) != 0)
            i++;
        if (i == nfields) {
            snprintf(err, errlen, "http.%s: unknown key", f->string);
            return BB_EINVAL;
        }
        char name[64];
        snprintf(name, sizeof(name), "http.%s", fields[i].key);
        if (want_number(f, name, fields[i].lo, fields[i].hi, err, errlen) < 0)
            return BB_EINVAL;
        *fields[i].dst = (int)f->valuedouble;
    }
    return BB_OK;
}

static int apply_eventbridge(struct config *c, const cJSON *obj, char *err, size_t errlen)
{
    const cJSON *v;
    int rc = BB_OK;

    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "eventbridge: must be an object");
        return BB_EINVAL;
    }
    cJSON_ArrayForEach(v, obj)
    {
        const char *k = v->string;
        char name[96];
        snprintf(name, sizeof(name), "eventbridge.%s", k);
        if (strcmp(k, "key_encoding") == 0) {
            if (cJSON_IsString(v) && (strcmp(v->valuestring, "form") == 0 ||
                                      strcmp(v->valuestring, "raw") == 0)) {
                c->key_encoding_raw = strcmp(v->valuestring, "raw") == 0;
            } else {
                snprintf(err, errlen, "%s: want \"form\" or \"raw\"", name);
                rc = BB_EINVAL;
            }
        } else if (strcmp(k, "retry_time_scale") == 0) {
            rc = want_number(v, name, 0, 1000, err, errlen);
            if (rc == BB_OK)
                c->retry_time_scale = v->valuedouble;
        } else if (strcmp(k, "max_put_events_bytes") == 0) {
            rc = want_number(v, name, 1024, 1024 * 1024, err, errlen);
            if (rc == BB_OK)
                c->max_put_events_bytes = (long)v->valuedouble;
        } else if (strcmp(k, "retention_days") == 0) {
            rc = want_number(v, name, 0, 36500, err, errlen);
            if (rc == BB_OK)
                c->retention_days = (long)v->valuedouble;
        } else if (strcmp(k, "retention_events") == 0) {
            rc = want_number(v, name, 0, 1e12, err, errlen);
            if (rc == BB_OK)
                c->retention_events = (long)v->valuedouble;
        } else if (strcmp(k, "websocket_token") == 0) {
            rc = want_string(v, name, err, errlen);
            if (rc == BB_OK)
                set_str(&c->ws_token, v->valuestring);
        } else if (strcmp(k, "command_timeout_seconds") == 0) {
            rc = want_number(v, name, 1, 86400, err, errlen);
            if (rc == BB_OK)
                c->command_timeout_s = (int)v->valuedouble;
        } else {
            snprintf(err, errlen, "%s: unknown key", name);
            rc = BB_EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    return BB_OK;
}

int config_apply_json(struct config *c, const char *json, size_t len, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *v;
    int rc = BB_OK;

    if (root == NULL || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        snprintf(err, errlen, "not a JSON object (error near offset %ld)",
                 at && at >= json && at <= json + len ? (long)(at - json) : -1L);
        rc = BB_EINVAL;
        goto out;
    }
    cJSON_ArrayForEach(v, root)
    {
        const char *k = v->string;
        if (strcmp(k, "listen") == 0) {
            rc = want_string(v, k, err, errlen);
            if (rc == BB_OK)
                rc = config_set_listen(c, v->valuestring, err, errlen);
        } else if (strcmp(k, "data_dir") == 0 || strcmp(k, "region") == 0 ||
                   strcmp(k, "log_level") == 0 || strcmp(k, "account_id") == 0) {
            rc = want_string(v, k, err, errlen);
            if (rc == BB_OK && strcmp(k, "log_level") == 0 &&
                strcmp(v->valuestring, "error") != 0 && strcmp(v->valuestring, "warn") != 0 &&
                strcmp(v->valuestring, "info") != 0 && strcmp(v->valuestring, "debug") != 0) {
                snprintf(err, errlen, "log_level: want error, warn, info or debug");
                rc = BB_EINVAL;
            }
            if (rc == BB_OK && strcmp(k, "account_id") == 0 &&
                (strlen(v->valuestring) != 12 ||
                 strspn(v->valuestring, "0123456789") != 12)) {
                snprintf(err, errlen, "account_id: want 12 digits");
                rc = BB_EINVAL;
            }
            if (rc == BB_OK) {
                char **dst = strcmp(k, "data_dir") == 0   ? &c->data_dir
                             : strcmp(k, "region") == 0   ? &c->region
                             : strcmp(k, "log_level") == 0 ? &c->log_level
                                                           : &c->account_id;
                set_str(dst, v->valuestring);
            }
        } else if (strcmp(k, "auth") == 0) {
            if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) {
                c->auth_enabled = 0;
            } else if (cJSON_IsObject(v)) {
                const cJSON *ak = cJSON_GetObjectItemCaseSensitive(v, "access_key");
                const cJSON *sk = cJSON_GetObjectItemCaseSensitive(v, "secret_key");
                const cJSON *f;
                cJSON_ArrayForEach(f, v)
                {
                    if (strcmp(f->string, "access_key") != 0 &&
                        strcmp(f->string, "secret_key") != 0) {
                        snprintf(err, errlen, "auth.%s: unknown key", f->string);
                        rc = BB_EINVAL;
                        goto out;
                    }
                }
                rc = want_string(ak, "auth.access_key", err, errlen);
                if (rc == BB_OK)
                    rc = want_string(sk, "auth.secret_key", err, errlen);
                if (rc == BB_OK) {
                    set_str(&c->access_key, ak->valuestring);
                    set_str(&c->secret_key, sk->valuestring);
                    c->auth_enabled = 1;
                }
            } else {
                snprintf(err, errlen, "auth: want \"none\" or {\"access_key\", \"secret_key\"}");
                rc = BB_EINVAL;
            }
        } else if (strcmp(k, "durability") == 0) {
            if (cJSON_IsString(v) && strcmp(v->valuestring, "full") == 0) {
                c->durability_full = 1;
            } else if (cJSON_IsString(v) && strcmp(v->valuestring, "fast") == 0) {
                c->durability_full = 0;
            } else {
                snprintf(err, errlen, "durability: want \"fast\" or \"full\"");
                rc = BB_EINVAL;
            }
        } else if (strcmp(k, "max_clock_skew_seconds") == 0) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 7 * 86400) {
                snprintf(err, errlen, "max_clock_skew_seconds: want 0..604800");
                rc = BB_EINVAL;
            } else {
                c->max_skew_s = (int)v->valuedouble;
            }
        } else if (strcmp(k, "buckets") == 0) {
            rc = apply_buckets(c, v, err, errlen);
        } else if (strcmp(k, "deterministic") == 0) {
            const cJSON *seed = cJSON_GetObjectItemCaseSensitive(v, "seed");
            const cJSON *off = cJSON_GetObjectItemCaseSensitive(v, "clock_offset_seconds");
            const cJSON *f;
            const cJSON *obj = cJSON_IsObject(v) ? v : NULL;
            if (obj == NULL) {
                snprintf(err, errlen, "deterministic: must be an object");
                rc = BB_EINVAL;
            }
            cJSON_ArrayForEach(f, obj)
            {
                if (strcmp(f->string, "seed") != 0 && strcmp(f->string, "clock_offset_seconds") != 0 &&
                    rc == BB_OK) {
                    snprintf(err, errlen, "deterministic.%s: unknown key", f->string);
                    rc = BB_EINVAL;
                }
            }
            if (rc == BB_OK && seed != NULL) {
                if (!cJSON_IsNumber(seed) || seed->valuedouble < 0) {
                    snprintf(err, errlen, "deterministic.seed: want a non-negative number");
                    rc = BB_EINVAL;
                } else {
                    c->has_seed = 1;
                    c->seed = (uint64_t)seed->valuedouble;
                }
            }
            if (rc == BB_OK && off != NULL)
                rc = want_number(off, "deterministic.clock_offset_seconds", -1e10, 1e10, err,
                                 errlen);
            if (rc == BB_OK && off != NULL)
                c->clock_offset_s = (long)off->valuedouble;
        } else if (strcmp(k, "consumers") == 0) {
            const cJSON *o;
            const cJSON *arr = cJSON_IsArray(v) ? v : NULL;
            size_t i = 0;
            if (arr == NULL) {
                snprintf(err, errlen, "consumers: must be an array");
                rc = BB_EINVAL;
            }
            cJSON_ArrayForEach(o, arr)
            {
                const cJSON *f;
                if (!cJSON_IsObject(o) ||
                    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "name")) ||
                    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "command"))) {
                    snprintf(err, errlen, "consumers[%zu]: want an object with name and command",
                             i);
                    rc = BB_EINVAL;
                    break;
                }
                cJSON_ArrayForEach(f, o)
                {
                    static const char *const keys[] = {"name",        "command",     "args",
                                                       "env",         "group",       "instances",
                                                       "scale_depth", "idle_seconds"};
                    int known = 0;
                    for (size_t k2 = 0; k2 < sizeof(keys) / sizeof(keys[0]); k2++)
                        if (strcmp(f->string, keys[k2]) == 0)
                            known = 1;
                    if (!known && rc == BB_OK) {
                        snprintf(err, errlen, "consumers[%zu].%s: unknown key", i, f->string);
                        rc = BB_EINVAL;
                    }
                    if (known && rc == BB_OK && strcmp(f->string, "idle_seconds") == 0) {
                        char name[64];
                        snprintf(name, sizeof(name), "consumers[%zu].idle_seconds", i);
                        rc = want_number(f, name, 0, 86400, err, errlen);
                    }
                }
                i++;
            }
            if (rc == BB_OK)
                set_json(&c->consumers_json, v);
        } else if (strcmp(k, "watcher") == 0) {
            const cJSON *f;
            const cJSON *obj = cJSON_IsObject(v) ? v : NULL;
            if (obj == NULL) {
                snprintf(err, errlen, "watcher: must be an object");
                rc = BB_EINVAL;
            }
            cJSON_ArrayForEach(f, obj)
            {
                if (strcmp(f->string, "enabled") == 0 && cJSON_IsBool(f)) {
                    c->watcher_enabled = cJSON_IsTrue(f);
                } else if (strcmp(f->string, "ignore") == 0 && cJSON_IsArray(f)) {
                    const cJSON *gl;
                    cJSON_ArrayForEach(gl, f)
                    {
                        if (!cJSON_IsString(gl) && rc == BB_OK) {
                            snprintf(err, errlen, "watcher.ignore: want an array of glob strings");
                            rc = BB_EINVAL;
                        }
                    }
                    if (rc == BB_OK)
                        set_json(&c->watcher_ignore_json, f);
                } else {
                    snprintf(err, errlen, "watcher.%s: unknown key or bad value", f->string);
                    rc = BB_EINVAL;
                }
                if (rc < 0)
                    break;
            }
        } else if (strcmp(k, "eventbridge") == 0) {
            rc = apply_eventbridge(c, v, err, errlen);
        } else if (strcmp(k, "virtual_host_domains") == 0) {
            rc = apply_vhost_domains(c, v, err, errlen);
        } else if (strcmp(k, "https") == 0) {
            rc = apply_https(c, v, err, errlen);
        } else if (strcmp(k, "http") == 0) {
            rc = apply_http(c, v, err, errlen);
        } else if (strcmp(k, "rules") == 0) {
            if (!cJSON_IsArray(v)) {
                snprintf(err, errlen, "rules: must be an array");
                rc = BB_EINVAL;
            } else {
                set_json(&c->rules_json, v);
            }
        } else if (strcmp(k, "functions") == 0 || strcmp(k, "webhooks") == 0) {
            if (!cJSON_IsObject(v)) {
                snprintf(err, errlen, "%s: must be an object", k);
                rc = BB_EINVAL;
            } else {
                set_json(strcmp(k, "functions") == 0 ? &c->functions_json : &c->webhooks_json, v);
            }
        } else {
            snprintf(err, errlen, "%s: unknown key", k);
            rc = BB_EINVAL;
        }
        if (rc < 0)
            goto out;
    }
out:
    cJSON_Delete(root);
    return rc;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;
    int rc;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    buf = bb_xmalloc(CONFIG_MAX_FILE + 1);
    n = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
    if (n > CONFIG_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
        rc = BB_ETOOBIG;
        goto out;
    }
    rc = config_apply_json(c, buf, n, err, errlen);
out:
    fclose(f);
    free(buf);
    return rc;
}
