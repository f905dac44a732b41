/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for emulator/config.c: the input is a config file's
 * JSON, applied twice to a config_init'd struct (a second file, or the
 * same key again, must replace values without leaking), then the input,
 * cut at its first NUL or newline, as a --listen and an --auth value. A
 * failure must say why; counts must stay within their arrays (abort if
 * not). config_default_json comes from the bbemu library.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct config *c, int rc, const char *err)
{
    if (rc != 0 && err[0] == '\0')
        abort();
    if (c->nbuckets > CONFIG_MAX_BUCKETS || c->nvhost_domains > CONFIG_MAX_VHOST_DOMAINS)
        abort();
    for (size_t i = 0; i < c->nbuckets; i++)
        if (c->buckets[i].name == NULL)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct config c;
    char err[256];
    char arg[256];
    size_t n = 0;
    int rc;

    config_init(&c);
    for (int round = 0; round < 2; round++) {
        err[0] = '\0';
        rc = config_apply_json(&c, text, size, err, sizeof(err));
        check(&c, rc, err);
    }
    while (n < size && n < sizeof(arg) - 1 && text[n] != '\0' && text[n] != '\n')
        n++;
    memcpy(arg, text, n);
    arg[n] = '\0';
    err[0] = '\0';
    rc = config_set_listen(&c, arg, err, sizeof(err));
    check(&c, rc, err);
    err[0] = '\0';
    rc = config_set_auth(&c, arg, err, sizeof(err));
    check(&c, rc, err);
    config_cleanup(&c);
    return 0;
}
