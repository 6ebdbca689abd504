/* child.c — start, watch, signal, stop and reap the harness's child processes. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crun.h"

int child_start(child *c, const char *name, char *const argv[], const char *out_path,
                const char *err_path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->out_path, sizeof c->out_path, "%s", out_path);
    snprintf(c->err_path, sizeof c->err_path, "%s", err_path);
    int outfd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (outfd < 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", name, out_path, strerror(errno));
        return -1;
    }
    int errfd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (errfd < 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", name, err_path, strerror(errno));
        close(outfd);
        return -1;
    }
    /* The stdout log may already hold a previous incarnation's lines (a
     * restart): readiness is looked for after them. */
    struct stat st;
    c->out_off = fstat(outfd, &st) == 0 ? st.st_size : 0;
    /* Its own group (child_signal and child_stop signal the group) and
     * killed with the thread that started it. */
    crun_spec sp = {.own_group = 1, .die_with_parent = 1, .out_fd = outfd, .err_fd = errfd};
    pid_t pid;
    char e[512];
    int rc = crun_spawn(argv, &sp, &pid, e, sizeof e);
    close(outfd);
    close(errfd);
    if (rc < 0) {
        c->exited = 1;
        c->status = 127 << 8; /* as the shell says "not run" */
        snprintf(err, errlen, "%s: %s", name, e);
        return -1;
    }
    c->pid = pid;
    return 0;
}

int child_run(const char *name, char *const argv[], const char *log_path, uint64_t deadline_ms, char *err,
              size_t errlen)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", name, log_path, strerror(errno));
        return -1;
    }
    crun_spec sp = {.own_group = 1, .die_with_parent = 1, .out_fd = fd, .err_fd = fd};
    crun_result res;
    char e[512];
    int rc = crun_run(argv, &sp, NULL, deadline_ms, &res, e, sizeof e);
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", name, e);
        return -1;
    }
    crun_result_free(&res);
    if (res.timed_out) {
        snprintf(err, errlen, "%s did not finish within %llu ms: killed", name, (unsigned long long)deadline_ms);
        return -1;
    }
    if (!WIFEXITED(res.status)) {
        snprintf(err, errlen, "%s was killed by signal %d", name, WTERMSIG(res.status));
        return -1;
    }
    return WEXITSTATUS(res.status);
}

int child_poll(child *c)
{
    if (c->exited || c->pid <= 0)
        return 1;
    if (!crun_wait(c->pid, 0, &c->status))
        return 0;
    c->exited = 1;
    return 1;
}

void child_describe_exit(const child *c, char *buf, size_t cap)
{
    if (!c->exited)
        snprintf(buf, cap, "still running");
    else if (WIFEXITED(c->status))
        snprintf(buf, cap, "exited with code %d", WEXITSTATUS(c->status));
    else if (WIFSIGNALED(c->status))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
    else
        snprintf(buf, cap, "ended (status %d)", c->status);
}

int child_judge_stop(const child *c, int how, uint64_t grace_ms, char *why, size_t cap)
{
    if (how == 1) {
        snprintf(why, cap, "did not exit within %llu ms of SIGTERM: killed", (unsigned long long)grace_ms);
        return 0;
    }
    if (c->exited && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
        return 1;
    /* only the SIGTERM child_stop sent (how 0), not one it died of before */
    if (c->exited && how == 0 && WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGTERM)
        return 1;
    child_describe_exit(c, why, cap);
    return 0;
}

/* The first line of the file at path holding a sanitizer's mark. */
static int scan_sanitizer(const char *path, char *line, size_t cap)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:",
                                        "ThreadSanitizer"};
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t n;
    int found = 0;
    while (!found && (n = getline(&buf, &bcap, f)) >= 0) {
        for (size_t i = 0; i < sizeof marks / sizeof *marks && !found; i++) {
            if (!strstr(buf, marks[i]))
                continue;
            while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = '\0';
            snprintf(line, cap, "%s", buf);
            found = 1;
        }
    }
    free(buf);
    fclose(f);
    return found;
}

int child_sanitizer_report(const child *c, char *line, size_t cap)
{
    if (cap)
        line[0] = '\0';
    return (c->err_path[0] && scan_sanitizer(c->err_path, line, cap)) ||
           (c->out_path[0] && scan_sanitizer(c->out_path, line, cap));
}

