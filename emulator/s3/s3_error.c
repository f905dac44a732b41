/* SPDX-License-Identifier: MIT */
/* s3_error: lookups and the XML error body, generated from S3_ERROR_MAP. */
#include "s3_error.h"
#include "bb_buf.h"

#include <string.h>

static const struct {
    const char *code;
    int status;
    const char *msg;
} table[] = {{"", 200, ""},
#define XX(id, code, status, msg) {code, status, msg},
             S3_ERROR_MAP(XX)
#undef XX
};

const char *s3_error_code(enum s3_error e)
{
    return (unsigned)e < S3E_COUNT ? table[e].code : "InternalError";
}

int s3_error_status(enum s3_error e)
{
    return (unsigned)e < S3E_COUNT ? table[e].status : 500;
}

const char *s3_error_message(enum s3_error e)
{
    return (unsigned)e < S3E_COUNT ? table[e].msg : "";
}

static int element(struct bb_buf *out, const char *name, const char *value)
{
    int rc = bb_buf_appendf(out, "<%s>", name);
    if (rc == 0)
        rc = bb_buf_append_xml(out, value, strlen(value));
    if (rc == 0)
        rc = bb_buf_appendf(out, "</%s>", name);
    return rc;
}

int s3_error_xml(struct bb_buf *out, enum s3_error e, const char *message,
                 const struct s3_error_field *fields, size_t nfields, const char *resource,
                 const char *request_id)
{
    int rc = bb_buf_appends(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    if (rc == 0)
        rc = element(out, "Code", s3_error_code(e));
    if (rc == 0)
        rc = element(out, "Message", message != NULL ? message : s3_error_message(e));
    for (size_t i = 0; i < nfields && rc == 0; i++)
        rc = element(out, fields[i].name, fields[i].value ? fields[i].value : "");
    if (rc == 0 && resource != NULL)
        rc = element(out, "Resource", resource);
    if (rc == 0 && request_id != NULL) {
        rc = element(out, "RequestId", request_id);
        if (rc == 0)
            rc = element(out, "HostId", request_id);
    }
    if (rc == 0)
        rc = bb_buf_appends(out, "</Error>");
    return rc;
}
