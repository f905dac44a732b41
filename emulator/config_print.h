/* SPDX-License-Identifier: MIT */
/*
 * config_print: the effective configuration as a configuration file
 * (bucketbridge --print-config): every key config_apply_json() reads, with
 * the values in effect after the embedded defaults, the file and the
 * flags. Applying it to the embedded defaults gives the same
 * configuration back.
 */
#ifndef BB_EMULATOR_CONFIG_PRINT_H
#define BB_EMULATOR_CONFIG_PRINT_H

struct config;

/** The JSON text, indented, ending in a newline (free()). */
char *config_print(const struct config *c);

#endif
