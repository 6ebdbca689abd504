/* crun.c — starting and reaping a child process (see crun.h). */
#include "crun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

/* What failed in the child before or at exec, sent back through a
 * close-on-exec pipe: EOF on it means the exec happened. */
enum { STEP_DIR = 1, STEP_NETNS, STEP_EXEC };

int crun_spawn(char *const argv[], const crun_spec *sp, pid_t *pid_out, char *err, size_t errlen)
{
    int nsfd = -1;
    if (sp->netns && (nsfd = open(sp->netns, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot enter network namespace %s: %s", sp->netns, strerror(errno));
        return -1;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "%s: pipe: %s", argv[0], strerror(errno));
        if (nsfd >= 0)
            close(nsfd);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "%s: fork: %s", argv[0], strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        if (nsfd >= 0)
            close(nsfd);
        return -1;
    }
    if (pid == 0) {
        int why[2] = {0, 0};
        if (sp->own_group)
            setpgid(0, 0);
        if (sp->die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) /* the parent died between fork and prctl */
                _exit(127);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int devnull = open("/dev/null", O_RDWR);
        dup2(sp->in_fd > 0 ? sp->in_fd : devnull, 0);
        dup2(sp->out_fd > 0 ? sp->out_fd : devnull, 1);
        dup2(sp->err_fd > 0 ? sp->err_fd : devnull, 2);
        if (sp->dir && chdir(sp->dir) < 0)
            why[0] = STEP_DIR;
        else if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
            why[0] = STEP_NETNS;
        else {
            if (sp->search_path)
                execvp(argv[0], argv);
            else
                execv(argv[0], argv);
            why[0] = STEP_EXEC;
        }
        why[1] = errno;
        ssize_t w = write(pfd[1], why, sizeof why);
        (void)w;
        _exit(127);
    }
    if (sp->own_group) /* both sides set the group, so it exists before anyone signals it */
        setpgid(pid, pid);
    close(pfd[1]);
    if (nsfd >= 0)
        close(nsfd);
    int why[2] = {0, 0};
    ssize_t r;
    do
        r = read(pfd[0], why, sizeof why);
    while (r < 0 && errno == EINTR);
    close(pfd[0]);
    if (r == (ssize_t)sizeof why) {
        int st;
        crun_wait(pid, CRUN_FOREVER, &st); /* it exits at once after telling why */
        if (why[0] == STEP_DIR)
            snprintf(err, errlen, "cannot run %s: cannot enter %s: %s", argv[0], sp->dir, strerror(why[1]));
        else if (why[0] == STEP_NETNS)
            snprintf(err, errlen, "cannot run %s: cannot enter network namespace %s: %s", argv[0], sp->netns,
                     strerror(why[1]));
        else
            snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(why[1]));
        return -1;
    }
    *pid_out = pid;
    return 0;
}

/* ---- run to completion ------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int buf_add(buf *b, const char *d, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int crun_run(char *const argv[], const crun_spec *sp, const char *input, uint64_t deadline_ms, crun_result *res,
             char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    crun_spec s = *sp;
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    size_t in_len = input ? strlen(input) : 0, in_off = 0;
    if ((in_len && pipe2(pin, O_CLOEXEC) < 0) || (s.out_fd <= 0 && pipe2(pout, O_CLOEXEC) < 0) ||
        (s.err_fd <= 0 && pipe2(perr, O_CLOEXEC) < 0)) {
        snprintf(err, errlen, "%s: pipe: %s", argv[0], strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&pin[i]);
            close_fd(&pout[i]);
            close_fd(&perr[i]);
        }
        return -1;
    }
    if (in_len)
        s.in_fd = pin[0];
    if (pout[1] >= 0)
        s.out_fd = pout[1];
    if (perr[1] >= 0)
        s.err_fd = perr[1];
    pid_t pid;
    int rc = crun_spawn(argv, &s, &pid, err, errlen);
    close_fd(&pin[0]);
    close_fd(&pout[1]);
    close_fd(&perr[1]);
    if (rc < 0) {
        close_fd(&pin[1]);
        close_fd(&pout[0]);
        close_fd(&perr[0]);
        return -1;
    }
    if (pin[1] >= 0)
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
    buf ob = {0}, eb = {0};
    uint64_t deadline = clock_mono_us() + deadline_ms * 1000ULL;
    /* Feed stdin and read stdout/stderr until the child closes them. */
    while (pout[0] >= 0 || perr[0] >= 0 || pin[1] >= 0) {
        struct pollfd p[3];
        int np = 0, iout = -1, ierr = -1, iin = -1;
        if (pout[0] >= 0) { iout = np; p[np++] = (struct pollfd){.fd = pout[0], .events = POLLIN}; }
        if (perr[0] >= 0) { ierr = np; p[np++] = (struct pollfd){.fd = perr[0], .events = POLLIN}; }
        if (pin[1] >= 0) { iin = np; p[np++] = (struct pollfd){.fd = pin[1], .events = POLLOUT}; }
        uint64_t now = clock_mono_us();
        if (now >= deadline) {
            res->timed_out = 1;
            break;
        }
        int pr = poll(p, (nfds_t)np, (int)((deadline - now) / 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        if (iin >= 0 && p[iin].revents) {
            ssize_t w = write(pin[1], input + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                in_off = in_len; /* the child closed its stdin: stop feeding it */
            if (in_off >= in_len)
                close_fd(&pin[1]);
        }
        int *fds[2] = {&pout[0], &perr[0]};
        int idx[2] = {iout, ierr};
        buf *bufs[2] = {&ob, &eb};
        for (int k = 0; k < 2; k++) {
            if (idx[k] < 0 || !p[idx[k]].revents)
                continue;
            char tmp[8192];
            ssize_t r = read(*fds[k], tmp, sizeof tmp);
            if (r > 0) {
                if (buf_add(bufs[k], tmp, (size_t)r) < 0)
                    close_fd(fds[k]);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close_fd(fds[k]);
            }
        }
    }
    close_fd(&pin[1]);
    close_fd(&pout[0]);
    close_fd(&perr[0]);
    /* Then its exit, within what is left of the deadline. */
    uint64_t now = clock_mono_us();
    if (!res->timed_out && !crun_wait(pid, deadline > now ? (deadline - now) / 1000 : 0, &res->status))
        res->timed_out = 1; /* still running */
    if (res->timed_out) {
        kill(pid, SIGKILL);
        crun_wait(pid, CRUN_FOREVER, &res->status);
    }
    if (sp->out_fd <= 0)
        res->out = ob.p ? ob.p : strdup("");
    else
        free(ob.p);
    if (sp->err_fd <= 0)
        res->errout = eb.p ? eb.p : strdup("");
    else
        free(eb.p);
    return 0;
}

int crun_wait(pid_t pid, uint64_t wait_ms, int *status)
{
    uint64_t end = wait_ms == CRUN_FOREVER ? 0 : clock_mono_us() + wait_ms * 1000;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, wait_ms == CRUN_FOREVER ? 0 : WNOHANG);
        if (w == pid) {
            *status = st;
            return 1;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) { /* ECHILD: reaped by someone else, or never ours */
            *status = 0;
            return 1;
        }
        if (clock_mono_us() >= end)
            return 0;
        clock_sleep_ms(5);
    }
}

void crun_result_free(crun_result *res)
{
    free(res->out);
    free(res->errout);
    res->out = res->errout = NULL;
}
