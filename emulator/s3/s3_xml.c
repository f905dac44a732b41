/* SPDX-License-Identifier: MIT */
/* s3_xml: small expat state machines for request bodies. */
#include "s3_xml.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XML_MAX_DEPTH 16
#define XML_MAX_TEXT 4096

struct xml_ctx {
    XML_Parser p;
    const char *path[XML_MAX_DEPTH];
    char names[XML_MAX_DEPTH][32];
    int depth;
    struct bb_buf text;
    const char *why;
    /* delete */
    struct s3_xml_delete *del;
    int have_key;
    char *version_id;
    /* create bucket */
    char *loc;
    size_t loc_n;
    /* complete multipart upload */
    struct s3_xml_complete *cmp;
    size_t cmp_cap;
    /* notification configuration */
    cJSON *notif;
    cJSON *cur;
    int *eventbridge;
    char rule_name[16];
    char *rule_value;
    /* tagging ([[key, value], ...]) and CORS ([{rule}, ...]) */
    cJSON *tags;
    cJSON *cors;
    cJSON *cur_tag;
};

static void tagging_start(struct xml_ctx *x);
static void tagging_end(struct xml_ctx *x);
static void cors_start(struct xml_ctx *x);
static void cors_end(struct xml_ctx *x);

static void notify_start(struct xml_ctx *x);
static void notify_end(struct xml_ctx *x);

static void stop(struct xml_ctx *x, const char *why)
{
    if (x->why == NULL)
        x->why = why;
    XML_StopParser(x->p, XML_FALSE);
}

/* Element names without any namespace prefix ("ns:Key" -> "Key"). */
static const char *local_name(const char *name)
{
    const char *sep = strrchr(name, '|'); /* namespace separator, if enabled */
    const char *colon = strrchr(name, ':');
    if (sep != NULL)
        return sep + 1;
    return colon != NULL ? colon + 1 : name;
}

static void complete_part_start(struct xml_ctx *x);
static void complete_end(struct xml_ctx *x);

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xml_ctx *x = ud;
    (void)atts;
    if (x->depth == XML_MAX_DEPTH) {
        stop(x, "The XML is nested too deeply.");
        return;
    }
    snprintf(x->names[x->depth], sizeof(x->names[0]), "%s", local_name(name));
    x->depth++;
    bb_buf_reset(&x->text);
    if (x->del != NULL && x->depth == 2 && strcmp(x->names[1], "Object") == 0) {
        if (x->del->nkeys == S3_XML_MAX_DELETE) {
            stop(x, "A DeleteObjects request may name at most 1000 objects.");
            return;
        }
        x->have_key = 0;
        free(x->version_id);
        x->version_id = NULL;
    }
    if (x->cmp != NULL && x->depth == 2 && strcmp(x->names[1], "Part") == 0)
        complete_part_start(x);
    if (x->notif != NULL)
        notify_start(x);
    if (x->tags != NULL)
        tagging_start(x);
    if (x->cors != NULL)
        cors_start(x);
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct xml_ctx *x = ud;
    if (bb_buf_append(&x->text, s, (size_t)len) < 0)
        stop(x, "An XML text value is too long.");
}

static int at(const struct xml_ctx *x, int depth, const char *a, const char *b, const char *c)
{
    if (x->depth != depth)
        return 0;
    if (strcmp(x->names[0], a) != 0)
        return 0;
    if (b != NULL && strcmp(x->names[1], b) != 0)
        return 0;
    if (c != NULL && strcmp(x->names[2], c) != 0)
        return 0;
    return 1;
}

