/* SPDX-License-Identifier: MIT */
/*
 * viewer: the live event viewer's files and the small read-only JSON API
 * the page needs, all under /_bucketbridge/:
 *
 *   /_bucketbridge/                the page (index.html)
 *   /_bucketbridge/assets/<name>   its script, style sheet and icon
 *   /_bucketbridge/api/config      credentials, WebSocket URL and token
 *   /_bucketbridge/api/rules       rules with their patterns and targets
 *
 * The files are embedded in the binary at build time (cmake/BBEmbedDir.cmake
 * generates viewer_assets[] from emulator/viewer/page/). route.c has already
 * checked Host and Origin; the API also refuses cross-site fetches. Loop
 * thread only.
 */
#ifndef BB_EMULATOR_VIEWER_VIEWER_H
#define BB_EMULATOR_VIEWER_VIEWER_H

#include <stddef.h>

struct http_req;

/* One embedded file; the table ends with an entry whose name is NULL. */
struct viewer_asset {
    const char *name;          /* basename, e.g. "viewer.js" */
    const unsigned char *data; /* @len bytes, then a NUL */
    size_t len;
    const char *etag; /* quoted, from the content's SHA-256 */
};

/** The generated table (build directory, viewer_assets.c). */
extern const struct viewer_asset viewer_assets[];

/** Answers @r when it names a viewer path and returns 1; returns 0 (without
 * answering) otherwise. */
int viewer_handle(struct http_req *r);

#endif
