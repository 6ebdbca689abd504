/* clock.h — microsecond clocks: monotonic for intervals, wall for envelope ts. */
#ifndef RTCHAOS_CLOCK_H
#define RTCHAOS_CLOCK_H
#include <pthread.h>
#include <stdint.h>

/* Monotonic time in µs (CLOCK_MONOTONIC); only differences mean anything.
 * Thread-safe. */
uint64_t clock_mono_us(void);

/* Wall-clock time in µs since the Unix epoch (CLOCK_REALTIME): the clock of
 * the envelope's `ts` and of latency = receive − ts. Thread-safe. */
int64_t clock_wall_us(void);

/* Formats wall time ts_us as RFC 3339 UTC with millisecond precision
 * ("2026-11-29T07:54:52.123Z") into buf (at least 25 bytes). Returns buf. */
char *clock_format_utc(int64_t ts_us, char *buf, unsigned long cap);

/* Waits on cond (mu held, as pthread_cond_timedwait) for at most wait_us
 * from now; returns when signalled, at the deadline, or spuriously (callers
 * re-check their condition in a loop). Returns pthread_cond_timedwait's
 * result (0 or ETIMEDOUT). */
int clock_cond_wait_us(pthread_cond_t *cond, pthread_mutex_t *mu, uint64_t wait_us);

/* Sleeps ms milliseconds, resuming after a signal interrupts it (with
 * clock_nap_ms below, the sleep helpers of every binary; event-loop code
 * never calls them). */
void clock_sleep_ms(unsigned ms);

/* Sleeps up to ms milliseconds, but a signal ends the sleep: for a loop
 * that waits on a flag its signal handler sets (the run's SIGINT/SIGTERM),
 * so it looks at the flag at once. Returns 0 after the whole sleep, 1 when
 * a signal cut it short. Event-loop code never calls it. */
int clock_nap_ms(unsigned ms);

/* Time source that time-based code takes as a parameter, so tests drive it
 * without sleeping. `clock_now_default` wraps clock_mono_us. */
typedef uint64_t (*clock_now_fn)(void *ctx);
uint64_t clock_now_default(void *ctx);

#endif
