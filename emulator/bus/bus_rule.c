/* SPDX-License-Identifier: MIT */
/* bus_rule: the rule registry, its persistence and its matching. */
#include "bus_rule.h"
#include "bb_err.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_input.h"
#include "bus_pattern.h"
#include "config.h"
#include "db.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bus_rules {
    struct db *db;
    const struct config *cfg;
    struct bus_ruleset *set;
    struct bus_rule **v; /* sorted by (bus, name) */
    size_t n;
    uint64_t next_rid;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

char *bus_rule_make_arn(const char *region, const char *account, const char *bus, const char *name)
{
    if (strcmp(bus, BUS_DEFAULT) == 0)
        return bb_xasprintf("arn:aws:events:%s:%s:rule/%s", region, account, name);
    return bb_xasprintf("arn:aws:events:%s:%s:rule/%s/%s", region, account, bus, name);
}

enum bus_target_kind bus_target_parse_arn(const char *arn, char **resource)
{
    const char *p;
    *resource = NULL;
    if (strncmp(arn, "http://", 7) == 0 || strncmp(arn, "https://", 8) == 0) {
        *resource = bb_xstrdup(arn);
        return BUS_TARGET_WEBHOOK;
    }
    if (strncmp(arn, "arn:aws:sqs:", 12) == 0) {
        p = strrchr(arn, ':');
        if (p != NULL && p[1] != '\0') {
            *resource = bb_xstrdup(p + 1);
            return BUS_TARGET_QUEUE;
        }
    }
    if (strncmp(arn, "arn:aws:lambda:", 15) == 0) {
        p = strstr(arn, ":function:");
        if (p != NULL && p[10] != '\0') {
            const char *end = strchr(p + 10, ':'); /* a qualifier (version/alias) */
            *resource = end ? bb_xstrndup(p + 10, (size_t)(end - p - 10)) : bb_xstrdup(p + 10);
            return BUS_TARGET_COMMAND;
        }
    }
    if (strncmp(arn, "arn:aws:events:", 15) == 0) {
        p = strstr(arn, ":api-destination/");
        if (p != NULL && p[17] != '\0') {
            const char *end = strchr(p + 17, '/');
            *resource = end ? bb_xstrndup(p + 17, (size_t)(end - p - 17)) : bb_xstrdup(p + 17);
            return BUS_TARGET_WEBHOOK;
        }
    }
    return BUS_TARGET_UNKNOWN;
}

static void target_cleanup(struct bus_target *t)
{
    free(t->id);
    free(t->arn);
    free(t->resource);
    free(t->spec);
    free(t->dlq_arn);
    bus_input_free(t->input);
    memset(t, 0, sizeof(*t));
}

static void rule_free(struct bus_rule *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ntargets; i++)
        target_cleanup(&r->targets[i]);
    free(r->bus);
    free(r->name);
    free(r->arn);
    free(r->pattern_text);
    bus_pattern_free(r->pattern);
    free(r->description);
    free(r->managed_by);
    free(r->origin);
    free(r);
}

void bus_rules_free(struct bus_rules *rs)
{
    if (rs == NULL)
        return;
    bus_ruleset_free(rs->set);
    for (size_t i = 0; i < rs->n; i++)
        rule_free(rs->v[i]);
    free(rs->v);
    free(rs);
}

static int cmp_rule(const struct bus_rule *a, const char *bus, const char *name)
{
    int c = strcmp(a->bus, bus);
    return c != 0 ? c : strcmp(a->name, name);
}

