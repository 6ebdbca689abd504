/* orch.c — runs one scenario end to end: the phases of orch_run under their deadlines (children,
 * fleet, fault timeline, drain, exit code), the signal handler and the watchdog. The parts it
 * drives: orch_children.c (server, redis, proxy), orch_fleet.c (the fleet's configuration),
 * orch_faults.c (the fault timeline), orch_metrics.c (live /metrics, scrapes, status line),
 * orch_target.c (--target), orch_net.c (network namespaces), over orch_state.c (events, failure,
 * the signal flag); its report.json is built by orch_report.c from what the run hands it. */
#include "orch.h"
#include "orch_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_tls.h"
#include "startat.h"
#include "orch_report.h"
#include "reports.h"

/* Beyond every phase's own deadline: if the run is still going this long
 * after its planned end, the watchdog kills the children and exits 3.
 * RTCHAOS_WATCHDOG_SLACK_MS replaces it (so a test can see the watchdog fire
 * without waiting 90 s). */
#define WATCHDOG_SLACK_MS 90000

static uint64_t watchdog_slack_ms(void)
{
    const char *e = getenv("RTCHAOS_WATCHDOG_SLACK_MS");
    char *end;
    if (!e || !*e)
        return WATCHDOG_SLACK_MS;
    errno = 0;
    unsigned long long v = strtoull(e, &end, 10);
    if (errno || *end || e[0] == '-') {
        fprintf(stderr, "rtchaos: RTCHAOS_WATCHDOG_SLACK_MS=%s is not a number of ms; using %d\n", e,
                WATCHDOG_SLACK_MS);
        return WATCHDOG_SLACK_MS;
    }
    return v;
}

/* ---- signals ------------------------------------------------------------------ */

static void on_signal(int sig)
{
    if (orch_sig) {
        /* Second signal: the user wants out now. Only async-signal-safe calls. */
        for (int i = 0; i < 2; i++)
            if (orch_pgids[i] > 0)
                kill(-orch_pgids[i], SIGKILL);
        _exit(ORCH_EXIT_BROKEN);
    }
    orch_sig = sig;
}

