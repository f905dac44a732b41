/* SPDX-License-Identifier: MIT */
/* Tests for emulator/s3/s3_xml.c: DeleteObjects bodies (keys, Quiet, entities,
 * namespaces, limits, refusals incl. DOCTYPE and entity declarations) and
 * CreateBucketConfiguration. */
#include "bb_test.h"

#include "s3_xml.h"

#include "bb_buf.h"
#include "bb_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* ---- helpers ---- */

static int parse_delete(const char *xml, struct s3_xml_delete *d, const char **why)
{
    *why = NULL;
    return s3_xml_parse_delete(xml, strlen(xml), d, why);
}

static void assert_delete_refused(const char *xml)
{
    struct s3_xml_delete d;
    const char *why = NULL;
    int rc = parse_delete(xml, &d, &why);

    if (rc != BB_EINVAL)
        fail_msg("body accepted (rc %d): %s", rc, xml);
    assert_non_null(why);
    assert_true(why[0] != '\0');
    s3_xml_delete_cleanup(&d);
}

static void assert_create_refused(const char *xml)
{
    char loc[64];
    const char *why = NULL;
    int rc = s3_xml_parse_create_bucket(xml, strlen(xml), loc, sizeof(loc), &why);

    if (rc != BB_EINVAL)
        fail_msg("body accepted (rc %d): %s", rc, xml);
    assert_non_null(why);
}

