/* SPDX-License-Identifier: MIT */
/* bus_api: EventBridge JSON 1.1 operations -> bus calls. */
#include "bus_api.h"
#include "bb_err.h"
#include "bb_hash.h"
#include "bb_log.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_archive.h"
#include "bus_event.h"
#include "bus_eventbus.h"
#include "bus_notify.h"
#include "bus_pattern.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"
#include "http_conn.h"
#include "s3_handler.h"
#include "server.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_ERR_LEN 1024
#define LIST_MAX 100

struct api_call {
    struct s3_req *q;
    struct bus *bus;
    const struct config *cfg;
    const cJSON *req;
    cJSON *resp;
    const char *code; /* error __type; NULL on success */
    char err[API_ERR_LEN];
};

int bus_api_is_call(const struct http_req *r)
{
    size_t n = 0;
    const char *t = http_head_get(&r->head, "x-amz-target", &n);
    return t != NULL && n > 10 && strncmp(t, "AWSEvents.", 10) == 0 && r->head.method_len == 4 &&
           memcmp(r->head.method, "POST", 4) == 0 && r->head.path_len == 1;
}

static void reply(struct s3_req *q, int status, cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    http_resp_header(q->http, "Content-Type", "application/x-amz-json-1.1");
    http_resp_header(q->http, "x-amzn-RequestId", "%s", q->http->request_id);
    http_resp_body(q->http, bb_xstrdup(text), strlen(text));
    cJSON_free(text);
    http_resp_send(q->http, status);
}

static void reply_error(struct s3_req *q, const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "__type", type);
    cJSON_AddStringToObject(o, "message", message);
    reply(q, strcmp(type, "InternalException") == 0 ? 500 : 400, o);
    cJSON_Delete(o);
}

static int fail(struct api_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct api_call *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    c->code = code;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return BB_EINVAL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The bus named by @key (a name or an ARN; the default bus when absent),
 * or NULL when there is no such bus. The name is the registry's. */
static const char *bus_name(struct api_call *c, const char *key)
{
    const char *v = jstr(c->req, key);
    const struct bus_eventbus *e;
    if (v == NULL)
        return BUS_DEFAULT;
    e = bus_eventbuses_find(bus_get_eventbuses(c->bus), bus_eventbus_name_of(v));
    return e != NULL ? e->name : NULL;
}

static int need_bus(struct api_call *c, const char **bus)
{
    *bus = bus_name(c, "EventBusName");
    if (*bus == NULL)
        return fail(c, "ResourceNotFoundException", "Event bus %s does not exist.",
                    bus_eventbus_name_of(jstr(c->req, "EventBusName")));
    return BB_OK;
}

static int need_rule(struct api_call *c, const char *key, struct bus_rule **out)
{
    const char *bus;
    const char *name = jstr(c->req, key);
    if (need_bus(c, &bus) < 0)
        return BB_EINVAL;
    if (name == NULL)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value null at '%s' failed to satisfy "
                    "constraint: Member must not be null",
                    strcmp(key, "Name") == 0 ? "name" : "rule");
    *out = bus_rules_find(bus_get_rules(c->bus), bus, name);
    if (*out == NULL)
        return fail(c, "ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name,
                    bus);
    return BB_OK;
}

