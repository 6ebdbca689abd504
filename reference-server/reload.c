/* reload.c — reloading the security files at runtime (SIGHUP and
 * POST /admin/reload) and re-checking every open connection against them:
 * revoked tokens and tokens whose key is gone are closed, subscriptions the
 * new policy denies are ended. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server.h"

/* Ends one stream session whose identity no longer stands: an error
 * envelope, then WS close 4401 / the end of the SSE stream. */
static void end_session(session *s, const char *why)
{
    if (conn_ctrl_error(s, "unauthorized", why, NULL))
        conn_close_soon(s, 4401, "unauthorized", 1);
    else
        conn_close_soon(s, s->kind == SESS_WS ? 4401 : 0, "unauthorized", 0);
}

/* Re-checks one WS or SSE session; counts what it ended into out. */
static void recheck_stream(srv *S, session *s, server_reload_result *out)
{
    char err[256];
    if (authz_revalidate(s->principal, err, sizeof(err)) != AUTHZ_ALLOW) {
        S->m.rejections[MR_UNAUTHORIZED]++;
        end_session(s, err);
        out->connections_closed++;
        return;
    }
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&s->subs)) {
        conn_sub *sub = lws_container_of(d, conn_sub, conn_node);
        authz_verdict v = authz_reauthorize(s->principal, sub->ch->hist.name, err, sizeof(err));
        if (v != AUTHZ_ALLOW) {
            S->m.rejections[v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : MR_FORBIDDEN]++;
            if (conn_ctrl_error(s, authz_code(v), err, sub->ch->hist.name))
                conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
            conn_unsubscribe(s, sub);
            out->subscriptions_ended++;
        }
    } lws_end_foreach_dll_safe(d, d1);
    /* an SSE stream left with nothing to carry ends, as when flags disable
     * its channels; a WebSocket stays for its other subscriptions */
    if (s->kind == SESS_SSE && !s->subs.count && !s->closing)
        conn_close_soon(s, 0, "no channel left", 0);
    if (conn_pending(s))
        lws_callback_on_writable(s->wsi);
}

/* Re-checks one waiting /poll: a refused one is answered at once. */
static void recheck_poll(srv *S, session *s, server_reload_result *out)
{
    char err[256];
    authz_verdict v = authz_revalidate(s->principal, err, sizeof(err));
    int closed = v != AUTHZ_ALLOW;
    if (!closed)
        v = authz_reauthorize(s->principal, s->h->poll_ch->hist.name, err, sizeof(err));
    if (v == AUTHZ_ALLOW)
        return;
    if (closed)
        out->connections_closed++;
    else
        out->subscriptions_ended++;
    S->m.rejections[v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED : MR_FORBIDDEN]++;
    lws_dll2_remove(&s->h->poll_node);
    s->h->resp_close = 1;
    http_respond_error(s, v == AUTHZ_UNAUTHORIZED ? 401 : 403, authz_code(v), err);
}

int server_reload(srv *S, const char *origin, server_reload_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (authz_reload(origin, &out->files, err, errlen) < 0)
        return -1;
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&S->sessions)) {
        session *s = lws_container_of(d, session, node);
        if (s->closing || !s->principal)
            continue;
        if (s->kind == SESS_WS || s->kind == SESS_SSE)
            recheck_stream(S, s, out);
        else if (s->kind == SESS_POLL && s->h->poll_ch && !s->h->resp_ready)
            recheck_poll(S, s, out);
    } lws_end_foreach_dll_safe(d, d1);
    return 0;
}

void server_reload_log(const char *origin, int rc, const server_reload_result *r, const char *err)
{
    if (rc < 0) {
        log_error("%s reload refused, the previous security files stay in force: %s", origin, err);
        return;
    }
    log_info("%s reload: keys=%d rules=%d revoked_jti=%zu revoked_sub=%zu connections_closed=%u "
             "subscriptions_ended=%u",
             origin, r->files.keys, r->files.rules, r->files.revoked_jti, r->files.revoked_sub,
             r->connections_closed, r->subscriptions_ended);
}
