/* SPDX-License-Identifier: MIT */
/*
 * bus_input: what a target receives (reference section 6). Compiling checks
 * the settings as PutTargets does and splits an InputTemplate into literal
 * text and placeholders, each tagged with the context it sits in: a JSON
 * value, a string, or a placeholder that is exactly a quoted string
 * ("<name>"). Applying walks the event once per placeholder. The template
 * is otherwise delivered verbatim; extracted strings are not escaped, as on
 * AWS, so a JSON template can come out invalid, and then the invocation
 * fails (BB_EINVAL). docs/internals/bus_input.md has the rules.
 */
#include "bus_input.h"

#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <cjson/cJSON.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY 256                  /* InputPathsMap key length */
#define MAX_MAP_TEXT (64 * 1024)     /* InputPathsMap JSON text */
#define MAX_OUTPUT (8 * 1024 * 1024) /* rendered template */
#define MAX_INDEX 1000000000UL       /* array index in a path */

enum mode {
    MODE_EVENT,
    MODE_CONSTANT,
    MODE_PATH,
    MODE_TRANSFORM,
};

/* Placeholders that are not InputPathsMap entries (negative var values). */
enum reserved {
    RES_NONE = -1, /* literal text only: the last piece */
    RES_RULE_ARN = -2,
    RES_RULE_NAME = -3,
    RES_INGESTION_TIME = -4,
    RES_EVENT = -5,
    RES_EVENT_JSON = -6,
};

enum place {
    PLACE_JSON,   /* outside quotes in a JSON template: a JSON value */
    PLACE_STRING, /* inside a string, or anywhere in a text template */
    PLACE_QUOTED, /* "<name>" in a JSON template: the whole string */
};

struct step {
    char *name; /* NULL: array index */
    size_t index;
};

struct path {
    struct step *steps;
    size_t n;
};

struct var {
    char *name;
    struct path path;
};

/* Literal template text [off, off+len), then placeholder @var (or none). */
struct piece {
    size_t off;
    size_t len;
    int var;
    enum place place;
};

struct bus_input {
    enum mode mode;
    char *text; /* Input, or InputTemplate */
    struct path path;
    struct var *vars;
    size_t nvars;
    struct piece *pieces;
    size_t npieces;
    int json; /* the rendered template must be JSON */
};

static const struct {
    const char *name;
    int var;
} reserved_vars[] = {
    {"aws.events.rule-arn", RES_RULE_ARN},
    {"aws.events.rule-name", RES_RULE_NAME},
    {"aws.events.event.ingestion-time", RES_INGESTION_TIME},
    {"aws.events.event", RES_EVENT},
    {"aws.events.event.json", RES_EVENT_JSON},
};

/* ---- JSONPath: $, .name, ['name'], ["name"], [index] ---- */

static void path_cleanup(struct path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->steps[i].name);
    free(p->steps);
    p->steps = NULL;
    p->n = 0;
}

static int path_parse(const char *s, struct path *out)
{
    size_t len = strlen(s);
    const char *p = s + 1;
    const char *start;

    out->steps = NULL;
    out->n = 0;
    if (len == 0 || len > BUS_INPUT_MAX_PATH || s[0] != '$')
        return BB_EINVAL;
    out->steps = bb_xcalloc(len, sizeof(*out->steps));
    while (*p != '\0') {
        struct step *st = &out->steps[out->n];
        if (*p == '.') {
            start = ++p;
            while (*p != '\0' && *p != '.' && *p != '[')
                p++;
            if (p == start || (p - start == 1 && *start == '*'))
                goto bad;
            st->name = bb_xstrndup(start, (size_t)(p - start));
        } else if (*p == '[' && (p[1] == '\'' || p[1] == '"')) {
            char q = p[1];
            start = p + 2;
            p = strchr(start, q);
            if (p == NULL || p[1] != ']')
                goto bad;
            st->name = bb_xstrndup(start, (size_t)(p - start));
            p += 2;
        } else if (*p == '[' && p[1] >= '0' && p[1] <= '9') {
            size_t v = 0;
            p++;
            while (*p >= '0' && *p <= '9') {
                v = v * 10 + (size_t)(*p - '0');
                if (v > MAX_INDEX)
                    goto bad;
                p++;
            }
            if (*p != ']')
                goto bad;
            p++;
            st->index = v;
        } else {
            goto bad;
        }
        out->n++;
    }
    return 0;
bad:
    path_cleanup(out);
    return BB_EINVAL;
}

static const cJSON *path_eval(const struct path *p, const cJSON *root)
{
    const cJSON *cur = root;

    for (size_t i = 0; i < p->n && cur != NULL; i++) {
        if (p->steps[i].name != NULL) {
            if (!cJSON_IsObject(cur))
                return NULL;
            cur = cJSON_GetObjectItemCaseSensitive(cur, p->steps[i].name);
        } else {
            if (!cJSON_IsArray(cur) || p->steps[i].index > INT_MAX)
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)p->steps[i].index);
        }
    }
    return cur;
}

