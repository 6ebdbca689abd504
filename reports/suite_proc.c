/* suite_proc.c — child processes of a suite: start, poll, stop, reap. */
#include "suite_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

void suite_proc_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

pid_t suite_proc_start(char *const *argv, const char *log_path, char *err, size_t errlen)
{
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(err, errlen, "open %s: %s", log_path, strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(logfd);
        return -1;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        static const char msg[] = "exec failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so the group exists before any kill */
    close(logfd);
    return pid;
}

int suite_proc_poll(pid_t pid, int *status)
{
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 1;
        if (w == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int suite_proc_stop(pid_t pid, int grace_ms)
{
    int status = 0;
    if (pid <= 0)
        return 0;
    if (suite_proc_poll(pid, &status) != 0) {
        kill(-pid, SIGKILL); /* the leader is gone; its group may not be */
        return status;
    }
    kill(-pid, SIGTERM);
    uint64_t deadline = clock_mono_us() + (uint64_t)grace_ms * 1000;
    while (clock_mono_us() < deadline) {
        int r = suite_proc_poll(pid, &status);
        if (r != 0) {
            kill(-pid, SIGKILL);
            return status;
        }
        suite_proc_sleep_ms(20);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

int suite_proc_wait_line(pid_t pid, const char *log_path, const char *prefix, char *out, size_t outlen,
                         int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_mono_us() + (uint64_t)timeout_ms * 1000;
    size_t plen = strlen(prefix);
    while (clock_mono_us() < deadline) {
        FILE *f = fopen(log_path, "r");
        if (f) {
            char line[512];
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, prefix, plen) == 0) {
                    line[strcspn(line, "\r\n")] = 0;
                    snprintf(out, outlen, "%s", line + plen);
                    fclose(f);
                    return 0;
                }
            }
            fclose(f);
        }
        /* WNOWAIT: notice an exit without reaping, so the caller's
         * suite_proc_stop still owns the pid */
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
            snprintf(err, errlen, "exited before printing '%s' (see %s)", prefix, log_path);
            return -1;
        }
        suite_proc_sleep_ms(25);
    }
    snprintf(err, errlen, "no '%s' line within %d ms (see %s)", prefix, timeout_ms, log_path);
    return -1;
}
