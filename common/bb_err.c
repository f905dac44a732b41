/* SPDX-License-Identifier: MIT */
/* bb_err: names for status codes, generated from BB_ERR_MAP. */
#include "bb_err.h"

#include <string.h>

const char *bb_strerror(int rc)
{
    if (rc == BB_OK)
        return "ok";
    switch (rc) {
#define XX(name, val, msg)                                                                         \
    case BB_##name:                                                                                \
        return msg;
        BB_ERR_MAP(XX)
#undef XX
    default:
        break;
    }
    if (rc < 0 && rc > -4096)
        return strerror(-rc);
    return "unknown error";
}
