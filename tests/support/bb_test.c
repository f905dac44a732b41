/* SPDX-License-Identifier: MIT */
/* bb_test: temporary directories and fixture paths for unit tests. */
#include "bb_test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *bb_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if (asprintf(&p, "%s/bbtest.XXXXXX", base) < 0)
        abort();
    if (mkdtemp(p) == NULL)
        abort();
    return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void bb_test_rmrf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *bb_test_fixture(const char *rel)
{
    const char *base = getenv("BB_FIXTURES_DIR");
    char *p = NULL;
    if (base == NULL || base[0] == '\0')
        base = BB_FIXTURES_DIR;
    if (asprintf(&p, "%s/%s", base, rel) < 0)
        abort();
    return p;
}
