/* SPDX-License-Identifier: MIT */
/*
 * s3_error: the one table of S3 wire errors (code, HTTP status, default
 * message), and the XML error body. Pure. Shape: libuv's UV_ERRNO_MAP.
 */
#ifndef BB_EMULATOR_S3_S3_ERROR_H
#define BB_EMULATOR_S3_S3_ERROR_H

#include <stddef.h>

struct bb_buf;

#define S3_ERROR_MAP(XX)                                                                           \
    XX(ACCESS_DENIED, "AccessDenied", 403, "Access Denied")                                        \
    XX(AUTH_HEADER_MALFORMED, "AuthorizationHeaderMalformed", 400,                                 \
       "The authorization header is malformed.")                                                   \
    XX(BAD_DIGEST, "BadDigest", 400,                                                               \
       "The Content-MD5 or checksum value that you specified did not match what the server "       \
       "received.")                                                                                \
    XX(BUCKET_ALREADY_OWNED_BY_YOU, "BucketAlreadyOwnedByYou", 409,                                \
       "Your previous request to create the named bucket succeeded and you already own it.")       \
    XX(BUCKET_NOT_EMPTY, "BucketNotEmpty", 409, "The bucket you tried to delete is not empty")     \
    XX(ENTITY_TOO_LARGE, "EntityTooLarge", 400,                                                    \
       "Your proposed upload exceeds the maximum allowed size")                                    \
    XX(INCOMPLETE_BODY, "IncompleteBody", 400,                                                     \
       "You did not provide the number of bytes specified by the Content-Length HTTP header")      \
    XX(INTERNAL_ERROR, "InternalError", 500,                                                       \
       "We encountered an internal error. Please try again.")                                      \
    XX(INVALID_ACCESS_KEY_ID, "InvalidAccessKeyId", 403,                                           \
       "The AWS Access Key Id you provided does not exist in our records.")                        \
    XX(INVALID_ARGUMENT, "InvalidArgument", 400, "Invalid Argument")                               \
    XX(INVALID_BUCKET_NAME, "InvalidBucketName", 400, "The specified bucket is not valid.")        \
    XX(INVALID_DIGEST, "InvalidDigest", 400, "The Content-MD5 you specified is not valid.")        \
    XX(INVALID_RANGE, "InvalidRange", 416, "The requested range is not satisfiable")               \
    XX(INVALID_REQUEST, "InvalidRequest", 400, "Invalid Request")                                  \
    XX(KEY_TOO_LONG, "KeyTooLongError", 400, "Your key is too long")                               \
    XX(KEY_CONFLICT, "KeyConflict", 409,                                                           \
       "The key cannot be stored: a path segment of it is already an object, or the key is a "     \
       "prefix of other keys (a bucket is a directory, an object a file).")                        \
    XX(MALFORMED_XML, "MalformedXML", 400,                                                         \
       "The XML you provided was not well-formed or did not validate against our published "       \
       "schema")                                                                                   \
    XX(METHOD_NOT_ALLOWED, "MethodNotAllowed", 405,                                                \
       "The specified method is not allowed against this resource.")                               \
    XX(MISSING_CONTENT_LENGTH, "MissingContentLength", 411,                                        \
       "You must provide the Content-Length HTTP header.")                                         \
    XX(NO_SUCH_BUCKET, "NoSuchBucket", 404, "The specified bucket does not exist")                 \
    XX(NO_SUCH_KEY, "NoSuchKey", 404, "The specified key does not exist.")                         \
    XX(NO_SUCH_UPLOAD, "NoSuchUpload", 404,                                                        \
       "The specified multipart upload does not exist. The upload ID might not be valid, or the "  \
       "multipart upload might have been aborted or completed.")                                   \
    XX(INVALID_PART, "InvalidPart", 400,                                                           \
       "One or more of the specified parts could not be found. The part might not have been "      \
       "uploaded, or the specified entity tag might not have matched the part's entity tag.")      \
    XX(INVALID_PART_ORDER, "InvalidPartOrder", 400,                                                \
       "The list of parts was not in ascending order. The parts list must be specified in order "  \
       "by part number.")                                                                          \
    XX(INVALID_PART_NUMBER, "InvalidPartNumber", 416,                                              \
       "The requested partnumber is not satisfiable")                                              \
    XX(ENTITY_TOO_SMALL, "EntityTooSmall", 400,                                                    \
       "Your proposed upload is smaller than the minimum allowed object size.")                    \
    XX(NOT_IMPLEMENTED, "NotImplemented", 501,                                                     \
       "A header or query you provided implies functionality that is not implemented.")            \
    XX(PRECONDITION_FAILED, "PreconditionFailed", 412,                                             \
       "At least one of the pre-conditions you specified did not hold")                            \
    XX(REQUEST_HEADER_TOO_LARGE, "RequestHeaderSectionTooLarge", 400,                              \
       "Your request header section exceeds the maximum allowed size.")                            \
    XX(REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed", 403,                                       \
       "The difference between the request time and the server's time is too large.")             \
    XX(SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 403,                                     \
       "The request signature we calculated does not match the signature you provided. Check "     \
       "your key and signing method.")                                                             \
    XX(SLOW_DOWN, "SlowDown", 503, "Please reduce your request rate.")                             \
    XX(XAMZ_CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch", 400,                             \
       "The provided 'x-amz-content-sha256' header does not match what was computed.")             \
    XX(MISSING_SECURITY_HEADER, "MissingSecurityHeader", 400,                                      \
       "Your request is missing a required header.")                                               \
    XX(BAD_REQUEST, "BadRequest", 400, "The request could not be parsed.")                        \
    XX(METADATA_TOO_LARGE, "MetadataTooLarge", 400,                                                \
       "Your metadata headers exceed the maximum allowed metadata size.")                          \
    XX(NOT_MODIFIED, "NotModified", 304, "Not Modified")                                           \
    XX(CONDITIONAL_REQUEST_CONFLICT, "ConditionalRequestConflict", 409,                            \
       "A conflicting operation occurred. If using PutObject you can retry the request. If using " \
       "multipart upload you should initiate another CreateMultipartUpload request and re-upload " \
       "each part.")                                                                               \
    XX(ACCESS_FORBIDDEN, "AccessForbidden", 403,                                                   \
       "CORSResponse: This CORS request is not allowed. This is usually because the evalution of " \
       "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers " \
       "are not whitelisted by the resource's CORS spec.")                                         \
    XX(NO_SUCH_CORS_CONFIGURATION, "NoSuchCORSConfiguration", 404,                                 \
       "The CORS configuration does not exist")                                                    \
    XX(NO_SUCH_TAG_SET, "NoSuchTagSet", 404, "The TagSet does not exist")                          \
    XX(INVALID_TAG, "InvalidTag", 400, "The tag provided was not a valid tag.")                    \
    XX(MALFORMED_POST_REQUEST, "MalformedPOSTRequest", 400,                                        \
       "The body of your POST request is not well-formed multipart/form-data.")                    \
    XX(INVALID_POLICY_DOCUMENT, "InvalidPolicyDocument", 400,                                      \
       "The content of the form does not meet the conditions specified in the policy document.")   \
    XX(INCORRECT_NUMBER_OF_FILES, "IncorrectNumberOfFilesInPostRequest", 400,                      \
       "POST requires exactly one file upload per request.")                                       \
    XX(MAX_POST_PRE_DATA_LENGTH_EXCEEDED, "MaxPostPreDataLengthExceededError", 400,               \
       "Your POST request fields preceding the upload file were too large.")

enum s3_error {
    S3E_NONE = 0,
#define XX(id, code, status, msg) S3E_##id,
    S3_ERROR_MAP(XX)
#undef XX
        S3E_COUNT
};

const char *s3_error_code(enum s3_error e);
int s3_error_status(enum s3_error e);
const char *s3_error_message(enum s3_error e);

/** One extra element of an error body, e.g. {"Key", key}. */
struct s3_error_field {
    const char *name;
    const char *value;
};

/**
 * Appends the XML error body to @out: Code, Message (@message or the
 * default), the extra @fields in order, Resource (if given), RequestId,
 * HostId. Values are XML-escaped.
 */
int s3_error_xml(struct bb_buf *out, enum s3_error e, const char *message,
                 const struct s3_error_field *fields, size_t nfields, const char *resource,
                 const char *request_id);

#endif