static void on_end(void *ud, const XML_Char *name)
{
    struct xml_ctx *x = ud;
    (void)name;
    if (x->del != NULL) {
        if (at(x, 3, "Delete", "Object", "Key")) {
            struct s3_xml_delete *d = x->del;
            d->keys = bb_xrealloc(d->keys, (d->nkeys + 1) * sizeof(char *));
            d->version_ids = bb_xrealloc(d->version_ids, (d->nkeys + 1) * sizeof(char *));
            d->version_ids[d->nkeys] = NULL;
            d->keys[d->nkeys++] = bb_xstrndup(x->text.data ? x->text.data : "", x->text.len);
            x->have_key = 1;
        } else if (at(x, 3, "Delete", "Object", "VersionId")) {
            free(x->version_id);
            x->version_id = bb_xstrndup(x->text.data ? x->text.data : "", x->text.len);
        } else if (at(x, 2, "Delete", "Object", NULL) && !x->have_key) {
            stop(x, "Every <Object> needs a <Key>.");
        } else if (at(x, 2, "Delete", "Object", NULL)) {
            struct s3_xml_delete *d = x->del;
            free(d->version_ids[d->nkeys - 1]);
            d->version_ids[d->nkeys - 1] = x->version_id;
            x->version_id = NULL;
        } else if (at(x, 2, "Delete", "Quiet", NULL)) {
            x->del->quiet = x->text.data != NULL && strcmp(x->text.data, "true") == 0;
        }
    } else if (x->cmp != NULL) {
        complete_end(x);
    } else if (x->notif != NULL) {
        notify_end(x);
    } else if (x->tags != NULL) {
        tagging_end(x);
    } else if (x->cors != NULL) {
        cors_end(x);
    } else if (x->loc != NULL && at(x, 2, "CreateBucketConfiguration", "LocationConstraint", NULL)) {
        snprintf(x->loc, x->loc_n, "%s", x->text.data ? x->text.data : "");
    }
    x->depth--;
    bb_buf_reset(&x->text);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    stop(ud, "DOCTYPE declarations are not allowed.");
}

static void on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                      int value_len, const XML_Char *base, const XML_Char *sysid,
                      const XML_Char *pubid, const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    stop(ud, "Entity declarations are not allowed.");
}

static int run(struct xml_ctx *x, const char *xml, size_t len, const char *root)
{
    int rc = BB_OK;

    x->p = XML_ParserCreate("UTF-8");
    if (x->p == NULL)
        abort();
    bb_buf_init(&x->text, XML_MAX_TEXT);
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, on_start, on_end);
    XML_SetCharacterDataHandler(x->p, on_text);
    XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
    XML_SetEntityDeclHandler(x->p, on_entity);
    XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(x->p, xml, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (x->why == NULL)
            x->why = "The XML you provided was not well-formed.";
        rc = BB_EINVAL;
    } else if (strcmp(x->names[0], root) != 0) {
        x->why = "The XML root element is not the expected one.";
        rc = BB_EINVAL;
    }
    XML_ParserFree(x->p);
    bb_buf_cleanup(&x->text);
    return rc;
}

int s3_xml_parse_delete(const char *xml, size_t len, struct s3_xml_delete *out, const char **why)
{
    struct xml_ctx x;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&x, 0, sizeof(x));
    x.del = out;
    rc = run(&x, xml, len, "Delete");
    free(x.version_id);
    if (rc == BB_OK && out->nkeys == 0) {
        x.why = "The Delete element must name at least one Object.";
        rc = BB_EINVAL;
    }
    *why = x.why;
    return rc;
}

void s3_xml_delete_cleanup(struct s3_xml_delete *d)
{
    for (size_t i = 0; i < d->nkeys; i++) {
        free(d->keys[i]);
        if (d->version_ids != NULL)
            free(d->version_ids[i]);
    }
    free(d->keys);
    free(d->version_ids);
    memset(d, 0, sizeof(*d));
}

int s3_xml_parse_create_bucket(const char *xml, size_t len, char *loc, size_t n, const char **why)
{
    struct xml_ctx x;
    int rc;

    loc[0] = '\0';
    *why = NULL;
    if (len == 0)
        return BB_OK;
    memset(&x, 0, sizeof(x));
    x.loc = loc;
    x.loc_n = n;
    rc = run(&x, xml, len, "CreateBucketConfiguration");
    *why = x.why;
    return rc;
}

/* CompleteMultipartUpload: a <Part> opens; the array grows by doubling up
 * to S3_XML_MAX_PARTS. */
