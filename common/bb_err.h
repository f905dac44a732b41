/* SPDX-License-Identifier: MIT */
/*
 * bb_err: status codes. 0 is success; failures are negative: either -errno
 * or one of the BB_E* codes below, which sit far below any errno value.
 */
#ifndef BB_COMMON_BB_ERR_H
#define BB_COMMON_BB_ERR_H

#define BB_OK 0

#define BB_ERR_MAP(XX)                                                                             \
    XX(EINVAL, -10001, "invalid argument")                                                        \
    XX(ETOOBIG, -10002, "too big")                                                                 \
    XX(ENOTFOUND, -10003, "not found")                                                             \
    XX(ECONFLICT, -10004, "conflict")                                                              \
    XX(ECORRUPT, -10005, "corrupt data")                                                           \
    XX(EDB, -10006, "database error")                                                              \
    XX(EAGAIN, -10007, "try again")                                                                \
    XX(EBADSIG, -10008, "signature mismatch")                                                      \
    XX(EBADDIGEST, -10009, "digest mismatch")                                                      \
    XX(EINCOMPLETE, -10010, "incomplete input")

enum bb_err {
#define XX(name, val, msg) BB_##name = (val),
    BB_ERR_MAP(XX)
#undef XX
};

/** Names any status: BB_E* codes, -errno values and BB_OK. Static string. */
const char *bb_strerror(int rc);

#endif
