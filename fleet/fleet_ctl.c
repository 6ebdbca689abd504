/* fleet_ctl.c — the harness's controls of a running fleet (start, cut, status, live figures, drain, stop, report): each acts on this process's threads (fleet.c) and on the worker processes (fleet_workers.c), which sit below it and never call back up. */
#include "fleet_internal.h"

#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_workers.h"
#include "hist.h"

int fleet_start(fleet *f, char *err, size_t errlen)
{
    if (f->started) {
        snprintf(err, errlen, "fleet already started");
        return -1;
    }
    f->started = 1;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    f->t0_mono_us = clock_mono_us();
    f->t0_wall_us = clock_wall_us();
    /* unique per run and shard, made before the workers fork so they share it */
    snprintf(f->run_id, sizeof f->run_id, "%llx-%llx-%u", (unsigned long long)f->t0_wall_us,
             (unsigned long long)f->cfg.seed, f->cfg.shard_index);
    if (f->cfg.workers > 1) {
        if (fl_workers_start(f, err, errlen) < 0) {
            fleet_stop(f);
            return -1;
        }
        /* the parent keeps the publisher and no clients */
        f->n_workers = 1;
        f->worker_idx = 0;
        f->th = NULL;
        f->n_th = 0;
        if (fl_pub_new(f, &f->pub, err, errlen) < 0 || fl_pub_start(f->pub, err, errlen) < 0) {
            fleet_stop(f);
            return -1;
        }
        return 0;
    }
    if (fleet_start_local(f, err, errlen) < 0) {
        fleet_stop(f);
        return -1;
    }
    return 0;
}

void fleet_publish_pause(fleet *f)
{
    if (f->pub)
        fl_pub_pause(f->pub, 1);
}

void fleet_publish_resume(fleet *f)
{
    if (f->pub)
        fl_pub_pause(f->pub, 0);
}

void fleet_status_get(fleet *f, fleet_status *out)
{
    memset(out, 0, sizeof *out);
    out->clients = f->n_clients;
    if (!f->started)
        return;
    uint64_t now = clock_mono_us();
    out->elapsed_s = (double)(now - f->t0_mono_us) / 1e6;
    uint32_t lat[CHK_TL_BUCKETS]; /* 4.8 KB on the stack: no allocation here */
    memset(lat, 0, sizeof lat);
    pthread_mutex_lock(&f->status_mu);
    if (!f->stopped) {
        fleet_local_status(f, out, lat);
        if (f->w)
            fl_workers_status(f, out, lat);
    } else if (f->have_total) {
        out->delivered = f->total.n.delivered;
        out->reconnects = f->final_reconnects;
        out->errors = f->final_errors;
        for (int k = 0; k < CHK_KINDS; k++)
            out->anomalies += f->total.n.kind[k];
        memcpy(lat, f->total.status_lat, sizeof lat);
    }
    out->p95_live_us = hist_coarse_counts_percentile(lat, 95);
    out->published = f->pub ? fl_pub_published(f->pub) : f->published;
    out->publishing = f->pub ? fl_pub_running(f->pub) : 0;
    if (f->rate_t_us == 0) {
        f->rate_t_us = now;
        f->rate_delivered = out->delivered;
    } else if (now - f->rate_t_us >= 1000000u) {
        f->rate_per_s = (double)(out->delivered - f->rate_delivered) * 1e6 / (double)(now - f->rate_t_us);
        f->rate_t_us = now;
        f->rate_delivered = out->delivered;
    }
    out->delivered_per_s = f->rate_per_s;
    pthread_mutex_unlock(&f->status_mu);
}

