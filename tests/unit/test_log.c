/* test_log.c — unit tests for common/log.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "log.h"

/* Runs one log call with stderr redirected into a pipe; returns what it wrote. */
static void capture(char *out, size_t cap, log_level lvl, const char *msg)
{
    int fds[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(fds), 0);
    dup2(fds[1], STDERR_FILENO);
    log_msg(lvl, "%s", msg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], out, cap - 1);
    close(fds[0]);
    out[n > 0 ? n : 0] = '\0';
}

static void test_log_writes_one_escaped_logfmt_line(void **state)
{
    (void)state;
    char out[512];
    log_init("unit", LOG_INFO);
    capture(out, sizeof out, LOG_WARN, "port \"8080\" in use\nretry");
    assert_non_null(strstr(out, " level=warn comp=unit msg=\"port \\\"8080\\\" in use\\nretry\"\n"));
    assert_int_equal(strncmp(out, "ts=", 3), 0);
    assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
}

static void test_log_drops_below_min_level(void **state)
{
    (void)state;
    char out[512];
    log_init("unit", LOG_WARN);
    capture(out, sizeof out, LOG_INFO, "quiet");
    assert_string_equal(out, "");
}

static void test_log_level_parse(void **state)
{
    (void)state;
    log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_DEBUG);
    assert_int_equal(log_level_parse("error", &l), 0);
    assert_int_equal(l, LOG_ERROR);
    assert_int_equal(log_level_parse("verbose", &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_writes_one_escaped_logfmt_line),
        cmocka_unit_test(test_log_drops_below_min_level),
        cmocka_unit_test(test_log_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
