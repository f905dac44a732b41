/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_error.c: the table (codes, statuses, messages)
 * and the XML error body, read back with expat to check its shape and that
 * every value survives escaping. */
#include "bb_test.h"

#include "s3_error.h"

#include "bb_buf.h"
#include "bb_err.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers: read an <Error> body back ---- */

#define MAX_CHILDREN 16

struct error_doc {
    char root[32];
    int depth;
    int too_deep;
    size_t n;
    char names[MAX_CHILDREN][32];
    struct bb_buf values[MAX_CHILDREN];
};

static void doc_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct error_doc *d = ud;

    (void)atts;
    d->depth++;
    if (d->depth == 1) {
        snprintf(d->root, sizeof(d->root), "%s", name);
    } else if (d->depth == 2 && d->n < MAX_CHILDREN) {
        snprintf(d->names[d->n], sizeof(d->names[0]), "%s", name);
        bb_buf_init(&d->values[d->n], 1 << 16);
        d->n++;
    } else {
        d->too_deep = 1;
    }
}

static void doc_end(void *ud, const XML_Char *name)
{
    struct error_doc *d = ud;

    (void)name;
    d->depth--;
}

static void doc_text(void *ud, const XML_Char *s, int len)
{
    struct error_doc *d = ud;

    if (d->depth == 2 && d->n > 0)
        assert_int_equal(bb_buf_append(&d->values[d->n - 1], s, (size_t)len), BB_OK);
}

/* Parses @xml; fails the test if it is not well-formed. */
static void doc_parse(struct error_doc *d, const char *xml, size_t len)
{
    XML_Parser p = XML_ParserCreate("UTF-8");

    memset(d, 0, sizeof(*d));
    assert_non_null(p);
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, doc_start, doc_end);
    XML_SetCharacterDataHandler(p, doc_text);
    if (XML_Parse(p, xml, (int)len, XML_TRUE) != XML_STATUS_OK)
        fail_msg("not well-formed (%s): %s", XML_ErrorString(XML_GetErrorCode(p)), xml);
    XML_ParserFree(p);
    assert_string_equal(d->root, "Error");
    assert_false(d->too_deep);
}

static void doc_cleanup(struct error_doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        bb_buf_cleanup(&d->values[i]);
}

static void assert_child(const struct error_doc *d, size_t i, const char *name, const char *value)
{
    if (i >= d->n)
        fail_msg("child %zu (%s) missing", i, name);
    assert_string_equal(d->names[i], name);
    assert_string_equal(d->values[i].data != NULL ? d->values[i].data : "", value);
}

/* ---- the table ---- */