static void complete_part_start(struct xml_ctx *x)
{
    struct s3_xml_complete *c = x->cmp;

    if (c->nparts == S3_XML_MAX_PARTS) {
        stop(x, "A CompleteMultipartUpload request may name at most 10000 parts.");
        return;
    }
    if (c->nparts == x->cmp_cap) {
        x->cmp_cap = x->cmp_cap == 0 ? 16 : x->cmp_cap * 2;
        if (x->cmp_cap > S3_XML_MAX_PARTS)
            x->cmp_cap = S3_XML_MAX_PARTS;
        c->parts = bb_xrealloc(c->parts, x->cmp_cap * sizeof(c->parts[0]));
    }
    memset(&c->parts[c->nparts], 0, sizeof(c->parts[0]));
    c->parts[c->nparts].number = -1;
    c->nparts++;
}

static void complete_end(struct xml_ctx *x)
{
    struct s3_xml_complete *c = x->cmp;
    struct s3_xml_part *p = c->nparts > 0 ? &c->parts[c->nparts - 1] : NULL;
    const char *text = x->text.data ? x->text.data : "";

    if (p == NULL || x->depth < 2 || strcmp(x->names[1], "Part") != 0)
        return;
    if (at(x, 2, "CompleteMultipartUpload", "Part", NULL)) {
        if (p->number < 0 || p->etag == NULL)
            stop(x, "Every <Part> needs a <PartNumber> and an <ETag>.");
        return;
    }
    if (x->depth != 3 || strcmp(x->names[0], "CompleteMultipartUpload") != 0)
        return;
    if (strcmp(x->names[2], "PartNumber") == 0) {
        long v = 0;
        size_t n = x->text.len;
        if (n == 0 || n > 9) {
            stop(x, "A <PartNumber> must be an integer between 1 and 10000.");
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (text[i] < '0' || text[i] > '9') {
                stop(x, "A <PartNumber> must be an integer between 1 and 10000.");
                return;
            }
            v = v * 10 + (text[i] - '0');
        }
        p->number = v;
    } else if (strcmp(x->names[2], "ETag") == 0) {
        free(p->etag);
        p->etag = bb_xstrndup(text, x->text.len);
    } else if (strncmp(x->names[2], "Checksum", 8) == 0 && x->names[2][8] != '\0' &&
               strcmp(x->names[2], "ChecksumType") != 0) {
        snprintf(p->checksum_alg, sizeof(p->checksum_alg), "%s", x->names[2] + 8);
        free(p->checksum);
        p->checksum = bb_xstrndup(text, x->text.len);
    }
}

int s3_xml_parse_complete(const char *xml, size_t len, struct s3_xml_complete *out,
                          const char **why)
{
    struct xml_ctx x;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&x, 0, sizeof(x));
    x.cmp = out;
    rc = run(&x, xml, len, "CompleteMultipartUpload");
    if (rc == BB_OK && out->nparts == 0) {
        x.why = "You must specify at least one part.";
        rc = BB_EINVAL;
    }
    *why = x.why;
    return rc;
}

void s3_xml_complete_cleanup(struct s3_xml_complete *c)
{
    for (size_t i = 0; i < c->nparts; i++) {
        free(c->parts[i].etag);
        free(c->parts[i].checksum);
    }
    free(c->parts);
    memset(c, 0, sizeof(*c));
}

/* Configuration kinds and the element naming their destination. */
static const char *notify_kind(const char *element)
{
    if (strcmp(element, "QueueConfiguration") == 0)
        return "Queue";
    if (strcmp(element, "TopicConfiguration") == 0)
        return "Topic";
    if (strcmp(element, "CloudFunctionConfiguration") == 0)
        return "CloudFunction";
    return NULL;
}

static void notify_start(struct xml_ctx *x)
{
    if (x->depth == 2) {
        const char *kind = notify_kind(x->names[1]);
        if (strcmp(x->names[1], "EventBridgeConfiguration") == 0) {
            *x->eventbridge = 1;
        } else if (kind != NULL) {
            if (cJSON_GetArraySize(x->notif) >= 100) {
                stop(x, "Too many notification configurations.");
                return;
            }
            x->cur = cJSON_CreateObject();
            cJSON_AddStringToObject(x->cur, "Kind", kind);
            cJSON_AddArrayToObject(x->cur, "Events");
            cJSON_AddItemToArray(x->notif, x->cur);
        } else {
            stop(x, "Unknown element in NotificationConfiguration.");
        }
    }
    if (x->depth == 5 && strcmp(x->names[4], "FilterRule") == 0) {
        x->rule_name[0] = '\0';
        free(x->rule_value);
        x->rule_value = NULL;
    }
}