/* ---- compile ---- */

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static int valid_key(const char *k)
{
    size_t n = strlen(k);

    if (n < 1 || n > MAX_KEY || strncmp(k, "AWS.", 4) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] == '.' || !name_char(k[i]))
            return 0;
    }
    return 1;
}

static int compile_map(struct bus_input *in, const char *id, const char *json, char *err,
                       size_t errlen)
{
    cJSON *map = NULL;
    const cJSON *e;
    int n;
    int rc = BB_EINVAL;

    if (json == NULL)
        return 0;
    if (strlen(json) > MAX_MAP_TEXT) {
        snprintf(err, errlen, "InputPathsMap for target %s is too long.", id);
        goto out;
    }
    map = cJSON_ParseWithOpts(json, NULL, 1);
    if (!cJSON_IsObject(map)) {
        snprintf(err, errlen, "InputPathsMap for target %s is not a JSON object.", id);
        goto out;
    }
    n = cJSON_GetArraySize(map);
    if (n > BUS_INPUT_MAX_PATHS) {
        snprintf(err, errlen, "InputPathsMap for target %s has more than %d entries.", id,
                 BUS_INPUT_MAX_PATHS);
        goto out;
    }
    in->vars = bb_xcalloc((size_t)n + 1, sizeof(*in->vars));
    cJSON_ArrayForEach(e, map)
    {
        struct var *v = &in->vars[in->nvars];
        if (!valid_key(e->string)) {
            snprintf(err, errlen, "InputPathsMap for target %s has an invalid key %s.", id,
                     e->string);
            goto out;
        }
        if (!cJSON_IsString(e) || path_parse(e->valuestring, &v->path) < 0) {
            snprintf(err, errlen,
                     "InputPathsMap for target %s has an invalid JSON path for key %s.", id,
                     e->string);
            goto out;
        }
        v->name = bb_xstrdup(e->string);
        in->nvars++;
    }
    rc = 0;
out:
    cJSON_Delete(map);
    return rc;
}

static int lookup(const struct bus_input *in, const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(reserved_vars) / sizeof(reserved_vars[0]); i++) {
        if (strlen(reserved_vars[i].name) == n && memcmp(reserved_vars[i].name, name, n) == 0)
            return reserved_vars[i].var;
    }
    for (size_t i = 0; i < in->nvars; i++) {
        if (strlen(in->vars[i].name) == n && memcmp(in->vars[i].name, name, n) == 0)
            return (int)i;
    }
    return RES_NONE;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the placeholder name after '<' at t[i], or 0 when t[i] does not
 * open a placeholder. */
static size_t placeholder_at(const char *t, size_t len, size_t i)
{
    size_t j = i + 1;

    if (t[i] != '<')
        return 0;
    while (j < len && name_char(t[j]))
        j++;
    if (j == i + 1 || j >= len || t[j] != '>')
        return 0;
    return j - i - 1;
}

/* JSON templates (an object or array, or a lone placeholder) get JSON
 * values and quote tracking; any other template is text throughout. */
static int template_is_json(const char *t, size_t len)
{
    size_t a = 0, b = len, n;

    while (a < b && is_ws(t[a]))
        a++;
    while (b > a && is_ws(t[b - 1]))
        b--;
    if (a == b)
        return 0;
    if (t[a] == '{' || t[a] == '[')
        return 1;
    n = placeholder_at(t, b, a);
    return n > 0 && n + 2 == b - a;
}

static int compile_template(struct bus_input *in, const char *id, char *err, size_t errlen)
{
    const char *t = in->text;
    size_t len = strlen(t);
    size_t lit = 0, i = 0, str_start = 0;
    int in_str = 0;

    in->json = template_is_json(t, len);
    in->pieces = bb_xcalloc(len / 3 + 2, sizeof(*in->pieces));
    while (i < len) {
        size_t n = placeholder_at(t, len, i);
        if (n > 0) {
            struct piece *pc = &in->pieces[in->npieces++];
            int var = lookup(in, t + i + 1, n);
            if (var == RES_NONE) {
                snprintf(err, errlen,
                         "InputTemplate for target %s contains invalid placeholder %.*s.", id,
                         (int)n, t + i + 1);
                return BB_EINVAL;
            }
            pc->off = lit;
            pc->len = i - lit;
            pc->var = var;
            if (!in->json || !in_str)
                pc->place = in->json ? PLACE_JSON : PLACE_STRING;
            else if (str_start + 1 == i && i + n + 2 < len && t[i + n + 2] == '"')
                pc->place = PLACE_QUOTED;
            else
                pc->place = PLACE_STRING;
            i += n + 2;
            lit = i;
            continue;
        }
        if (in->json && in_str && t[i] == '\\') {
            i += 2;
            continue;
        }
        if (in->json && t[i] == '"') {
            in_str = !in_str;
            str_start = i;
        }
        i++;
    }
    in->pieces[in->npieces].off = lit;
    in->pieces[in->npieces].len = len - lit;
    in->pieces[in->npieces].var = RES_NONE;
    in->npieces++;
    return 0;
}