static int op_put_events(struct api_call *c)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(c->req, "Entries");
    const cJSON *e;
    struct db *db = bus_db(c->bus);
    cJSON *out;
    int n = cJSON_GetArraySize(entries);
    size_t total = 0;
    int failed = 0;
    int rc;

    if (!cJSON_IsArray(entries) || n < 1)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'entries' failed to satisfy "
                    "constraint: Member must have length greater than or equal to 1");
    if (n > 10)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value '[...]' at 'entries' failed to satisfy "
                    "constraint: Member must have length less than or equal to 10");
    cJSON_ArrayForEach(e, entries) total += bus_event_entry_size(e);
    if (total > (size_t)c->cfg->max_put_events_bytes)
        return fail(c, "ValidationException",
                    "Total size of the entries in the request is over the limit.");
    rc = db_begin(db);
    if (rc < 0)
        return fail(c, "InternalException", "The journal is not available.");
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(e, entries)
    {
        struct bus_event_env env;
        char id[37];
        char *json = NULL;
        const char *bus = NULL, *code = NULL, *msg = NULL;
        cJSON *r = cJSON_CreateObject();

        bus_event_uuid(id);
        env.id = id;
        env.account = c->cfg->account_id;
        env.region = c->cfg->region;
        env.time_s = bus_now_ms(c->bus) / 1000;
        env.key_encoding = BUS_KEY_FORM;
        if (!cJSON_IsObject(e) || bus_event_from_entry(e, &env, &json, &bus, &code, &msg) < 0) {
            cJSON_AddStringToObject(r, "ErrorCode", code ? code : "InvalidArgument");
            cJSON_AddStringToObject(r, "ErrorMessage", msg ? msg : "The entry is not valid.");
            failed++;
        } else {
            const char *bn = bus_eventbus_name_of(bus);
            const struct bus_eventbus *eb = bus_eventbuses_find(bus_get_eventbuses(c->bus), bn);
            /* an entry for a bus that does not exist gets an id and is
             * dropped, as AWS does; the log says so */
            if (eb == NULL)
                BB_LOG_WARN("events", "event for an unknown bus dropped",
                            "req=%s bus=\"%.256s\" id=%s", c->q->http->request_id, bn, id);
            if (eb != NULL &&
                bus_publish(c->bus, eb->name, json, strlen(json), NULL, NULL, NULL) < 0) {
                cJSON_AddStringToObject(r, "ErrorCode", "InternalFailure");
                cJSON_AddStringToObject(r, "ErrorMessage", "The event could not be journalled.");
                failed++;
            } else {
                cJSON_AddStringToObject(r, "EventId", id);
            }
        }
        free(json);
        cJSON_AddItemToArray(out, r);
    }
    if (db_commit(db) < 0) {
        db_rollback(db);
        cJSON_Delete(out);
        return fail(c, "InternalException", "The journal commit failed.");
    }
    bus_kick(c->bus);
    c->resp = cJSON_CreateObject();
    cJSON_AddNumberToObject(c->resp, "FailedEntryCount", failed);
    cJSON_AddItemToObject(c->resp, "Entries", out);
    return BB_OK;
}

/* EventPattern arrives as a string of JSON. */
static int op_put_rule(struct api_call *c)
{
    const char *bus;
    const char *name = jstr(c->req, "Name");
    const char *pattern = jstr(c->req, "EventPattern");
    const char *state = jstr(c->req, "State");
    struct bus_rule *r = NULL;
    const char *code;
    int rc;

    if (need_bus(c, &bus) < 0)
        return BB_EINVAL;
    if (name == NULL)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value null at 'name' failed to satisfy "
                    "constraint: Member must not be null");
    if (pattern != NULL && strlen(pattern) > 4096)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'eventPattern' failed to satisfy "
                    "constraint: Member must have length less than or equal to 4096");
    if (jstr(c->req, "ScheduleExpression") != NULL)
        return fail(c, "ValidationException",
                    "ScheduleExpression is not supported by bucketbridge; use EventPattern.");
    if (state != NULL && strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value '%s' at 'state' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
                    state);
    r = bus_rules_find(bus_get_rules(c->bus), bus, name);
    if (r != NULL && r->managed_by != NULL)
        return fail(c, "ManagedRuleException", "Rule %s is managed by %s.", name, r->managed_by);
    if (db_begin(bus_db(c->bus)) < 0)
        return fail(c, "InternalException", "The rules are not available.");
    rc = bus_rules_put(bus_get_rules(c->bus), bus, name, pattern,
                       state == NULL || strcmp(state, "ENABLED") == 0, jstr(c->req, "Description"),
                       "api", NULL, &r, &code, c->err, sizeof(c->err));
    if (rc < 0 || db_commit(bus_db(c->bus)) < 0) {
        db_rollback(bus_db(c->bus));
        c->code = rc < 0 ? code : "InternalException";
        return BB_EINVAL;
    }
    c->resp = cJSON_CreateObject();
    cJSON_AddStringToObject(c->resp, "RuleArn", r->arn);
    return BB_OK;
}

