/* SPDX-License-Identifier: MIT */
/* Tests for emulator/bus/bus_input.c: the whole event, Input, InputPath and
 * InputTransformer, one case per substitution rule of the reference's
 * section 6, using its examples (the LocalStack AWS-validated snapshots)
 * where it gives them. The event is fixtures/events/custom_event.json. */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "bus_input.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_ARN "arn:aws:events:us-east-1:111111111111:rule/orders-bus/on-update"
#define INGESTED "2024-05-13T12:27:08Z"

/* The snapshot's InputPathsMap. */
#define SNAPSHOT_MAP                                                                               \
    "{\"detail-type\":\"$.detail-type\",\"timestamp\":\"$.time\",\"command\":\"$.detail."          \
    "command\"}"
#define SNAPSHOT_MAP_MISSING                                                                       \
    "{\"detail-type\":\"$.detail-type\",\"timestamp\":\"$.time\","                                 \
    "\"command\":\"$.detail.notinmessage\"}"
/* Every kind of value the event holds. */
#define ALL_MAP                                                                                    \
    "{\"userId\":\"$.detail.userId\",\"payload\":\"$.detail.payload\","                            \
    "\"severity\":\"$.detail.severity\",\"states\":\"$.detail.states\","                           \
    "\"count\":\"$.detail.count\",\"ratio\":\"$.detail.ratio\",\"enabled\":\"$.detail.enabled\","  \
    "\"nothing\":\"$.detail.nothing\",\"quote\":\"$.detail.quote\","                               \
    "\"missing\":\"$.detail.missing\",\"instance\":\"$.detail.payload.acc_id\","                   \
    "\"status\":\"$.detail.payload.sf_id\"}"

static char *event_text;
static cJSON *event;
static const struct bus_input_ctx ctx = {"on-update", RULE_ARN, INGESTED};

static int setup(void **state)
{
    char *path = bb_test_fixture("events/custom_event.json");
    FILE *f = fopen(path, "rb");
    cJSON *min;
    char *buf;
    long n;

    free(path);
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = bb_xmalloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    fclose(f);
    /* The bus hands targets the event as one line of JSON. */
    min = cJSON_Parse(buf);
    free(buf);
    if (min == NULL)
        return -1;
    buf = cJSON_PrintUnformatted(min);
    event_text = bb_xstrdup(buf);
    cJSON_free(buf);
    event = min;
    return 0;
}

static int teardown(void **state)
{
    cJSON_Delete(event);
    free(event_text);
    return 0;
}

/* ---- helpers ---- */

static struct bus_input *compile_ok(const char *input, const char *input_path, const char *map,
                                    const char *tmpl)
{
    struct bus_input *in = NULL;
    char err[256];
    int rc = bus_input_compile("t1", input, input_path, map, tmpl, &in, err, sizeof(err));

    if (rc != 0)
        fail_msg("compile failed (%d): %s", rc, err);
    assert_non_null(in);
    return in;
}

static void assert_compile_error(const char *input, const char *input_path, const char *map,
                                 const char *tmpl, const char *want)
{
    struct bus_input *in = (struct bus_input *)1;
    char err[512];
    int rc = bus_input_compile("t1", input, input_path, map, tmpl, &in, err, sizeof(err));

    if (rc != BB_EINVAL)
        fail_msg("compile rc %d, want BB_EINVAL", rc);
    assert_null(in);
    if (want != NULL && strcmp(err, want) != 0)
        fail_msg("message \"%s\", want \"%s\"", err, want);
}

static char *apply(const struct bus_input *in, int want_rc)
{
    char *out = NULL;
    size_t len = 0;
    int rc = bus_input_apply(in, event, event_text, &ctx, &out, &len);

    if (rc != want_rc)
        fail_msg("apply rc %d, want %d", rc, want_rc);
    if (rc == 0)
        assert_int_equal(len, strlen(out));
    else
        assert_null(out);
    return out;
}

static void assert_output(const char *input, const char *input_path, const char *map,
                          const char *tmpl, const char *want)
{
    struct bus_input *in = compile_ok(input, input_path, map, tmpl);
    char *out = apply(in, 0);

    if (strcmp(out, want) != 0)
        fail_msg("output\n got: %s\nwant: %s", out, want);
    free(out);
    bus_input_free(in);
}

