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
    char **version_ids; /* parallel to keys; an entry is NULL when no <VersionId> */
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

#define S3_XML_MAX_PARTS 10000

/** One <Part> of a CompleteMultipartUpload body. Owns its strings. */
struct s3_xml_part {
    long number;           /* <PartNumber>; digits only, at most 9 of them */
    char *etag;            /* <ETag> as sent (quotes kept) */
    char checksum_alg[16]; /* "CRC32" for <ChecksumCRC32>, ...; "" when none */
    char *checksum;        /* its value; NULL when none */
};

/** The parsed <CompleteMultipartUpload> body. Owns its parts. */
struct s3_xml_complete {
    struct s3_xml_part *parts;
    size_t nparts;
};

/**
 * Parses a CompleteMultipartUpload body. Returns 0, or BB_EINVAL (not
 * well-formed, another root, no <Part>, a <Part> without <PartNumber> or
 * <ETag>, a PartNumber that is not a number, more than 10000 parts) with
 * *why set. Order and ranges are the caller's to check. Free the result
 * with s3_xml_complete_cleanup (also after errors).
 */
int s3_xml_parse_complete(const char *xml, size_t len, struct s3_xml_complete *out,
                          const char **why);
void s3_xml_complete_cleanup(struct s3_xml_complete *c);

struct cJSON;

/**
 * Parses a NotificationConfiguration body. Returns 0 with *configs (a new
 * JSON array of {"Kind", "Id", "Arn", "Events": [], "Prefix", "Suffix"};
 * free with cJSON_Delete, also after errors) and *eventbridge (1 when an
 * EventBridgeConfiguration element is present), or BB_EINVAL with *why.
 */
int s3_xml_parse_notification(const char *xml, size_t len, struct cJSON **configs,
                              int *eventbridge, const char **why);

#define S3_XML_MAX_TAGS 50 /* parse cap; S3's limit of 10 is checked by the caller */
#define S3_XML_MAX_CORS_RULES 100

/**
 * Parses a <Tagging> body (PutObjectTagging). Returns 0 with *tags a new
 * JSON array of [key, value] string pairs in document order (free with
 * cJSON_Delete, also after errors), or BB_EINVAL with *why.
 */
int s3_xml_parse_tagging(const char *xml, size_t len, struct cJSON **tags, const char **why);

/**
 * Parses a <CORSConfiguration> body (PutBucketCors). Returns 0 with *rules
 * a new JSON array of {"ID"?, "AllowedOrigins": [], "AllowedMethods": [],
 * "AllowedHeaders": [], "ExposeHeaders": [], "MaxAgeSeconds"?} (free with
 * cJSON_Delete, also after errors), or BB_EINVAL with *why. Method names
 * and origin wildcards are the caller's to check.
 */
int s3_xml_parse_cors(const char *xml, size_t len, struct cJSON **rules, const char **why);

#endif
