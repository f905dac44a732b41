/* SPDX-License-Identifier: MIT */
/*
 * bus_pattern: the EventBridge event-pattern language
 * (shared/reference/eventbridge.md section 3): a compiler from the JSON
 * pattern to a matcher, a matcher over parsed events, and a rule set that
 * matches one event against many patterns at a cost that does not grow
 * linearly with their number. Pure: no I/O, no globals; any thread.
 * docs/internals/bus_pattern.md has the semantics and the design.
 */
#ifndef BB_EMULATOR_BUS_BUS_PATTERN_H
#define BB_EMULATOR_BUS_BUS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct bus_pattern;
struct bus_ruleset;

#define BUS_PATTERN_MAX_TEXT (64 * 1024) /* longer pattern text is refused */

/**
 * Compiles pattern JSON text. Returns 0 and *out (free with
 * bus_pattern_free), or BB_EINVAL with AWS's InvalidEventPatternException
 * message (section 3.5 of the reference) in @err (size @errlen).
 */
int bus_pattern_compile(const char *json, size_t len, struct bus_pattern **out, char *err,
                        size_t errlen);
void bus_pattern_free(struct bus_pattern *p);

/** 1 when the parsed event @event (a JSON object) matches, else 0. */
int bus_pattern_match(const struct bus_pattern *p, const struct cJSON *event);

/** Parses @event_json and matches: 1, 0, or BB_EINVAL when it is not a
 * JSON object. */
int bus_pattern_match_text(const struct bus_pattern *p, const char *event_json, size_t len);

/** Returns a new, empty rule set; free with bus_ruleset_free. */
struct bus_ruleset *bus_ruleset_new(void);
void bus_ruleset_free(struct bus_ruleset *rs);

/**
 * Adds pattern @p under @id (borrowed: @p must stay valid until removed or
 * the set is freed). Returns 0, or BB_ECONFLICT when @id is present.
 */
int bus_ruleset_add(struct bus_ruleset *rs, uint64_t id, const struct bus_pattern *p);
/** Removes @id; returns 0 or BB_ENOTFOUND. */
int bus_ruleset_remove(struct bus_ruleset *rs, uint64_t id);

/** Called once per matching id (in no particular order); return 0 to go on,
 * non-zero to stop (that value is returned by bus_ruleset_match). */
typedef int bus_ruleset_match_cb(void *arg, uint64_t id);

/** Matches @event against every pattern in the set. Returns 0 or the
 * callback's stop value. */
int bus_ruleset_match(const struct bus_ruleset *rs, const struct cJSON *event,
                      bus_ruleset_match_cb *cb, void *arg);

#endif