#define TRANSFORM(map, tmpl, want) assert_output(NULL, NULL, map, tmpl, want)
#define INPUT_PATH(path, want) assert_output(NULL, path, NULL, NULL, want)

static void assert_transform_fails(const char *map, const char *tmpl)
{
    struct bus_input *in = compile_ok(NULL, NULL, map, tmpl);
    apply(in, BB_EINVAL);
    bus_input_free(in);
}

/* ---- no input settings, Input ---- */

static void test_bus_input_apply_sends_the_whole_event_by_default(void **state)
{
    assert_output(NULL, NULL, NULL, NULL, event_text);
}

static void test_bus_input_apply_sends_a_constant_input_verbatim(void **state)
{
    assert_output("{ \"fixed\": [1, 2], \"s\": \"x\" }", NULL, NULL, NULL,
                  "{ \"fixed\": [1, 2], \"s\": \"x\" }");
    assert_output("\"just a string\"", NULL, NULL, NULL, "\"just a string\"");
}

static void test_bus_input_compile_refuses_an_input_that_is_not_json(void **state)
{
    assert_compile_error("{not json", NULL, NULL, NULL, "Input for target t1 is not valid JSON.");
}

static void test_bus_input_compile_refuses_an_input_over_8192_characters(void **state)
{
    char *big = bb_xmalloc(BUS_INPUT_MAX_INPUT + 2);

    memset(big, ' ', BUS_INPUT_MAX_INPUT + 1);
    big[0] = '1';
    big[BUS_INPUT_MAX_INPUT + 1] = '\0';
    assert_compile_error(big, NULL, NULL, NULL,
                         "Input for target t1 is longer than 8192 characters.");
    big[BUS_INPUT_MAX_INPUT] = '\0';
    bus_input_free(compile_ok(big, NULL, NULL, NULL));
    free(big);
}

static void test_bus_input_compile_allows_only_one_of_the_three_modes(void **state)
{
    const char *msg = "Only one of Input, InputPath, or InputTransformer must be provided for "
                      "target t1.";

    assert_compile_error(NULL, "$.detail", SNAPSHOT_MAP, "{\"a\": <command>}", msg);
    assert_compile_error("{}", "$.detail", NULL, NULL, msg);
    assert_compile_error("{}", NULL, NULL, "\"x\"", msg);
}

/* ---- InputPath ---- */

static void test_bus_input_path_selects_an_object_as_json(void **state)
{
    INPUT_PATH("$.detail.payload", "{\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"}");
}

static void test_bus_input_path_sends_a_selected_string_as_a_json_string(void **state)
{
    INPUT_PATH("$.detail.payload.sf_id", "\"baz\"");
}

static void test_bus_input_path_sends_numbers_booleans_and_arrays_as_json(void **state)
{
    INPUT_PATH("$.detail.count", "42");
    INPUT_PATH("$.detail.enabled", "true");
    INPUT_PATH("$.detail.states", "[\"ACTIVE\",\"INACTIVE\"]");
    INPUT_PATH("$.detail.nothing", "null");
}

static void test_bus_input_path_accepts_bracket_notation_and_indexes(void **state)
{
    INPUT_PATH("$['detail']['payload'][\"acc_id\"]", "\"0a787ecb-4015\"");
    INPUT_PATH("$.detail.states[1]", "\"INACTIVE\"");
    INPUT_PATH("$['detail-type']", "\"core.update-account-command\"");
}

static void test_bus_input_path_dollar_sends_the_whole_event(void **state)
{
    INPUT_PATH("$", event_text);
}

static void test_bus_input_path_that_selects_nothing_sends_nothing(void **state)
{
    INPUT_PATH("$.detail.absent", "");
    INPUT_PATH("$.detail.states[7]", "");
    INPUT_PATH("$.detail.command.deeper", "");
}

static void test_bus_input_compile_refuses_invalid_input_paths(void **state)
{
    const char *bad[] = {"",    "detail", "$.",         "$..detail", "$.detail[*]",
                         "$.*", "$[x]",   "$['detail'", "$.a[1",     "$ .a"};
    char *longp = bb_xmalloc(BUS_INPUT_MAX_PATH + 2);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_compile_error(NULL, bad[i], NULL, NULL,
                             "InputPath for target t1 is not a valid JSON path.");
    longp[0] = '$';
    longp[1] = '.';
    memset(longp + 2, 'a', BUS_INPUT_MAX_PATH - 1);
    longp[BUS_INPUT_MAX_PATH + 1] = '\0';
    assert_compile_error(NULL, longp, NULL, NULL, NULL);
    longp[BUS_INPUT_MAX_PATH] = '\0';
    bus_input_free(compile_ok(NULL, longp, NULL, NULL));
    free(longp);
}