/* Index of (bus, name), or where it would go; *found set. */
static size_t find_pos(struct bus_rules *rs, const char *bus, const char *name, int *found)
{
    size_t lo = 0, hi = rs->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_rule(rs->v[mid], bus, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct bus_rule *bus_rules_find(struct bus_rules *rs, const char *bus, const char *name)
{
    int found;
    size_t i = find_pos(rs, bus, name, &found);
    return found ? rs->v[i] : NULL;
}

struct bus_rule *bus_rules_at(struct bus_rules *rs, size_t i)
{
    return i < rs->n ? rs->v[i] : NULL;
}

size_t bus_rules_count(const struct bus_rules *rs)
{
    return rs->n;
}

struct bus_target *bus_rule_target(struct bus_rule *r, const char *id)
{
    for (size_t i = 0; i < r->ntargets; i++)
        if (strcmp(r->targets[i].id, id) == 0)
            return &r->targets[i];
    return NULL;
}

static int exec_sql(struct bus_rules *rs, const char *sql, const char *const *args, int nargs)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(rs->db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        BB_LOG_ERROR("bus", "prepare failed", "error=\"%s\"", sqlite3_errmsg(rs->db->sql));
        return BB_EDB;
    }
    for (int i = 0; i < nargs; i++) {
        if (args[i] != NULL)
            sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        BB_LOG_ERROR("bus", "sql failed", "error=\"%s\"", sqlite3_errmsg(rs->db->sql));
        return BB_EDB;
    }
    return BB_OK;
}

static int persist_rule(struct bus_rules *rs, const struct bus_rule *r)
{
    char created[32];
    snprintf(created, sizeof(created), "%lld", (long long)r->created_ms);
    const char *args[] = {
        r->bus,         r->name,       r->pattern_text, r->enabled ? "ENABLED" : "DISABLED",
        r->description, r->managed_by, r->origin,       created};
    return exec_sql(rs,
                    "INSERT OR REPLACE INTO rules(bus, name, pattern, state, description,"
                    " managed_by, origin, created_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                    args, 8);
}

static int persist_target(struct bus_rules *rs, const struct bus_rule *r,
                          const struct bus_target *t)
{
    const char *args[] = {r->bus, r->name, t->id, t->arn, t->spec};
    return exec_sql(rs,
                    "INSERT OR REPLACE INTO targets(bus, rule, id, arn, spec)"
                    " VALUES(?1,?2,?3,?4,?5)",
                    args, 5);
}

/* The rules are sorted by (bus, name): a bus's rules are one run. */
static size_t rules_on(struct bus_rules *rs, const char *bus)
{
    int found;
    size_t i = find_pos(rs, bus, "", &found);
    size_t n = 0;
    while (i + n < rs->n && strcmp(rs->v[i + n]->bus, bus) == 0)
        n++;
    return n;
}

int bus_rules_put(struct bus_rules *rs, const char *bus, const char *name, const char *pattern,
                  int enabled, const char *description, const char *origin, const char *managed_by,
                  struct bus_rule **out, const char **code, char *err, size_t errlen)
{
    struct bus_pattern *p = NULL;
    struct bus_rule *r;
    int found;
    size_t pos;
    int rc;

    *code = "ValidationException";
    if (!valid_name(name, 64)) {
        snprintf(err, errlen,
                 "1 validation error detected: Value '%.80s' at 'name' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
                 name);
        return BB_EINVAL;
    }
    if (pattern == NULL) {
        snprintf(err, errlen, "Parameter(s) EventPattern or ScheduleExpression must be specified.");
        return BB_EINVAL;
    }
    if (description != NULL && strlen(description) > 512) {
        snprintf(err, errlen,
                 "1 validation error detected: Value at 'description' failed to satisfy "
                 "constraint: Member must have length less than or equal to 512");
        return BB_EINVAL;
    }
    rc = bus_pattern_compile(pattern, strlen(pattern), &p, err, errlen);
    if (rc < 0) {
        *code = "InvalidEventPatternException";
        return BB_EINVAL;
    }
    pos = find_pos(rs, bus, name, &found);
    if (!found && rules_on(rs, bus) >= BUS_RULE_MAX_RULES) {
        bus_pattern_free(p);
        *code = "LimitExceededException";
        snprintf(err, errlen, "The requested resource exceeds the maximum number allowed.");
        return BB_EINVAL;
    }
    if (found) {
        r = rs->v[pos];
        bus_ruleset_remove(rs->set, r->rid);
        bus_pattern_free(r->pattern);
        free(r->pattern_text);
        free(r->description);
        free(r->origin);
        free(r->managed_by);
    } else {
        r = bb_xcalloc(1, sizeof(*r));
        r->bus = bb_xstrdup(bus);
        r->name = bb_xstrdup(name);
        r->arn = bus_rule_make_arn(rs->cfg->region, rs->cfg->account_id, bus, name);
        r->created_ms = wall_ms();
        rs->v = bb_xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
        memmove(rs->v + pos + 1, rs->v + pos, (rs->n - pos) * sizeof(*rs->v));
        rs->v[pos] = r;
        rs->n++;
    }
    r->pattern = p;
    r->pattern_text = bb_xstrdup(pattern);
    r->enabled = enabled;
    r->description = description ? bb_xstrdup(description) : NULL;
    r->origin = bb_xstrdup(origin);
    r->managed_by = managed_by ? bb_xstrdup(managed_by) : NULL;
    r->rid = ++rs->next_rid;
    bus_ruleset_add(rs->set, r->rid, r->pattern);
    rc = persist_rule(rs, r);
    if (rc < 0) {
        *code = "InternalException";
        snprintf(err, errlen, "The rule could not be stored.");
        return rc;
    }
    if (out != NULL)
        *out = r;
    return BB_OK;
}

int bus_rules_delete(struct bus_rules *rs, struct bus_rule *r, int force)
{
    int found;
    size_t pos;
    const char *args[] = {r->bus, r->name};

    if (r->ntargets > 0 && !force)
        return BB_ECONFLICT;
    pos = find_pos(rs, r->bus, r->name, &found);
    if (!found)
        return BB_ENOTFOUND;
    exec_sql(rs, "DELETE FROM targets WHERE bus=?1 AND rule=?2", args, 2);
    exec_sql(rs, "DELETE FROM rules WHERE bus=?1 AND name=?2", args, 2);
    bus_ruleset_remove(rs->set, r->rid);
    memmove(rs->v + pos, rs->v + pos + 1, (rs->n - pos - 1) * sizeof(*rs->v));
    rs->n--;
    rule_free(r);
    return BB_OK;
}

int bus_rules_set_enabled(struct bus_rules *rs, struct bus_rule *r, int enabled)
{
    r->enabled = enabled;
    return persist_rule(rs, r);
}

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int bus_rules_put_target(struct bus_rules *rs, struct bus_rule *r, const cJSON *spec,
                         const char **code, char *err, size_t errlen)
{
    const char *id = json_str(spec, "Id");
    const char *arn = json_str(spec, "Arn");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(spec, "InputTransformer");
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(spec, "RetryPolicy");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(spec, "DeadLetterConfig");
    struct bus_target nt;
    struct bus_target *slot;
    char *paths = NULL;
    int rc;

    *code = "ValidationException";
    memset(&nt, 0, sizeof(nt));
    if (id == NULL || !valid_name(id, 64)) {
        snprintf(err, errlen, "Parameter Id is not valid: want 1-64 of [.-_A-Za-z0-9].");
        return BB_EINVAL;
    }
    if (arn == NULL || arn[0] == '\0' || strlen(arn) > 1600) {
        snprintf(err, errlen, "Parameter Arn is not valid for target %s.", id);
        return BB_EINVAL;
    }
    nt.max_retries = BUS_DEFAULT_MAX_RETRIES;
    nt.max_age_s = BUS_DEFAULT_MAX_AGE_S;
    if (rp != NULL) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(rp, "MaximumRetryAttempts");
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(rp, "MaximumEventAgeInSeconds");
        if (a != NULL) {
            if (!cJSON_IsNumber(a) || a->valuedouble < 0 || a->valuedouble > 185) {
                snprintf(err, errlen, "RetryPolicy.MaximumRetryAttempts must be 0 to 185.");
                return BB_EINVAL;
            }
            nt.max_retries = (int)a->valuedouble;
        }
        if (g != NULL) {
            if (!cJSON_IsNumber(g) || g->valuedouble < 60 || g->valuedouble > 86400) {
                snprintf(err, errlen, "RetryPolicy.MaximumEventAgeInSeconds must be 60 to 86400.");
                return BB_EINVAL;
            }
            nt.max_age_s = (int)g->valuedouble;
        }
    }
    if (dl != NULL) {
        const char *d = json_str(dl, "Arn");
        if (d == NULL || strncmp(d, "arn:aws:sqs:", 12) != 0) {
            snprintf(err, errlen,
                     "DeadLetterConfig.Arn must be an SQS queue ARN (arn:aws:sqs:...).");
            return BB_EINVAL;
        }
        nt.dlq_arn = bb_xstrdup(d);
    }
    if (tr != NULL) {
        const cJSON *pm = cJSON_GetObjectItemCaseSensitive(tr, "InputPathsMap");
        if (pm != NULL)
            paths = cJSON_PrintUnformatted(pm);
    }
    rc = bus_input_compile(id, json_str(spec, "Input"), json_str(spec, "InputPath"), paths,
                           tr ? json_str(tr, "InputTemplate") : NULL, &nt.input, err, errlen);
    if (paths != NULL)
        cJSON_free(paths);
    if (rc < 0) {
        free(nt.dlq_arn);
        return BB_EINVAL;
    }
    slot = bus_rule_target(r, id);
    if (slot == NULL) {
        if (r->ntargets == BUS_RULE_MAX_TARGETS) {
            bus_input_free(nt.input);
            free(nt.dlq_arn);
            *code = "LimitExceededException";
            snprintf(err, errlen, "The requested resource exceeds the maximum number allowed.");
            return BB_ETOOBIG;
        }
        slot = &r->targets[r->ntargets++];
    } else {
        target_cleanup(slot);
    }
    char *text = cJSON_PrintUnformatted(spec);
    nt.spec = bb_xstrdup(text);
    cJSON_free(text);
    nt.id = bb_xstrdup(id);
    nt.arn = bb_xstrdup(arn);
    nt.kind = bus_target_parse_arn(arn, &nt.resource);
    *slot = nt;
    rc = persist_target(rs, r, slot);
    if (rc < 0) {
        *code = "InternalException";
        snprintf(err, errlen, "The target could not be stored.");
    }
    return rc;
}

int bus_rules_remove_target(struct bus_rules *rs, struct bus_rule *r, const char *id)
{
    const char *args[] = {r->bus, r->name, id};
    for (size_t i = 0; i < r->ntargets; i++) {
        if (strcmp(r->targets[i].id, id) != 0)
            continue;
        target_cleanup(&r->targets[i]);
        memmove(&r->targets[i], &r->targets[i + 1], (r->ntargets - i - 1) * sizeof(r->targets[0]));
        r->ntargets--;
        return exec_sql(rs, "DELETE FROM targets WHERE bus=?1 AND rule=?2 AND id=?3", args, 3);
    }
    return BB_ENOTFOUND;
}

struct match_ctx {
    struct bus_rules *rs;
    const char *bus;
    bus_rules_match_cb *cb;
    void *arg;
};

static struct bus_rule *by_rid(struct bus_rules *rs, uint64_t rid)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->v[i]->rid == rid)
            return rs->v[i];
    return NULL;
}

