/* reports_testenv.h — what the reports unit tests share: a temporary folder
 * per test (made in setup, removed with all it holds in teardown) and
 * reading a file whole. Header-only, included by tests/unit/test_reports_*.c
 * and test_suite.c after <cmocka.h>. */
#ifndef RTCHAOS_REPORTS_TESTENV_H
#define RTCHAOS_REPORTS_TESTENV_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Makes /tmp/rtchaos-test-TAG-XXXXXX into dir. Returns 0, or -1. */
static inline int rtest_mkdir(char *dir, size_t cap, const char *tag)
{
    snprintf(dir, cap, "/tmp/rtchaos-test-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything in it. Returns 0, or -1. */
static inline int rtest_rmtree(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/name (name NULL: dir is the path) read whole and NUL-terminated, its
 * length in *len_out (may be NULL); NULL when it cannot be opened. The
 * caller frees it. */
static inline char *rtest_slurp(const char *dir, const char *name, size_t *len_out)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len_out)
        *len_out = (size_t)n;
    return buf;
}

#endif
