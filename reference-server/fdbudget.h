/* fdbudget.h — the descriptor budget: how many connections the server may
 * hold before it refuses new ones cleanly. At start the soft RLIMIT_NOFILE is
 * raised to the hard limit; a reserve below the limit stays free for the
 * server's own needs (files, /healthz, /metrics, the answers it sends when
 * refusing). Between budget and limit a new connection is admitted only to
 * be refused: HTTP 503 with Retry-After, WebSocket close 1013. Within a few
 * descriptors of the limit a new connection is closed at once, so accept(2)
 * never fails with EMFILE (lws 4.1 would log and retry it on every wake-up:
 * a busy loop). Refusals are counted and logged at most once per second.
 *
 * Transport-free bookkeeping: the caller reports accepts and closes, the
 * clock is passed in. Single-threaded (the event loop). */
#ifndef RTCHAOS_SERVER_FDBUDGET_H
#define RTCHAOS_SERVER_FDBUDGET_H
#include <stddef.h>
#include <stdint.h>

/* Descriptors kept free at the very edge: at most this many below the
 * limit, a new connection is closed without an answer. */
#define FDBUDGET_HARD_MARGIN 8
/* Seconds a refused client is told to wait (Retry-After). */
#define FDBUDGET_RETRY_AFTER_S 1

typedef enum fdbudget_verdict {
    FDB_ADMIT = 0, /* serve it */
    FDB_REFUSE,    /* answer 503 / close 1013, then close */
    FDB_DROP,      /* close at once: the reserve is used up too */
} fdbudget_verdict;

typedef struct fdbudget {
    uint64_t limit;          /* RLIMIT_NOFILE (soft, after raising) */
    uint64_t reserve;        /* kept free below limit */
    uint64_t base;           /* descriptors the server holds besides connections */
    uint64_t conns;          /* accepted connections open now */
    uint64_t refused;        /* answered 503 / 1013 */
    uint64_t dropped;        /* closed at once */
    uint64_t log_at_us;      /* last log line (0: never) */
    uint64_t unlogged;       /* refusals since that line */
} fdbudget;

/* Raises the soft RLIMIT_NOFILE to the hard limit. *limit_out = the soft
 * limit in force afterwards (also when raising failed). Returns 0, or -1
 * with err when raising failed (the old limit still holds). */
int fdbudget_raise_nofile(uint64_t *limit_out, char *err, size_t errlen);
/* Counts the descriptors open in this process now (/proc/self/fd); -1 on
 * error. O(descriptors): call once, at start. */
long fdbudget_count_open(void);
/* reserve_fds 0 = the default: 1% of limit, at least 32, at most limit/4. */
void fdbudget_init(fdbudget *b, uint64_t limit, uint64_t reserve_fds, uint64_t base);
/* Descriptors in use now (base + connections). */
uint64_t fdbudget_in_use(const fdbudget *b);
/* A connection was just accepted (its descriptor is open and counted by
 * fdbudget_accepted unless FDB_DROP): the verdict for it. */
fdbudget_verdict fdbudget_check(fdbudget *b);
/* An accepted connection is now held (after an ADMIT or REFUSE verdict). */
void fdbudget_accepted(fdbudget *b);
/* A held connection closed. */
void fdbudget_closed(fdbudget *b);
/* Counts a refusal (verdict REFUSE answered, or DROP). Returns 1 when the
 * caller should log now (at most once per second: *n_out refusals since the
 * last line), 0 otherwise. */
int fdbudget_note_refusal(fdbudget *b, fdbudget_verdict v, uint64_t now_us, uint64_t *n_out);

#endif