static cJSON *rule_json(const struct bus_rule *r, int full)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Name", r->name);
    cJSON_AddStringToObject(o, "Arn", r->arn);
    if (r->pattern_text)
        cJSON_AddStringToObject(o, "EventPattern", r->pattern_text);
    cJSON_AddStringToObject(o, "State", r->enabled ? "ENABLED" : "DISABLED");
    if (r->description)
        cJSON_AddStringToObject(o, "Description", r->description);
    if (r->managed_by)
        cJSON_AddStringToObject(o, "ManagedBy", r->managed_by);
    cJSON_AddStringToObject(o, "EventBusName", r->bus);
    if (full)
        cJSON_AddStringToObject(o, "CreatedBy", "000000000000");
    return o;
}

static int op_describe_rule(struct api_call *c)
{
    struct bus_rule *r;
    if (need_rule(c, "Name", &r) < 0)
        return BB_EINVAL;
    c->resp = rule_json(r, 1);
    cJSON_ReplaceItemInObject(c->resp, "CreatedBy", cJSON_CreateString(c->cfg->account_id));
    return BB_OK;
}

static int parse_token(const char *tok)
{
    if (tok == NULL)
        return 0;
    long v = strtol(tok, NULL, 10);
    return v > 0 && v < 1000000 ? (int)v : 0;
}

static int op_list_rules(struct api_call *c)
{
    const char *bus;
    const char *prefix = jstr(c->req, "NamePrefix");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(c->req, "Limit");
    int limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : LIST_MAX;
    int skip = parse_token(jstr(c->req, "NextToken"));
    struct bus_rules *rs = bus_get_rules(c->bus);
    cJSON *arr = cJSON_CreateArray();
    int seen = 0, added = 0;
    size_t i;

    if (need_bus(c, &bus) < 0) {
        cJSON_Delete(arr);
        return BB_EINVAL;
    }
    if (limit < 1 || limit > LIST_MAX)
        limit = LIST_MAX;
    for (i = 0; i < bus_rules_count(rs); i++) {
        struct bus_rule *r = bus_rules_at(rs, i);
        if (strcmp(r->bus, bus) != 0 || (prefix && strncmp(r->name, prefix, strlen(prefix)) != 0))
            continue;
        if (seen++ < skip)
            continue;
        if (added == limit)
            break;
        cJSON_AddItemToArray(arr, rule_json(r, 0));
        added++;
    }
    c->resp = cJSON_CreateObject();
    cJSON_AddItemToObject(c->resp, "Rules", arr);
    if (i < bus_rules_count(rs) && added == limit) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%d", skip + added);
        cJSON_AddStringToObject(c->resp, "NextToken", tok);
    }
    return BB_OK;
}

static int op_delete_rule(struct api_call *c)
{
    const char *bus;
    struct bus_rule *r;
    const cJSON *force = cJSON_GetObjectItemCaseSensitive(c->req, "Force");
    int rc;

    if (need_bus(c, &bus) < 0)
        return BB_EINVAL;
    r = bus_rules_find(bus_get_rules(c->bus), bus,
                       jstr(c->req, "Name") ? jstr(c->req, "Name") : "");
    c->resp = cJSON_CreateObject();
    if (r == NULL)
        return BB_OK; /* idempotent */
    if (r->managed_by != NULL && !cJSON_IsTrue(force))
        return fail(c, "ManagedRuleException", "Rule %s is managed by %s; use Force.", r->name,
                    r->managed_by);
    db_begin(bus_db(c->bus));
    rc = bus_rules_delete(bus_get_rules(c->bus), r, 0);
    db_commit(bus_db(c->bus));
    if (rc == BB_ECONFLICT)
        return fail(c, "ValidationException", "Rule can't be deleted since it has targets.");
    return BB_OK;
}

static int op_set_state(struct api_call *c, int enabled)
{
    struct bus_rule *r;
    if (need_rule(c, "Name", &r) < 0)
        return BB_EINVAL;
    bus_rules_set_enabled(bus_get_rules(c->bus), r, enabled);
    c->resp = cJSON_CreateObject();
    return BB_OK;
}

