/* batch.c — the batching window (--batch-ms): live events of a batched
 * channel are not written the moment they are published; the connection
 * waits up to batch_ms after its first held event, so every event that
 * arrives meanwhile goes out in the same write (SSE: one chunk; WebSocket:
 * one message for clients that take batch messages, ws.c). One lws timer
 * for the whole server, never one per connection (lws 4.1 inserts timers
 * into a sorted list, linear per insert): held sessions are kept in due
 * order for free, since every window has the same length. */
#include "clock.h"
#include "server.h"

/* A session due within this much of the timer is written now rather than
 * re-armed for a few µs. */
#define BATCH_SLACK_US 200

static void batch_fire(lws_sorted_usec_list_t *sul)
{
    srv *S = lws_container_of(sul, srv, batch_sul);
    uint64_t now = clock_mono_us();
    while (S->batch_held.head) {
        session *s = lws_container_of(S->batch_held.head, session, batch_node);
        if (s->batch_due_us > now + BATCH_SLACK_US) {
            lws_sul_schedule(S->ctx, 0, &S->batch_sul, batch_fire, (lws_usec_t)(s->batch_due_us - now));
            return;
        }
        lws_dll2_remove(&s->batch_node);
        if (s->wsi)
            lws_callback_on_writable(s->wsi);
    }
}

void batch_hold(srv *S, session *s)
{
    if (!lws_dll2_is_detached(&s->batch_node))
        return; /* already waiting: its window started with its first event */
    uint64_t win = (uint64_t)S->cfg->batch_ms * 1000;
    s->batch_due_us = clock_mono_us() + win;
    int first = !S->batch_held.head;
    lws_dll2_add_tail(&s->batch_node, &S->batch_held);
    if (first)
        lws_sul_schedule(S->ctx, 0, &S->batch_sul, batch_fire, (lws_usec_t)win);
}

void batch_release(session *s)
{
    /* (lws_dll2_remove is a no-op on a detached node) */
    lws_dll2_remove(&s->batch_node);
}

void batch_stop(srv *S)
{
    lws_sul_cancel(&S->batch_sul);
}