int bus_input_compile(const char *target_id, const char *input, const char *input_path,
                      const char *paths_map_json, const char *template, struct bus_input **out,
                      char *err, size_t errlen)
{
    struct bus_input *in = bb_xcalloc(1, sizeof(*in));
    const char *id = target_id ? target_id : "";
    int modes =
        (input != NULL) + (input_path != NULL) + (paths_map_json != NULL || template != NULL);
    int rc = BB_EINVAL;

    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    if (modes > 1) {
        snprintf(err, errlen,
                 "Only one of Input, InputPath, or InputTransformer must be provided for target "
                 "%s.",
                 id);
        goto out;
    }
    if (input != NULL) {
        cJSON *j;
        if (strlen(input) > BUS_INPUT_MAX_INPUT) {
            snprintf(err, errlen, "Input for target %s is longer than %d characters.", id,
                     BUS_INPUT_MAX_INPUT);
            goto out;
        }
        j = cJSON_ParseWithOpts(input, NULL, 1);
        if (j == NULL) {
            snprintf(err, errlen, "Input for target %s is not valid JSON.", id);
            goto out;
        }
        cJSON_Delete(j);
        in->mode = MODE_CONSTANT;
        in->text = bb_xstrdup(input);
    } else if (input_path != NULL) {
        if (path_parse(input_path, &in->path) < 0) {
            snprintf(err, errlen, "InputPath for target %s is not a valid JSON path.", id);
            goto out;
        }
        in->mode = MODE_PATH;
    } else if (modes == 1) {
        size_t tl = template ? strlen(template) : 0;
        if (tl == 0 || tl > BUS_INPUT_MAX_TEMPLATE) {
            snprintf(err, errlen,
                     "InputTemplate for target %s must have a length between 1 and %d.", id,
                     BUS_INPUT_MAX_TEMPLATE);
            goto out;
        }
        rc = compile_map(in, id, paths_map_json, err, errlen);
        if (rc < 0)
            goto out;
        in->mode = MODE_TRANSFORM;
        in->text = bb_xstrdup(template);
        rc = compile_template(in, id, err, errlen);
        if (rc < 0)
            goto out;
    } else {
        in->mode = MODE_EVENT;
    }
    rc = 0;
    *out = in;
    in = NULL;
out:
    bus_input_free(in);
    return rc;
}

void bus_input_free(struct bus_input *in)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->nvars; i++) {
        free(in->vars[i].name);
        path_cleanup(&in->vars[i].path);
    }
    free(in->vars);
    path_cleanup(&in->path);
    free(in->pieces);
    free(in->text);
    free(in);
}

/* ---- apply ---- */

static int append_json(struct bb_buf *b, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    int rc;

    if (s == NULL) {
        fprintf(stderr, "level=error mod=bus msg=\"out of memory printing JSON\"\n");
        abort();
    }
    rc = bb_buf_appends(b, s);
    cJSON_free(s);
    return rc;
}

/* Objects and arrays inside strings: JSON with every quote left out
 * ({acc_id:0a787ecb-4015,sf_id:baz}, [ACTIVE,INACTIVE]). */
static int append_lossy(struct bb_buf *b, const cJSON *v)
{
    const cJSON *c;
    int rc = 0;
    int first = 1;

    if (cJSON_IsString(v))
        return bb_buf_appends(b, v->valuestring);
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return append_json(b, v);
    rc = bb_buf_appends(b, cJSON_IsObject(v) ? "{" : "[");
    cJSON_ArrayForEach(c, v)
    {
        if (rc == 0 && !first)
            rc = bb_buf_appends(b, ",");
        if (rc == 0 && cJSON_IsObject(v)) {
            rc = bb_buf_appends(b, c->string);
            if (rc == 0)
                rc = bb_buf_appends(b, ":");
        }
        if (rc == 0)
            rc = append_lossy(b, c);
        first = 0;
    }
    if (rc == 0)
        rc = bb_buf_appends(b, cJSON_IsObject(v) ? "}" : "]");
    return rc;
}

/* The event without detail, detail-type spelled detailType, time replaced
 * by the ingestion time. */
