/* brokerseq.c — per-channel delivery order for a Redis-fed node (brokerseq.h). */
#include "brokerseq.h"

void brokerseq_init(brokerseq *b, uint64_t head)
{
    b->head = head;
    b->max_seen = head;
    b->filling = 0;
    b->fill_since_us = 0;
}

brokerseq_verdict brokerseq_offer(brokerseq *b, uint64_t seq)
{
    if (seq > b->max_seen)
        b->max_seen = seq;
    if (seq <= b->head)
        return BROKERSEQ_DUP;
    if (seq != b->head + 1)
        return BROKERSEQ_HOLE;
    b->head = seq;
    return BROKERSEQ_DELIVER;
}

void brokerseq_saw(brokerseq *b, uint64_t seq)
{
    if (seq > b->max_seen)
        b->max_seen = seq;
}

int brokerseq_fill_due(brokerseq *b, uint64_t now_us)
{
    if (b->max_seen <= b->head)
        return 0;
    if (b->filling && now_us - b->fill_since_us < BROKERSEQ_FILL_RETRY_US)
        return 0;
    b->filling = 1;
    b->fill_since_us = now_us;
    return 1;
}

void brokerseq_fill_done(brokerseq *b)
{
    b->filling = 0;
}

void brokerseq_link_lost(brokerseq *b)
{
    b->filling = 0;
}

void brokerseq_rebase(brokerseq *b, uint64_t head)
{
    b->head = head;
    b->max_seen = head; /* seqs heard of before belong to what was lost */
    b->filling = 0;
}
