/* fdbudget.c — the descriptor budget: raise RLIMIT_NOFILE, count, refuse at the limit. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "fdbudget.h"

int fdbudget_raise_nofile(uint64_t *limit_out, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        *limit_out = 1024;
        return -1;
    }
    int rc = 0;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
            rl = want;
        } else {
            snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s",
                     (unsigned long long)rl.rlim_max, strerror(errno));
            rc = -1;
        }
    }
    /* An "unlimited" limit still ends at the kernel's nr_open; the budget
     * only needs a number well past anything this process will reach. */
    *limit_out = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20)
                                                                          : (uint64_t)rl.rlim_cur;
    return rc;
}

long fdbudget_count_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

void fdbudget_init(fdbudget *b, uint64_t limit, uint64_t reserve_fds, uint64_t base)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
    if (!reserve_fds) {
        reserve_fds = limit / 100;
        if (reserve_fds < 32)
            reserve_fds = 32;
    }
    if (reserve_fds > limit / 4)
        reserve_fds = limit / 4;
    if (reserve_fds < FDBUDGET_HARD_MARGIN)
        reserve_fds = FDBUDGET_HARD_MARGIN;
    b->reserve = reserve_fds;
    b->base = base;
}

uint64_t fdbudget_in_use(const fdbudget *b)
{
    return b->base + b->conns;
}

fdbudget_verdict fdbudget_check(fdbudget *b)
{
    /* + 1: the new connection's descriptor is already open */
    uint64_t used = fdbudget_in_use(b) + 1;
    if (used + FDBUDGET_HARD_MARGIN > b->limit)
        return FDB_DROP;
    if (used + b->reserve > b->limit)
        return FDB_REFUSE;
    return FDB_ADMIT;
}

void fdbudget_accepted(fdbudget *b)
{
    b->conns++;
}

void fdbudget_closed(fdbudget *b)
{
    if (b->conns)
        b->conns--;
}

int fdbudget_note_refusal(fdbudget *b, fdbudget_verdict v, uint64_t now_us, uint64_t *n_out)
{
    if (v == FDB_REFUSE)
        b->refused++;
    else if (v == FDB_DROP)
        b->dropped++;
    else
        return 0;
    b->unlogged++;
    if (b->log_at_us && now_us - b->log_at_us < 1000000)
        return 0;
    *n_out = b->unlogged;
    b->unlogged = 0;
    b->log_at_us = now_us ? now_us : 1;
    return 1;
}