static int op_put_targets(struct api_call *c)
{
    struct bus_rule *r;
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(c->req, "Targets");
    const cJSON *t;
    cJSON *failed;
    int nfailed = 0;

    if (need_rule(c, "Rule", &r) < 0)
        return BB_EINVAL;
    if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) < 1 ||
        cJSON_GetArraySize(targets) > 100)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'targets' failed to satisfy "
                    "constraint: Member must have length between 1 and 100");
    if (r->managed_by != NULL)
        return fail(c, "ManagedRuleException", "Rule %s is managed by %s.", r->name, r->managed_by);
    failed = cJSON_CreateArray();
    db_begin(bus_db(c->bus));
    cJSON_ArrayForEach(t, targets)
    {
        const char *code;
        char err[512];
        int rc = bus_rules_put_target(bus_get_rules(c->bus), r, t, &code, err, sizeof(err));
        if (rc == BB_ETOOBIG) {
            db_commit(bus_db(c->bus));
            cJSON_Delete(failed);
            return fail(c, "LimitExceededException", "%s", err);
        }
        if (rc < 0 && strcmp(code, "ValidationException") == 0 && strstr(err, "Id") != NULL) {
            db_rollback(bus_db(c->bus));
            cJSON_Delete(failed);
            return fail(c, "ValidationException", "%s", err);
        }
        if (rc < 0) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "TargetId", jstr(t, "Id") ? jstr(t, "Id") : "");
            cJSON_AddStringToObject(f, "ErrorCode", code);
            cJSON_AddStringToObject(f, "ErrorMessage", err);
            cJSON_AddItemToArray(failed, f);
            nfailed++;
        }
    }
    db_commit(bus_db(c->bus));
    c->resp = cJSON_CreateObject();
    cJSON_AddNumberToObject(c->resp, "FailedEntryCount", nfailed);
    cJSON_AddItemToObject(c->resp, "FailedEntries", failed);
    return BB_OK;
}

static int op_remove_targets(struct api_call *c)
{
    struct bus_rule *r;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c->req, "Ids");
    const cJSON *id;
    cJSON *failed;
    int nfailed = 0;

    if (need_rule(c, "Rule", &r) < 0)
        return BB_EINVAL;
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 1)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'ids' failed to satisfy constraint: "
                    "Member must have length greater than or equal to 1");
    failed = cJSON_CreateArray();
    db_begin(bus_db(c->bus));
    cJSON_ArrayForEach(id, ids)
    {
        if (!cJSON_IsString(id) ||
            bus_rules_remove_target(bus_get_rules(c->bus), r, id->valuestring) < 0) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "TargetId", cJSON_IsString(id) ? id->valuestring : "");
            cJSON_AddStringToObject(f, "ErrorCode", "ResourceNotFoundException");
            cJSON_AddStringToObject(f, "ErrorMessage", "The target does not exist.");
            cJSON_AddItemToArray(failed, f);
            nfailed++;
        }
    }
    db_commit(bus_db(c->bus));
    c->resp = cJSON_CreateObject();
    cJSON_AddNumberToObject(c->resp, "FailedEntryCount", nfailed);
    cJSON_AddItemToObject(c->resp, "FailedEntries", failed);
    return BB_OK;
}

static int op_list_targets(struct api_call *c)
{
    struct bus_rule *r;
    cJSON *arr;
    if (need_rule(c, "Rule", &r) < 0)
        return BB_EINVAL;
    arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->ntargets; i++) {
        cJSON *t = cJSON_Parse(r->targets[i].spec);
        cJSON_AddItemToArray(arr, t ? t : cJSON_CreateObject());
    }
    c->resp = cJSON_CreateObject();
    cJSON_AddItemToObject(c->resp, "Targets", arr);
    return BB_OK;
}

static int op_test_pattern(struct api_call *c)
{
    const char *pattern = jstr(c->req, "EventPattern");
    const char *event = jstr(c->req, "Event");
    static const char *const required[] = {"id",   "account", "source",
                                           "time", "region",  "detail-type"};
    struct bus_pattern *p = NULL;
    cJSON *ev;
    int m;

    if (pattern == NULL || event == NULL)
        return fail(c, "ValidationException", "EventPattern and Event are required.");
    if (bus_pattern_compile(pattern, strlen(pattern), &p, c->err, sizeof(c->err)) < 0) {
        c->code = "InvalidEventPatternException";
        return BB_EINVAL;
    }
    ev = cJSON_Parse(event);
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        bus_pattern_free(p);
        return fail(c, "ValidationException", "Parameter Event is not valid.");
    }
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (cJSON_GetObjectItemCaseSensitive(ev, required[i]) == NULL) {
            cJSON_Delete(ev);
            bus_pattern_free(p);
            return fail(c, "ValidationException",
                        "Parameter Event is not valid. Reason: Provided Event must have "
                        "mandatory fields: %s",
                        required[i]);
        }
    }
    /* the event's text, not its cJSON doubles: numbers compare as AWS does */
    m = bus_pattern_match_text(p, event, strlen(event));
    cJSON_Delete(ev);
    bus_pattern_free(p);
    c->resp = cJSON_CreateObject();
    cJSON_AddBoolToObject(c->resp, "Result", m == 1);
    return BB_OK;
}