static int on_match(void *arg, uint64_t rid)
{
    struct match_ctx *m = arg;
    struct bus_rule *r = by_rid(m->rs, rid);
    if (r == NULL || !r->enabled || strcmp(r->bus, m->bus) != 0)
        return 0;
    return m->cb(m->arg, r);
}

int bus_rules_match(struct bus_rules *rs, const char *bus, const cJSON *event,
                    bus_rules_match_cb *cb, void *arg)
{
    struct match_ctx m = {rs, bus, cb, arg};
    return bus_ruleset_match(rs->set, event, on_match, &m);
}

/* Loads one rule object of the configuration (API shape). */
static int load_config_rule(struct bus_rules *rs, const cJSON *o, size_t idx, char *err,
                            size_t errlen)
{
    const char *name = json_str(o, "Name");
    const char *state = json_str(o, "State");
    const char *bus = json_str(o, "EventBusName");
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "EventPattern");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(o, "Targets");
    const cJSON *f;
    const char *code;
    char msg[512];
    char *ptext = NULL;
    struct bus_rule *r = NULL;
    int rc;

    cJSON_ArrayForEach(f, o)
    {
        if (strcmp(f->string, "Name") != 0 && strcmp(f->string, "State") != 0 &&
            strcmp(f->string, "EventBusName") != 0 && strcmp(f->string, "EventPattern") != 0 &&
            strcmp(f->string, "Targets") != 0 && strcmp(f->string, "Description") != 0) {
            snprintf(err, errlen, "rules[%zu].%s: unknown key", idx, f->string);
            return BB_EINVAL;
        }
    }
    if (name == NULL) {
        snprintf(err, errlen, "rules[%zu].Name: required string", idx);
        return BB_EINVAL;
    }
    if (state != NULL && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0) {
        snprintf(err, errlen, "rules[%zu].State: want ENABLED or DISABLED", idx);
        return BB_EINVAL;
    }
    if (cJSON_IsString(pat)) {
        ptext = bb_xstrdup(pat->valuestring);
    } else if (cJSON_IsObject(pat)) {
        char *t = cJSON_PrintUnformatted(pat);
        ptext = bb_xstrdup(t);
        cJSON_free(t);
    } else {
        snprintf(err, errlen, "rules[%zu].EventPattern: required (a JSON object or its text)", idx);
        return BB_EINVAL;
    }
    /* a configured rule replaces what a previous start left, targets too */
    r = bus_rules_find(rs, bus ? bus : BUS_DEFAULT, name);
    if (r != NULL)
        bus_rules_delete(rs, r, 1);
    rc = bus_rules_put(rs, bus ? bus : BUS_DEFAULT, name, ptext,
                       state == NULL || strcmp(state, "ENABLED") == 0, json_str(o, "Description"),
                       "config", NULL, &r, &code, msg, sizeof(msg));
    free(ptext);
    if (rc < 0) {
        snprintf(err, errlen, "rules[%zu].EventPattern: %s", idx, msg);
        return BB_EINVAL;
    }
    if (targets != NULL && !cJSON_IsArray(targets)) {
        snprintf(err, errlen, "rules[%zu].Targets: must be an array", idx);
        return BB_EINVAL;
    }
    size_t ti = 0;
    cJSON_ArrayForEach(f, targets)
    {
        rc = bus_rules_put_target(rs, r, f, &code, msg, sizeof(msg));
        if (rc < 0) {
            snprintf(err, errlen, "rules[%zu].Targets[%zu]: %s", idx, ti, msg);
            return BB_EINVAL;
        }
        ti++;
    }
    return BB_OK;
}

