/* SPDX-License-Identifier: MIT */
#include "bb_io.h"

#include "bb_err.h"

#include <errno.h>
#include <unistd.h>

int bb_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return BB_OK;
}