static cJSON *eventbus_json(struct api_call *c, const struct bus_eventbus *e)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = bus_eventbus_make_arn(c->cfg->region, c->cfg->account_id, e->name);
    cJSON_AddStringToObject(o, "Name", e->name);
    cJSON_AddStringToObject(o, "Arn", arn);
    if (e->description != NULL)
        cJSON_AddStringToObject(o, "Description", e->description);
    cJSON_AddNumberToObject(o, "CreationTime", (double)e->created_ms / 1000.0);
    cJSON_AddNumberToObject(o, "LastModifiedTime", (double)e->modified_ms / 1000.0);
    free(arn);
    return o;
}

static int op_create_bus(struct api_call *c)
{
    const char *name = jstr(c->req, "Name");
    const char *source = jstr(c->req, "EventSourceName");
    const char *description = jstr(c->req, "Description");
    const char *code;
    char *arn;
    int rc;

    if (source != NULL)
        return fail(c, "ResourceNotFoundException", "Event source %.256s does not exist.", source);
    if (bus_eventbus_check_name(name, &code, c->err, sizeof(c->err)) < 0) {
        c->code = code;
        return BB_EINVAL;
    }
    if (description != NULL && strlen(description) > BUS_EVENTBUS_DESCRIPTION_MAX)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'description' failed to satisfy "
                    "constraint: Member must have length less than or equal to 512");
    if (bus_eventbuses_find(bus_get_eventbuses(c->bus), name) != NULL)
        return fail(c, "ResourceAlreadyExistsException", "Event bus %s already exists.", name);
    /* not AWS's: the classic notifications' internal bus has this name */
    if (strcmp(name, BUS_NOTIFY_BUS) == 0)
        return fail(c, "ValidationException",
                    "Event bus name %s is reserved by bucketbridge for classic S3 "
                    "notifications.",
                    name);
    if (bus_eventbuses_count(bus_get_eventbuses(c->bus)) >= BUS_EVENTBUS_MAX)
        return fail(c, "LimitExceededException",
                    "The requested resource exceeds the maximum number allowed.");
    if (db_begin(bus_db(c->bus)) < 0)
        return fail(c, "InternalException", "The event buses are not available.");
    rc = bus_eventbuses_create(bus_get_eventbuses(c->bus), name, description, "api",
                               bus_now_ms(c->bus));
    if (rc < 0 || db_commit(bus_db(c->bus)) < 0) {
        db_rollback(bus_db(c->bus));
        return fail(c, "InternalException", "The event bus could not be stored.");
    }
    arn = bus_eventbus_make_arn(c->cfg->region, c->cfg->account_id, name);
    c->resp = cJSON_CreateObject();
    cJSON_AddStringToObject(c->resp, "EventBusArn", arn);
    if (description != NULL)
        cJSON_AddStringToObject(c->resp, "Description", description);
    free(arn);
    return BB_OK;
}

static int op_describe_bus(struct api_call *c)
{
    const char *name = bus_eventbus_name_of(jstr(c->req, "Name"));
    const struct bus_eventbus *e =
        bus_eventbuses_find(bus_get_eventbuses(c->bus), name ? name : BUS_DEFAULT);
    if (e == NULL)
        return fail(c, "ResourceNotFoundException", "Event bus %s does not exist.", name);
    c->resp = eventbus_json(c, e);
    return BB_OK;
}

