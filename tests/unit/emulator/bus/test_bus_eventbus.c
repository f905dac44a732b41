/* SPDX-License-Identifier: MIT */
/*
 * Tests for emulator/bus/bus_eventbus.c: CreateEventBus's name rules, the
 * registry and its table (against a real SQLite database in a temp dir),
 * and what the bus does with buses: configured rules declare theirs,
 * deleting a bus takes its rules, a reset drops the API's buses.
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "bus.h"
#include "bus_eventbus.h"
#include "bus_notify.h"
#include "bus_rule.h"
#include "config.h"
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one configured rule on the default bus, one on custom bus "cfg-bus" */
static const char rules[] =
    "[{\"Name\":\"d\",\"EventPattern\":{\"source\":[\"t\"]}},"
    "{\"Name\":\"c\",\"EventBusName\":\"cfg-bus\",\"EventPattern\":{\"source\":[\"t\"]},"
    "\"Targets\":[{\"Id\":\"q\",\"Arn\":\"arn:aws:sqs:us-east-1:000000000000:grp\"}]}]";

struct fixture {
    char *dir;
    char *path;
    struct config cfg;
    struct db db;
    struct bus *bus;
};

static void open_bus(struct fixture *f)
{
    char err[256];
    assert_int_equal(db_open(&f->db, f->path, 0), BB_OK);
    assert_int_equal(bus_open(&f->db, &f->cfg, &f->bus, err, sizeof(err)), BB_OK);
}

static void close_bus(struct fixture *f)
{
    bus_free(f->bus);
    f->bus = NULL;
    db_close(&f->db);
}

static int setup(void **state)
{
    struct fixture *f = bb_xcalloc(1, sizeof(*f));
    f->dir = bb_test_tmpdir();
    f->path = bb_xasprintf("%s/state.db", f->dir);
    config_init(&f->cfg);
    free(f->cfg.rules_json);
    f->cfg.rules_json = bb_xstrdup(rules);
    open_bus(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_bus(f);
    config_cleanup(&f->cfg);
    bb_test_rmrf(f->dir);
    free(f->path);
    free(f->dir);
    free(f);
    return 0;
}

static void check(const char *name, int want_rc, const char *want_code)
{
    const char *code = NULL;
    char err[512];
    err[0] = '\0';
    int rc = bus_eventbus_check_name(name, &code, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("name \"%.40s\": rc %d, want %d (%s)", name ? name : "(null)", rc, want_rc, err);
    if (want_code != NULL) {
        assert_string_equal(code, want_code);
        assert_true(err[0] != '\0');
    }
}

static void test_bus_eventbus_check_name_follows_create_event_bus(void **state)
{
    char n256[257], n257[258];
    (void)state;
    memset(n256, 'a', 256);
    n256[256] = '\0';
    memset(n257, 'a', 257);
    n257[257] = '\0';
    check("orders", BB_OK, NULL);
    check("Orders.v2_eu-1", BB_OK, NULL);
    check(n256, BB_OK, NULL);
    check("awsome", BB_OK, NULL); /* only "aws." is reserved */
    check(NULL, BB_EINVAL, "ValidationException");
    check("", BB_EINVAL, "ValidationException");
    check(n257, BB_EINVAL, "ValidationException");
    check("a b", BB_EINVAL, "ValidationException");
    check("a:b", BB_EINVAL, "ValidationException");
    check("a/b", BB_EINVAL, "ValidationException");
    check("aws.partner/x/y", BB_EINVAL, "ValidationException");
    check("aws.mine", BB_EINVAL, "ValidationException");
    check("default", BB_EINVAL, "ResourceAlreadyExistsException");
}

static void test_bus_eventbus_name_of_takes_names_and_arns(void **state)
{
    (void)state;
    assert_string_equal(bus_eventbus_name_of("orders"), "orders");
    assert_string_equal(bus_eventbus_name_of("arn:aws:events:us-east-1:000000000000:event-bus/o"),
                        "o");
    assert_null(bus_eventbus_name_of(NULL));
    char *arn = bus_eventbus_make_arn("eu-west-1", "111122223333", "o");
    assert_string_equal(arn, "arn:aws:events:eu-west-1:111122223333:event-bus/o");
    free(arn);
}

static void test_bus_eventbuses_registry_keeps_name_order_and_persists(void **state)
{
    struct fixture *f = *state;
    struct bus_eventbuses *bs = bus_get_eventbuses(f->bus);
    const struct bus_eventbus *e;

    /* the default bus and the configured rule's bus are there from the start */
    assert_non_null(bus_eventbuses_find(bs, BUS_DEFAULT));
    e = bus_eventbuses_find(bs, "cfg-bus");
    assert_non_null(e);
    assert_string_equal(e->origin, "config");
    assert_null(bus_eventbuses_find(bs, BUS_NOTIFY_BUS));

    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_eventbuses_create(bs, "zeta", "last", "api", 1000), BB_OK);
    assert_int_equal(bus_eventbuses_create(bs, "alpha", NULL, "api", 2000), BB_OK);
    assert_int_equal(bus_eventbuses_create(bs, "zeta", NULL, "api", 3000), BB_ECONFLICT);
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_int_equal(bus_eventbuses_count(bs), 4);
    assert_string_equal(bus_eventbuses_at(bs, 0)->name, "alpha");
    assert_string_equal(bus_eventbuses_at(bs, 1)->name, "cfg-bus");
    assert_string_equal(bus_eventbuses_at(bs, 2)->name, "default");
    assert_string_equal(bus_eventbuses_at(bs, 3)->name, "zeta");
    assert_null(bus_eventbuses_at(bs, 4));

    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_eventbuses_delete(bs, BUS_DEFAULT), BB_EINVAL);
    assert_int_equal(bus_eventbuses_delete(bs, "nope"), BB_ENOTFOUND);
    assert_int_equal(bus_eventbuses_delete(bs, "alpha"), BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);

    /* a restart reads them back as they were */
    int64_t default_created = bus_eventbuses_find(bs, BUS_DEFAULT)->created_ms;
    close_bus(f);
    open_bus(f);
    bs = bus_get_eventbuses(f->bus);
    assert_int_equal(bus_eventbuses_count(bs), 3);
    assert_null(bus_eventbuses_find(bs, "alpha"));
    e = bus_eventbuses_find(bs, "zeta");
    assert_non_null(e);
    assert_string_equal(e->description, "last");
    assert_string_equal(e->origin, "api");
    assert_int_equal(e->created_ms, 1000);
    assert_int_equal(bus_eventbuses_find(bs, BUS_DEFAULT)->created_ms, default_created);
}

