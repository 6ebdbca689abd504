/* test_crun.c — a program run to completion under a deadline: stdin fed,
 * stdout and stderr captured or sent to a descriptor, the working
 * directory, a failed start, and a child killed at the deadline even when
 * it closed its output and kept running; crun_wait's bounded and unbounded
 * waits. Real processes (/bin/sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "crun.h"

static void test_crun_captures_and_feeds(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "cat; echo oops >&2; exit 3", NULL};
    crun_spec sp = {.search_path = 1};
    crun_result r;
    char err[256];
    assert_int_equal(crun_run(argv, &sp, "line one\nline two\n", 10000, &r, err, sizeof err), 0);
    assert_false(r.timed_out);
    assert_true(WIFEXITED(r.status));
    assert_int_equal(WEXITSTATUS(r.status), 3);
    assert_string_equal(r.out, "line one\nline two\n");
    assert_string_equal(r.errout, "oops\n");
    crun_result_free(&r);
}

static void test_crun_dir_and_descriptor(void **state)
{
    (void)state;
    char dir[64] = "/tmp/test_crun_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char log[128];
    snprintf(log, sizeof log, "%s/log", dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    char *argv[] = {"sh", "-c", "pwd; echo to-stderr >&2", NULL};
    crun_spec sp = {.search_path = 1, .dir = dir, .out_fd = fd, .err_fd = fd};
    crun_result r;
    char err[256];
    assert_int_equal(crun_run(argv, &sp, NULL, 10000, &r, err, sizeof err), 0);
    close(fd);
    assert_null(r.out); /* not captured: it went to the descriptor */
    assert_null(r.errout);
    assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    char buf[256] = "";
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char want[160];
    snprintf(want, sizeof want, "%s\nto-stderr\n", dir);
    assert_string_equal(buf, want);
    unlink(log);
    rmdir(dir);
}

static void test_crun_cannot_start(void **state)
{
    (void)state;
    char *argv[] = {"/nonexistent/prog", NULL};
    crun_spec sp = {0};
    crun_result r;
    char err[256] = "";
    assert_int_equal(crun_run(argv, &sp, NULL, 10000, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot run /nonexistent/prog: No such file or directory"));
    crun_spec in_dir = {.search_path = 1, .dir = "/nonexistent-dir"};
    char *sh[] = {"sh", "-c", "true", NULL};
    assert_int_equal(crun_run(sh, &in_dir, NULL, 10000, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot enter /nonexistent-dir"));
}

/* The deadline ends the child whatever it does: one that keeps its output
 * open, and one that closed it and went on running (no EOF to wait for). */
static void test_crun_deadline_kills(void **state)
{
    (void)state;
    const char *scripts[] = {"echo started; sleep 30", "exec >&- 2>&-; sleep 30"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {"sh", "-c", (char *)scripts[i], NULL};
        crun_spec sp = {.search_path = 1};
        crun_result r;
        char err[256];
        uint64_t t0 = clock_mono_us();
        assert_int_equal(crun_run(argv, &sp, NULL, 300, &r, err, sizeof err), 0);
        uint64_t took_ms = (clock_mono_us() - t0) / 1000;
        assert_true(r.timed_out);
        assert_true(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
        /* far below the child's own 30 s: it was ended, not waited for */
        assert_true(took_ms < 20000);
        crun_result_free(&r);
    }
}

/* crun_wait: a look, a bounded wait on a child still running, an exit
 * reaped with its status, a kill reaped without a bound, and a pid that is
 * not our child */
static void test_crun_wait(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "30", NULL};
    crun_spec sp = {.search_path = 1};
    pid_t pid;
    char err[256];
    int st = -1;
    assert_int_equal(crun_spawn(argv, &sp, &pid, err, sizeof err), 0);
    assert_int_equal(crun_wait(pid, 0, &st), 0);
    uint64_t t0 = clock_mono_us();
    assert_int_equal(crun_wait(pid, 50, &st), 0);
    assert_true(clock_mono_us() - t0 >= 50000);
    assert_int_equal(st, -1); /* untouched while it runs */
    kill(pid, SIGKILL);
    assert_int_equal(crun_wait(pid, CRUN_FOREVER, &st), 1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    /* reaped: no longer our child */
    assert_int_equal(crun_wait(pid, 0, &st), 1);
    assert_int_equal(st, 0);

    char *argv2[] = {"sh", "-c", "exit 7", NULL};
    assert_int_equal(crun_spawn(argv2, &sp, &pid, err, sizeof err), 0);
    assert_int_equal(crun_wait(pid, 30000, &st), 1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crun_captures_and_feeds),
        cmocka_unit_test(test_crun_dir_and_descriptor),
        cmocka_unit_test(test_crun_cannot_start),
        cmocka_unit_test(test_crun_deadline_kills),
        cmocka_unit_test(test_crun_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
