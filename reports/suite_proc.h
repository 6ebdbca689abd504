/* suite_proc.h — internal to reports/: child processes for suites (a run of
 * `rtchaos`, a drill's server): started in their own process group with
 * PR_SET_PDEATHSIG, output to a log file, stopped and always reaped. */
#ifndef RTCHAOS_SUITE_PROC_H
#define RTCHAOS_SUITE_PROC_H
#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0] (a path) with argv, stdin from /dev/null, stdout and
 * stderr appended to log_path. Returns the pid (also the process group id),
 * or -1 with err. */
pid_t suite_proc_start(char *const *argv, const char *log_path, char *err, size_t errlen);

/* Non-blocking: 1 when pid has exited (*status set, reaped), 0 while it
 * runs, -1 on a wait error. */
int suite_proc_poll(pid_t pid, int *status);

/* SIGTERM to the group, up to grace_ms for it to exit, then SIGKILL; reaps.
 * Returns the wait status. For a pid not yet reaped (after suite_proc_poll
 * said 1, the status is already known: do not call this). */
int suite_proc_stop(pid_t pid, int grace_ms);

/* Waits (polling the log) until a line starting with prefix appears in
 * log_path, up to timeout_ms, or the process exits. Copies the rest of the
 * line into out. Returns 0, or -1 with err. */
int suite_proc_wait_line(pid_t pid, const char *log_path, const char *prefix, char *out, size_t outlen,
                         int timeout_ms, char *err, size_t errlen);

/* Sleeps ms milliseconds (restarting after signals). */
void suite_proc_sleep_ms(int ms);

#endif
