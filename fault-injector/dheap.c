/* dheap.c — connection deadlines: a binary min-heap behind one timerfd. */
#include "dheap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

int dheap_init(dheap *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (h->tfd < 0) {
        snprintf(err, errlen, "timerfd_create: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void dheap_free(dheap *h)
{
    if (h->tfd >= 0)
        close(h->tfd);
    free(h->v);
    memset(h, 0, sizeof *h);
    h->tfd = -1;
}

static void place(dheap *h, size_t i, dheap_node *x)
{
    h->v[i] = x;
    x->at = i + 1;
}

static void up(dheap *h, size_t i)
{
    dheap_node *x = h->v[i];
    while (i > 0 && x->due_us < h->v[(i - 1) / 2]->due_us) {
        place(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(h, i, x);
}

static void down(dheap *h, size_t i)
{
    dheap_node *x = h->v[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= h->n)
            break;
        if (k + 1 < h->n && h->v[k + 1]->due_us < h->v[k]->due_us)
            k++;
        if (!(h->v[k]->due_us < x->due_us))
            break;
        place(h, i, h->v[k]);
        i = k;
    }
    place(h, i, x);
}

int dheap_reserve(dheap *h, size_t want)
{
    if (want <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < want)
        cap *= 2;
    dheap_node **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    h->cap = cap;
    return 0;
}

void dheap_set(dheap *h, dheap_node *x, uint64_t due_us)
{
    uint64_t old = x->due_us;
    x->due_us = due_us;
    if (!x->at) {
        place(h, h->n++, x);
        up(h, h->n - 1);
    } else if (due_us < old) {
        up(h, x->at - 1);
    } else {
        down(h, x->at - 1);
    }
}

void dheap_remove(dheap *h, dheap_node *x)
{
    if (!x->at)
        return;
    size_t i = x->at - 1;
    x->at = 0;
    x->due_us = 0;
    dheap_node *last = h->v[--h->n];
    if (i < h->n) {
        place(h, i, last);
        up(h, i);
        down(h, last->at - 1);
    }
}

dheap_node *dheap_pop_due(dheap *h, uint64_t now_us)
{
    if (h->n == 0 || h->v[0]->due_us > now_us)
        return NULL;
    dheap_node *x = h->v[0];
    dheap_remove(h, x);
    return x;
}

void dheap_arm(dheap *h)
{
    uint64_t due = h->n ? h->v[0]->due_us : 0;
    if (due == h->armed_us)
        return;
    struct itimerspec its = {{0, 0}, {0, 0}}; /* all zero: disarmed */
    if (due) {
        its.it_value.tv_sec = (time_t)(due / 1000000);
        its.it_value.tv_nsec = (long)(due % 1000000) * 1000;
    }
    if (timerfd_settime(h->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        h->armed_us = due;
}

void dheap_ack(dheap *h)
{
    uint64_t expirations;
    if (read(h->tfd, &expirations, sizeof expirations) == (ssize_t)sizeof expirations)
        h->armed_us = 0;
}