static cJSON *event_summary(const cJSON *event, const struct bus_input_ctx *ctx)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *c;

    cJSON_ArrayForEach(c, event)
    {
        if (c->string == NULL || strcmp(c->string, "detail") == 0)
            continue;
        if (strcmp(c->string, "time") == 0 && ctx != NULL && ctx->ingestion_time != NULL)
            cJSON_AddStringToObject(o, "time", ctx->ingestion_time);
        else
            cJSON_AddItemToObject(o,
                                  strcmp(c->string, "detail-type") == 0 ? "detailType" : c->string,
                                  cJSON_Duplicate(c, 1));
    }
    return o;
}

struct render {
    const cJSON *event;
    const char *event_json;
    const struct bus_input_ctx *ctx;
    cJSON *summary; /* built on first use of <aws.events.event> */
};

static int render_var(const struct bus_input *in, struct render *r, const struct piece *pc,
                      struct bb_buf *b)
{
    const cJSON *v = NULL;
    const char *text = NULL; /* a string value that is not a cJSON node */

    switch (pc->var) {
    case RES_RULE_ARN:
        text = r->ctx ? r->ctx->rule_arn : NULL;
        break;
    case RES_RULE_NAME:
        text = r->ctx ? r->ctx->rule_name : NULL;
        break;
    case RES_INGESTION_TIME:
        text = r->ctx ? r->ctx->ingestion_time : NULL;
        break;
    case RES_EVENT:
        if (r->summary == NULL && cJSON_IsObject(r->event))
            r->summary = event_summary(r->event, r->ctx);
        v = r->summary;
        break;
    case RES_EVENT_JSON:
        v = r->event;
        if (pc->place == PLACE_JSON && r->event_json != NULL)
            return bb_buf_appends(b, r->event_json);
        break;
    default:
        v = path_eval(&in->vars[pc->var].path, r->event);
        if (cJSON_IsString(v)) {
            text = v->valuestring;
            v = NULL;
        }
        break;
    }

    if (text != NULL) {
        int rc = 0;
        if (pc->place == PLACE_JSON)
            rc = bb_buf_appends(b, "\"");
        if (rc == 0)
            rc = bb_buf_appends(b, text);
        if (rc == 0 && pc->place == PLACE_JSON)
            rc = bb_buf_appends(b, "\"");
        return rc;
    }
    if (v == NULL) /* missing: the variable is not created */
        return pc->place == PLACE_JSON ? bb_buf_appends(b, "\"\"") : 0;
    if (pc->place == PLACE_JSON)
        return append_json(b, v);
    if (pc->place == PLACE_QUOTED && (cJSON_IsObject(v) || cJSON_IsArray(v)))
        return BB_EINVAL; /* "{...}" inside quotes: not JSON; the target is not invoked */
    return append_lossy(b, v);
}

static char *copy_event(const cJSON *event, const char *event_json)
{
    char *s, *out;

    if (event_json != NULL)
        return bb_xstrdup(event_json);
    s = cJSON_PrintUnformatted(event);
    out = bb_xstrdup(s ? s : "");
    cJSON_free(s);
    return out;
}

int bus_input_apply(const struct bus_input *in, const struct cJSON *event, const char *event_json,
                    const struct bus_input_ctx *ctx, char **out, size_t *outlen)
{
    struct render r = {event, event_json, ctx, NULL};
    cJSON *parsed = NULL;
    struct bb_buf b;
    const cJSON *v;
    int rc = 0;

    *out = NULL;
    *outlen = 0;
    bb_buf_init(&b, MAX_OUTPUT);
    if (r.event == NULL && event_json != NULL) {
        parsed = cJSON_Parse(event_json);
        r.event = parsed;
    }
    switch (in->mode) {
    case MODE_EVENT:
        *out = copy_event(r.event, event_json);
        break;
    case MODE_CONSTANT:
        *out = bb_xstrdup(in->text);
        break;
    case MODE_PATH:
        v = path_eval(&in->path, r.event);
        if (v == NULL)
            *out = bb_xstrdup(""); /* nothing selected: nothing sent */
        else if (v == r.event)
            *out = copy_event(r.event, event_json);
        else
            *out = copy_event(v, NULL);
        break;
    case MODE_TRANSFORM:
        for (size_t i = 0; i < in->npieces && rc == 0; i++) {
            const struct piece *pc = &in->pieces[i];
            rc = bb_buf_append(&b, in->text + pc->off, pc->len);
            if (rc == 0 && pc->var != RES_NONE)
                rc = render_var(in, &r, pc, &b);
        }
        if (rc == 0 && in->json) {
            cJSON *check = cJSON_ParseWithOpts(b.data ? b.data : "", NULL, 1);
            if (check == NULL)
                rc = BB_EINVAL;
            cJSON_Delete(check);
        }
        if (rc == 0)
            *out = bb_buf_detach(&b, NULL);
        break;
    }
    bb_buf_cleanup(&b);
    cJSON_Delete(r.summary);
    cJSON_Delete(parsed);
    if (rc < 0)
        return rc;
    *outlen = strlen(*out);
    return 0;
}