void fleet_live_get(fleet *f, fleet_live *out)
{
    memset(out, 0, sizeof *out);
    out->clients = f->n_clients;
    out->n_groups = f->cfg.n_groups < FLEET_GROUPS_MAX ? f->cfg.n_groups : FLEET_GROUPS_MAX;
    for (size_t g = 0; g < out->n_groups; g++) {
        snprintf(out->group_names[g], sizeof out->group_names[g], "%s",
                 f->groups[g].name[0] ? f->groups[g].name : "group");
        out->group_clients[g] = f->groups[g].count;
    }
    if (!f->started)
        return;
    uint32_t *lat = calloc(CHK_TL_BUCKETS, sizeof *lat);
    if (!lat)
        return;
    out->elapsed_s = (double)(clock_mono_us() - f->t0_mono_us) / 1e6;
    pthread_mutex_lock(&f->status_mu);
    out->stopped = f->stopped;
    fleet_local_live(f, out, lat);
    if (f->w)
        fl_workers_live(f, out, lat);
    if (f->pub) {
        fl_pub_outcomes(f->pub, &out->pub_acked, &out->pub_failed, &out->pub_retries, &out->pub_errors);
        out->publishing = fl_pub_running(f->pub);
    }
    if (f->stopped) {
        out->pub_acked = f->published;
        out->pub_failed = f->publish_failed;
        out->pub_retries = f->publish_retries;
        out->pub_errors = f->publish_errors;
        out->publishing = 0;
    }
    pthread_mutex_unlock(&f->status_mu);
    for (unsigned b = 0; b < CHK_TL_BUCKETS; b++) {
        if (!lat[b])
            continue;
        out->lat_count += lat[b];
        uint64_t hi = hist_coarse_high(b);
        for (unsigned k = 0; k < FLEET_LAT_BOUNDS; k++)
            if (hi <= fleet_lat_bounds_us[k])
                out->lat_le[k] += lat[b];
    }
    free(lat);
}

void fleet_stop_publishing(fleet *f)
{
    if (!f->started || f->stopped_pub)
        return;
    f->stopped_pub = 1;
    if (f->pub) {
        uint32_t to = f->cfg.pub.ack_timeout_ms ? f->cfg.pub.ack_timeout_ms : 5000;
        fl_pub_finish(f->pub, to * (f->cfg.pub.retries + 1) + 1000);
    } else {
        __atomic_store_n(&f->heads_final, 1, __ATOMIC_RELEASE);
    }
    if (f->w)
        fl_workers_final_heads(f);
}

void fleet_end_publishing_now(fleet *f)
{
    if (!f->started || f->stopped_pub)
        return;
    fleet_local_end_publishing(f);
    if (f->w)
        fl_workers_final_heads(f);
}

int fleet_drain(fleet *f, uint32_t deadline_ms)
{
    if (!f->started)
        return 1;
    uint64_t end = clock_mono_us() + (uint64_t)deadline_ms * 1000u;
    fleet_stop_publishing(f);
    /* give every thread at least one tick after the heads became final */
    clock_sleep_ms(FL_TICK_MS + 20);
    for (;;) {
        int ok = fleet_local_caught_up(f) && (!f->w || fl_workers_caught_up(f));
        if (ok)
            return 1;
        if (clock_mono_us() >= end)
            return 0;
        clock_sleep_ms(20);
    }
}

uint64_t fleet_disconnect_fraction(fleet *f, double fraction)
{
    if (!f->started || f->stopped || fraction <= 0)
        return 0;
    if (fraction > 1)
        fraction = 1;
    uint64_t total = 0;
    if (f->w)
        total += fl_workers_cut(f, fraction);
    total += fleet_local_cut(f, fraction);
    return total;
}

void fleet_stop(fleet *f)
{
    if (!f || !f->started || f->stopped)
        return;
    fleet_end_publishing_now(f);
    fleet_local_stop(f);
    if (f->w)
        fl_workers_stop(f);
}

int fleet_report(fleet *f, json_t *report, char *err, size_t errlen)
{
    if (fleet_local_report(f, report, err, errlen) < 0)
        return -1;
    if (f->w)
        return fl_workers_merge_reports(f, report, err, errlen);
    return 0;
}


void fleet_free(fleet *f)
{
    if (!f)
        return;
    fleet_stop(f);
    fl_workers_free(f);
    fleet_local_free(f);
}

void fleet_pub_mirror_outcomes(fleet *f, uint64_t *acked, uint64_t *failed)
{
    *acked = *failed = 0;
    if (f && f->pub)
        fl_pub_mirror_outcomes(f->pub, acked, failed);
}
