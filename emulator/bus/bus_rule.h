/* SPDX-License-Identifier: MIT */
/*
 * bus_rule: rules and their targets: the in-memory registry (compiled
 * patterns in a bus_ruleset, compiled target inputs) mirrored in the rules
 * and targets tables. Rules come from the configuration file (origin
 * "config", replaced at every start) and from the API (origin "api",
 * surviving restarts). Loop thread only.
 */
#ifndef BB_EMULATOR_BUS_BUS_RULE_H
#define BB_EMULATOR_BUS_BUS_RULE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct config;
struct db;
struct bus_input;
struct bus_pattern;
struct bus_rules;

#define BUS_RULE_MAX_TARGETS 5
#define BUS_RULE_MAX_RULES 300 /* per bus, as AWS */
#define BUS_DEFAULT_MAX_RETRIES 185
#define BUS_DEFAULT_MAX_AGE_S 86400

enum bus_target_kind {
    BUS_TARGET_QUEUE,   /* arn:aws:sqs:...:<group>: a consumer group */
    BUS_TARGET_COMMAND, /* arn:aws:lambda:...:function:<name>: a configured command */
    BUS_TARGET_WEBHOOK, /* arn:aws:events:...:api-destination/<name>, or an http(s) URL */
    BUS_TARGET_UNKNOWN, /* anything else: deliveries fail with NO_RESOURCE */
};

struct bus_target {
    char *id;
    char *arn;
    enum bus_target_kind kind;
    char *resource; /* queue name, function name, or URL */
    char *spec;     /* the Target object as given (API shape), JSON text */
    struct bus_input *input;
    char *dlq_arn; /* NULL: none */
    int max_retries;
    int max_age_s;
};

struct bus_rule {
    char *bus;
    char *name;
    char *arn;
    char *pattern_text; /* NULL for a schedule-only rule (not supported: refused) */
    struct bus_pattern *pattern;
    int enabled;
    char *description;
    char *managed_by;
    char *origin; /* "config", "api" or "archive" */
    int64_t created_ms;
    struct bus_target targets[BUS_RULE_MAX_TARGETS];
    size_t ntargets;
    uint64_t rid;
};

/** Loads API rules from @db and applies the configured rules of @cfg.
 * Returns 0 and *out, or BB_EINVAL with @err naming the bad key
 * ("rules[1].EventPattern: ..."). */
int bus_rules_load(struct db *db, const struct config *cfg, struct bus_rules **out, char *err,
                   size_t errlen);
void bus_rules_free(struct bus_rules *rs);

struct bus_rule *bus_rules_find(struct bus_rules *rs, const char *bus, const char *name);
/** The rules in name order: @i from 0; NULL past the end. */
struct bus_rule *bus_rules_at(struct bus_rules *rs, size_t i);
size_t bus_rules_count(const struct bus_rules *rs);

/**
 * Creates or replaces a rule (targets are kept on replace). @pattern is
 * required (schedule expressions are not supported). Returns
 * 0 and *out, or BB_EINVAL with *code ("InvalidEventPatternException",
 * "ValidationException", "LimitExceededException") and @err.
 */
int bus_rules_put(struct bus_rules *rs, const char *bus, const char *name, const char *pattern,
                  int enabled, const char *description, const char *origin, const char *managed_by,
                  struct bus_rule **out, const char **code, char *err, size_t errlen);
/** Deletes a rule. BB_ECONFLICT when it still has targets (unless @force),
 * BB_ENOTFOUND when absent. */
int bus_rules_delete(struct bus_rules *rs, struct bus_rule *r, int force);
int bus_rules_set_enabled(struct bus_rules *rs, struct bus_rule *r, int enabled);

/**
 * Creates or updates a target from its API-shaped JSON object. Returns 0, or
 * BB_EINVAL with *code and @err (a bad Id, a missing Arn, an invalid input
 * transformer, RetryPolicy out of range), or BB_ETOOBIG (a 6th target:
 * LimitExceededException).
 */
int bus_rules_put_target(struct bus_rules *rs, struct bus_rule *r, const struct cJSON *spec,
                         const char **code, char *err, size_t errlen);
/** Removes target @id; BB_ENOTFOUND when absent. */
int bus_rules_remove_target(struct bus_rules *rs, struct bus_rule *r, const char *id);
struct bus_target *bus_rule_target(struct bus_rule *r, const char *id);

typedef int bus_rules_match_cb(void *arg, struct bus_rule *r);
/** Calls @cb for each enabled rule on @bus whose pattern matches @event. */
int bus_rules_match(struct bus_rules *rs, const char *bus, const struct cJSON *event,
                    bus_rules_match_cb *cb, void *arg);

/** Classifies a target ARN (see enum bus_target_kind); *resource is a new
 * string (free()). */
enum bus_target_kind bus_target_parse_arn(const char *arn, char **resource);

/** The rule ARN: arn:aws:events:<region>:<account>:rule/<name> (default
 * bus) or .../rule/<bus>/<name>. New string. */
char *bus_rule_make_arn(const char *region, const char *account, const char *bus, const char *name);

#endif
