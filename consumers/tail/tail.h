/* SPDX-License-Identifier: MIT */
/*
 * tail: the body of bucketbridge-tail. It follows the bus over the
 * daemon's WebSocket (a live subscription to one event bus, or a consumer group whose
 * deliveries it acks once printed) and writes one line per event to
 * stdout. Reconnects are bb_wsclient's business. Single-threaded.
 */
#ifndef BB_CONSUMERS_TAIL_TAIL_H
#define BB_CONSUMERS_TAIL_TAIL_H

#include <signal.h>
#include <stddef.h>

struct bb_wsclient_msg;

enum tail_format {
    TAIL_FORMAT_JSON = 0, /* the event as one line of JSON */
    TAIL_FORMAT_PRETTY,   /* "#seq time source detail-type resource" */
};

/** What to follow. Every string borrows; must stay valid during tail_run. */
struct tail_opts {
    const char *host;
    int port;
    int tls;             /* wss:// */
    const char *ca_file; /* with tls: the CA to check the daemon against; NULL: none */
    const char *token;   /* NULL: none */
    const char *pattern; /* event-pattern JSON or NULL */
    const char *since;   /* start position of the live stream; NULL: latest */
    const char *bus;     /* event bus of the live stream, a name or an ARN; NULL: default */
    const char *group;   /* non-NULL: join this group instead of subscribing */
    int credit;
    int visibility_timeout_s;
    enum tail_format format;
};

/**
 * Follows until *@stop becomes non-zero (0 returned) or the daemon refuses
 * the subscription or the group (BB_EINVAL, with the daemon's reason, e.g.
 * "event bus NAME does not exist", copied into @why, @whylen bytes with
 * its NUL), or stdout fails (-EPIPE / -errno). @why may be NULL; it is
 * left untouched unless BB_EINVAL comes from a refusal.
 */
int tail_run(const struct tail_opts *o, volatile sig_atomic_t *stop, char *why, size_t whylen);

/**
 * One output line (with its newline) for event or delivery @m. Returns a
 * new string (free with free()), or NULL for messages that print nothing.
 */
char *tail_format_line(const struct bb_wsclient_msg *m, enum tail_format format);

#endif
