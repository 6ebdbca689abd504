/* publish.c — the one publish path (HTTP single and batch, WebSocket "pub"):
 * validate, authorize, store in history, fan out, wake long-polls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "clock.h"
#include "server.h"

#define IDEM_MAX 128

typedef struct pub_item {
    char *data;       /* compact JSON, malloc'd by jansson */
    size_t data_len;
    int64_t ts_us;
    const char *idem; /* borrowed from the request body */
} pub_item;

static int parse_item(const json_t *o, int64_t max_bytes, pub_item *it, char *err, size_t errlen)
{
    memset(it, 0, sizeof(*it));
    if (!json_is_object(o)) {
        snprintf(err, errlen, "an event must be a JSON object {\"ts\",\"data\",\"id\"}");
        return -1;
    }
    const char *key;
    json_t *v, *data = NULL;
    int has_ts = 0;
    json_object_foreach((json_t *)o, key, v) {
        if (strcmp(key, "data") == 0) {
            data = v;
        } else if (strcmp(key, "ts") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(err, errlen, "\"ts\" must be a non-negative integer (µs since the epoch)");
                return -1;
            }
            it->ts_us = json_integer_value(v);
            has_ts = 1;
        } else if (strcmp(key, "id") == 0) {
            const char *id = json_string_value(v);
            if (!id || !*id || strlen(id) > IDEM_MAX) {
                snprintf(err, errlen, "\"id\" must be a string of 1..%d bytes", IDEM_MAX);
                return -1;
            }
            it->idem = id;
        } else {
            snprintf(err, errlen, "unknown key \"%s\" (an event has \"ts\", \"data\", \"id\")", key);
            return -1;
        }
    }
    if (!data) {
        snprintf(err, errlen, "missing \"data\"");
        return -1;
    }
    if (!has_ts)
        it->ts_us = clock_wall_us();
    it->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!it->data) {
        snprintf(err, errlen, "cannot serialize \"data\"");
        return -1;
    }
    it->data_len = strlen(it->data);
    if ((int64_t)it->data_len > max_bytes) {
        snprintf(err, errlen, "\"data\" is %zu bytes, more than %lld", it->data_len,
                 (long long)max_bytes);
        free(it->data);
        it->data = NULL;
        return -1;
    }
    return 0;
}

static void wake_pollers(channel *ch)
{
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(&ch->pollers)) {
        session *p = lws_container_of(d, session_http, poll_node)->s;
        p->poll_wake = 1;
        lws_callback_on_writable(p->wsi);
    } lws_end_foreach_dll(d);
}

static authz_transport authz_tr(metrics_transport tr)
{
    return tr == MT_WS ? AUTHZ_T_WS : AUTHZ_T_HTTP;
}

void publish_deliver(srv *S, channel *ch, msg *m)
{
    conn_fanout(S, ch, m);
    wake_pollers(ch);
}

void publish_answer(srv *S, session *s, metrics_transport tr, int want_ack, const char *name,
                    json_t *resp, int status, const char *code, const char *err)
{
    if (!resp) {
        S->m.rejections[MR_OVERLOADED]++;
        if (tr == MT_WS) {
            if (conn_ctrl_error(s, code, err, name))
                conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
            lws_callback_on_writable(s->wsi);
        } else {
            http_respond_error(s, status, code, err);
        }
        return;
    }
    json_t *jd = json_object_get(resp, "duplicates");
    json_t *jseqs = json_object_get(resp, "seqs");
    size_t n = jseqs ? json_array_size(jseqs) : 1;
    size_t dups = jd ? (size_t)json_integer_value(jd) : 0;
    S->m.published[tr] += n - dups;
    S->m.publish_dups += dups;
    if (tr == MT_WS) {
        if (want_ack) {
            char buf[256];
            int k = snprintf(buf, sizeof(buf), "{\"type\":\"published\",\"ch\":\"%s\",\"seq\":%lld}",
                             name, (long long)json_integer_value(json_object_get(resp, "seq")));
            if (conn_ctrl(s, ENV_T_UNKNOWN, buf, (size_t)k))
                conn_close_soon(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "control queue full", 1);
            lws_callback_on_writable(s->wsi);
        }
    } else {
        char *text = json_dumps(resp, JSON_COMPACT);
        if (!text || http_respond(s, status, "application/json", text, strlen(text)))
            http_respond_error(s, 503, "overloaded", "out of memory");
        free(text);
    }
    json_decref(resp);
}

