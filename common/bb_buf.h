/* SPDX-License-Identifier: MIT */
/*
 * bb_buf: growable byte buffer with a hard cap fixed at init (curl dynbuf
 * shape). The content is always NUL-terminated for convenience. Storage is
 * owned by the buffer; bb_buf_cleanup() frees it. Pointers into the buffer
 * are invalidated by any append.
 */
#ifndef BB_COMMON_BB_BUF_H
#define BB_COMMON_BB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct bb_buf {
    char *data;
    size_t len;
    size_t cap;   /* allocated */
    size_t limit; /* hard cap on len */
};

void bb_buf_init(struct bb_buf *b, size_t limit);
void bb_buf_cleanup(struct bb_buf *b);
void bb_buf_reset(struct bb_buf *b);
/** Appends; returns 0 or BB_ETOOBIG (buffer unchanged) past the limit. */
int bb_buf_append(struct bb_buf *b, const void *p, size_t n);
int bb_buf_appends(struct bb_buf *b, const char *s);
int bb_buf_appendf(struct bb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Appends @s with XML escaping of & < > " '. */
int bb_buf_append_xml(struct bb_buf *b, const char *s, size_t n);
/** Takes the content out (caller frees); the buffer is left empty. */
char *bb_buf_detach(struct bb_buf *b, size_t *len);

#endif
