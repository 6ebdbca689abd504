/* scenario_json.c — a scenario as JSON (every key, defaults filled in): the run folder's scenario.json and report.json's "scenario". */
#include "scenario.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* An attacker group's attack mapping as stored in scenario.json. */
static json_t *attack_json(const scn_client_group *g)
{
    const scn_attack *a = &g->attack;
    json_t *o = json_object();
    if (g->behavior == SCN_BH_FLOOD) {
        json_object_set_new(o, "rate_per_s", json_integer(a->rate_per_s));
        json_object_set_new(o, "messages", json_integer(a->messages));
    } else if (g->behavior == SCN_BH_OVERSIZED) {
        json_object_set_new(o, "bytes", json_integer((json_int_t)a->bytes));
        json_object_set_new(o, "via", json_string(scenario_via_str(a->via_http)));
    } else {
        json_object_set_new(o, "byte_every_s", json_real(a->byte_every_us / 1e6));
    }
    json_object_set_new(o, "patience_s", json_real(a->patience_us / 1e6));
    json_object_set_new(o, "pause_s", json_real(a->pause_us / 1e6));
    json_object_set_new(o, "attempts", json_integer(a->attempts));
    json_t *e = json_array();
    for (unsigned i = 0; i < a->n_expect; i++) {
        if (a->expect[i] == SCN_OUTCOME_CLOSED)
            json_array_append_new(e, json_string("closed"));
        else
            json_array_append_new(e, json_integer(a->expect[i]));
    }
    json_object_set_new(o, "expect", e);
    return o;
}

static json_t *toxic_json(const scn_toxic *t)
{
    return json_pack("{s:s?, s:s?, s:s?, s:f, s:O?}", "name", t->name, "type", t->type, "stream",
                     t->stream, "toxicity", t->toxicity, "attributes", t->attributes);
}

