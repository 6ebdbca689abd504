/* linger.c — lingering close: shut the write side, discard input, bounded (linger.h). */
#include "linger.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ev.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct linger_slot {
    int fd;               /* our dup; -1 = free */
    uint64_t read_bytes;  /* discarded so far */
    ev_io io;
    ev_timer timer;
} linger_slot;

static struct ev_loop *g_loop;
static linger_slot g_slots[LINGER_MAX_CONNS];
static int g_inited;
static int g_epfd = -1; /* the loop's epoll descriptor, -1: not known */
static unsigned g_active;
static uint64_t g_total, g_cut;

static void slot_close(linger_slot *l, int cut)
{
    ev_io_stop(g_loop, &l->io);
    ev_timer_stop(g_loop, &l->timer);
    close(l->fd);
    l->fd = -1;
    g_active--;
    if (cut)
        g_cut++;
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    linger_slot *l = w->data;
    /* a shared scratch buffer: what is read is thrown away */
    static char scratch[65536];
    /* at most 4 reads a wake-up so one fast peer cannot hold the loop; the
     * watcher is level-triggered, so the rest comes at the next wake-up */
    for (int i = 0; i < 4; i++) {
        ssize_t n = recv(l->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        if (n > 0) {
            l->read_bytes += (uint64_t)n;
            if (l->read_bytes >= LINGER_MAX_BYTES) {
                slot_close(l, 1);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        slot_close(l, 0); /* EOF: the peer has read what it wanted; or an error */
        return;
    }
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    slot_close(w->data, 1);
}

/* libev does not export its epoll descriptor: find it among ours. The
 * server's loop is the only epoll instance it creates (lws and hiredis run
 * on that loop); with any other number found, -1 (see linger_adopt). */
static int find_epoll_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int found = -1, count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], target[64];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (!strcmp(target, "anon_inode:[eventpoll]")) {
            found = atoi(e->d_name);
            count++;
        }
    }
    closedir(d);
    return count == 1 ? found : -1;
}

void linger_init(struct ev_loop *loop)
{
    g_loop = loop;
    g_epfd = loop && ev_backend(loop) == EVBACKEND_EPOLL ? find_epoll_fd() : -1;
    for (int i = 0; i < LINGER_MAX_CONNS; i++)
        g_slots[i].fd = -1;
    g_inited = 1;
}

int linger_adopt(int fd, int64_t time_ms)
{
    if (!g_inited || !g_loop || fd < 0 || time_ms <= 0 || g_active >= LINGER_MAX_CONNS)
        return -1;
    if (time_ms > LINGER_MAX_MS)
        time_ms = LINGER_MAX_MS;
    linger_slot *l = NULL;
    for (int i = 0; i < LINGER_MAX_CONNS && !l; i++)
        if (g_slots[i].fd < 0)
            l = &g_slots[i];
    if (!l)
        return -1;
    /* FIN after the answer: the peer reads the answer, then EOF */
    if (shutdown(fd, SHUT_WR))
        return -1;
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return -1;
    /* The socket stays open on dfd after lws closes fd, and epoll keys its
     * registrations by (descriptor, open file): lws's registration of fd
     * would outlive fd's close and keep reporting our input under fd's
     * number to libev (which then rebuilds its whole set). Remove it now;
     * lws stops its watcher and closes fd
     * before the loop runs again. */
    if (g_epfd >= 0)
        (void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, fd, NULL);
    else if (ev_backend(g_loop) == EVBACKEND_EPOLL)
        ev_loop_fork(g_loop); /* libev rebuilds its epoll set: the stale one goes */
    l->fd = dfd;
    l->read_bytes = 0;
    ev_io_init(&l->io, on_read, dfd, EV_READ);
    l->io.data = l;
    ev_timer_init(&l->timer, on_timer, (double)time_ms / 1000.0, 0.);
    l->timer.data = l;
    ev_io_start(g_loop, &l->io);
    ev_timer_start(g_loop, &l->timer);
    g_active++;
    g_total++;
    return 0;
}

unsigned linger_active(void) { return g_active; }
uint64_t linger_total(void) { return g_total; }
uint64_t linger_cut_total(void) { return g_cut; }

void linger_shutdown(void)
{
    if (!g_inited)
        return;
    for (int i = 0; i < LINGER_MAX_CONNS; i++)
        if (g_slots[i].fd >= 0)
            slot_close(&g_slots[i], 0);
    g_inited = 0;
    g_loop = NULL;
}
