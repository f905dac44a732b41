/* SPDX-License-Identifier: MIT */
/*
 * s3_xml: expat parsers for S3 request bodies. Entity declarations and
 * DOCTYPEs are refused (no entity expansion, no billion laughs), sizes and
 * counts are capped. Pure.
 */
#ifndef BB_EMULATOR_S3_S3_XML_H
#define BB_EMULATOR_S3_S3_XML_H

#include <stddef.h>

#define S3_XML_MAX_DELETE 1000

/** The parsed <Delete> body of DeleteObjects. Owns its strings. */
struct s3_xml_delete {
    char **keys;
    size_t nkeys;
    int quiet;
};

/**
 * Parses a DeleteObjects body. Returns 0, or BB_EINVAL (not well-formed, no
 * <Delete> root, an <Object> without <Key>, more than 1000 objects) with
 * *why set. Free the result with s3_xml_delete_cleanup (also after errors).
 */
int s3_xml_parse_delete(const char *xml, size_t len, struct s3_xml_delete *out, const char **why);
void s3_xml_delete_cleanup(struct s3_xml_delete *d);

/**
 * Parses a CreateBucketConfiguration body (may be empty). Returns 0 with the
 * LocationConstraint copied into @loc (size @n; "" when absent), or
 * BB_EINVAL with *why.
 */
int s3_xml_parse_create_bucket(const char *xml, size_t len, char *loc, size_t n, const char **why);

#endif
