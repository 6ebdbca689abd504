/* twheel.h — a hashed timer wheel for per-connection timers (WebSocket ping
 * and idle, SSE heartbeat): arming and cancelling are O(1), and a tick looks
 * only at the slot that came due, so the cost does not grow with the number
 * of connections. Why not lws's timers: libwebsockets 4.1 keeps every timer
 * of a thread in one sorted list with a linear insert (lws_dll2_add_sorted),
 * which at 10,000 connections took a third of the server's CPU.
 *
 * Time is passed in (µs, any monotonic origin), so it is unit-tested
 * without sleeping. Single-threaded: the event loop owns the wheel. */
#ifndef RTCHAOS_SERVER_TWHEEL_H
#define RTCHAOS_SERVER_TWHEEL_H
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct twheel;

/* One timer, embedded in its owner (zeroed = not armed). The owner must
 * cancel it before freeing the memory it lives in. */
typedef struct twheel_timer {
    lws_dll2_t node;   /* in a slot of the wheel while armed */
    uint64_t due_us;
} twheel_timer;

/* Called for a timer that came due; it is no longer armed and may be armed
 * again (or other timers armed or cancelled) from inside the callback. */
typedef void (*twheel_fire_fn)(twheel_timer *t, void *ud);

typedef struct twheel {
    lws_dll2_owner_t *slots;
    size_t nslots;
    uint64_t tick_us;
    uint64_t done_tick;  /* every slot up to this tick has been processed */
    size_t armed;        /* timers armed now */
    twheel_fire_fn fire;
    void *ud;
} twheel;

/* Sets up a wheel of nslots slots of tick_us each, starting at now_us.
 * Timers may be armed any distance ahead (those past one turn wait their
 * turn in their slot). Returns 0, or -1 with err (bad arguments, no memory). */
int twheel_init(twheel *w, size_t nslots, uint64_t tick_us, uint64_t now_us, twheel_fire_fn fire,
                void *ud, char *err, size_t errlen);
/* Frees the slots; armed timers are left detached (not fired). */
void twheel_free(twheel *w);
/* Arms t to fire at due_us (re-arms when armed). It fires at the first tick
 * at or after due_us: never early, at most one tick late. */
void twheel_arm(twheel *w, twheel_timer *t, uint64_t due_us);
/* Disarms t (no-op when not armed). */
void twheel_cancel(twheel *w, twheel_timer *t);
int twheel_armed(const twheel_timer *t);
/* Fires every timer due at now_us. Returns how many fired. */
size_t twheel_advance(twheel *w, uint64_t now_us);

#endif
