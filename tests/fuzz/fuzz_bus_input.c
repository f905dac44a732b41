/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/bus/bus_input.c, a target's Input,
 * InputPath and InputTransformer. Input: one byte picking the mode (whole
 * event, Input, InputPath, InputTransformer), then NUL-separated fields:
 * the setting (Input text, InputPath, or InputPathsMap JSON with "" for
 * none), the InputTemplate (transformer only) and the event JSON. When the
 * setting compiles and the event parses, it is applied: the result must be
 * NUL-terminated at its length, and valid JSON for the whole event and for
 * InputPath (which gives "" when it selects nothing) (abort if not).
 */
#include "bus_input.h"
#include "fuzz_util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of a field (free()). */
static char *dup_field(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct bus_input_ctx ctx = {"on-update",
                                             "arn:aws:events:us-east-1:000000000000:rule/on-update",
                                             "2024-05-13T12:27:08Z"};
    struct fuzz_in in = {(const char *)data, size};
    unsigned mode = fuzz_byte(&in) % 4;
    size_t sl, tl, el;
    const char *set = fuzz_field(&in, '\0', &sl);
    const char *tpl = mode == 3 ? fuzz_field(&in, '\0', &tl) : NULL;
    const char *ev;
    char *setting = dup_field(set, sl);
    char *template = tpl != NULL ? dup_field(tpl, tl) : NULL;
    char *event_json;
    struct bus_input *bi = NULL;
    cJSON *event = NULL;
    char err[512];
    int rc;

    ev = fuzz_field(&in, '\0', &el);
    event_json = dup_field(ev, el);
    switch (mode) {
    case 0:
        rc = bus_input_compile("t1", NULL, NULL, NULL, NULL, &bi, err, sizeof(err));
        break;
    case 1:
        rc = bus_input_compile("t1", setting, NULL, NULL, NULL, &bi, err, sizeof(err));
        break;
    case 2:
        rc = bus_input_compile("t1", NULL, setting, NULL, NULL, &bi, err, sizeof(err));
        break;
    default:
        rc = bus_input_compile("t1", NULL, NULL, sl > 0 ? setting : NULL, template, &bi, err,
                               sizeof(err));
        break;
    }
    if (rc != 0) {
        if (bi != NULL || err[0] == '\0')
            abort();
        goto out;
    }
    event = cJSON_Parse(event_json);
    if (event != NULL) {
        char *res = NULL;
        size_t rl = 0;
        if (bus_input_apply(bi, event, event_json, &ctx, &res, &rl) == 0) {
            if (res == NULL || strlen(res) != rl)
                abort();
            if (mode == 0 || (mode == 2 && rl > 0)) { /* "": InputPath selected nothing */
                cJSON *j = cJSON_Parse(res);
                if (j == NULL)
                    abort();
                cJSON_Delete(j);
            }
            free(res);
        }
    }
out:
    cJSON_Delete(event);
    bus_input_free(bi);
    free(event_json);
    free(template);
    free(setting);
    return 0;
}