static void test_bus_delete_eventbus_takes_its_rules_and_keeps_the_others(void **state)
{
    struct fixture *f = *state;
    struct bus_rules *rs = bus_get_rules(f->bus);
    struct bus_rule *r = NULL;
    const char *code;
    char err[256];

    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_eventbuses_create(bus_get_eventbuses(f->bus), "orders", NULL, "api", 1),
                     BB_OK);
    assert_int_equal(bus_rules_put(rs, "orders", "d", "{\"source\":[\"t\"]}", 1, NULL, "api", NULL,
                                   &r, &code, err, sizeof(err)),
                     BB_OK);
    assert_string_equal(r->arn, "arn:aws:events:us-east-1:000000000000:rule/orders/d");
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_non_null(bus_rules_find(rs, "orders", "d"));

    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_delete_eventbus(f->bus, BUS_DEFAULT), BB_EINVAL);
    assert_int_equal(bus_delete_eventbus(f->bus, "nope"), BB_ENOTFOUND);
    assert_int_equal(bus_delete_eventbus(f->bus, "orders"), BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_null(bus_rules_find(rs, "orders", "d"));
    assert_null(bus_eventbuses_find(bus_get_eventbuses(f->bus), "orders"));
    /* the default bus's rule of the same name stays */
    assert_non_null(bus_rules_find(rs, BUS_DEFAULT, "d"));

    /* and the deleted rule does not come back at the next start */
    close_bus(f);
    open_bus(f);
    assert_null(bus_rules_find(bus_get_rules(f->bus), "orders", "d"));
    assert_null(bus_eventbuses_find(bus_get_eventbuses(f->bus), "orders"));
}

static void test_bus_reset_drops_the_api_buses_and_keeps_the_configured_ones(void **state)
{
    struct fixture *f = *state;
    struct bus_eventbuses *bs = bus_get_eventbuses(f->bus);

    assert_int_equal(db_begin(&f->db), BB_OK);
    assert_int_equal(bus_eventbuses_create(bs, "orders", NULL, "api", 1), BB_OK);
    assert_int_equal(bus_reset(f->bus), BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);
    assert_null(bus_eventbuses_find(bs, "orders"));
    assert_non_null(bus_eventbuses_find(bs, "cfg-bus"));
    assert_non_null(bus_eventbuses_find(bs, BUS_DEFAULT));
    assert_non_null(bus_rules_find(bus_get_rules(f->bus), "cfg-bus", "c"));
}

static void test_bus_rules_put_limits_rules_per_bus(void **state)
{
    struct fixture *f = *state;
    struct bus_rules *rs = bus_get_rules(f->bus);
    const char *code = NULL;
    char err[256];
    char name[32];

    assert_int_equal(db_begin(&f->db), BB_OK);
    for (int i = 0; i < BUS_RULE_MAX_RULES; i++) {
        snprintf(name, sizeof(name), "r%03d", i);
        assert_int_equal(bus_rules_put(rs, "many", name, "{\"source\":[\"t\"]}", 1, NULL, "api",
                                       NULL, NULL, &code, err, sizeof(err)),
                         BB_OK);
    }
    assert_int_equal(bus_rules_put(rs, "many", "one-more", "{\"source\":[\"t\"]}", 1, NULL, "api",
                                   NULL, NULL, &code, err, sizeof(err)),
                     BB_EINVAL);
    assert_string_equal(code, "LimitExceededException");
    /* a rule already there can still be replaced, and other buses have room */
    assert_int_equal(bus_rules_put(rs, "many", "r000", "{\"source\":[\"u\"]}", 1, NULL, "api", NULL,
                                   NULL, &code, err, sizeof(err)),
                     BB_OK);
    assert_int_equal(bus_rules_put(rs, BUS_DEFAULT, "one-more", "{\"source\":[\"t\"]}", 1, NULL,
                                   "api", NULL, NULL, &code, err, sizeof(err)),
                     BB_OK);
    assert_int_equal(bus_rules_put(rs, "zz", "one-more", "{\"source\":[\"t\"]}", 1, NULL, "api",
                                   NULL, NULL, &code, err, sizeof(err)),
                     BB_OK);
    assert_int_equal(db_commit(&f->db), BB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_eventbus_check_name_follows_create_event_bus),
        cmocka_unit_test(test_bus_eventbus_name_of_takes_names_and_arns),
        cmocka_unit_test_setup_teardown(test_bus_eventbuses_registry_keeps_name_order_and_persists,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bus_delete_eventbus_takes_its_rules_and_keeps_the_others, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bus_reset_drops_the_api_buses_and_keeps_the_configured_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_rules_put_limits_rules_per_bus, setup, teardown),
    };
    return cmocka_run_group_tests_name("emulator/bus/bus_eventbus", tests, NULL, NULL);
}