/* ---- InputTransformer: string templates ---- */

static void test_bus_input_string_template_is_delivered_with_its_quotes(void **state)
{
    TRANSFORM(SNAPSHOT_MAP,
              "\"Event of <detail-type> type, at time <timestamp>, info extracted from detail "
              "<command>\"",
              "\"Event of core.update-account-command type, at time 2024-05-13T12:27:07Z, info "
              "extracted from detail update-account\"");
}

static void test_bus_input_string_template_keeps_special_starting_characters(void **state)
{
    TRANSFORM(SNAPSHOT_MAP,
              "\"{[/Check with special starting characters for event of "
              "<detail-type> type\"",
              "\"{[/Check with special starting characters for event of "
              "core.update-account-command type\"");
}

static void test_bus_input_missing_path_in_a_string_is_an_empty_string(void **state)
{
    TRANSFORM(SNAPSHOT_MAP_MISSING,
              "\"Event of <detail-type> type, at time <timestamp>, info extracted from detail "
              "<command>\"",
              "\"Event of core.update-account-command type, at time 2024-05-13T12:27:07Z, info "
              "extracted from detail \"");
}

static void test_bus_input_string_context_renders_objects_without_quotes(void **state)
{
    TRANSFORM(ALL_MAP, "\"payload <payload>\"", "\"payload {acc_id:0a787ecb-4015,sf_id:baz}\"");
}

static void test_bus_input_string_context_renders_arrays_without_quotes(void **state)
{
    TRANSFORM(ALL_MAP, "\"severity <severity>, states <states>\"",
              "\"severity [HIGH], states [ACTIVE,INACTIVE]\"");
}

static void test_bus_input_string_context_renders_scalars_as_text(void **state)
{
    TRANSFORM(ALL_MAP, "\"on=<enabled> n=<count> r=<ratio> z=<nothing>\"",
              "\"on=true n=42 r=1.5 z=null\"");
}

static void test_bus_input_bare_text_template_gets_raw_values(void **state)
{
    /* The AWS documentation's SNS example, without JSON quoting. */
    TRANSFORM(ALL_MAP, "<instance> is in state <status>", "0a787ecb-4015 is in state baz");
    TRANSFORM(ALL_MAP, "<instance> is in state \"<status>\"", "0a787ecb-4015 is in state \"baz\"");
}

static void test_bus_input_string_template_does_not_escape_values(void **state)
{
    TRANSFORM(ALL_MAP, "\"said <quote>\"", "\"said say \"hi\"\"");
}

/* ---- InputTransformer: JSON templates ---- */

static void test_bus_input_json_template_quotes_unquoted_string_values(void **state)
{
    TRANSFORM(SNAPSHOT_MAP,
              "{\"detailType\": <detail-type>,  \"time\": <timestamp>, \"command\": <command>}",
              "{\"detailType\": \"core.update-account-command\",  \"time\": "
              "\"2024-05-13T12:27:07Z\", \"command\": \"update-account\"}");
}

static void test_bus_input_json_template_missing_path_is_an_empty_json_string(void **state)
{
    TRANSFORM(SNAPSHOT_MAP_MISSING,
              "{\"detailType\": <detail-type>,  \"time\": <timestamp>, \"command\": <command>}",
              "{\"detailType\": \"core.update-account-command\",  \"time\": "
              "\"2024-05-13T12:27:07Z\", \"command\": \"\"}");
    TRANSFORM(ALL_MAP, "{\"m\": \"<missing>\", \"in\": \"x<missing>y\"}",
              "{\"m\": \"\", \"in\": \"xy\"}");
}

static void test_bus_input_quoted_placeholder_gives_the_same_string(void **state)
{
    TRANSFORM(ALL_MAP, "{\"id\": <userId>}", "{\"id\": \"0a787ecb-4015\"}");
    TRANSFORM(ALL_MAP, "{\"id\": \"<userId>\"}", "{\"id\": \"0a787ecb-4015\"}");
}

