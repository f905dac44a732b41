/* SPDX-License-Identifier: MIT */
/*
 * s3_multipart: multipart uploads. The operations themselves are declared
 * in s3_handler.h with the others; this header holds what GetObject and
 * HeadObject need for ?partNumber=. Loop thread.
 *
 * State lives on disk only, under <data>/.bucketbridge/:
 *   uploads/<uploadId>/meta.json         bucket, key, initiated time, kept
 *                                        headers, checksum algorithm/type
 *   uploads/<uploadId>/part-00001        the part's bytes
 *   uploads/<uploadId>/part-00001.json   its ETag, size, time, checksum
 *   parts/<bucket>/<sha256(key)>.json    part sizes of a completed object,
 *                                        valid while its ETag matches
 * An upload id is 12 hex digits of the creation time in ms followed by 20
 * random hex digits, so ids sort by creation time.
 */
#ifndef BB_EMULATOR_S3_S3_MULTIPART_H
#define BB_EMULATOR_S3_S3_MULTIPART_H

#include <stdint.h>

struct s3_req;
struct store_object;

#define S3_MULTIPART_MAX_PARTS 10000
#define S3_MULTIPART_MIN_PART (5ull * 1024 * 1024) /* every part but the last */

/**
 * For GetObject/HeadObject with ?partNumber=: checks the parameter and finds
 * the part's bytes in the object @o (@size bytes on disk). Returns 1 with
 * [*first, *last] (a 206 answer), 0 to serve the whole object (part 1 of an
 * empty single-part object), or a negative code after answering the request
 * itself (InvalidArgument, InvalidRequest when a Range is given too,
 * InvalidPartNumber). Adds x-amz-mp-parts-count for multipart objects.
 */
int s3_multipart_part_range(struct s3_req *q, const struct store_object *o, uint64_t size,
                            uint64_t *first, uint64_t *last);

#endif
