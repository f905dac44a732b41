/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/bus/bus_pattern.c and bus_ruleset.c. The
 * input is a pattern, then (after the first NUL or newline) an event. The
 * pattern is compiled; when it compiles, the event is matched as text, as a
 * cJSON tree and through a rule set holding the pattern among a few fixed
 * ones, and the rule set must agree with bus_pattern_match (abort if not).
 */
#include "bus_pattern.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const others[] = {
    "{\"source\":[\"aws.s3\"],\"detail\":{\"object\":{\"key\":[{\"prefix\":\"a\"}]}}}",
    "{\"a\":[{\"numeric\":[\">\",0,\"<\",10]},{\"cidr\":\"10.0.0.0/8\"}]}",
    "{\"$or\":[{\"a\":[{\"exists\":false}]},{\"b\":[{\"anything-but\":\"x\"}]}]}",
};

static int count_cb(void *arg, uint64_t id)
{
    int *seen = arg;

    if (id == 1000)
        (*seen)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct bus_pattern *p = NULL;
    struct bus_pattern *o[sizeof(others) / sizeof(others[0])] = {NULL};
    struct bus_ruleset *rs;
    cJSON *ev;
    char err[256];
    size_t cut = 0;
    size_t i;
    int seen = 0;
    int a;

    while (cut < size && text[cut] != '\0' && text[cut] != '\n')
        cut++;
    if (bus_pattern_compile(text, cut, &p, err, sizeof(err)) != 0)
        return 0;
    if (cut < size)
        cut++;
    (void)bus_pattern_match_text(p, text + cut, size - cut);
    ev = cJSON_ParseWithLength(text + cut, size - cut);
    if (ev != NULL) {
        a = bus_pattern_match(p, ev);
        rs = bus_ruleset_new();
        for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            if (bus_pattern_compile(others[i], strlen(others[i]), &o[i], NULL, 0) == 0)
                bus_ruleset_add(rs, i, o[i]);
        }
        bus_ruleset_add(rs, 1000, p);
        bus_ruleset_match(rs, ev, count_cb, &seen);
        if (seen != a)
            abort(); /* the index lost (or invented) a match */
        bus_ruleset_remove(rs, 1000);
        seen = 0;
        bus_ruleset_match(rs, ev, count_cb, &seen);
        if (seen != 0)
            abort();
        bus_ruleset_free(rs);
        for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
            bus_pattern_free(o[i]);
        cJSON_Delete(ev);
    }
    bus_pattern_free(p);
    return 0;
}
