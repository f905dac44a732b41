/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/s3/s3_xml.c, the request-body parsers.
 * The first byte picks the parser (delete, create bucket, complete
 * multipart, notification, tagging, CORS); the rest is the body. Results
 * must respect the documented caps and shapes (abort if not), and are
 * freed on every path, errors included.
 */
#include "s3_xml.h"
#include "fuzz_util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_delete(const char *x, size_t n)
{
    struct s3_xml_delete d;
    const char *why = NULL;

    memset(&d, 0, sizeof(d));
    if (s3_xml_parse_delete(x, n, &d, &why) == 0) {
        if (d.nkeys > S3_XML_MAX_DELETE)
            abort();
        for (size_t i = 0; i < d.nkeys; i++)
            if (d.keys[i] == NULL)
                abort();
    } else if (why == NULL) {
        abort();
    }
    s3_xml_delete_cleanup(&d);
}

static void run_create(const char *x, size_t n)
{
    char loc[64];
    const char *why = NULL;

    memset(loc, 'x', sizeof(loc));
    if (s3_xml_parse_create_bucket(x, n, loc, sizeof(loc), &why) == 0) {
        if (memchr(loc, '\0', sizeof(loc)) == NULL)
            abort();
    } else if (why == NULL) {
        abort();
    }
}

static void run_complete(const char *x, size_t n)
{
    struct s3_xml_complete c;
    const char *why = NULL;

    memset(&c, 0, sizeof(c));
    if (s3_xml_parse_complete(x, n, &c, &why) == 0) {
        if (c.nparts == 0 || c.nparts > S3_XML_MAX_PARTS)
            abort();
        for (size_t i = 0; i < c.nparts; i++) {
            const struct s3_xml_part *p = &c.parts[i];
            if (p->etag == NULL || p->number < 0 || p->number > 999999999 ||
                memchr(p->checksum_alg, '\0', sizeof(p->checksum_alg)) == NULL ||
                (p->checksum_alg[0] != '\0' && p->checksum == NULL))
                abort();
        }
    } else if (why == NULL) {
        abort();
    }
    s3_xml_complete_cleanup(&c);
}

static void run_notification(const char *x, size_t n)
{
    cJSON *configs = NULL;
    int eb = -1;
    const char *why = NULL;

    if (s3_xml_parse_notification(x, n, &configs, &eb, &why) == 0) {
        if (!cJSON_IsArray(configs) || (eb != 0 && eb != 1))
            abort();
    } else if (why == NULL) {
        abort();
    }
    cJSON_Delete(configs);
}

static void run_tagging(const char *x, size_t n)
{
    cJSON *tags = NULL;
    const char *why = NULL;
    const cJSON *t;

    if (s3_xml_parse_tagging(x, n, &tags, &why) == 0) {
        if (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > S3_XML_MAX_TAGS)
            abort();
        cJSON_ArrayForEach(t, tags)
        {
            if (cJSON_GetArraySize(t) != 2 || !cJSON_IsString(cJSON_GetArrayItem(t, 0)) ||
                !cJSON_IsString(cJSON_GetArrayItem(t, 1)))
                abort();
        }
    } else if (why == NULL) {
        abort();
    }
    cJSON_Delete(tags);
}

static void run_cors(const char *x, size_t n)
{
    cJSON *rules = NULL;
    const char *why = NULL;

    if (s3_xml_parse_cors(x, n, &rules, &why) == 0) {
        if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) > S3_XML_MAX_CORS_RULES)
            abort();
    } else if (why == NULL) {
        abort();
    }
    cJSON_Delete(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    unsigned which = fuzz_byte(&in) % 6;

    switch (which) {
    case 0:
        run_delete(in.p, in.n);
        break;
    case 1:
        run_create(in.p, in.n);
        break;
    case 2:
        run_complete(in.p, in.n);
        break;
    case 3:
        run_notification(in.p, in.n);
        break;
    case 4:
        run_tagging(in.p, in.n);
        break;
    default:
        run_cors(in.p, in.n);
        break;
    }
    return 0;
}