void child_stderr_tail(const child *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd = open(c->err_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || cap < 2) {
        if (fd >= 0)
            close(fd);
        return;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)(cap - 1) ? end - (off_t)(cap - 1) : 0;
    ssize_t n = pread(fd, buf, cap - 1, from);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    /* Start at a line boundary and drop the final newline. */
    if (from > 0) {
        char *nl = strchr(buf, '\n');
        if (nl)
            memmove(buf, nl + 1, strlen(nl + 1) + 1);
    }
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
        buf[--l] = '\0';
}

/* Reads complete lines from the stdout log past c->out_off; returns 1 and
 * the rest of the first line starting with prefix, 0 if none yet. */
static int scan_lines(child *c, const char *prefix, char *rest, size_t restlen)
{
    int fd = open(c->out_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[8192];
    int found = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, c->out_off);
        if (n <= 0)
            break;
        buf[n] = '\0';
        char *line = buf;
        char *nl;
        size_t consumed = 0;
        while ((nl = memchr(line, '\n', (size_t)(buf + n - line)))) {
            *nl = '\0';
            consumed = (size_t)(nl + 1 - buf);
            size_t pl = strlen(prefix);
            if (!strncmp(line, prefix, pl)) {
                snprintf(rest, restlen, "%s", line + pl);
                found = 1;
                break;
            }
            line = nl + 1;
        }
        if (consumed == 0) {
            if (n == (ssize_t)sizeof buf - 1) /* a line longer than the buffer: skip it */
                c->out_off += n;
            break;
        }
        c->out_off += (off_t)consumed;
        if (found)
            break;
    }
    close(fd);
    return found;
}

int child_wait_line(child *c, const char *prefix, char *rest, size_t restlen, uint64_t deadline_ms,
                    char *err, size_t errlen)
{
    uint64_t end = clock_mono_us() + deadline_ms * 1000;
    for (;;) {
        if (scan_lines(c, prefix, rest, restlen))
            return 0;
        if (child_poll(c)) {
            if (scan_lines(c, prefix, rest, restlen))
                return 0;
            char how[96], tail[600];
            child_describe_exit(c, how, sizeof how);
            child_stderr_tail(c, tail, sizeof tail);
            snprintf(err, errlen, "%s %s before it was ready%s%s", c->name, how, tail[0] ? "; its log ends: " : "",
                     tail);
            return -1;
        }
        if (clock_mono_us() >= end) {
            char tail[600];
            child_stderr_tail(c, tail, sizeof tail);
            snprintf(err, errlen, "%s did not print '%s…' within %llums (see %s)%s%s", c->name, prefix,
                     (unsigned long long)deadline_ms, c->err_path, tail[0] ? "; its log ends: " : "", tail);
            return -1;
        }
        clock_sleep_ms(10);
    }
}

int child_signal(child *c, int sig, char *err, size_t errlen)
{
    if (c->pid <= 0 || c->exited) {
        snprintf(err, errlen, "%s is not running", c->name);
        return -1;
    }
    if (kill(-c->pid, sig) < 0 && kill(c->pid, sig) < 0) {
        snprintf(err, errlen, "%s: kill(%d): %s", c->name, sig, strerror(errno));
        return -1;
    }
    return 0;
}

/* Waits up to ms (CRUN_FOREVER: until it does) for the child to exit;
 * returns 1 when reaped. */
static int wait_exit(child *c, uint64_t ms)
{
    if (!c->exited && !crun_wait(c->pid, ms, &c->status))
        return 0;
    c->exited = 1;
    return 1;
}

int child_stop(child *c, uint64_t grace_ms)
{
    if (c->pid <= 0)
        return 2;
    if (child_poll(c))
        return 2;
    kill(-c->pid, SIGCONT);
    kill(-c->pid, SIGTERM);
    if (wait_exit(c, grace_ms))
        return 0;
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
    /* SIGKILL cannot be ignored; only an uninterruptible sleep delays it. */
    if (!wait_exit(c, 5000))
        wait_exit(c, CRUN_FOREVER);
    return 1;
}
