/* SPDX-License-Identifier: MIT */
/*
 * cli_conf: where the daemon is and how to talk to it. Each value comes
 * from the first of: the command line (--endpoint, --token), the daemon's
 * ready file (--ready-file or $BUCKETBRIDGE_READY_FILE), the environment
 * ($BUCKETBRIDGE_ENDPOINT, $BUCKETBRIDGE_TOKEN, $AWS_ACCESS_KEY_ID, ...),
 * and the defaults (http://127.0.0.1:4566, token and keys "test").
 */
#ifndef BB_CONSUMERS_CLI_CLI_CONF_H
#define BB_CONSUMERS_CLI_CLI_CONF_H

#include <stddef.h>

struct cli_args;

#define CLI_CONF_READY_WAIT_MS 30000

/** Everything is owned by the struct (cli_conf_cleanup). */
struct cli_conf {
    char host[256]; /* "127.0.0.1", "localhost", "::1" (no brackets) */
    int port;
    int tls;       /* https:// (HTTP over TLS, events over wss://) */
    char *ca_file; /* --ca; NULL: accept a self-signed certificate (loopback only) */
    char *token;
    char *access_key;
    char *secret_key;
    char *region;
    char *account_id;
};

/**
 * Splits @url ("http://HOST:PORT", also "ws://", "https://", "wss://", no
 * scheme, IPv6 as "[::1]", any path ignored; the port defaults to 80 with
 * http/ws, 443 with https/wss, else 4566) into @host (no brackets), *port
 * and *tls (1 for https/wss). Returns 0 or BB_EINVAL.
 */
int cli_conf_parse_url(const char *url, char *host, size_t hostlen, int *port, int *tls);

/**
 * Checks the TLS settings of a resolved @c: with tls and no ca_file the
 * host must be loopback (bb_wsclient_host_is_loopback), since the daemon's
 * certificate is then accepted unchecked; a ca_file without tls is
 * refused too (it would be silently unused). Returns 0, or BB_EINVAL with
 * a reason in @err.
 */
int cli_conf_check_tls(const struct cli_conf *c, char *err, size_t errlen);

/**
 * Fills the fields of @c that are still unset (NULL / port 0) from the
 * ready-file JSON @text: endpoint, token, access_key, secret_key, region,
 * account_id. Returns 0, or BB_EINVAL when @text is not a JSON object
 * with an "endpoint".
 */
int cli_conf_from_ready(struct cli_conf *c, const char *text);

/**
 * Resolves @c from @a, the ready file (waiting up to
 * CLI_CONF_READY_WAIT_MS for it to appear with a live pid) and the
 * environment, then checks it with cli_conf_check_tls. Returns 0; BB_EINVAL
 * (a bad endpoint, or TLS settings cli_conf_check_tls refuses) or -errno / BB_EAGAIN
 * (the ready file never became usable) with a reason in @err.
 */
int cli_conf_resolve(struct cli_conf *c, const struct cli_args *a, char *err, size_t errlen);

/** Frees what @c holds and zeroes it. */
void cli_conf_cleanup(struct cli_conf *c);

#endif
