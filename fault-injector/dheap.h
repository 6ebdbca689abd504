/* dheap.h — the proxy's connection deadlines: a binary min-heap of nodes
 * keyed by due time, behind one timerfd armed for the earliest at an
 * absolute CLOCK_MONOTONIC time.
 *
 * Why not libevent's timers: its precise timers (EVENT_BASE_FLAG_PRECISE_TIMER)
 * re-arm a timerfd on every loop iteration, one syscall per relayed message;
 * this one is re-armed only when the earliest deadline changes. libevent's
 * own heap is internal, so the few lines of a binary heap are here.
 *
 * A node is embedded in its owner (a connection) and found back with
 * offsetof. Not thread-safe: one event loop owns the heap. */
#ifndef RTCHAOS_DHEAP_H
#define RTCHAOS_DHEAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct dheap_node {
    uint64_t due_us;  /* 0: no deadline */
    size_t at;        /* 1 + index in the heap; 0: not in it */
} dheap_node;

typedef struct dheap {
    dheap_node **v;
    size_t n, cap;
    int tfd;
    uint64_t armed_us; /* what the timerfd is armed for; 0: disarmed */
} dheap;

/* Creates the timerfd (non-blocking, close-on-exec). Returns 0, or -1 with
 * err. The caller watches dheap_fd() for reading. */
int dheap_init(dheap *h, char *err, size_t errlen);

/* Closes the timerfd and frees the array (not the nodes, which their owners
 * hold). */
void dheap_free(dheap *h);

/* Makes room for want nodes, so that dheap_set never allocates. Returns 0,
 * or -1 when out of memory. */
int dheap_reserve(dheap *h, size_t want);

/* Sets x's deadline to due_us (> 0; the heap has room: dheap_reserve). */
void dheap_set(dheap *h, dheap_node *x, uint64_t due_us);

/* Takes x out of the heap (a no-op when it is not in it); its due_us
 * becomes 0. */
void dheap_remove(dheap *h, dheap_node *x);

/* The earliest node if it is due at now_us, taken out of the heap; NULL
 * when none is due. */
dheap_node *dheap_pop_due(dheap *h, uint64_t now_us);

/* Arms the timerfd for the earliest deadline, if that changed (disarms it
 * when the heap is empty). */
void dheap_arm(dheap *h);

/* Reads the timerfd after it fired (a one-shot timerfd is then disarmed). */
void dheap_ack(dheap *h);

#endif