static void test_bus_input_json_template_inserts_objects_arrays_numbers_and_booleans(void **state)
{
    TRANSFORM(ALL_MAP,
              "{\"bod\": <payload>, \"n\": <count>, \"r\": <ratio>, \"b\": <enabled>, "
              "\"s\": <states>, \"z\": <nothing>}",
              "{\"bod\": {\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"}, \"n\": 42, \"r\": 1.5, "
              "\"b\": true, \"s\": [\"ACTIVE\",\"INACTIVE\"], \"z\": null}");
    TRANSFORM(ALL_MAP, "[<count>, <userId>]", "[42, \"0a787ecb-4015\"]");
}

static void test_bus_input_placeholder_repeats_inside_a_longer_string(void **state)
{
    TRANSFORM(ALL_MAP, "{\"path\": \"users/<userId>/second/<userId>\"}",
              "{\"path\": \"users/0a787ecb-4015/second/0a787ecb-4015\"}");
}

static void test_bus_input_object_inside_a_longer_string_is_rendered_lossily(void **state)
{
    TRANSFORM(ALL_MAP, "{\"msg\": \"p=<payload> s=<states>\"}",
              "{\"msg\": \"p={acc_id:0a787ecb-4015,sf_id:baz} s=[ACTIVE,INACTIVE]\"}");
}

static void test_bus_input_quoted_placeholder_holding_an_object_fails_the_invocation(void **state)
{
    assert_transform_fails(ALL_MAP, "{\"payload\": \"<payload>\"}");
    assert_transform_fails(ALL_MAP, "{\"states\": \"<states>\"}");
}

static void test_bus_input_quoted_placeholder_holding_a_number_becomes_a_string(void **state)
{
    TRANSFORM(ALL_MAP, "{\"n\": \"<count>\", \"b\": \"<enabled>\"}",
              "{\"n\": \"42\", \"b\": \"true\"}");
}

static void test_bus_input_unescaped_quote_breaking_a_json_template_fails(void **state)
{
    assert_transform_fails(ALL_MAP, "{\"q\": <quote>}");
    assert_transform_fails(ALL_MAP, "{\"q\": \"<quote>\"}");
}

static void test_bus_input_lone_placeholder_template_is_a_json_value(void **state)
{
    TRANSFORM(ALL_MAP, "<payload>", "{\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"}");
    TRANSFORM(ALL_MAP, " <userId>\n", " \"0a787ecb-4015\"\n");
}

static void test_bus_input_template_without_placeholders_is_sent_verbatim(void **state)
{
    TRANSFORM(NULL, "{\"static\": true,  \"n\": [1, 2]}", "{\"static\": true,  \"n\": [1, 2]}");
    TRANSFORM("{}", "just text", "just text");
}

static void test_bus_input_angle_brackets_that_are_not_placeholders_stay_text(void **state)
{
    TRANSFORM(ALL_MAP, "\"a < b, <not a name>, <>, </x> and <userId>\"",
              "\"a < b, <not a name>, <>, </x> and 0a787ecb-4015\"");
}

static void test_bus_input_escaped_quotes_in_a_json_template_do_not_end_the_string(void **state)
{
    TRANSFORM(ALL_MAP, "{\"m\": \"he said \\\"<payload>\\\"\"}",
              "{\"m\": \"he said \\\"{acc_id:0a787ecb-4015,sf_id:baz}\\\"\"}");
}

/* ---- reserved variables ---- */

static void test_bus_input_reserved_variables_need_no_paths_map(void **state)
{
    TRANSFORM(NULL,
              "\"Message containing all pre defined variables <aws.events.rule-arn> "
              "<aws.events.rule-name> <aws.events.event.ingestion-time>\"",
              "\"Message containing all pre defined variables " RULE_ARN " on-update " INGESTED
              "\"");
}

static void test_bus_input_reserved_event_has_detail_type_as_detail_type_and_no_detail(void **state)
{
    struct bus_input *in = compile_ok(
        NULL, NULL, NULL,
        "{\"originalEvent\": <aws.events.event>, \"originalEventJson\": <aws.events.event.json>}");
    char *out = apply(in, 0);
    cJSON *j = cJSON_Parse(out);
    const cJSON *orig, *full;

    assert_non_null(j);
    orig = cJSON_GetObjectItemCaseSensitive(j, "originalEvent");
    full = cJSON_GetObjectItemCaseSensitive(j, "originalEventJson");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(orig, "detailType")->valuestring,
                        "core.update-account-command");
    assert_null(cJSON_GetObjectItemCaseSensitive(orig, "detail-type"));
    assert_null(cJSON_GetObjectItemCaseSensitive(orig, "detail"));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(orig, "time")->valuestring, INGESTED);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(orig, "id")->valuestring,
                        "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
    assert_true(cJSON_Compare(full, event, 1));
    cJSON_Delete(j);
    free(out);
    bus_input_free(in);
}

