/* brokerseq.h — per-channel delivery order for a node fed by Redis pub/sub:
 * events reach the node out of band (pub/sub, which loses messages while a
 * link is down) and from the channel's stream (XRANGE, which has them all).
 * This decides, for each arriving seq, whether to deliver it, drop it as a
 * duplicate, or hold off because a hole lies before it and a fill from the
 * stream is needed. It never delivers past a hole. Pure logic, the clock is
 * passed in (unit-tested in tests/unit/test_brokerseq.c). */
#ifndef RTCHAOS_SERVER_BROKERSEQ_H
#define RTCHAOS_SERVER_BROKERSEQ_H
#include <stdint.h>

/* A fill that has not answered after this long may be asked again (its
 * reply was lost with the link, or Redis is paused). */
#define BROKERSEQ_FILL_RETRY_US 1000000ULL

typedef enum brokerseq_verdict {
    BROKERSEQ_DELIVER = 0, /* seq == head + 1: deliver it now, head advances */
    BROKERSEQ_DUP,         /* seq <= head: already delivered, drop */
    BROKERSEQ_HOLE,        /* seq > head + 1: drop it, a fill from head + 1 is needed */
} brokerseq_verdict;

/* Lifetime: one per channel, owned by the channel; not thread-safe. */
typedef struct brokerseq {
    uint64_t head;          /* last seq delivered */
    uint64_t max_seen;      /* highest seq heard of (pub/sub or Redis's counter) */
    int filling;            /* a fill is in flight */
    uint64_t fill_since_us; /* when it was asked */
} brokerseq;

/* Starts at head (the last seq already delivered, 0 = none). */
void brokerseq_init(brokerseq *b, uint64_t head);

/* One event with seq arrived (pub/sub or fill). On DELIVER head = seq. */
brokerseq_verdict brokerseq_offer(brokerseq *b, uint64_t seq);

/* Notes that seq exists (e.g. Redis's counter read at reconnect) without
 * delivering anything: a later brokerseq_fill_due asks for the rest. */
void brokerseq_saw(brokerseq *b, uint64_t seq);

/* Whether a fill from head + 1 should be sent now: something past head is
 * known and no fill is in flight (or the one in flight is older than
 * BROKERSEQ_FILL_RETRY_US). When it returns 1 the fill counts as sent. */
int brokerseq_fill_due(brokerseq *b, uint64_t now_us);

/* A fill's reply was handled (its events offered in order). */
void brokerseq_fill_done(brokerseq *b);

/* The link dropped: a fill in flight will never answer. */
void brokerseq_link_lost(brokerseq *b);

/* Redis lost the channel (epoch change) or trimmed past head: restart the
 * order at head without delivering what lies between. */
void brokerseq_rebase(brokerseq *b, uint64_t head);

#endif