static void notify_end(struct xml_ctx *x)
{
    const char *text = x->text.data ? x->text.data : "";
    if (x->cur == NULL || strcmp(x->names[0], "NotificationConfiguration") != 0)
        return;
    if (x->depth == 3) {
        const char *el = x->names[2];
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x->cur, "Kind"));
        if (strcmp(el, "Id") == 0)
            cJSON_AddStringToObject(x->cur, "Id", text);
        else if (kind != NULL && strcmp(el, kind) == 0)
            cJSON_AddStringToObject(x->cur, "Arn", text);
        else if (strcmp(el, "Event") == 0)
            cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(x->cur, "Events"),
                                 cJSON_CreateString(text));
    } else if (x->depth == 6 && strcmp(x->names[4], "FilterRule") == 0) {
        if (strcmp(x->names[5], "Name") == 0)
            snprintf(x->rule_name, sizeof(x->rule_name), "%s", text);
        else if (strcmp(x->names[5], "Value") == 0) {
            free(x->rule_value);
            x->rule_value = bb_xstrdup(text);
        }
    } else if (x->depth == 5 && strcmp(x->names[4], "FilterRule") == 0) {
        const char *key = strcasecmp(x->rule_name, "prefix") == 0   ? "Prefix"
                          : strcasecmp(x->rule_name, "suffix") == 0 ? "Suffix"
                                                                    : NULL;
        if (key == NULL || x->rule_value == NULL) {
            stop(x, "A FilterRule needs a Name of prefix or suffix and a Value.");
        } else if (strlen(x->rule_value) > 1024) {
            stop(x, "A FilterRule Value is longer than 1024 characters.");
        } else if (cJSON_GetObjectItemCaseSensitive(x->cur, key) != NULL) {
            stop(x, "Cannot specify more than one prefix or suffix rule in a filter.");
        } else {
            cJSON_AddStringToObject(x->cur, key, x->rule_value);
        }
    } else if (x->depth == 2 && cJSON_GetObjectItemCaseSensitive(x->cur, "Arn") == NULL) {
        stop(x, "A notification configuration needs a destination ARN.");
    }
    if (x->depth == 2)
        x->cur = NULL;
}

int s3_xml_parse_notification(const char *xml, size_t len, cJSON **configs, int *eventbridge,
                              const char **why)
{
    struct xml_ctx x;
    int rc;

    *configs = cJSON_CreateArray();
    *eventbridge = 0;
    *why = NULL;
    if (len == 0)
        return BB_OK;
    memset(&x, 0, sizeof(x));
    x.notif = *configs;
    x.eventbridge = eventbridge;
    rc = run(&x, xml, len, "NotificationConfiguration");
    free(x.rule_value);
    *why = x.why;
    return rc;
}

/* Tagging: <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> */
static void tagging_start(struct xml_ctx *x)
{
    if (x->depth == 3 && strcmp(x->names[2], "Tag") == 0) {
        if (cJSON_GetArraySize(x->tags) >= S3_XML_MAX_TAGS) {
            stop(x, "Object tags cannot be greater than 10");
            return;
        }
        x->cur_tag = cJSON_CreateArray();
        cJSON_AddItemToArray(x->tags, x->cur_tag);
    }
}

static void tagging_end(struct xml_ctx *x)
{
    const char *text = x->text.data ? x->text.data : "";
    if (strcmp(x->names[0], "Tagging") != 0 || x->cur_tag == NULL)
        return;
    if (x->depth == 4 && strcmp(x->names[2], "Tag") == 0) {
        int n = cJSON_GetArraySize(x->cur_tag);
        if (strcmp(x->names[3], "Key") == 0 && n == 0)
            cJSON_AddItemToArray(x->cur_tag, cJSON_CreateString(text));
        else if (strcmp(x->names[3], "Value") == 0 && n == 1)
            cJSON_AddItemToArray(x->cur_tag, cJSON_CreateString(text));
        else
            stop(x, "A <Tag> holds one <Key> followed by one <Value>.");
    } else if (x->depth == 3 && strcmp(x->names[2], "Tag") == 0) {
        if (cJSON_GetArraySize(x->cur_tag) == 1)
            cJSON_AddItemToArray(x->cur_tag, cJSON_CreateString(""));
        if (cJSON_GetArraySize(x->cur_tag) != 2)
            stop(x, "Every <Tag> needs a <Key>.");
        x->cur_tag = NULL;
    }
}