int publish_body(srv *S, session *s, const char *name, const json_t *body, metrics_transport tr,
                 int want_ack, json_t **resp, int *status, const char **code, char *err,
                 size_t errlen)
{
    *resp = NULL;
    *status = 400;
    *code = "bad_request";

    authz_request rq = {AUTHZ_PUBLISH, authz_tr(tr), name, s->wsi, &s->principal,
                        &s->free_principal};
    authz_verdict v = authz_check(&rq, err, errlen);
    if (v != AUTHZ_ALLOW) {
        *code = authz_code(v);
        *status = v == AUTHZ_UNAUTHORIZED ? 401 : v == AUTHZ_RATE_LIMITED ? 429 : 403;
        S->m.rejections[v == AUTHZ_UNAUTHORIZED ? MR_UNAUTHORIZED
                        : v == AUTHZ_RATE_LIMITED ? MR_RATE_LIMITED : MR_FORBIDDEN]++;
        return -1;
    }

    size_t n = json_is_array(body) ? json_array_size(body) : 1;
    if (json_is_array(body) && (n == 0 || n > (size_t)S->cfg->max_batch)) {
        snprintf(err, errlen, "a batch holds 1..%lld events, got %zu", (long long)S->cfg->max_batch, n);
        S->m.rejections[MR_BAD_REQUEST]++;
        return -1;
    }
    channel *ch = channels_get(S, name, 1, err, errlen);
    if (!ch) {
        if (envelope_channel_valid(name, strlen(name))) {
            *status = 503;
            *code = "overloaded";
            S->m.rejections[MR_OVERLOADED]++;
        } else {
            S->m.rejections[MR_BAD_REQUEST]++;
        }
        return -1;
    }
    pub_item *items = calloc(n, sizeof(*items));
    if (!items) {
        snprintf(err, errlen, "out of memory");
        *status = 503;
        *code = "overloaded";
        return -1;
    }
    int rc = -1;
    /* Validate every event before storing any, so a bad batch stores nothing. */
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_is_array(body) ? json_array_get(body, i) : body;
        char e2[256];
        if (parse_item(o, S->cfg->max_payload_bytes, &items[i], e2, sizeof(e2))) {
            if (json_is_array(body))
                snprintf(err, errlen, "event %zu: %s", i, e2);
            else
                snprintf(err, errlen, "%s", e2);
            S->m.rejections[MR_BAD_REQUEST]++;
            goto out;
        }
    }
    if (S->bk) {
        /* brokered: Redis orders, stores and fans out; the answer comes
         * when it has replied (publish_answer) */
        broker_item *bi = calloc(n, sizeof(*bi));
        if (!bi) {
            snprintf(err, errlen, "out of memory");
            *status = 503;
            *code = "overloaded";
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            bi[i] = (broker_item){items[i].data, items[i].data_len, items[i].ts_us, items[i].idem};
        int brc = broker_publish(S, s, ch, bi, n, json_is_array(body), (int)tr, want_ack, err, errlen);
        free(bi);
        if (brc) {
            *status = 503;
            *code = "overloaded";
            S->m.rejections[MR_OVERLOADED]++;
            goto out;
        }
        rc = PUBLISH_DEFERRED;
        goto out;
    }
    json_t *seqs = json_is_array(body) ? json_array() : NULL;
    uint64_t last_seq = 0;
    int dups = 0;
    for (size_t i = 0; i < n; i++) {
        msg *m;
        int dup;
        /* the value the delta is made against (--delta-channels) */
        msg *prev = ch->delta ? msg_ref(ch->hist.last) : NULL;
        int prc = history_publish(&ch->hist, items[i].data, items[i].data_len, items[i].ts_us,
                                  items[i].idem, clock_mono_us(), &m, &dup, err, errlen);
        if (prc == 0 && !dup)
            delta_attach(S, ch, prev, m);
        msg_unref(prev);
        if (prc) {
            json_decref(seqs);
            *status = 503;
            *code = "overloaded";
            goto out;
        }
        last_seq = m->seq;
        if (seqs)
            json_array_append_new(seqs, json_integer((json_int_t)m->seq));
        if (dup) {
            dups++;
            S->m.publish_dups++;
            continue;
        }
        S->m.published[tr]++;
        conn_fanout(S, ch, m);
        wake_pollers(ch);
    }
    *resp = json_pack("{s:s,s:I}", "ch", name, "seq", (json_int_t)last_seq);
    if (seqs)
        json_object_set_new(*resp, "seqs", seqs);
    if (dups)
        json_object_set_new(*resp, "duplicates", json_integer(dups));
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(items[i].data);
    free(items);
    return rc;
}