static int op_list_buses(struct api_call *c)
{
    const char *prefix = jstr(c->req, "NamePrefix");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(c->req, "Limit");
    int limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : LIST_MAX;
    int skip = parse_token(jstr(c->req, "NextToken"));
    const struct bus_eventbuses *bs = bus_get_eventbuses(c->bus);
    const struct bus_eventbus *e;
    cJSON *arr;
    int seen = 0, added = 0, more = 0;

    if (lim != NULL && (!cJSON_IsNumber(lim) || limit < 1 || limit > LIST_MAX))
        return fail(c, "ValidationException",
                    "1 validation error detected: Value at 'limit' failed to satisfy "
                    "constraint: Member must have value between 1 and 100");
    arr = cJSON_CreateArray();
    for (size_t i = 0; (e = bus_eventbuses_at(bs, i)) != NULL; i++) {
        if (prefix != NULL && strncmp(e->name, prefix, strlen(prefix)) != 0)
            continue;
        if (seen++ < skip)
            continue;
        if (added == limit) {
            more = 1;
            break;
        }
        cJSON_AddItemToArray(arr, eventbus_json(c, e));
        added++;
    }
    c->resp = cJSON_CreateObject();
    cJSON_AddItemToObject(c->resp, "EventBuses", arr);
    if (more) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%d", skip + added);
        cJSON_AddStringToObject(c->resp, "NextToken", tok);
    }
    return BB_OK;
}

/* As AWS: the bus's rules go with it; an unknown bus is no error. */
static int op_delete_bus(struct api_call *c)
{
    const char *name = jstr(c->req, "Name");
    int rc;

    if (name == NULL)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value null at 'name' failed to satisfy "
                    "constraint: Member must not be null");
    if (strcmp(name, BUS_DEFAULT) == 0)
        return fail(c, "ValidationException", "Cannot delete event bus default.");
    c->resp = cJSON_CreateObject();
    if (bus_eventbuses_find(bus_get_eventbuses(c->bus), name) == NULL)
        return BB_OK;
    if (db_begin(bus_db(c->bus)) < 0)
        return fail(c, "InternalException", "The event buses are not available.");
    rc = bus_delete_eventbus(c->bus, name);
    if (rc < 0 || db_commit(bus_db(c->bus)) < 0) {
        db_rollback(bus_db(c->bus));
        return fail(c, "InternalException", "The event bus could not be deleted.");
    }
    return BB_OK;
}

static int op_list_rule_names(struct api_call *c)
{
    const char *bus;
    const char *arn = jstr(c->req, "TargetArn");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(c->req, "Limit");
    int limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : LIST_MAX;
    int skip = parse_token(jstr(c->req, "NextToken"));
    struct bus_rules *rs = bus_get_rules(c->bus);
    cJSON *arr;
    int seen = 0, added = 0, more = 0;

    if (arn == NULL)
        return fail(c, "ValidationException",
                    "1 validation error detected: Value null at 'targetArn' failed to satisfy "
                    "constraint: Member must not be null");
    if (need_bus(c, &bus) < 0)
        return BB_EINVAL;
    if (limit < 1 || limit > LIST_MAX)
        limit = LIST_MAX;
    arr = cJSON_CreateArray();
    for (size_t i = 0; i < bus_rules_count(rs) && !more; i++) {
        struct bus_rule *r = bus_rules_at(rs, i);
        if (strcmp(r->bus, bus) != 0)
            continue;
        for (size_t k = 0; k < r->ntargets; k++) {
            if (strcmp(r->targets[k].arn, arn) != 0)
                continue;
            if (seen++ < skip)
                break;
            if (added == limit) {
                more = 1;
                break;
            }
            cJSON_AddItemToArray(arr, cJSON_CreateString(r->name));
            added++;
            break;
        }
    }
    c->resp = cJSON_CreateObject();
    cJSON_AddItemToObject(c->resp, "RuleNames", arr);
    if (more) {
        char tok[32];
        snprintf(tok, sizeof(tok), "%d", skip + added);
        cJSON_AddStringToObject(c->resp, "NextToken", tok);
    }
    return BB_OK;
}