static json_t *str_array(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *scenario_to_json(const scenario *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "seed", json_integer((json_int_t)s->seed));
    json_object_set_new(o, "duration_s", json_real(s->duration_us / 1e6));
    json_object_set_new(o, "warmup_s", json_real(s->warmup_us / 1e6));
    json_object_set_new(o, "drain_s", json_real(s->drain_us / 1e6));
    json_object_set_new(o, "server",
                        json_pack("{s:b, s:s?, s:o, s:s?, s:f}", "present", s->server.present, "bin",
                                  s->server.bin, "args", str_array(s->server.args, s->server.nargs),
                                  "config", s->server.config, "ready_timeout_s",
                                  s->server.ready_timeout_us / 1e6));
    json_t *tox = json_array();
    for (size_t i = 0; i < s->proxy.ntoxics; i++)
        json_array_append_new(tox, toxic_json(&s->proxy.toxics[i]));
    json_object_set_new(o, "proxy",
                        json_pack("{s:s, s:b, s:o}", "enabled",
                                  s->proxy.enabled < 0 ? "auto" : s->proxy.enabled ? "true" : "false",
                                  "used", scenario_needs_proxy(s), "toxics", tox));
    json_object_set_new(o, "channels", json_pack("{s:i, s:s, s:i}", "count", (int)s->channels.count,
                                                 "pattern", s->channels.pattern, "history",
                                                 (int)s->channels.history));
    const scn_publishers *p = &s->publishers;
    json_object_set_new(o, "publishers",
                        json_pack("{s:f, s:s, s:i, s:f, s:i, s:s, s:i, s:i, s:f, s:i, s:f}", "rate_per_s", p->rate_per_s,
                                  "schedule", scenario_schedule_str(p->schedule), "burst_size", (int)p->burst_size,
                                  "burst_every_s", p->burst_every_us / 1e6, "payload_bytes",
                                  (int)p->payload_bytes, "transport", scenario_pub_transport_str(p->transport), "batch",
                                  (int)p->batch, "idempotency_retries", (int)p->idempotency_retries,
                                  "timeout_s", p->timeout_us / 1e6, "connections", (int)p->connections,
                                  "start_s", p->start_us / 1e6));
    if (p->payload_fields)
        json_object_set_new(json_object_get(o, "publishers"), "payload", json_string("fields"));
    json_t *cl = json_array();
    for (size_t i = 0; i < s->nclients; i++) {
        const scn_client_group *g = &s->clients[i];
        const scn_reconnect *r = &g->reconnect;
        json_array_append_new(
            cl, json_pack("{s:s, s:i, s:s, s:i, s:f, s:I, s:i, s:{s:b, s:f, s:f, s:f, s:i, s:b}, s:b, s:b, "
                          "s:f, s:f, s:f}",
                          "name", g->name, "count", (int)g->count, "transport", scenario_client_transport_str(g->transport),
                          "channels_per_client", (int)g->channels_per_client, "ramp_up_s",
                          g->ramp_up_us / 1e6, "read_rate_bytes_per_s", (json_int_t)g->read_rate_bytes_per_s,
                          "read_rate_msgs_per_s", (int)g->read_rate_msgs_per_s,
                          "reconnect", "enabled", r->enabled, "initial_s", r->initial_us / 1e6, "max_s",
                          r->max_us / 1e6, "jitter", r->jitter, "max_attempts",
                          (int)r->max_attempts, "honour_retry", r->honour_retry, "resume", g->resume,
                          "token", g->token != NULL, "idle_timeout_s", g->idle_timeout_us / 1e6,
                          "poll_timeout_s", g->poll_timeout_us / 1e6, "connect_timeout_s",
                          g->connect_timeout_us / 1e6));
        if (g->deflate)
            json_object_set_new(json_array_get(cl, json_array_size(cl) - 1), "deflate",
                                json_string(scenario_deflate_str(g->deflate)));
        if (g->batch)
            json_object_set_new(json_array_get(cl, json_array_size(cl) - 1), "batch", json_true());
        if (g->delta)
            json_object_set_new(json_array_get(cl, json_array_size(cl) - 1), "delta", json_true());
        if (g->nfallback) {
            json_t *fb = json_array();
            for (unsigned k = 0; k < g->nfallback; k++)
                json_array_append_new(fb, json_string(scenario_client_transport_str(g->fallback[k])));
            json_object_set_new(json_array_get(cl, json_array_size(cl) - 1), "fallback", fb);
        }
        if (g->behavior != SCN_BH_SUBSCRIBER) {
            json_t *last = json_array_get(cl, json_array_size(cl) - 1);
            json_object_set_new(last, "behavior", json_string(scenario_behavior_str(g->behavior)));
            json_object_set_new(last, "attack", attack_json(g));
        }
    }
    json_object_set_new(o, "clients", cl);
    json_t *fa = json_array();
    for (size_t i = 0; i < s->nfaults; i++) {
        const scn_fault *f = &s->faults[i];
        json_t *j = json_pack("{s:s, s:s, s:f}", "name", f->name, "kind", scenario_fault_kind_str(f->kind),
                              "at_s", f->at_us / 1e6);
        if (f->has_for)
            json_object_set_new(j, "for_s", json_real(f->for_us / 1e6));
        if (f->kind == SCN_FAULT_TOXIC)
            json_object_set_new(j, "toxic", toxic_json(&f->toxic));
        if (f->kind == SCN_FAULT_DISCONNECT) {
            json_object_set_new(j, "fraction", json_real(f->fraction));
            if (f->group)
                json_object_set_new(j, "group", json_string(f->group));
        }
        if (f->kind == SCN_FAULT_NETWORK) {
            json_t *nj = json_pack("{s:s, s:s}", "type", scenario_net_kind_str(f->net.kind), "direction",
                                   scenario_direction_str(f->net.direction));
            if (f->net.percent > 0)
                json_object_set_new(nj, "percent", json_real(f->net.percent));
            if (f->net.rate_kbit_per_s)
                json_object_set_new(nj, "kbit_per_s", json_integer((json_int_t)f->net.rate_kbit_per_s));
            if (f->net.mtu_bytes)
                json_object_set_new(nj, "bytes", json_integer(f->net.mtu_bytes));
            if (f->net.delay_us)
                json_object_set_new(nj, "delay_ms", json_real(f->net.delay_us / 1e3));
            if (f->net.jitter_us)
                json_object_set_new(nj, "jitter_ms", json_real(f->net.jitter_us / 1e3));
            if (f->group)
                json_object_set_new(nj, "group", json_string(f->group));
            json_object_set_new(j, "network", nj);
        }
        if (f->flap_on_us)
            json_object_set_new(j, "flap", json_pack("{s:f, s:f}", "on_s", f->flap_on_us / 1e6, "off_s",
                                                     f->flap_off_us / 1e6));
        json_array_append_new(fa, j);
    }
    json_object_set_new(o, "faults", fa);
    if (s->target.protocol || s->target.sub_path || s->target.pub_path || s->target.nheaders || s->target.ca ||
        s->target.insecure) {
        json_t *t = json_object();
        json_object_set_new(t, "protocol", json_string(s->target.protocol ? s->target.protocol : "v1"));
        if (s->target.sub_path)
            json_object_set_new(t, "sub_path", json_string(s->target.sub_path));
        if (s->target.pub_path)
            json_object_set_new(t, "pub_path", json_string(s->target.pub_path));
        const char *const tk[] = {"resume_header", "resume_query", "payload",       "pub_method",
                                  "pub_body",      "sub_message",  "resume_message", "offset",
                                  "ch_join",       "pub_message",  "ping_match",     "pong_message", "ping_message"};
        const char *const tv[] = {s->target.resume_header, s->target.resume_query, s->target.payload,
                                  s->target.pub_method,    s->target.pub_body,     s->target.sub_message,
                                  s->target.resume_message, s->target.offset,      s->target.ch_join,
                                  s->target.pub_message,   s->target.ping_match,   s->target.pong_message,
                                  s->target.ping_message};
        for (size_t k = 0; k < sizeof tk / sizeof *tk; k++)
            if (tv[k])
                json_object_set_new(t, tk[k], json_string(tv[k]));
        if (s->target.nheaders) /* as written: ${VAR} unexpanded, so no secret is stored */
            json_object_set_new(t, "headers", str_array(s->target.headers, s->target.nheaders));
        if (s->target.ca)
            json_object_set_new(t, "ca", json_string(s->target.ca));
        if (s->target.insecure)
            json_object_set_new(t, "insecure", json_true());
        if (s->target.app_id)
            json_object_set_new(t, "app_id", json_string(s->target.app_id));
        if (s->target.key)
            json_object_set_new(t, "key", json_string(s->target.key));
        if (s->target.secret) /* a ${VAR} as written; a value itself never */
            json_object_set_new(t, "secret", json_string(s->target.secret[0] == '$' ? s->target.secret
                                                                                    : "(given; not written)"));
        if (s->target.ping_interval_us)
            json_object_set_new(t, "ping_interval_ms", json_integer((json_int_t)(s->target.ping_interval_us / 1000)));
        json_object_set_new(o, "target", t);
    }
    json_object_set_new(o, "network", json_pack("{s:b}", "namespaces", s->network.namespaces));
    json_object_set_new(o, "harness", json_pack("{s:i, s:i, s:o, s:i, s:i}", "threads", (int)s->harness.threads,
                                                "workers", (int)s->harness.workers, "source_addrs",
                                                str_array(s->harness.source_addrs, s->harness.nsource_addrs),
                                                "anomalies_per_kind", (int)s->harness.anomalies_per_kind,
                                                "fresh_grace_ms", (int)s->harness.fresh_grace_ms));
    if (s->harness.metrics_addr)
        json_object_set_new(json_object_get(o, "harness"), "metrics_addr", json_string(s->harness.metrics_addr));
    if (s->harness.record_series)
        json_object_set_new(json_object_get(o, "harness"), "record_series", json_true());
    if (s->harness.metrics_linger_us)
        json_object_set_new(json_object_get(o, "harness"), "metrics_linger_s",
                            json_real(s->harness.metrics_linger_us / 1e6));
    json_t *bu = json_array();
    for (size_t i = 0; i < s->nbudgets; i++)
        json_array_append_new(bu, json_string(s->budgets[i].text));
    json_object_set_new(o, "budgets", bu);
    return o;
}
