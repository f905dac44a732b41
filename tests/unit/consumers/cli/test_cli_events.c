/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/cli/cli_events.c: which wss connection failures are
 * final (a certificate that does not verify) and which are retried.
 */
#include "bb_test.h"

#include "cli_events.h"

static void test_cli_events_tls_refused(void **state)
{
    (void)state;
    /* what lws/OpenSSL say when --ca is not the daemon's CA */
    assert_int_equal(cli_events_tls_refused("tls: error:0A000086:SSL routines::certificate "
                                            "verify failed"),
                     1);
    assert_int_equal(cli_events_tls_refused("server's cert didn't look good, X509_V_ERR = 19: "
                                            "self-signed certificate in certificate chain"),
                     1);
    assert_int_equal(cli_events_tls_refused("unable to get local issuer"), 1);
    /* what lws itself reports for a handshake that failed verification */
    assert_int_equal(cli_events_tls_refused("connect SSL err 1: error:00000001:lib(0)::reason(1)"),
                     1);
    /* retried: the daemon is not up yet, or went away */
    assert_int_equal(cli_events_tls_refused("connection refused"), 0);
    assert_int_equal(cli_events_tls_refused("closed by the daemon (1000 bye)"), 0);
    assert_int_equal(cli_events_tls_refused(""), 0);
    assert_int_equal(cli_events_tls_refused(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_events_tls_refused),
    };

    return cmocka_run_group_tests_name("consumers/cli/cli_events", tests, NULL, NULL);
}
