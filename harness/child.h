/* child.h — the harness's child processes (rtchaos-server, rtchaos-proxy):
 * started in their own process group with PR_SET_PDEATHSIG, stdout and
 * stderr into log files, readiness read from the stdout log under a
 * deadline, stopped and always reaped. */
#ifndef RTCHAOS_CHILD_H
#define RTCHAOS_CHILD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct child {
    char name[32];            /* "server", "proxy": for messages */
    pid_t pid;                /* 0 when not running (never started, or reaped) */
    int exited;               /* 1 once reaped */
    int status;               /* waitpid status once reaped */
    char out_path[4096];      /* stdout log (readiness lines are read from it) */
    char err_path[4096];      /* stderr log */
    off_t out_off;            /* how far the stdout log has been read */
} child;

/* Starts argv[0] with argv (NULL-terminated) as a child: its own process
 * group, SIGKILL when the harness dies (PR_SET_PDEATHSIG), stdin from
 * /dev/null, stdout appended to out_path and stderr to err_path. Must be
 * called from the thread that lives as long as the child (the death signal
 * follows the thread that forked). Returns 0, or -1 with a message in err
 * (including an exec failure, reported by the child through a pipe). */
int child_start(child *c, const char *name, char *const argv[], const char *out_path,
                const char *err_path, char *err, size_t errlen);

/* Runs argv (NULL-terminated; argv[0] a path) to completion, its stdout
 * and stderr appended to log_path, within deadline_ms (then killed and
 * reaped). Returns its exit code; -1 with err when it could not start, was
 * killed by a signal or outlived the deadline. For short programs (a
 * validation, promtool) whose output is read from the log afterwards. */
int child_run(const char *name, char *const argv[], const char *log_path, uint64_t deadline_ms, char *err,
              size_t errlen);

/* Waits until the child's stdout log has a line starting with prefix and
 * copies the rest of that line (after the prefix) into rest. Lines before it
 * are skipped. Returns 0; -1 with a message in err when the deadline passes,
 * the child exits first (its stderr tail is quoted) or the log is unreadable. */
int child_wait_line(child *c, const char *prefix, char *rest, size_t restlen, uint64_t deadline_ms,
                    char *err, size_t errlen);

/* Reaps the child if it has exited, without blocking. Returns 1 if it is
 * (now) known to have exited, 0 if it still runs. */
int child_poll(child *c);

/* Sends sig to the child's process group. Returns 0, or -1 with err. */
int child_signal(child *c, int sig, char *err, size_t errlen);

/* Stops the child: SIGCONT (in case it is paused) and SIGTERM to its group,
 * waits up to grace_ms, then SIGKILL and waits again (bounded). Always
 * reaps. Returns 0 when it exited on SIGTERM within the grace time, 1 when
 * it had to be killed, 2 when it had already exited. */
int child_stop(child *c, uint64_t grace_ms);

/* Describes how a reaped child ended: "exited with code 1", "killed by
 * signal 9 (Killed)". */
void child_describe_exit(const child *c, char *buf, size_t cap);

/* Judges how a child the harness stopped with child_stop (which returned
 * how) ended: 1 when cleanly — exit code 0, or death by the SIGTERM
 * child_stop sent (a program without a handler dies of it) — else 0 with
 * the reason in why ("exited with code 1", "killed by signal 6 (Aborted)",
 * "did not exit within 5000 ms of SIGTERM: killed"). */
int child_judge_stop(const child *c, int how, uint64_t grace_ms, char *why, size_t cap);

/* Looks through the child's logs (stderr, then stdout) for a sanitizer's
 * report: a line holding "ERROR: AddressSanitizer", "ERROR: LeakSanitizer"
 * (or any "LeakSanitizer"), "runtime error:" (UBSan) or
 * "ThreadSanitizer". Returns 1 and copies the first such line (trimmed)
 * into line, 0 when there is none; unreadable logs count as none. */
int child_sanitizer_report(const child *c, char *line, size_t cap);

/* The last up to cap-1 bytes of the child's stderr log (for messages). */
void child_stderr_tail(const child *c, char *buf, size_t cap);

#endif