static void test_s3_error_code_and_status_of_common_errors(void **state)
{
    static const struct {
        enum s3_error e;
        const char *code;
        int status;
    } want[] = {
        {S3E_ACCESS_DENIED, "AccessDenied", 403},
        {S3E_NO_SUCH_BUCKET, "NoSuchBucket", 404},
        {S3E_NO_SUCH_KEY, "NoSuchKey", 404},
        {S3E_BUCKET_NOT_EMPTY, "BucketNotEmpty", 409},
        {S3E_BUCKET_ALREADY_OWNED_BY_YOU, "BucketAlreadyOwnedByYou", 409},
        {S3E_INVALID_BUCKET_NAME, "InvalidBucketName", 400},
        {S3E_INVALID_RANGE, "InvalidRange", 416},
        {S3E_KEY_TOO_LONG, "KeyTooLongError", 400},
        {S3E_MALFORMED_XML, "MalformedXML", 400},
        {S3E_METHOD_NOT_ALLOWED, "MethodNotAllowed", 405},
        {S3E_MISSING_CONTENT_LENGTH, "MissingContentLength", 411},
        {S3E_PRECONDITION_FAILED, "PreconditionFailed", 412},
        {S3E_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 403},
        {S3E_REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed", 403},
        {S3E_INTERNAL_ERROR, "InternalError", 500},
        {S3E_NOT_IMPLEMENTED, "NotImplemented", 501},
        {S3E_SLOW_DOWN, "SlowDown", 503},
        {S3E_NOT_MODIFIED, "NotModified", 304},
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(s3_error_code(want[i].e), want[i].code);
        assert_int_equal(s3_error_status(want[i].e), want[i].status);
    }
}

static void test_s3_error_message_gives_the_default_text(void **state)
{
    assert_string_equal(s3_error_message(S3E_NO_SUCH_KEY), "The specified key does not exist.");
    assert_string_equal(s3_error_message(S3E_NO_SUCH_BUCKET),
                        "The specified bucket does not exist");
    assert_string_equal(s3_error_message(S3E_ACCESS_DENIED), "Access Denied");
}

static void test_s3_error_code_is_filled_and_unique_for_every_entry(void **state)
{
    for (int e = S3E_NONE + 1; e < S3E_COUNT; e++) {
        const char *code = s3_error_code((enum s3_error)e);
        const char *msg = s3_error_message((enum s3_error)e);
        int status = s3_error_status((enum s3_error)e);

        assert_non_null(code);
        assert_non_null(msg);
        assert_true(code[0] >= 'A' && code[0] <= 'Z');
        assert_true(msg[0] != '\0');
        assert_in_range(status, 300, 599);
        for (int f = e + 1; f < S3E_COUNT; f++)
            if (strcmp(code, s3_error_code((enum s3_error)f)) == 0)
                fail_msg("code %s appears twice", code);
    }
}

/* ---- the XML body ---- */

static void test_s3_error_xml_has_the_s3_shape(void **state)
{
    const struct s3_error_field fields[] = {{"Key", "photos/cat.jpg"}, {"BucketName", "bkt"}};
    struct bb_buf b;
    struct error_doc d;

    bb_buf_init(&b, 1 << 16);
    assert_int_equal(s3_error_xml(&b, S3E_NO_SUCH_KEY, NULL, fields, 2, "/bkt/photos/cat.jpg",
                                  "4442587FB7D0A2F9"),
                     BB_OK);
    assert_true(strncmp(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0);
    doc_parse(&d, b.data, b.len);
    assert_int_equal(d.n, 7);
    assert_child(&d, 0, "Code", "NoSuchKey");
    assert_child(&d, 1, "Message", "The specified key does not exist.");
    assert_child(&d, 2, "Key", "photos/cat.jpg");
    assert_child(&d, 3, "BucketName", "bkt");
    assert_child(&d, 4, "Resource", "/bkt/photos/cat.jpg");
    assert_child(&d, 5, "RequestId", "4442587FB7D0A2F9");
    assert_string_equal(d.names[6], "HostId");
    doc_cleanup(&d);
    bb_buf_cleanup(&b);
}

static void test_s3_error_xml_uses_the_given_message(void **state)
{
    struct bb_buf b;
    struct error_doc d;

    bb_buf_init(&b, 1 << 16);
    assert_int_equal(s3_error_xml(&b, S3E_INVALID_ARGUMENT, "Part number must be an integer", NULL,
                                  0, NULL, "RID"),
                     BB_OK);
    doc_parse(&d, b.data, b.len);
    assert_child(&d, 0, "Code", "InvalidArgument");
    assert_child(&d, 1, "Message", "Part number must be an integer");
    assert_child(&d, 2, "RequestId", "RID");
    assert_string_equal(d.names[3], "HostId");
    assert_int_equal(d.n, 4);
    doc_cleanup(&d);
    bb_buf_cleanup(&b);
}

static void test_s3_error_xml_escapes_every_value(void **state)
{
    const char *nasty = "a&b <c> \"d\" 'e' ]]> &amp;";
    const struct s3_error_field fields[] = {
        {"Key", nasty}, {"Condition", "If-Match: \"x\""}, {"Unicode", "caf\xc3\xa9 \xe4\xb8\xad"}};
    struct bb_buf b;
    struct error_doc d;

    bb_buf_init(&b, 1 << 16);
    assert_int_equal(
        s3_error_xml(&b, S3E_PRECONDITION_FAILED, "m<&>m", fields, 3, "/b/<script>&x", "R&<>"),
        BB_OK);
    assert_null(strstr(b.data, "<script>"));
    assert_null(strstr(b.data, "a&b"));
    doc_parse(&d, b.data, b.len);
    assert_int_equal(d.n, 8);
    assert_child(&d, 0, "Code", "PreconditionFailed");
    assert_child(&d, 1, "Message", "m<&>m");
    assert_child(&d, 2, "Key", nasty);
    assert_child(&d, 3, "Condition", "If-Match: \"x\"");
    assert_child(&d, 4, "Unicode", "caf\xc3\xa9 \xe4\xb8\xad");
    assert_child(&d, 5, "Resource", "/b/<script>&x");
    assert_child(&d, 6, "RequestId", "R&<>");
    assert_string_equal(d.names[7], "HostId");
    doc_cleanup(&d);
    bb_buf_cleanup(&b);
}

static void test_s3_error_xml_appends_to_the_buffer(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 1 << 16);
    assert_int_equal(bb_buf_appends(&b, "HEAD"), BB_OK);
    assert_int_equal(s3_error_xml(&b, S3E_ACCESS_DENIED, NULL, NULL, 0, NULL, "r"), BB_OK);
    assert_true(strncmp(b.data, "HEAD<?xml", 9) == 0);
    assert_non_null(strstr(b.data, "<Code>AccessDenied</Code>"));
    assert_non_null(strstr(b.data, "<Message>Access Denied</Message>"));
    assert_int_equal(strcmp(b.data + b.len - 8, "</Error>"), 0);
    bb_buf_cleanup(&b);
}

static void test_s3_error_xml_reports_a_full_buffer(void **state)
{
    struct bb_buf b;

    bb_buf_init(&b, 40);
    assert_int_equal(s3_error_xml(&b, S3E_ACCESS_DENIED, NULL, NULL, 0, NULL, "r"), BB_ETOOBIG);
    bb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_error_code_and_status_of_common_errors),
        cmocka_unit_test(test_s3_error_message_gives_the_default_text),
        cmocka_unit_test(test_s3_error_code_is_filled_and_unique_for_every_entry),
        cmocka_unit_test(test_s3_error_xml_has_the_s3_shape),
        cmocka_unit_test(test_s3_error_xml_uses_the_given_message),
        cmocka_unit_test(test_s3_error_xml_escapes_every_value),
        cmocka_unit_test(test_s3_error_xml_appends_to_the_buffer),
        cmocka_unit_test(test_s3_error_xml_reports_a_full_buffer),
    };

    return cmocka_run_group_tests_name("emulator/s3/s3_error", tests, NULL, NULL);
}