static int load_db(struct bus_rules *rs)
{
    sqlite3_stmt *st = NULL;
    const char *code;
    char msg[512];
    int rc = BB_OK;

    if (sqlite3_prepare_v2(rs->db->sql,
                           "SELECT bus, name, pattern, state, description, origin, managed_by"
                           " FROM rules ORDER BY bus, name",
                           -1, &st, NULL) != SQLITE_OK)
        return BB_EDB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *bus = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *pat = (const char *)sqlite3_column_text(st, 2);
        const char *state = (const char *)sqlite3_column_text(st, 3);
        if (bus_rules_put(
                rs, bus, name, pat, state && strcmp(state, "ENABLED") == 0,
                (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
                (const char *)sqlite3_column_text(st, 6), NULL, &code, msg, sizeof(msg)) < 0)
            BB_LOG_WARN("bus", "stored rule dropped", "rule=%s error=\"%s\"", name, msg);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(rs->db->sql, "SELECT bus, rule, spec FROM targets", -1, &st, NULL) !=
        SQLITE_OK)
        return BB_EDB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct bus_rule *r = bus_rules_find(rs, (const char *)sqlite3_column_text(st, 0),
                                            (const char *)sqlite3_column_text(st, 1));
        cJSON *spec = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        if (r != NULL && spec != NULL &&
            bus_rules_put_target(rs, r, spec, &code, msg, sizeof(msg)) < 0)
            BB_LOG_WARN("bus", "stored target dropped", "rule=%s error=\"%s\"", r->name, msg);
        cJSON_Delete(spec);
    }
    sqlite3_finalize(st);
    return rc;
}

