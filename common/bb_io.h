/* SPDX-License-Identifier: MIT */
/*
 * bb_io: small POSIX file-descriptor helpers. The caller owns the
 * descriptor and the buffer; nothing is allocated.
 */
#ifndef BB_COMMON_BB_IO_H
#define BB_COMMON_BB_IO_H

#include <stddef.h>

/** Writes all @n bytes of @p to @fd, retrying short writes and EINTR.
 * Returns BB_OK, or -errno of the failed write. Any thread. */
int bb_write_all(int fd, const char *p, size_t n);

#endif
