/* SPDX-License-Identifier: MIT */
/*
 * bus_input: what a target receives: the whole event, a constant Input, an
 * InputPath selection, or an InputTransformer (InputPathsMap +
 * InputTemplate with the reserved <aws.events.*> variables), as
 * shared/reference/eventbridge.md section 6 describes. Pure; any thread.
 */
#ifndef BB_EMULATOR_BUS_BUS_INPUT_H
#define BB_EMULATOR_BUS_BUS_INPUT_H

#include <stddef.h>

struct cJSON;
struct bus_input;

#define BUS_INPUT_MAX_INPUT 8192
#define BUS_INPUT_MAX_PATH 256
#define BUS_INPUT_MAX_TEMPLATE 8192
#define BUS_INPUT_MAX_PATHS 100

/** Values for the reserved variables. Borrowed for the call. */
struct bus_input_ctx {
    const char *rule_name;
    const char *rule_arn;
    const char *ingestion_time; /* ISO 8601, e.g. "2026-11-26T07:30:00Z" */
};

/**
 * Compiles a target's input settings; at most one of @input, @input_path,
 * and the transformer (@paths_map_json with @template) may be given; all NULL
 * means the whole event. @paths_map_json is the InputPathsMap as JSON object
 * text (may be NULL with a template). @target_id is used in messages.
 * Returns 0 and *out (free with bus_input_free), or BB_EINVAL with AWS's
 * ValidationException message in @err, e.g. "InputTemplate for target t1
 * contains invalid placeholder foo."
 */
int bus_input_compile(const char *target_id, const char *input, const char *input_path,
                      const char *paths_map_json, const char *template, struct bus_input **out,
                      char *err, size_t errlen);
void bus_input_free(struct bus_input *in);

/**
 * Renders what the target receives for @event (the event as matched,
 * @event_json its text). Returns 0 with *out (new string, free()) and
 * *outlen, or BB_EINVAL when the result is not valid JSON where JSON is
 * required (a quoted placeholder holding an object: the invocation fails).
 */
int bus_input_apply(const struct bus_input *in, const struct cJSON *event, const char *event_json,
                    const struct bus_input_ctx *ctx, char **out, size_t *outlen);

#endif