/* A <Delete> body naming @n keys "k/<i>". */
static char *delete_body(size_t n)
{
    struct bb_buf b;

    bb_buf_init(&b, 1 << 22);
    assert_int_equal(bb_buf_appends(&b, "<Delete>"), BB_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(bb_buf_appendf(&b, "<Object><Key>k/%zu</Key></Object>", i), BB_OK);
    assert_int_equal(bb_buf_appends(&b, "</Delete>"), BB_OK);
    return bb_buf_detach(&b, NULL);
}

/* ---- DeleteObjects ---- */

static void test_s3_xml_parse_delete_reads_keys_in_order(void **state)
{
    struct s3_xml_delete d;
    const char *why;

    assert_int_equal(parse_delete("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                  "<Delete>\n"
                                  "  <Object><Key>photos/cat.jpg</Key></Object>\n"
                                  "  <Object><Key>b</Key><VersionId>v1</VersionId></Object>\n"
                                  "  <Object><VersionId>v2</VersionId><Key>c</Key></Object>\n"
                                  "</Delete>",
                                  &d, &why),
                     BB_OK);
    assert_int_equal(d.nkeys, 3);
    assert_string_equal(d.keys[0], "photos/cat.jpg");
    assert_string_equal(d.keys[1], "b");
    assert_string_equal(d.keys[2], "c");
    assert_false(d.quiet);
    s3_xml_delete_cleanup(&d);
}

static void test_s3_xml_parse_delete_reads_quiet(void **state)
{
    struct s3_xml_delete d;
    const char *why;

    assert_int_equal(
        parse_delete("<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>", &d, &why),
        BB_OK);
    assert_true(d.quiet);
    assert_int_equal(d.nkeys, 1);
    s3_xml_delete_cleanup(&d);

    assert_int_equal(
        parse_delete("<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>", &d, &why),
        BB_OK);
    assert_true(d.quiet);
    s3_xml_delete_cleanup(&d);

    assert_int_equal(
        parse_delete("<Delete><Quiet>false</Quiet><Object><Key>a</Key></Object></Delete>", &d,
                     &why),
        BB_OK);
    assert_false(d.quiet);
    s3_xml_delete_cleanup(&d);
}

static void test_s3_xml_parse_delete_decodes_entities_and_unicode(void **state)
{
    struct s3_xml_delete d;
    const char *why;

    assert_int_equal(
        parse_delete("<Delete>"
                     "<Object><Key>a&amp;b</Key></Object>"
                     "<Object><Key>&lt;tag&gt; &quot;q&quot; &apos;s&apos;</Key></Object>"
                     "<Object><Key>caf\xc3\xa9/\xe4\xb8\xad\xf0\x9f\x98\x80</Key></Object>"
                     "<Object><Key>&#x4e2d;&#233;</Key></Object>"
                     "<Object><Key><![CDATA[x<&>y]]></Key></Object>"
                     "<Object><Key> spaced / key </Key></Object>"
                     "</Delete>",
                     &d, &why),
        BB_OK);
    assert_int_equal(d.nkeys, 6);
    assert_string_equal(d.keys[0], "a&b");
    assert_string_equal(d.keys[1], "<tag> \"q\" 's'");
    assert_string_equal(d.keys[2], "caf\xc3\xa9/\xe4\xb8\xad\xf0\x9f\x98\x80");
    assert_string_equal(d.keys[3], "\xe4\xb8\xad\xc3\xa9");
    assert_string_equal(d.keys[4], "x<&>y");
    assert_string_equal(d.keys[5], " spaced / key ");
    s3_xml_delete_cleanup(&d);
}

static void test_s3_xml_parse_delete_accepts_the_s3_namespace(void **state)
{
    struct s3_xml_delete d;
    const char *why;

    assert_int_equal(parse_delete("<Delete xmlns=\"" S3_NS "\"><Quiet>true</Quiet>"
                                  "<Object><Key>a</Key></Object></Delete>",
                                  &d, &why),
                     BB_OK);
    assert_int_equal(d.nkeys, 1);
    assert_string_equal(d.keys[0], "a");
    assert_true(d.quiet);
    s3_xml_delete_cleanup(&d);

    assert_int_equal(parse_delete("<s3:Delete xmlns:s3=\"" S3_NS "\">"
                                  "<s3:Object><s3:Key>b</s3:Key></s3:Object></s3:Delete>",
                                  &d, &why),
                     BB_OK);
    assert_int_equal(d.nkeys, 1);
    assert_string_equal(d.keys[0], "b");
    s3_xml_delete_cleanup(&d);
}

static void test_s3_xml_parse_delete_takes_1000_objects(void **state)
{
    struct s3_xml_delete d;
    const char *why;
    char *xml = delete_body(S3_XML_MAX_DELETE);

    assert_int_equal(parse_delete(xml, &d, &why), BB_OK);
    assert_int_equal(d.nkeys, S3_XML_MAX_DELETE);
    assert_string_equal(d.keys[0], "k/0");
    assert_string_equal(d.keys[999], "k/999");
    s3_xml_delete_cleanup(&d);
    free(xml);
}

static void test_s3_xml_parse_delete_refuses_more_than_1000_objects(void **state)
{
    char *xml = delete_body(S3_XML_MAX_DELETE + 1);

    assert_delete_refused(xml);
    free(xml);
    xml = delete_body(5000);
    assert_delete_refused(xml);
    free(xml);
}

static void test_s3_xml_parse_delete_refuses_bodies_not_well_formed(void **state)
{
    assert_delete_refused("");
    assert_delete_refused("not xml");
    assert_delete_refused("<Delete>");
    assert_delete_refused("<Delete><Object><Key>a</Key></Object>");
    assert_delete_refused("<Delete><Object><Key>a</Object></Key></Delete>");
    assert_delete_refused("<Delete><Object><Key>a&b</Key></Object></Delete>");
    assert_delete_refused("<Delete><Object><Key>&undefined;</Key></Object></Delete>");
    assert_delete_refused("<Delete></Delete><Delete></Delete>");
    assert_delete_refused("<Delete><Object><Key>\xff</Key></Object></Delete>");
}

static void test_s3_xml_parse_delete_refuses_the_wrong_root(void **state)
{
    assert_delete_refused("<Remove><Object><Key>a</Key></Object></Remove>");
    assert_delete_refused("<CreateBucketConfiguration/>");
    assert_delete_refused("<delete><Object><Key>a</Key></Object></delete>");
}

static void test_s3_xml_parse_delete_refuses_object_without_key(void **state)
{
    assert_delete_refused("<Delete><Object></Object></Delete>");
    assert_delete_refused("<Delete><Object/></Delete>");
    assert_delete_refused("<Delete><Object><VersionId>v</VersionId></Object></Delete>");
    assert_delete_refused("<Delete><Object><Key>a</Key></Object><Object/></Delete>");
}

static void test_s3_xml_parse_delete_refuses_doctype(void **state)
{
    assert_delete_refused("<!DOCTYPE Delete>"
                          "<Delete><Object><Key>a</Key></Object></Delete>");
    assert_delete_refused("<!DOCTYPE Delete SYSTEM \"file:///etc/passwd\">"
                          "<Delete><Object><Key>a</Key></Object></Delete>");
}

static void test_s3_xml_parse_delete_refuses_entity_declarations(void **state)
{
    /* billion laughs */
    assert_delete_refused("<?xml version=\"1.0\"?>\n"
                          "<!DOCTYPE Delete [\n"
                          " <!ENTITY lol \"lol\">\n"
                          " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                          " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                          " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                          " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
                          " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
                          " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
                          " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
                          " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
                          " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
                          "]>\n"
                          "<Delete><Object><Key>&lol9;</Key></Object></Delete>");
    /* external entity */
    assert_delete_refused("<!DOCTYPE Delete [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                          "<Delete><Object><Key>&xxe;</Key></Object></Delete>");
    /* parameter entity */
    assert_delete_refused("<!DOCTYPE Delete [<!ENTITY % p \"x\"> %p;]>"
                          "<Delete><Object><Key>a</Key></Object></Delete>");
}

static void test_s3_xml_delete_cleanup_is_safe_after_errors(void **state)
{
    struct s3_xml_delete d;
    const char *why;

    /* keys collected before the error are freed by the cleanup */
    assert_int_equal(parse_delete("<Delete><Object><Key>a</Key></Object>"
                                  "<Object><Key>b</Key></Object><Object/></Delete>",
                                  &d, &why),
                     BB_EINVAL);
    s3_xml_delete_cleanup(&d);
}

/* ---- CreateBucketConfiguration ---- */

static void test_s3_xml_parse_create_bucket_reads_location_constraint(void **state)
{
    const char *xml = "<CreateBucketConfiguration xmlns=\"" S3_NS "\">"
                      "<LocationConstraint>eu-west-1</LocationConstraint>"
                      "</CreateBucketConfiguration>";
    char loc[64];
    const char *why = "unset";

    memset(loc, 'x', sizeof(loc));
    assert_int_equal(s3_xml_parse_create_bucket(xml, strlen(xml), loc, sizeof(loc), &why), BB_OK);
    assert_string_equal(loc, "eu-west-1");
}

static void test_s3_xml_parse_create_bucket_without_location_constraint(void **state)
{
    const char *xml = "<CreateBucketConfiguration xmlns=\"" S3_NS "\"></CreateBucketConfiguration>";
    const char *xml2 = "<?xml version=\"1.0\"?><CreateBucketConfiguration/>";
    char loc[64];
    const char *why;

    memset(loc, 'x', sizeof(loc));
    assert_int_equal(s3_xml_parse_create_bucket(xml, strlen(xml), loc, sizeof(loc), &why), BB_OK);
    assert_string_equal(loc, "");
    memset(loc, 'x', sizeof(loc));
    assert_int_equal(s3_xml_parse_create_bucket(xml2, strlen(xml2), loc, sizeof(loc), &why), BB_OK);
    assert_string_equal(loc, "");
}

static void test_s3_xml_parse_create_bucket_accepts_an_empty_body(void **state)
{
    char loc[64];
    const char *why;

    memset(loc, 'x', sizeof(loc));
    assert_int_equal(s3_xml_parse_create_bucket("", 0, loc, sizeof(loc), &why), BB_OK);
    assert_string_equal(loc, "");
}

static void test_s3_xml_parse_create_bucket_refuses_bad_bodies(void **state)
{
    assert_create_refused("<CreateBucketConfiguration>");
    assert_create_refused("garbage");
    assert_create_refused("<Delete><Object><Key>a</Key></Object></Delete>");
    assert_create_refused("<!DOCTYPE CreateBucketConfiguration [<!ENTITY r \"eu-west-1\">]>"
                          "<CreateBucketConfiguration><LocationConstraint>&r;"
                          "</LocationConstraint></CreateBucketConfiguration>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_xml_parse_delete_reads_keys_in_order),
        cmocka_unit_test(test_s3_xml_parse_delete_reads_quiet),
        cmocka_unit_test(test_s3_xml_parse_delete_decodes_entities_and_unicode),
        cmocka_unit_test(test_s3_xml_parse_delete_accepts_the_s3_namespace),
        cmocka_unit_test(test_s3_xml_parse_delete_takes_1000_objects),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_more_than_1000_objects),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_bodies_not_well_formed),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_the_wrong_root),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_object_without_key),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_doctype),
        cmocka_unit_test(test_s3_xml_parse_delete_refuses_entity_declarations),
        cmocka_unit_test(test_s3_xml_delete_cleanup_is_safe_after_errors),
        cmocka_unit_test(test_s3_xml_parse_create_bucket_reads_location_constraint),
        cmocka_unit_test(test_s3_xml_parse_create_bucket_without_location_constraint),
        cmocka_unit_test(test_s3_xml_parse_create_bucket_accepts_an_empty_body),
        cmocka_unit_test(test_s3_xml_parse_create_bucket_refuses_bad_bodies),
    };

    return cmocka_run_group_tests_name("emulator/s3/s3_xml", tests, NULL, NULL);
}
