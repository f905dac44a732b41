/* SPDX-License-Identifier: MIT */
/*
 * bb_mem: allocation that never returns NULL. Out of memory aborts the
 * process (a local dev tool; see STYLE.md 2). Every size that comes from a
 * client must be capped by the caller before it reaches these functions.
 */
#ifndef BB_COMMON_BB_MEM_H
#define BB_COMMON_BB_MEM_H

#include <stddef.h>

/** Returns new memory; free with free(). Never NULL. */
void *bb_xmalloc(size_t n);
/** Returns zeroed memory for @nmemb * @size (overflow checked); never NULL. */
void *bb_xcalloc(size_t nmemb, size_t size);
/** Resizes @p; never NULL. */
void *bb_xrealloc(void *p, size_t n);
/** Returns a new copy of @s; free with free(). */
char *bb_xstrdup(const char *s);
/** Returns a new copy of the first @n bytes of @s, NUL-terminated. */
char *bb_xstrndup(const char *s, size_t n);
/** Returns a new formatted string; free with free(). */
char *bb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
