/* wflush.c — live events written at the end of the loop pass that queued
 * them (--ws-write-direct 1, the default: srv.write_direct is set).
 *
 * Fan-out used to ask lws for WRITEABLE on every subscriber
 * (lws_callback_on_writable). With lws 4.1's libev glue that is, per
 * connection per event: an epoll_ctl(MOD) arming POLLOUT, the wake-up that
 * reports it, and another epoll_ctl(MOD) disarming it after the callback —
 * at 10,000 connections about 12% of the server's CPU went to epoll_ctl
 * alone. A connection whose socket is not backed up does not need the
 * round trip: it is written directly, once per pass however many events it
 * got in it (the queue goes out in one raw write, as from WRITEABLE). When
 * that is not safe (ws_write_direct in ws.c says when: a partial write
 * pending, a close under way) or more is left than one write takes, the
 * connection goes the WRITEABLE way as before.
 *
 * The pass's list is an array of sessions plus the slot in the session
 * (flush_ix), so marking is O(1), a session is listed once per pass, and a
 * session released before the pass ends leaves a NULL behind. */
#include <stdlib.h>

#include "log.h"
#include "server.h"

void wflush_mark(srv *S, session *s)
{
    if (s->flush_ix)
        return; /* already due in this pass */
    if (!S->write_direct || s->kind != SESS_WS || !s->wsi) {
        if (s->wsi)
            lws_callback_on_writable(s->wsi);
        return;
    }
    if (S->nflush == S->flush_cap) {
        uint32_t cap = S->flush_cap ? S->flush_cap * 2 : 1024;
        session **n = realloc(S->flush, cap * sizeof(*n));
        if (!n) { /* the WRITEABLE way needs no memory */
            lws_callback_on_writable(s->wsi);
            return;
        }
        S->flush = n;
        S->flush_cap = cap;
    }
    S->flush[S->nflush++] = s;
    s->flush_ix = S->nflush;
}

void wflush_forget(session *s)
{
    srv *S = s->srv;
    if (s->flush_ix && S && s->flush_ix <= S->nflush && S->flush[s->flush_ix - 1] == s)
        S->flush[s->flush_ix - 1] = NULL;
    s->flush_ix = 0;
}

void wflush_run(srv *S)
{
    /* (a write never releases a session or marks another one: the list
     * does not change under the loop except for the slots it clears) */
    for (uint32_t i = 0; i < S->nflush; i++) {
        session *s = S->flush[i];
        if (!s)
            continue;
        S->flush[i] = NULL;
        s->flush_ix = 0;
        if (S->write_direct(S, s) < 0) {
            /* what WRITEABLE's -1 would do: lws closes the connection
             * (debug: a peer gone without a close is not news, and a
             * fleet killed at once would log a line per connection) */
            log_debug("ws: write failed (peer gone); closing");
            conn_close_soon(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed", 1);
            if (s->wsi)
                lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
    S->nflush = 0;
}

void wflush_free(srv *S)
{
    free(S->flush);
    S->flush = NULL;
    S->nflush = S->flush_cap = 0;
}