static int run(struct api_call *c, const char *op)
{
    if (strcmp(op, "PutEvents") == 0)
        return op_put_events(c);
    if (strcmp(op, "PutRule") == 0)
        return op_put_rule(c);
    if (strcmp(op, "DescribeRule") == 0)
        return op_describe_rule(c);
    if (strcmp(op, "ListRules") == 0)
        return op_list_rules(c);
    if (strcmp(op, "DeleteRule") == 0)
        return op_delete_rule(c);
    if (strcmp(op, "EnableRule") == 0)
        return op_set_state(c, 1);
    if (strcmp(op, "DisableRule") == 0)
        return op_set_state(c, 0);
    if (strcmp(op, "PutTargets") == 0)
        return op_put_targets(c);
    if (strcmp(op, "RemoveTargets") == 0)
        return op_remove_targets(c);
    if (strcmp(op, "ListTargetsByRule") == 0)
        return op_list_targets(c);
    if (strcmp(op, "TestEventPattern") == 0)
        return op_test_pattern(c);
    if (strcmp(op, "DescribeEventBus") == 0)
        return op_describe_bus(c);
    if (strcmp(op, "ListEventBuses") == 0)
        return op_list_buses(c);
    if (strcmp(op, "CreateEventBus") == 0)
        return op_create_bus(c);
    if (strcmp(op, "DeleteEventBus") == 0)
        return op_delete_bus(c);
    if (strcmp(op, "ListRuleNamesByTarget") == 0)
        return op_list_rule_names(c);
    if (strstr(op, "Archive") != NULL || strstr(op, "Replay") != NULL) {
        int rc = bus_archive_api(bus_get_archives(c->bus), op, c->req, &c->resp, &c->code, c->err,
                                 sizeof(c->err));
        if (rc == BB_EDB)
            return fail(c, "InternalException", "The archive store is not available.");
        if (rc == BB_OK)
            c->code = NULL; /* the archive code presets its error type */
        return rc;
    }
    return fail(c, "UnknownOperationException", "Operation %s is not supported by bucketbridge.",
                op);
}

static void call_end(struct http_req *r)
{
    struct s3_req *q = r->ctx;
    struct api_call c;
    char op[64];
    char sha[65];
    size_t n = 0;
    const char *t = http_head_get(&r->head, "x-amz-target", &n);
    enum s3_error e = s3_body_finish(q);

    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    bb_sha256_hex(q->body.mem.data ? q->body.mem.data : "", q->body.mem.len, sha);
    if (s3_auth_finish_deferred(q, sha) != S3E_NONE)
        return; /* answered */
    snprintf(op, sizeof(op), "%.*s", (int)(n - 10), t + 10);
    memset(&c, 0, sizeof(c));
    c.q = q;
    c.bus = q->srv->bus;
    c.cfg = q->srv->cfg;
    cJSON *req = cJSON_ParseWithLength(q->body.mem.data ? q->body.mem.data : "{}",
                                       q->body.mem.len ? q->body.mem.len : 2);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        reply_error(q, "SerializationException", "The request body is not a JSON object.");
        return;
    }
    c.req = req;
    r->op = "EventBridge";
    if (run(&c, op) < 0 || c.code != NULL) {
        BB_LOG_DEBUG("events", "api error", "req=%s op=%s type=%s", r->request_id, op,
                     c.code ? c.code : "?");
        reply_error(q, c.code ? c.code : "InternalException", c.err);
    } else {
        reply(q, 200, c.resp ? c.resp : cJSON_CreateObject());
    }
    cJSON_Delete(c.resp);
    cJSON_Delete(req);
}

static int call_body(struct http_req *r, const char *p, size_t len)
{
    struct s3_req *q = r->ctx;
    enum s3_error e = s3_body_feed(q, p, len);
    if (e != S3E_NONE)
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
    return 0;
}

void bus_api_dispatch(struct http_req *r)
{
    struct s3_req *q = s3_req_attach(r);
    enum s3_error e;

    q->service = "events";
    q->json_errors = 1;
    r->op = "EventBridge";
    if (s3_auth_check(q) != S3E_NONE)
        return;
    e = s3_body_begin(q, 0, BUS_API_MAX_BODY, BB_CHECKSUM_NONE);
    if (e != S3E_NONE) {
        s3_reply_error(q, e, q->body.err_msg, NULL, 0);
        return;
    }
    if (!r->has_body) {
        call_end(r);
        return;
    }
    r->on_body = call_body;
    r->on_end = call_end;
}