static void test_bus_input_compile_refuses_an_undefined_placeholder(void **state)
{
    assert_compile_error(NULL, NULL, SNAPSHOT_MAP,
                         "\"Event of <detail-type> type, with not defined key <notdefinedkey>\"",
                         "InputTemplate for target t1 contains invalid placeholder "
                         "notdefinedkey.");
    assert_compile_error(NULL, NULL, NULL, "{\"a\": <aws.events.nope>}",
                         "InputTemplate for target t1 contains invalid placeholder "
                         "aws.events.nope.");
}

/* ---- InputPathsMap and InputTemplate limits ---- */

static void test_bus_input_compile_refuses_invalid_paths_map_keys(void **state)
{
    assert_compile_error(NULL, NULL, "{\"a.b\":\"$.detail\"}", "\"<a>\"",
                         "InputPathsMap for target t1 has an invalid key a.b.");
    assert_compile_error(NULL, NULL, "{\"aws.events.event\":\"$.detail\"}", "\"x\"",
                         "InputPathsMap for target t1 has an invalid key aws.events.event.");
    assert_compile_error(NULL, NULL, "{\"AWS.x\":\"$.detail\"}", "\"x\"", NULL);
    assert_compile_error(NULL, NULL, "{\"a b\":\"$.detail\"}", "\"x\"", NULL);
    assert_compile_error(NULL, NULL, "{\"\":\"$.detail\"}", "\"x\"", NULL);
}

static void test_bus_input_compile_limits_keys_to_256_characters(void **state)
{
    char map[600];
    char key[258];

    memset(key, 'k', 257);
    key[257] = '\0';
    snprintf(map, sizeof(map), "{\"%s\":\"$.detail\"}", key);
    assert_compile_error(NULL, NULL, map, "\"x\"", NULL);
    key[256] = '\0';
    snprintf(map, sizeof(map), "{\"%s\":\"$.detail\"}", key);
    bus_input_free(compile_ok(NULL, NULL, map, "\"x\""));
}

static void test_bus_input_compile_limits_the_paths_map_to_100_entries(void **state)
{
    char map[4096];
    size_t n = 0;

    n += (size_t)snprintf(map + n, sizeof(map) - n, "{");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(map + n, sizeof(map) - n, "%s\"k%d\":\"$.id\"", i ? "," : "", i);
    snprintf(map + n, sizeof(map) - n, "}");
    assert_compile_error(NULL, NULL, map, "\"x\"",
                         "InputPathsMap for target t1 has more than 100 entries.");
    *strstr(map, ",\"k100\"") = '}';
    *(strstr(map, "}") + 1) = '\0';
    bus_input_free(compile_ok(NULL, NULL, map, "\"<k99>\""));
}

static void test_bus_input_compile_refuses_invalid_paths_map_values(void **state)
{
    const char *msg = "InputPathsMap for target t1 has an invalid JSON path for key a.";

    assert_compile_error(NULL, NULL, "{\"a\":\"detail\"}", "\"<a>\"", msg);
    assert_compile_error(NULL, NULL, "{\"a\":1}", "\"<a>\"", msg);
    assert_compile_error(NULL, NULL, "{\"a\":\"$..x\"}", "\"<a>\"", msg);
    assert_compile_error(NULL, NULL, "[\"$.a\"]", "\"x\"",
                         "InputPathsMap for target t1 is not a JSON object.");
}

static void test_bus_input_compile_requires_a_template_of_1_to_8192_characters(void **state)
{
    const char *msg = "InputTemplate for target t1 must have a length between 1 and 8192.";
    char *big = bb_xmalloc(BUS_INPUT_MAX_TEMPLATE + 2);

    assert_compile_error(NULL, NULL, SNAPSHOT_MAP, NULL, msg);
    assert_compile_error(NULL, NULL, SNAPSHOT_MAP, "", msg);
    memset(big, 'x', BUS_INPUT_MAX_TEMPLATE + 1);
    big[BUS_INPUT_MAX_TEMPLATE + 1] = '\0';
    assert_compile_error(NULL, NULL, NULL, big, msg);
    big[BUS_INPUT_MAX_TEMPLATE] = '\0';
    bus_input_free(compile_ok(NULL, NULL, NULL, big));
    free(big);
}

