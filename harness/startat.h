/* startat.h — --start-at: one wall-clock instant at which every shard of a
 * run (on one machine or many) starts its clients, so their publishes and
 * faults follow one timeline. */
#ifndef RTCHAOS_STARTAT_H
#define RTCHAOS_STARTAT_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* How far ahead --start-at may be: a time further away is a typo (a wrong
 * day, seconds given as milliseconds), not a plan. */
#define STARTAT_MAX_AHEAD_US (3600LL * 1000000LL)
/* How late a shard may be when its setup is done: later than this its
 * timeline would be shifted against the other shards', so the run breaks. */
#define STARTAT_MAX_LATE_US 1000000LL

/* Parses an RFC 3339 time ("2026-12-07T09:30:00Z", "…T09:30:00.250+01:00";
 * 'T', 't' or ' ' between date and time) or Unix seconds ("1796635800",
 * "1796635800.25") into *wall_us (µs since the epoch, UTC). Returns 0, or -1
 * with a message in err. */
int startat_parse(const char *s, int64_t *wall_us, char *err, size_t errlen);

/* Checks that at_us is ahead of now_us by at most max_ahead_us. Returns 0,
 * or -1 saying how far in the past or the future it is. */
int startat_check(int64_t at_us, int64_t now_us, int64_t max_ahead_us, char *err, size_t errlen);

/* Sleeps until the wall clock reaches at_us (CLOCK_REALTIME, absolute, so
 * a clock step by NTP is followed), waking every 100 ms to look at *stop.
 * Returns 0 at the instant, or -1 when *stop became non-zero. */
int startat_wait(int64_t at_us, volatile sig_atomic_t *stop);

#endif