int s3_xml_parse_tagging(const char *xml, size_t len, cJSON **tags, const char **why)
{
    struct xml_ctx x;
    int rc;

    *tags = cJSON_CreateArray();
    memset(&x, 0, sizeof(x));
    x.tags = *tags;
    rc = run(&x, xml, len, "Tagging");
    *why = x.why;
    return rc;
}

/* CORS: <CORSConfiguration><CORSRule>...</CORSRule>...</CORSConfiguration> */
static void cors_start(struct xml_ctx *x)
{
    if (x->depth == 2 && strcmp(x->names[1], "CORSRule") == 0) {
        if (cJSON_GetArraySize(x->cors) >= S3_XML_MAX_CORS_RULES) {
            stop(x, "A CORS configuration may hold at most 100 rules.");
            return;
        }
        x->cur = cJSON_CreateObject();
        cJSON_AddArrayToObject(x->cur, "AllowedOrigins");
        cJSON_AddArrayToObject(x->cur, "AllowedMethods");
        cJSON_AddArrayToObject(x->cur, "AllowedHeaders");
        cJSON_AddArrayToObject(x->cur, "ExposeHeaders");
        cJSON_AddItemToArray(x->cors, x->cur);
    }
}

static void cors_end(struct xml_ctx *x)
{
    static const char *const lists[][2] = {{"AllowedOrigin", "AllowedOrigins"},
                                           {"AllowedMethod", "AllowedMethods"},
                                           {"AllowedHeader", "AllowedHeaders"},
                                           {"ExposeHeader", "ExposeHeaders"}};
    const char *text = x->text.data ? x->text.data : "";

    if (strcmp(x->names[0], "CORSConfiguration") != 0 || x->cur == NULL)
        return;
    if (x->depth == 3) {
        const char *el = x->names[2];
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
            if (strcmp(el, lists[i][0]) == 0) {
                cJSON *arr = cJSON_GetObjectItemCaseSensitive(x->cur, lists[i][1]);
                if (cJSON_GetArraySize(arr) >= 100) {
                    stop(x, "A CORS rule lists too many values.");
                    return;
                }
                cJSON_AddItemToArray(arr, cJSON_CreateString(text));
                return;
            }
        }
        if (strcmp(el, "ID") == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(x->cur, "ID");
            cJSON_AddStringToObject(x->cur, "ID", text);
        } else if (strcmp(el, "MaxAgeSeconds") == 0) {
            char *end = NULL;
            long v = strtol(text, &end, 10);
            if (text[0] == '\0' || *end != '\0' || v < 0 || v > 2147483647L) {
                stop(x, "MaxAgeSeconds must be a non-negative integer.");
                return;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(x->cur, "MaxAgeSeconds");
            cJSON_AddNumberToObject(x->cur, "MaxAgeSeconds", (double)v);
        } else {
            stop(x, "Unknown element in CORSRule.");
        }
    } else if (x->depth == 2) {
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x->cur, "AllowedOrigins")) == 0 ||
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x->cur, "AllowedMethods")) == 0)
            stop(x, "Every CORSRule needs at least one AllowedOrigin and one AllowedMethod.");
        x->cur = NULL;
    }
}

int s3_xml_parse_cors(const char *xml, size_t len, cJSON **rules, const char **why)
{
    struct xml_ctx x;
    int rc;

    *rules = cJSON_CreateArray();
    memset(&x, 0, sizeof(x));
    x.cors = *rules;
    rc = run(&x, xml, len, "CORSConfiguration");
    if (rc == BB_OK && cJSON_GetArraySize(*rules) == 0) {
        x.why = "A CORS configuration needs at least one CORSRule.";
        rc = BB_EINVAL;
    }
    *why = x.why;
    return rc;
}