static void test_bus_input_free_accepts_null(void **state)
{
    bus_input_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_input_apply_sends_the_whole_event_by_default),
        cmocka_unit_test(test_bus_input_apply_sends_a_constant_input_verbatim),
        cmocka_unit_test(test_bus_input_compile_refuses_an_input_that_is_not_json),
        cmocka_unit_test(test_bus_input_compile_refuses_an_input_over_8192_characters),
        cmocka_unit_test(test_bus_input_compile_allows_only_one_of_the_three_modes),
        cmocka_unit_test(test_bus_input_path_selects_an_object_as_json),
        cmocka_unit_test(test_bus_input_path_sends_a_selected_string_as_a_json_string),
        cmocka_unit_test(test_bus_input_path_sends_numbers_booleans_and_arrays_as_json),
        cmocka_unit_test(test_bus_input_path_accepts_bracket_notation_and_indexes),
        cmocka_unit_test(test_bus_input_path_dollar_sends_the_whole_event),
        cmocka_unit_test(test_bus_input_path_that_selects_nothing_sends_nothing),
        cmocka_unit_test(test_bus_input_compile_refuses_invalid_input_paths),
        cmocka_unit_test(test_bus_input_string_template_is_delivered_with_its_quotes),
        cmocka_unit_test(test_bus_input_string_template_keeps_special_starting_characters),
        cmocka_unit_test(test_bus_input_missing_path_in_a_string_is_an_empty_string),
        cmocka_unit_test(test_bus_input_string_context_renders_objects_without_quotes),
        cmocka_unit_test(test_bus_input_string_context_renders_arrays_without_quotes),
        cmocka_unit_test(test_bus_input_string_context_renders_scalars_as_text),
        cmocka_unit_test(test_bus_input_bare_text_template_gets_raw_values),
        cmocka_unit_test(test_bus_input_string_template_does_not_escape_values),
        cmocka_unit_test(test_bus_input_json_template_quotes_unquoted_string_values),
        cmocka_unit_test(test_bus_input_json_template_missing_path_is_an_empty_json_string),
        cmocka_unit_test(test_bus_input_quoted_placeholder_gives_the_same_string),
        cmocka_unit_test(test_bus_input_json_template_inserts_objects_arrays_numbers_and_booleans),
        cmocka_unit_test(test_bus_input_placeholder_repeats_inside_a_longer_string),
        cmocka_unit_test(test_bus_input_object_inside_a_longer_string_is_rendered_lossily),
        cmocka_unit_test(test_bus_input_quoted_placeholder_holding_an_object_fails_the_invocation),
        cmocka_unit_test(test_bus_input_quoted_placeholder_holding_a_number_becomes_a_string),
        cmocka_unit_test(test_bus_input_unescaped_quote_breaking_a_json_template_fails),
        cmocka_unit_test(test_bus_input_lone_placeholder_template_is_a_json_value),
        cmocka_unit_test(test_bus_input_template_without_placeholders_is_sent_verbatim),
        cmocka_unit_test(test_bus_input_angle_brackets_that_are_not_placeholders_stay_text),
        cmocka_unit_test(test_bus_input_escaped_quotes_in_a_json_template_do_not_end_the_string),
        cmocka_unit_test(test_bus_input_reserved_variables_need_no_paths_map),
        cmocka_unit_test(
            test_bus_input_reserved_event_has_detail_type_as_detail_type_and_no_detail),
        cmocka_unit_test(test_bus_input_compile_refuses_an_undefined_placeholder),
        cmocka_unit_test(test_bus_input_compile_refuses_invalid_paths_map_keys),
        cmocka_unit_test(test_bus_input_compile_limits_keys_to_256_characters),
        cmocka_unit_test(test_bus_input_compile_limits_the_paths_map_to_100_entries),
        cmocka_unit_test(test_bus_input_compile_refuses_invalid_paths_map_values),
        cmocka_unit_test(test_bus_input_compile_requires_a_template_of_1_to_8192_characters),
        cmocka_unit_test(test_bus_input_free_accepts_null),
    };

    return cmocka_run_group_tests_name("emulator/bus/bus_input", tests, setup, teardown);
}
