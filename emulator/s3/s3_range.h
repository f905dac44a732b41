/* SPDX-License-Identifier: MIT */
/*
 * s3_range: pure helpers for GetObject/HeadObject: the Range header and the
 * ETag lists of If-Match / If-None-Match. No I/O.
 */
#ifndef BB_EMULATOR_S3_S3_RANGE_H
#define BB_EMULATOR_S3_S3_RANGE_H

#include <stdint.h>

/**
 * Parses a Range header value @v (may be NULL) against an object of @size
 * bytes. Returns 1 with [*first, *last] for a satisfiable single range; 0 to
 * serve the whole object (no header, or one S3 ignores: malformed, several
 * ranges, last < first); -1 when unsatisfiable (416 InvalidRange): a start
 * at or past the end, a zero-length suffix, any range of an empty object.
 */
int s3_range_parse(const char *v, uint64_t size, uint64_t *first, uint64_t *last);

/** 1 when the comma-separated ETag list @v (quoted or not, W/ allowed, or
 * "*") names @etag (unquoted). */
int s3_range_etag_matches(const char *v, const char *etag);

#endif
