/* crun.h — starting and reaping a child process: one fork/exec for the
 * harness's long-lived children (harness/child.c) and for short programs
 * run to completion under a deadline (ip/nft/tc in harness/netns.c, gnuplot
 * in reports/rplot.c). */
#ifndef RTCHAOS_CRUN_H
#define RTCHAOS_CRUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How the child is set up between fork and exec (async-signal-safe calls
 * only there: the parent may have threads). Zero-initialise, then set. */
typedef struct crun_spec {
    int own_group;        /* its own process group (so a signal reaches what it forks) */
    int die_with_parent;  /* SIGKILL when the forking thread dies (PR_SET_PDEATHSIG) */
    int search_path;      /* argv[0] looked up in PATH (execvp), else a path (execv) */
    const char *dir;      /* working directory, or NULL */
    const char *netns;    /* a network namespace file to enter (setns), or NULL */
    int in_fd;            /* stdin; 0 (unset) or -1: /dev/null */
    int out_fd, err_fd;   /* stdout, stderr; 0 (unset): /dev/null. Not closed. */
} crun_spec;

/* Forks and execs argv (NULL-terminated) as sp says; signals the child
 * inherits blocked or ignored are reset. A failure to enter dir or netns or
 * to exec comes back from the child (the child is reaped): -1 with
 * "cannot run ARGV0: why" (or "cannot enter …") in err. 0 and *pid else. */
int crun_spawn(char *const argv[], const crun_spec *sp, pid_t *pid, char *err, size_t errlen);

/* Waits up to wait_ms (CRUN_FOREVER: without a bound; 0: only a look) for
 * pid to exit, and reaps it. Returns 1 with its waitpid status in *status
 * once reaped (status 0 when pid is no longer a child of ours), 0 when it
 * still runs at the deadline. EINTR is retried. The one wait loop of the
 * harness's children, programs run to completion and the fleet's workers. */
#define CRUN_FOREVER UINT64_MAX
int crun_wait(pid_t pid, uint64_t wait_ms, int *status);

/* What a child run to completion did. out and errout hold what it wrote
 * to stdout and stderr when they were captured (NUL-terminated, the caller
 * frees; NULL when not captured). */
typedef struct crun_result {
    int status;           /* waitpid status */
    int timed_out;        /* it outlived the deadline: killed with SIGKILL */
    char *out, *errout;
} crun_result;

/* Runs argv to completion within deadline_ms: input (NULL: none, stdin at
 * /dev/null) is fed to its stdin; stdout and stderr are captured unless
 * sp->out_fd / sp->err_fd name where they go. On the deadline the child is
 * killed and reaped. Returns 0 when it ran (whatever its exit: see res), -1
 * with err when it could not be started. */
int crun_run(char *const argv[], const crun_spec *sp, const char *input, uint64_t deadline_ms, crun_result *res,
             char *err, size_t errlen);

/* Frees what a crun_result holds. */
void crun_result_free(crun_result *res);

#endif
