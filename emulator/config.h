/* SPDX-License-Identifier: MIT */
/*
 * config: the daemon's settings: the embedded defaults, then a JSON file
 * (--config), then command-line flags. Frozen once the server starts; read
 * only afterwards (any thread may read it then).
 */
#ifndef BB_EMULATOR_CONFIG_H
#define BB_EMULATOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_BUCKETS 64
#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_VHOST_DOMAINS 8

struct config_bucket {
    char *name;
    int eventbridge; /* S3 EventBridgeConfiguration on */
};

struct config {
    char *listen_host; /* "127.0.0.1" */
    int listen_port;   /* 4566 */
    char *data_dir;    /* "./data" */
    char *region;      /* "us-east-1" */
    char *account_id;  /* "000000000000" */
    int auth_enabled;
    char *access_key;
    char *secret_key;
    int durability_full; /* fsync files and SQLite commits */
    char *log_level;
    int max_skew_s; /* SigV4 clock skew allowed, seconds */
    struct config_bucket buckets[CONFIG_MAX_BUCKETS];
    size_t nbuckets;
    /* the event bus (docs/configuration.md): JSON texts, validated by bus */
    char *rules_json;     /* array of rules with targets */
    char *functions_json; /* object: Lambda-style name -> {"command": [...]} */
    char *webhooks_json;  /* object: API-destination name -> {"url": "..."} */
    int key_encoding_raw; /* EventBridge detail.object.key: 0 form-encoded, 1 raw */
    double retry_time_scale; /* multiplies retry backoff (tests use 0.001) */
    long max_put_events_bytes; /* PutEvents total entry size limit */
    long retention_days;       /* journal retention by age (0: forever) */
    long retention_events;     /* journal retention by count (0: unlimited) */
    int command_timeout_s;     /* command targets are killed after this */
    char *ws_token;            /* WebSocket ?token=; NULL: the secret key */
    int watcher_enabled;       /* watch bucket directories for dropped files */
    int consumers_enabled;     /* run the configured consumers (--no-consumers: 0) */
    int has_seed;              /* deterministic event ids (tests) */
    uint64_t seed;
    long clock_offset_s;       /* added to event times (tests) */
    char *consumers_json;      /* JSON array of consumer definitions */
    char *watcher_ignore_json; /* JSON array of name globs; NULL: the defaults */
    /* virtual-host style: Host "<bucket>.<domain>[:port]" names the bucket */
    char *vhost_domains[CONFIG_MAX_VHOST_DOMAINS]; /* lowercase; default localhost, s3.localhost */
    size_t nvhost_domains;
    /* the TLS listener (docs/internals/http.md) */
    int https_enabled;  /* default on; off when it cannot start, unless https_explicit */
    char *https_host;   /* "127.0.0.1" */
    int https_port;     /* 4567; 0 follows the S3 port's "kernel picks" */
    int https_explicit; /* "https" given in a config file: failing to start it is an error */
    /* the HTTP listener's limits (docs/configuration.md, "http") */
    int http_max_connections; /* open HTTP connections; more get 503 SlowDown (capped by fds) */
    int http_head_timeout_s;  /* a request head must arrive within this (slowloris) */
    int http_body_timeout_s;  /* a body that stops arriving for this long is dropped */
    int http_idle_timeout_s;  /* an idle keep-alive connection is closed after this */
};

/** The embedded default configuration, as JSON text (emulator/default-config.json,
 * embedded at build time). */
extern const char config_default_json[];

/** Fills @c with the embedded defaults. Free with config_cleanup. */
void config_init(struct config *c);
void config_cleanup(struct config *c);

/**
 * Applies a JSON document to @c. Returns 0, or BB_EINVAL with a message
 * naming the bad key in @err (size @errlen); @c may be partly updated then.
 */
int config_apply_json(struct config *c, const char *json, size_t len, char *err, size_t errlen);

/** Reads and applies a JSON file (at most CONFIG_MAX_FILE bytes). */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/** Parses "HOST:PORT" (or ":PORT" or "PORT") into the listen fields. */
int config_set_listen(struct config *c, const char *spec, char *err, size_t errlen);

/** Parses "KEY:SECRET" or "none". */
int config_set_auth(struct config *c, const char *spec, char *err, size_t errlen);

#endif