int bus_rules_load(struct db *db, const struct config *cfg, struct bus_rules **out, char *err,
                   size_t errlen)
{
    struct bus_rules *rs = bb_xcalloc(1, sizeof(*rs));
    cJSON *rules = NULL;
    const cJSON *o;
    size_t i = 0;
    int rc;

    rs->db = db;
    rs->cfg = cfg;
    rs->set = bus_ruleset_new();
    rc = db_begin(db);
    if (rc < 0)
        goto out;
    rc = load_db(rs);
    if (rc < 0)
        goto out;
    /* configured rules that the file no longer names are removed */
    for (size_t k = 0; k < rs->n;) {
        if (strcmp(rs->v[k]->origin, "config") == 0)
            bus_rules_delete(rs, rs->v[k], 1);
        else
            k++;
    }
    rules = cJSON_Parse(cfg->rules_json ? cfg->rules_json : "[]");
    cJSON_ArrayForEach(o, rules)
    {
        if (!cJSON_IsObject(o)) {
            snprintf(err, errlen, "rules[%zu]: must be an object", i);
            rc = BB_EINVAL;
            goto out;
        }
        rc = load_config_rule(rs, o, i, err, errlen);
        if (rc < 0)
            goto out;
        i++;
    }
    rc = db_commit(db);
out:
    cJSON_Delete(rules);
    if (rc < 0) {
        db_rollback(db);
        bus_rules_free(rs);
        rs = NULL;
    }
    *out = rs;
    return rc;
}
