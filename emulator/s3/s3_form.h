/* SPDX-License-Identifier: MIT */
/*
 * s3_form: a streaming multipart/form-data parser (RFC 7578) for POST
 * Object. Bytes go in as they arrive; each part's head is parsed (name,
 * filename, Content-Type) and its data handed out in pieces, so a file
 * part is never held in memory. Pure: no I/O, no globals.
 */
#ifndef BB_EMULATOR_S3_S3_FORM_H
#define BB_EMULATOR_S3_S3_FORM_H

#include <stddef.h>

#include "bb_buf.h"

#define S3_FORM_BOUNDARY_MAX 200
#define S3_FORM_HEAD_MAX 8192

/** One part's head; strings borrowed for the callback. */
struct s3_form_part {
    const char *name;         /* the Content-Disposition name ("" when absent) */
    const char *filename;     /* NULL when the part is not a file */
    const char *content_type; /* NULL when absent */
};

/** A part begins. Return 0 to go on, <0 to fail the parse. */
typedef int s3_form_begin_cb(void *arg, const struct s3_form_part *p);
/** Data of the current part (any number of calls). 0 or <0. */
typedef int s3_form_data_cb(void *arg, const char *p, size_t n);
/** The current part ended. 0 to go on, 1 to ignore the rest of the body, <0. */
typedef int s3_form_end_cb(void *arg);

struct s3_form {
    int state;
    char delim[S3_FORM_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
    size_t dlen;
    size_t matched; /* delimiter bytes matched so far */
    int after;      /* bytes seen after a delimiter: '-' or '\r' pending */
    struct bb_buf head;
    s3_form_begin_cb *on_begin;
    s3_form_data_cb *on_data;
    s3_form_end_cb *on_end;
    void *arg;
};

/**
 * The boundary parameter of a "multipart/form-data; boundary=..." value
 * into @out (size @n). Returns 0, or BB_EINVAL (another type, no boundary,
 * longer than S3_FORM_BOUNDARY_MAX).
 */
int s3_form_boundary(const char *content_type, char *out, size_t n);

/** Sets @f up (callbacks and @arg borrowed). Free with s3_form_cleanup. */
void s3_form_init(struct s3_form *f, const char *boundary, s3_form_begin_cb *on_begin,
                  s3_form_data_cb *on_data, s3_form_end_cb *on_end, void *arg);
/**
 * Feeds body bytes. Returns 0, or BB_EINVAL (malformed; *why set) or a
 * callback's negative code. After an end callback returned 1, or after the
 * closing delimiter, further bytes are ignored.
 */
int s3_form_feed(struct s3_form *f, const char *p, size_t n, const char **why);
/** 1 once the closing delimiter was seen or a callback asked to stop. */
int s3_form_done(const struct s3_form *f);
void s3_form_cleanup(struct s3_form *f);

#endif
