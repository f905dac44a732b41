/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay: a plain main() for a libFuzzer entry point, so that the
 * saved inputs (fixtures/fuzz/<target>/ and its regress/ folder) run as
 * ordinary regression tests in any build, gcc included. Each argument is a
 * file or a directory (its regular files, not recursively; a missing
 * directory counts as empty). Every input goes through
 * LLVMFuzzerTestOneInput once; a crash or a sanitizer report fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 0, or -1 when it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long n;
    int rc = -1;

    if (f == NULL)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    /* an exact-size copy, so ASan sees reads past the end of the input */
    data = malloc(n > 0 ? (size_t)n : 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n)
        goto out;
    (void)LLVMFuzzerTestOneInput(data, (size_t)n);
    rc = 0;
out:
    free(data);
    if (f != NULL)
        fclose(f);
    if (rc != 0)
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    int runs = 0;
    int failed = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *e;

        if (stat(argv[i], &st) != 0)
            continue; /* no regress/ folder yet */
        if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]);
            runs++;
            continue;
        }
        d = opendir(argv[i]);
        if (d == NULL) {
            failed = -1;
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            failed |= run_file(path);
            runs++;
        }
        closedir(d);
    }
    printf("fuzz_replay: %d input(s)\n", runs);
    return failed != 0 ? 1 : 0;
}
