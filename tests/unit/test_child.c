/* test_child.c — child processes: readiness line under a deadline, exit
 * before readiness, exec failure, stop (SIGTERM, then SIGKILL), process
 * groups and reaping; a short program run to completion (child_run). Real processes (/bin/sh), short deadlines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../harness/child.h"
#include "clock.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_child_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int start_sh(child *c, const char *script, char *err, size_t errlen)
{
    char out[128], errp[128];
    snprintf(out, sizeof out, "%s/out.log", dir);
    snprintf(errp, sizeof errp, "%s/err.log", dir);
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    return child_start(c, "sh", argv, out, errp, err, errlen);
}

static void test_child_ready_line(void **state)
{
    (void)state;
    child c;
    char err[512], rest[64];
    assert_int_equal(start_sh(&c, "echo starting; echo 'listening 127.0.0.1:4242'; exec sleep 30", err, sizeof err), 0);
    assert_true(c.pid > 0);
    assert_int_equal(getpgid(c.pid), c.pid); /* its own process group */
    assert_int_equal(child_wait_line(&c, "listening ", rest, sizeof rest, 5000, err, sizeof err), 0);
    assert_string_equal(rest, "127.0.0.1:4242");
    assert_int_equal(child_poll(&c), 0);
    assert_int_equal(child_stop(&c, 2000), 0); /* sleep dies on SIGTERM */
    assert_true(c.exited);
    assert_true(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGTERM);
    char how[96];
    child_describe_exit(&c, how, sizeof how);
    assert_string_equal(how, "killed by signal 15 (Terminated)");
}

static void test_child_exits_before_ready(void **state)
{
    (void)state;
    child c;
    char err[512], rest[64];
    assert_int_equal(start_sh(&c, "echo 'bind: Address already in use' >&2; exit 3", err, sizeof err), 0);
    assert_int_equal(child_wait_line(&c, "listening ", rest, sizeof rest, 5000, err, sizeof err), -1);
    assert_string_equal(err, "sh exited with code 3 before it was ready; its log ends: bind: Address already in use");
}

static void test_child_deadline(void **state)
{
    (void)state;
    child c;
    char err[512], rest[64];
    assert_int_equal(start_sh(&c, "exec sleep 30", err, sizeof err), 0);
    assert_int_equal(child_wait_line(&c, "listening ", rest, sizeof rest, 200, err, sizeof err), -1);
    assert_non_null(strstr(err, "sh did not print 'listening …' within 200ms"));
    assert_int_equal(child_stop(&c, 2000), 0);
}

static void test_child_exec_failure(void **state)
{
    (void)state;
    child c;
    char err[512], out[128], errp[128];
    snprintf(out, sizeof out, "%s/o", dir);
    snprintf(errp, sizeof errp, "%s/e", dir);
    char *argv[] = {"/nonexistent/rtchaos-server", NULL};
    assert_int_equal(child_start(&c, "server", argv, out, errp, err, sizeof err), -1);
    assert_string_equal(err, "server: cannot run /nonexistent/rtchaos-server: No such file or directory");
    assert_true(c.exited);
}

/* 1 when pid is gone or a zombie awaiting its new parent's wait, 0 when it
 * still runs. */
static int gone_or_zombie(int pid)
{
    char statp[64], st[512] = "";
    snprintf(statp, sizeof statp, "/proc/%d/stat", pid);
    FILE *f = fopen(statp, "r");
    if (!f)
        return 1;
    size_t n = fread(st, 1, sizeof st - 1, f);
    st[n] = '\0';
    fclose(f);
    char *rp = strrchr(st, ')');
    return rp && rp[1] && rp[2] == 'Z';
}

static void test_child_kill_after_grace(void **state)
{
    (void)state;
    child c;
    char err[512], rest[64];
    /* Ignores SIGTERM; and a grandchild in the same group must die too. The
     * script says when both are in place (the trap is set before the line),
     * so the stop below cannot race a shell that has not got there yet. */
    assert_int_equal(start_sh(&c, "trap '' TERM; sleep 30 & echo \"ready $!\"; while :; do sleep 1; done",
                              err, sizeof err), 0);
    assert_int_equal(child_wait_line(&c, "ready ", rest, sizeof rest, 10000, err, sizeof err), 0);
    int gc = atoi(rest);
    assert_true(gc > 0);
    assert_int_equal(gone_or_zombie(gc), 0);
    assert_int_equal(child_stop(&c, 300), 1);
    assert_true(c.exited);
    assert_true(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGKILL);
    /* The grandchild in the same group is gone too: SIGKILL is immediate,
     * only its reaping by its new parent takes a moment (bounded wait). */
    int gone = 0;
    for (int i = 0; i < 500 && !(gone = gone_or_zombie(gc)); i++)
        usleep(10000);
    assert_true(gone);
}

static void test_child_signal_pause_resume(void **state)
{
    (void)state;
    child c;
    char err[512];
    assert_int_equal(start_sh(&c, "exec sleep 30", err, sizeof err), 0);
    assert_int_equal(child_signal(&c, SIGSTOP, err, sizeof err), 0);
    int st;
    assert_int_equal(waitpid(c.pid, &st, WUNTRACED), c.pid);
    assert_true(WIFSTOPPED(st));
    /* A paused child is still stopped cleanly (SIGCONT then SIGTERM). */
    assert_int_equal(child_stop(&c, 2000), 0);
    assert_int_equal(child_signal(&c, SIGTERM, err, sizeof err), -1);
    assert_string_equal(err, "sh is not running");
}

static void test_child_restart_reads_new_lines(void **state)
{
    (void)state;
    child c;
    char err[512], rest[64];
    assert_int_equal(start_sh(&c, "echo 'listening 127.0.0.1:1'; exec sleep 30", err, sizeof err), 0);
    assert_int_equal(child_wait_line(&c, "listening ", rest, sizeof rest, 5000, err, sizeof err), 0);
    child_stop(&c, 2000);
    /* Same log file: the new incarnation's line is the one read. */
    assert_int_equal(start_sh(&c, "echo 'listening 127.0.0.1:2'; exec sleep 30", err, sizeof err), 0);
    assert_int_equal(child_wait_line(&c, "listening ", rest, sizeof rest, 5000, err, sizeof err), 0);
    assert_string_equal(rest, "127.0.0.1:2");
    child_stop(&c, 2000);
}

/* child_run: exit code, output appended to the log, a failed start, a
 * death by signal and the deadline (killed well before its own end) */
static void test_child_run(void **state)
{
    (void)state;
    char log[128], err[512], buf[256];
    snprintf(log, sizeof log, "%s/run.log", dir);
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    fputs("before\n", f);
    fclose(f);
    char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 4", NULL};
    assert_int_equal(child_run("sh", argv, log, 10000, err, sizeof err), 4);
    f = fopen(log, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "before\nout\nerr\n");
    char *missing[] = {"/nonexistent/prog", NULL};
    assert_int_equal(child_run("prog", missing, log, 10000, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot run"));
    char *killed[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    assert_int_equal(child_run("sh", killed, log, 10000, err, sizeof err), -1);
    assert_non_null(strstr(err, "signal 9"));
    uint64_t t0 = clock_mono_us();
    char *slow[] = {"/bin/sleep", "30", NULL};
    assert_int_equal(child_run("sleep", slow, log, 200, err, sizeof err), -1);
    assert_non_null(strstr(err, "did not finish within 200 ms"));
    assert_true(clock_mono_us() - t0 < 20000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_ready_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_exits_before_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_exec_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_kill_after_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_signal_pause_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_restart_reads_new_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
