/* SPDX-License-Identifier: MIT */
/* s3_xml: small expat state machines for request bodies. */
#include "s3_xml.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* create bucket */
    char *loc;
    size_t loc_n;
};

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
    }
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
            d->keys[d->nkeys++] = bb_xstrndup(x->text.data ? x->text.data : "", x->text.len);
            x->have_key = 1;
        } else if (at(x, 2, "Delete", "Object", NULL) && !x->have_key) {
            stop(x, "Every <Object> needs a <Key>.");
        } else if (at(x, 2, "Delete", "Quiet", NULL)) {
            x->del->quiet = x->text.data != NULL && strcmp(x->text.data, "true") == 0;
        }
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
    if (rc == BB_OK && out->nkeys == 0) {
        x.why = "The Delete element must name at least one Object.";
        rc = BB_EINVAL;
    }
    *why = x.why;
    return rc;
}

void s3_xml_delete_cleanup(struct s3_xml_delete *d)
{
    for (size_t i = 0; i < d->nkeys; i++)
        free(d->keys[i]);
    free(d->keys);
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
