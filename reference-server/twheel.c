/* twheel.c — a hashed timer wheel: O(1) arm and cancel, each tick touches only its slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twheel.h"

int twheel_init(twheel *w, size_t nslots, uint64_t tick_us, uint64_t now_us, twheel_fire_fn fire,
                void *ud, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    if (!nslots || !tick_us || !fire) {
        snprintf(err, errlen, "timer wheel: slots, tick and callback must be set");
        return -1;
    }
    w->slots = calloc(nslots, sizeof(*w->slots));
    if (!w->slots) {
        snprintf(err, errlen, "timer wheel: out of memory for %zu slots", nslots);
        return -1;
    }
    w->nslots = nslots;
    w->tick_us = tick_us;
    w->done_tick = now_us / tick_us;
    w->fire = fire;
    w->ud = ud;
    return 0;
}

void twheel_free(twheel *w)
{
    if (!w->slots)
        return;
    for (size_t i = 0; i < w->nslots; i++)
        while (w->slots[i].head)
            lws_dll2_remove(w->slots[i].head);
    free(w->slots);
    w->slots = NULL;
    w->armed = 0;
}

int twheel_armed(const twheel_timer *t)
{
    return !lws_dll2_is_detached(&t->node);
}

void twheel_cancel(twheel *w, twheel_timer *t)
{
    if (!twheel_armed(t))
        return;
    lws_dll2_remove(&t->node);
    w->armed--;
}

void twheel_arm(twheel *w, twheel_timer *t, uint64_t due_us)
{
    twheel_cancel(w, t);
    /* the first tick at or after due_us; a slot already processed (due in
     * the past) is never revisited, so such a timer goes to the next tick */
    uint64_t tick = (due_us + w->tick_us - 1) / w->tick_us;
    if (tick <= w->done_tick)
        tick = w->done_tick + 1;
    t->due_us = due_us;
    lws_dll2_add_tail(&t->node, &w->slots[tick % w->nslots]);
    w->armed++;
}

size_t twheel_advance(twheel *w, uint64_t now_us)
{
    uint64_t now_tick = now_us / w->tick_us;
    size_t fired = 0;
    /* After a long stall, one pass over every slot covers all ticks. */
    if (now_tick > w->done_tick + w->nslots)
        w->done_tick = now_tick - w->nslots;
    while (w->done_tick < now_tick) {
        uint64_t tick = ++w->done_tick;
        lws_dll2_owner_t *slot = &w->slots[tick % w->nslots];
        /* Take the slot's timers out first: callbacks may arm timers into
         * this same slot (a turn later) or cancel ones not yet looked at. */
        lws_dll2_owner_t batch;
        memset(&batch, 0, sizeof(batch));
        while (slot->head) {
            lws_dll2_t *d = slot->head;
            lws_dll2_remove(d);
            lws_dll2_add_tail(d, &batch);
        }
        while (batch.head) {
            lws_dll2_t *d = batch.head;
            twheel_timer *t = lws_container_of(d, twheel_timer, node);
            lws_dll2_remove(d);
            if ((t->due_us + w->tick_us - 1) / w->tick_us > tick) {
                lws_dll2_add_tail(d, slot); /* a later turn of the wheel */
                continue;
            }
            w->armed--;
            fired++;
            w->fire(t, w->ud);
        }
    }
    return fired;
}
