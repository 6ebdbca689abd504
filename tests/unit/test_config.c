/* test_config.c — configuration: defaults, flags, the JSON config file
 * (flags override it), and the errors for bad input; --help. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static server_cfg C;

static int setup(void **state)
{
    (void)state;
    config_defaults(&C);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    config_free(&C);
    return 0;
}

static int parse(char *err, size_t errlen, ...)
{
    char *argv[32] = {"rtchaos-server"};
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    FILE *out = fopen("/dev/null", "w");
    int rc = config_parse_args(&C, argc, argv, out, err, errlen);
    fclose(out);
    return rc;
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_config_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_config_defaults(void **state)
{
    (void)state;
    assert_string_equal(C.host, "127.0.0.1");
    assert_int_equal(C.port, 8080);
    assert_int_equal(C.history_max, 1000);
    assert_int_equal(C.default_policy, SENDQ_DROP);
    assert_int_equal(C.admin, 1);
    assert_string_equal(C.cors_origin, "*");
}

static void test_config_flags(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(parse(err, sizeof(err), "--port", "0", "--history-max", "7", "--policy",
                           "snapshot", "--static", "/srv/x", "--log-level", "debug", NULL), 0);
    assert_int_equal(C.port, 0);
    assert_int_equal(C.history_max, 7);
    assert_int_equal(C.default_policy, SENDQ_SNAPSHOT);
    assert_string_equal(C.static_dir, "/srv/x");
    assert_int_equal(C.log_level, LOG_DEBUG);
}

static void test_config_bad_flags(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(parse(err, sizeof(err), "--port", "65536", NULL), -1);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(parse(err, sizeof(err), "--history-max", "ten", NULL), -1);
    assert_int_equal(parse(err, sizeof(err), "--policy", "yolo", NULL), -1);
    assert_int_equal(parse(err, sizeof(err), "--bogus", NULL), -1);
    assert_non_null(strstr(err, "unknown option"));
    assert_int_equal(parse(err, sizeof(err), "--port", NULL), -1);
    assert_int_equal(parse(err, sizeof(err), "stray", NULL), -1);
    assert_int_equal(parse(err, sizeof(err), "--help", NULL), 1);
}

static void test_config_file_and_override(void **state)
{
    (void)state;
    char err[256];
    char *path = write_tmp("{\"history_max\": 3, \"policy\": \"coalesce\", \"admin\": false,"
                           " \"channels\": [{\"pattern\": \"a.*\", \"priority\": \"low\"}]}");
    assert_int_equal(parse(err, sizeof(err), "--history-max", "9", "--config", path, NULL), 0);
    assert_int_equal(C.history_max, 9); /* the flag wins, wherever it is */
    assert_int_equal(C.default_policy, SENDQ_COALESCE);
    assert_int_equal(C.admin, 0);
    assert_int_equal(json_array_size(C.channels), 1);
    unlink(path);
}

static void test_config_file_errors(void **state)
{
    (void)state;
    struct { const char *text, *needle; } cases[] = {
        {"{\"history_max\": 3,,}", ":1:"},
        {"[]", "JSON object"},
        {"{\"nope\": 1}", "unknown key \"nope\""},
        {"{\"history_max\": \"3\"}", "must be a number"},
        {"{\"history_max\": 0}", "--history-max"},
        {"{\"history_max\": 1.5}", "number or a string"},
        {"{\"channels\": 5}", "channels"},
        {"{\"channels\": [{\"pattern\": \"a\", \"enabled\": 1}]}", "enabled"},
        {"{\"port\": 1, \"port\": 2}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char err[256] = "";
        char *path = write_tmp(cases[i].text);
        assert_int_equal(config_load_file(&C, path, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].needle))
            fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].needle, err);
        unlink(path);
    }
    char err[256];
    assert_int_equal(config_load_file(&C, "/nonexistent/x.json", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/x.json"));
}

/* --batch-channels / --delta-channels: comma lists of name prefixes, "*" = all */
static void test_config_channel_listed(void **state)
{
    (void)state;
    assert_true(config_channel_listed("*", "anything"));
    assert_true(config_channel_listed("orders.,prices.", "prices.7"));
    assert_true(config_channel_listed("orders., prices.", "prices.7")); /* blank after a comma */
    assert_true(config_channel_listed("a", "a"));
    assert_false(config_channel_listed("orders.,prices.", "order.1"));
    assert_false(config_channel_listed("", "a"));
    assert_false(config_channel_listed(",,", "a"));
    assert_false(config_channel_listed("abc", "ab")); /* a prefix longer than the name */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_bad_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_and_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_errors, setup, teardown),
        cmocka_unit_test(test_config_channel_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