static int mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    orch_sfmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
            orch_sfmt(err, errlen, "cannot create %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
        orch_sfmt(err, errlen, "cannot create %s: %s", buf, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_json_file(const char *path, const json_t *j, size_t flags, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 8];
    orch_sfmt(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, flags) != 0 || rename(tmp, path) != 0) {
        orch_sfmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- watchdog ------------------------------------------------------------------ */

static void *watchdog_main(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->wd_lock);
    r->wd_running = 1;
    pthread_cond_broadcast(&r->wd_cond);
    while (!r->wd_done) {
        uint64_t now = clock_mono_us();
        if (now >= r->wd_deadline_us)
            break;
        clock_cond_wait_us(&r->wd_cond, &r->wd_lock, r->wd_deadline_us - now);
    }
    int done = r->wd_done;
    pthread_mutex_unlock(&r->wd_lock);
    if (done)
        return NULL;
    /* Something blocked past every deadline: end it rather than hang CI. */
    static const char msg[] = "rtchaos: the run overran its deadline by far; killing its children (exit 3)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    for (int i = 0; i < 2; i++)
        if (orch_pgids[i] > 0)
            kill(-orch_pgids[i], SIGKILL);
    _exit(ORCH_EXIT_BROKEN);
}

static void watchdog_start(run *r, uint64_t budget_us)
{
    pthread_mutex_init(&r->wd_lock, NULL);
    pthread_cond_init(&r->wd_cond, NULL);
    r->wd_deadline_us = clock_mono_us() + budget_us;
    r->watchdog_on = pthread_create(&r->watchdog, NULL, watchdog_main, r) == 0;
    /* Returns once the thread waits. The fleet forks its workers soon after
     * (fleet_start), and a fork while a thread is still starting copies
     * whatever lock that thread holds into the child: under ASan the
     * allocator's (its thread set-up frees memory), and the worker's threads
     * then block on it forever — no clients, no answer to the stop, a worker
     * lost (caught with gdb: both worker threads in
     * SizeClassAllocator64::GetFromAllocator from AsanThread::Init). */
    pthread_mutex_lock(&r->wd_lock);
    while (r->watchdog_on && !r->wd_running)
        pthread_cond_wait(&r->wd_cond, &r->wd_lock);
    pthread_mutex_unlock(&r->wd_lock);
}

static void watchdog_stop(run *r)
{
    if (!r->watchdog_on)
        return;
    pthread_mutex_lock(&r->wd_lock);
    r->wd_done = 1;
    pthread_cond_signal(&r->wd_cond);
    pthread_mutex_unlock(&r->wd_lock);
    pthread_join(r->watchdog, NULL);
    r->watchdog_on = 0;
}

/* ---- the run ------------------------------------------------------------------------ */

/* What the report reads of the run (orch_report.c). */
static orch_report_in report_in(run *r)
{
    orch_report_in in = {
        .s = r->s, .command = r->o->command, .start_at_us = r->o->start_at_us, .shard_index = r->o->shard_index,
        .shard_count = r->o->shard_count, .net_support = r->o->net_support, .seed = r->seed, .dir = r->dir, .target_url = r->target_url,
        .started = r->started, .elapsed_s = r->elapsed_s, .warmup_us = r->warmup_us,
        .t0_wall_us = r->t0_wall_us, .start_late_us = r->start_late_us, .fl = r->fl, .windows = r->windows,
        .events = r->events, .proxy_metrics = r->proxy_metrics, .nodes_report = r->nodes_report,
        .server_metrics = r->server_metrics, .children = r->children, .have_proxy = r->have_proxy,
        .partial = r->partial, .error = r->error, .error_cap = sizeof r->error, .have_netns = r->have_netns,
        .ns = &r->ns, .net_samples = r->net_samples, .net_counts = r->net_counts,
    };
    for (int i = 0; i < 2; i++) {
        in.tcp_first[i] = r->tcp_first[i];
        in.tcp_last[i] = r->tcp_last[i];
    }
    return in;
}

static void default_dir(const scenario *s, const orch_opts *o, char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    if (o->shard_count > 1)
        orch_sfmt(buf, cap, "runs/%s-%s-shard%u", stamp, s->name, o->shard_index);
    else
        orch_sfmt(buf, cap, "runs/%s-%s", stamp, s->name);
}

static void print_result(run *r, const json_t *rep, int code)
{
    const orch_opts *o = r->o;
    char path[PATH_MAX + 16];
    orch_sfmt(path, sizeof path, "%s/report.json", r->dir);
    if (o->output == ORCH_OUT_JSON) {
        json_t *j = json_pack("{s:s, s:s, s:O, s:i, s:O}", "report", path, "scenario", r->s->name, "pass",
                              json_object_get(rep, "pass"), "exit_code", code, "verdicts",
                              json_object_get(rep, "verdicts"));
        if (r->error[0])
            json_object_set_new(j, "error", json_string(r->error));
        json_object_set(j, "totals", json_object_get(rep, "totals") ? json_object_get(rep, "totals") : json_null());
        char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(j);
        fflush(stdout);
        return;
    }
    size_t nv = json_array_size(json_object_get(rep, "verdicts")), npass = 0, i;
    json_t *v;
    json_array_foreach(json_object_get(rep, "verdicts"), i, v) npass += json_is_true(json_object_get(v, "pass"));
    const char *word = code == ORCH_EXIT_PASS ? "PASS" : code == ORCH_EXIT_FAILED ? "FAIL" : "BROKEN";
    if (o->output == ORCH_OUT_NORMAL) {
        char err[256];
        if (reports_print_summary(r->dir, stdout, err, sizeof err) < 0)
            fprintf(stderr, "rtchaos: summary: %s\n", err);
    }
    printf("%s %s: %zu/%zu verdicts passed%s%s; report %s\n", word, r->s->name, npass, nv,
           r->error[0] ? "; " : "", r->error, path);
    fflush(stdout);
}

int orch_run(const scenario *s, const orch_opts *o)
{
    run R;
    memset(&R, 0, sizeof R);
    run *r = &R;
    r->s = s;
    r->o = o;
    r->seed = o->has_seed ? o->seed : s->seed;
    r->warmup_us = s->warmup_us;
    r->events = json_array();
    r->windows = json_array();
    r->children = json_object();
    for (size_t i = 0; i < s->nfaults; i++)
        json_array_append_new(r->windows, json_object());
    clock_format_utc(clock_wall_us(), r->started, sizeof r->started);
    char err[1024];

    orch_sig = 0;
    orch_pgids[0] = orch_pgids[1] = 0;
    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    if (o->out_dir)
        orch_sfmt(r->dir, sizeof r->dir, "%s", o->out_dir);
    else
        default_dir(s, o, r->dir, sizeof r->dir);
    if (mkdirs(r->dir, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        json_decref(r->events);
        json_decref(r->windows);
        json_decref(r->children);
        return ORCH_EXIT_BROKEN;
    }
    {
        char p[PATH_MAX + 32];
        json_t *sj = scenario_to_json(s);
        json_object_set_new(sj, "seed", json_integer((json_int_t)r->seed));
        orch_sfmt(p, sizeof p, "%s/scenario.json", r->dir);
        if (write_json_file(p, sj, JSON_INDENT(2) | JSON_PRESERVE_ORDER, err, sizeof err) < 0)
            fprintf(stderr, "rtchaos: %s\n", err);
        json_decref(sj);
    }
    orch_event(r, "run_start", json_pack("{s:s, s:I, s:s}", "scenario", s->name, "seed", (json_int_t)r->seed, "dir", r->dir));
    if (o->output == ORCH_OUT_NORMAL)
        fprintf(stderr, "rtchaos: %s (seed %llu) → %s\n", s->name, (unsigned long long)r->seed, r->dir);

    /* The whole run's deadline, far beyond the sum of its phases. */
    uint64_t budget_us = s->server.ready_timeout_us * 2 + s->proxy.ready_timeout_us + s->warmup_us + s->duration_us +
                         s->drain_us + 2 * s->server.stop_timeout_us + watchdog_slack_ms() * 1000ULL;
    for (size_t i = 0; i < s->nfaults; i++)
        budget_us += s->server.ready_timeout_us + s->server.stop_timeout_us;
    if (o->start_at_us > clock_wall_us()) /* --start-at: the wait is part of the run */
        budget_us += (uint64_t)(o->start_at_us - clock_wall_us());
    /* from here: the budget counts the children's start-up too, and a start
     * that hangs is ended like any other phase */
    watchdog_start(r, budget_us);

    fplan_action *plan = NULL;
    size_t nplan = 0, next = 0;
    json_t *proxy_events = NULL;

    if (faultplan_build(s, &plan, &nplan, err, sizeof err) < 0) {
        orch_fail(r, "%s", err);
        goto finish;
    }

    /* Phase 0: the network namespaces (network: {namespaces: true}). */
    if (s->network.namespaces && orch_net_setup(r, err, sizeof err) < 0) {
        orch_fail(r, "the network namespaces could not be made: %s", err);
        goto finish;
    }

    /* Phase 1: the server under test. */
    if (o->target) {
        if (orch_parse_target(o->target, r->up_host, sizeof r->up_host, &r->up_port, r->prefix, sizeof r->prefix, err,
                              sizeof err) < 0) {
            orch_fail(r, "%s", err);
            goto finish;
        }
        r->tls = orch_target_tls(o->target);
        orch_sfmt(r->target_url, sizeof r->target_url, "%s://%s:%u%s", r->tls ? "https" : "http", r->up_host, r->up_port,
             r->prefix);
        if (orch_tcp_reachable(r->up_host, r->up_port, 3000, err, sizeof err) < 0) {
            orch_fail(r, "--target %s: %s", o->target, err);
            goto finish;
        }
        if (r->tls) {
            /* one handshake first: a certificate the run cannot trust stops
             * it here with the verifier's reason (exit 3), never a pass */
            SSL_CTX *ctx = NULL;
            if (fl_tls_ctx_new(s->target.ca, s->target.insecure, &ctx, err, sizeof err) < 0 ||
                fl_tls_probe(ctx, r->up_host, r->up_port, 5000, err, sizeof err) < 0) {
                fl_tls_ctx_free(ctx);
                orch_fail(r, "--target %s: %s%s", o->target, err,
                     strstr(err, "verify failed") ? " (give the CA with --ca FILE or target.ca, or set "
                                                    "target.insecure: true to skip verification)"
                                                  : "");
                goto finish;
            }
            fl_tls_ctx_free(ctx);
        }
    } else {
        r->have_server = 1;
        if (s->server.redis_auto) {
            r->have_redis = 1;
            if (orch_children_redis_start(r, 0, err, sizeof err) < 0) {
                orch_fail(r, "redis-server could not start: %s", err);
                goto finish;
            }
        }
        r->nnodes = s->server.nodes;
        for (unsigned i = 0; i < (r->nnodes ? r->nnodes : 1); i++)
            if (orch_children_server_start(r, i, 0, err, sizeof err) < 0) {
                orch_fail(r, r->nnodes ? "node %u could not start: %s" : "the server could not start%.0u: %s", i, err);
                goto finish;
            }
        orch_sfmt(r->target_url, sizeof r->target_url, "http://127.0.0.1:%u", r->up_port);
    }
    if (orch_sig)
        goto interrupted;

    /* Phase 2: the proxy, when the scenario has network faults. */
    if (scenario_needs_proxy(s)) {
        r->have_proxy = 1;
        if (orch_children_proxy_start(r, err, sizeof err) < 0) {
            orch_fail(r, "the proxy could not start: %s", err);
            goto finish;
        }
    }
    if (orch_sig)
        goto interrupted;

    /* Phase 3: the fleet. fleet_start may fork workers: no thread of ours but
     * the watchdog yet, and it is idle in its wait (watchdog_start). */
    if (orch_fleet_setup(r, err, sizeof err) < 0) {
        orch_fail(r, "the client fleet could not be set up: %s", err);
        goto finish;
    }
    if (o->start_at_us) {
        /* --start-at: every shard's clients start at one wall-clock
         * instant. A shard whose setup ended after it would publish and
         * fault out of step with the others: that run is broken. */
        int64_t late_us = clock_wall_us() - o->start_at_us;
        char when[40];
        clock_format_utc(o->start_at_us, when, sizeof when);
        if (late_us > STARTAT_MAX_LATE_US) {
            orch_fail(r, "--start-at %s passed %.1f s before the server, proxy and fleet were ready "
                    "(more than the %.1f s allowed): give the shards more lead time",
                 when, (double)late_us / 1e6, (double)STARTAT_MAX_LATE_US / 1e6);
            goto finish;
        }
        orch_event(r, "start_at_wait", json_pack("{s:s, s:f}", "at", when, "wait_s", late_us < 0 ? -late_us / 1e6 : 0.0));
        if (o->output == ORCH_OUT_NORMAL && late_us < 0)
            fprintf(stderr, "rtchaos: waiting %.1f s for --start-at %s\n", -late_us / 1e6, when);
        if (startat_wait(o->start_at_us, &orch_sig) < 0)
            goto interrupted;
        r->start_late_us = clock_wall_us() - o->start_at_us;
    }
    if (fleet_start(r->fl, err, sizeof err) < 0) {
        orch_fail(r, "the client fleet could not start: %s", err);
        goto finish;
    }
    r->t0_us = clock_mono_us();
    r->t0_wall_us = clock_wall_us();
    orch_event(r, "fleet_started", json_pack("{s:I}", "clients", (json_int_t)scenario_total_clients(s)));
    if (orch_metrics_start(r, err, sizeof err) < 0 || orch_metrics_scrape_start(r, err, sizeof err) < 0) {
        orch_fail(r, "%s", err);
        goto teardown;
    }

    /* Phase 4: warm-up, then the fault timeline until the duration is over. */
    int tty = o->output == ORCH_OUT_NORMAL && isatty(STDERR_FILENO);
    uint64_t end_us = r->t0_us + r->warmup_us + s->duration_us;
    uint64_t next_status = r->t0_us;
    int timeline_started = 0;
    while (!orch_sig && !r->error[0]) {
        uint64_t now = clock_mono_us();
        if (now >= end_us)
            break;
        if (!timeline_started && now >= r->t0_us + r->warmup_us) {
            timeline_started = 1;
            orch_event(r, "timeline_start", NULL);
            if (r->have_netns) {
                orch_net_sample(r, "timeline_start", &r->tcp_first[0], &r->tcp_first[1]);
                r->next_sample_us = now + 2000000;
            }
        }
        if (r->have_netns && timeline_started && now >= r->next_sample_us) {
            /* every 500 ms while a kernel fault acts (how fast connections
             * die is the figure: its resolution), every 2 s otherwise */
            int any = 0;
            for (size_t i = 0; i < s->nfaults; i++)
                any |= r->net_active[i];
            orch_net_sample(r, "periodic", NULL, NULL);
            r->next_sample_us = clock_mono_us() + (any ? 500000 : 2000000);
        }
        while (timeline_started && next < nplan && now >= r->t0_us + r->warmup_us + plan[next].t_us) {
            if (orch_faults_apply(r, &plan[next++]) < 0)
                break;
            now = clock_mono_us();
        }
        if (r->have_server && !r->server_down && child_poll(&r->server)) {
            char how[96];
            child_describe_exit(&r->server, how, sizeof how);
            orch_fail(r, "rtchaos-server %s during the run (see %s/server.log)", how, r->dir);
            break;
        }
        int gone = 0;
        for (unsigned i = 1; i < r->nnodes && !gone; i++)
            if (!r->node_down[i] && child_poll(&r->xnode[i])) {
                char how[96];
                child_describe_exit(&r->xnode[i], how, sizeof how);
                orch_fail(r, "rtchaos-server node %u %s during the run (see %s/node%u.log)", i, how, r->dir, i);
                gone = 1;
            }
        if (!gone && r->have_redis && !r->redis_down && child_poll(&r->redis)) {
            char how[96];
            child_describe_exit(&r->redis, how, sizeof how);
            orch_fail(r, "redis-server %s during the run (see %s/redis.stdout.log)", how, r->dir);
            gone = 1;
        }
        if (gone)
            break;
        if (r->have_proxy && child_poll(&r->proxy)) {
            char how[96];
            child_describe_exit(&r->proxy, how, sizeof how);
            orch_fail(r, "rtchaos-proxy %s during the run (see %s/proxy.log)", how, r->dir);
            break;
        }
        if (tty && now >= next_status) {
            orch_metrics_status_line(r, 0);
            next_status = now + 1000000;
        }
        clock_nap_ms(10);
    }
    if (tty)
        orch_metrics_status_line(r, 1);
    if (orch_sig)
        goto interrupted;

    /* Phase 5: stop publishing, clear what is still active, drain. A run
     * that broke (a child died on its own) has no server left to acknowledge
     * what is in flight: no wait for those acks (ack timeout x tries). */
    if (r->error[0])
        fleet_end_publishing_now(r->fl);
    else
        fleet_stop_publishing(r->fl);
    orch_event(r, "publishing_stopped", NULL);
    r->elapsed_s = orch_t_s(r);
    if (!r->error[0]) {
        orch_faults_clear(r, plan, nplan);
        int caught_up = fleet_drain(r->fl, (uint32_t)(s->drain_us / 1000));
        orch_event(r, "drained", json_pack("{s:b}", "all_caught_up", caught_up));
        if (r->have_netns && r->tcp_first[0])
            orch_net_sample(r, "drained", &r->tcp_last[0], &r->tcp_last[1]);
    }
    if (orch_sig)
        goto interrupted;
    goto teardown;

interrupted:
    r->partial = 1;
    if (!r->error[0])
        orch_sfmt(r->error, sizeof r->error, "interrupted by %s: partial report", orch_sig == SIGINT ? "SIGINT" : "SIGTERM");
    orch_event(r, "interrupted", json_pack("{s:i}", "signal", (int)orch_sig));
    if (r->fl)
        fleet_stop_publishing(r->fl);
    if (r->t0_us && r->elapsed_s == 0)
        r->elapsed_s = orch_t_s(r);

teardown:
    if (r->nnodes && r->t0_us) /* before the clients go: each node's connections */
        orch_faults_nodes_scrape(r);
    if (r->fl) {
        fleet_stop(r->fl);
        orch_event(r, "fleet_stopped", NULL);
    }

finish:
    for (unsigned i = 0; i < SCN_NODES_MAX; i++)
        if (r->node_ss[i]) { /* nodes_scrape did not run (the run broke before the clients started) */
            json_decref(sscrape_finish(r->node_ss[i]));
            r->node_ss[i] = NULL;
        }
    if (r->ss) { /* after the drain, before the server stops: its final figures */
        r->server_metrics = sscrape_finish(r->ss);
        r->ss = NULL;
    }
    if (r->ps) {
        r->proxy_metrics = sscrape_finish(r->ps);
        r->ps = NULL;
    }
    if (r->sr) { /* before the live endpoint stops: its last page too */
        char spath[4200], e[256] = "", what[64];
        orch_sfmt(spath, sizeof spath, "%s/series.yml", r->dir);
        orch_sfmt(what, sizeof what, "warmup_s %.3f", r->warmup_us / 1e6);
        long n = srec_finish(r->sr, spath, what, e, sizeof e);
        r->sr = NULL;
        if (n < 0) {
            fprintf(stderr, "rtchaos: record_series: %s\n", e);
            orch_event(r, "series_failed", json_pack("{s:s}", "error", e));
        } else {
            orch_event(r, "series_recorded", json_pack("{s:s, s:I}", "file", "series.yml", "series", (json_int_t)n));
        }
    }
    if (r->have_proxy && r->proxy.pid && !r->proxy.exited) {
        if (proxyctl_events(&r->api, &proxy_events, err, sizeof err) < 0) {
            fprintf(stderr, "rtchaos: the proxy's action log could not be read: %s\n", err);
            orch_event(r, "proxy_events_unavailable", json_pack("{s:s}", "error", err));
        }
    }
    if (r->have_proxy && r->proxy.pid) {
        int how = child_stop(&r->proxy, 5000);
        char desc[96];
        child_describe_exit(&r->proxy, desc, sizeof desc);
        orch_event(r, "proxy_stopped",
              json_pack("{s:s, s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited", "exit", desc));
        orch_children_judge_stop(r, "proxy", &r->proxy, how, 5000);
    }
    if (r->have_server && r->server.pid) {
        int how = child_stop(&r->server, s->server.stop_timeout_us / 1000);
        char desc[96];
        child_describe_exit(&r->server, desc, sizeof desc);
        orch_event(r, "server_stopped",
              json_pack("{s:s, s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited", "exit", desc));
        orch_children_judge_stop(r, "server", &r->server, how, s->server.stop_timeout_us / 1000);
    }
    for (unsigned i = 1; i < r->nnodes; i++)
        if (r->xnode[i].pid) {
            int how = child_stop(&r->xnode[i], s->server.stop_timeout_us / 1000);
            char desc[96];
            child_describe_exit(&r->xnode[i], desc, sizeof desc);
            orch_event(r, "server_stopped", json_pack("{s:i, s:s, s:s}", "node", (int)i, "how",
                                                 how == 0 ? "exited" : how == 1 ? "killed" : "already exited",
                                                 "exit", desc));
            char nm[16];
            orch_sfmt(nm, sizeof nm, "node%u", i);
            orch_children_judge_stop(r, nm, &r->xnode[i], how, s->server.stop_timeout_us / 1000);
        }
    if (r->have_redis && r->redis.pid) { /* after the nodes: they would log its going */
        int how = child_stop(&r->redis, 5000);
        orch_event(r, "redis_stopped", json_pack("{s:s}", "how", how == 0 ? "exited" : how == 1 ? "killed" : "already exited"));
        orch_children_judge_stop(r, "redis", &r->redis, how, 5000);
    }
    orch_children_judge(r);
    orch_pgids[0] = orch_pgids[1] = 0;
    orch_net_teardown(r);
    watchdog_stop(r);
    if (r->t0_us && r->elapsed_s == 0)
        r->elapsed_s = orch_t_s(r);

    int broken_before = r->error[0] != 0;
    orch_report_in in = report_in(r);
    json_t *rep = orch_report_build(&in, proxy_events);
    if (r->error[0] && !broken_before) /* the report found why (events.jsonl says so) */
        orch_event(r, "run_broken", json_pack("{s:s}", "error", r->error));
    int code = (int)json_integer_value(json_object_get(rep, "exit_code"));
    char path[PATH_MAX + 32];
    orch_sfmt(path, sizeof path, "%s/report.json", r->dir);
    if (write_json_file(path, rep, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12), err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        code = ORCH_EXIT_BROKEN;
    }
    if (reports_junit_write(rep, r->dir, err, sizeof err) < 0) {
        fprintf(stderr, "rtchaos: %s\n", err);
        code = ORCH_EXIT_BROKEN;
    }
    orch_metrics_push(r, code); /* before events.jsonl: it records the push */
    if (orch_report_write_events(&in, proxy_events, err, sizeof err) < 0)
        fprintf(stderr, "rtchaos: %s\n", err);
    if (reports_render(r->dir, err, sizeof err) < 0)
        fprintf(stderr, "rtchaos: report.md/html could not be rendered: %s\n", err);
    if (r->error[0] && o->output != ORCH_OUT_JSON)
        fprintf(stderr, "rtchaos: %s\n", r->error);
    print_result(r, rep, code);
    orch_metrics_finish(r, code);

    json_decref(rep);
    json_decref(proxy_events);
    if (r->fl)
        fleet_free(r->fl);
    free(plan);
    json_decref(r->events);
    json_decref(r->windows);
    json_decref(r->server_metrics);
    json_decref(r->nodes_report);
    json_decref(r->proxy_metrics);
    json_decref(r->net_samples);
    for (int i = 0; i < 2; i++) {
        json_decref(r->tcp_first[i]);
        json_decref(r->tcp_last[i]);
    }
    free(r->net_active);
    free(r->net_counts);
    json_decref(r->children);
    /* After an interruption keep our handlers: a second SIGINT arriving
     * between here and the process's exit must still end it with 3, not
     * kill it with the default action. */
    if (!orch_sig) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    return code;
}
