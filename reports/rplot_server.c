/* rplot_server.c — the server's scraped samples as plots beside the
 * clients' figures (see rplot_server.h). Counters become per-second rates
 * between consecutive samples; histograms become the p95 of each interval
 * (the bucket bound, as Prometheus' buckets allow). */
#include "rplot_server.h"

#include <math.h>
#include <string.h>

#include "rdoc.h"

const rplot_info rplot_server_plots[RPLOT_SERVER_N] = {
    {"server_connections", "Server: open connections by transport, beside the clients connected"},
    {"server_latency", "Server-side delivery latency p95 (publish → written) beside the clients' p95 (→ received)"},
    {"server_backpressure", "Server: backpressure actions by policy, gaps and snapshots sent (per second)"},
    {"server_queues", "Server: send-queue depth (deepest connection, all connections) and queued bytes"},
    {"server_broker_lag", "Broker lag p95 (Redis accepted → node received), per scrape interval"},
};

/* The backpressure series drawn, "POLICY/ACTION" as the server labels them. */
static const struct {
    const char *key, *title, *color;
} bp_series[] = {
    {"drop/event_dropped", "drop: events dropped", "#de2d26"},
    {"coalesce/event_coalesced", "coalesce: events coalesced", "#fd8d3c"},
    {"snapshot/event_dropped", "snapshot: events replaced", "#756bb1"},
    {"snapshot/snapshot_queued", "snapshot: snapshots queued", "#9e9ac8"},
    {"disconnect/disconnect", "disconnect: connections shed", "#636363"},
};
#define N_BP (sizeof bp_series / sizeof *bp_series)

static const json_t *samples_of(const json_t *rep)
{
    return json_object_get(json_object_get(rep, "server"), "samples");
}

static int good(const json_t *smp)
{
    return json_is_object(smp) && !json_object_get(smp, "error") && json_is_number(json_object_get(smp, "t_s"));
}

int rplot_server_has(const json_t *rep, int i)
{
    const json_t *smps = samples_of(rep);
    size_t k;
    const json_t *smp;
    int any = 0, broker = 0;
    json_array_foreach(smps, k, smp) {
        if (!good(smp))
            continue;
        any = 1;
        broker |= json_object_get(smp, "broker_lag_le") != NULL;
    }
    if (i < 0 || i >= RPLOT_SERVER_N || !any)
        return 0;
    return i == 4 ? broker : 1;
}

double rplot_server_interval_p95(const json_t *le0, double count0, const json_t *le1, double count1)
{
    double total = count1 - count0;
    if (!(total > 0) || !json_is_array(le1))
        return NAN;
    size_t i;
    const json_t *b;
    json_array_foreach(le1, i, b) {
        double le = json_number_value(json_array_get(b, 0)), cum1 = json_number_value(json_array_get(b, 1));
        double cum0 = 0;
        /* the same bound in the earlier sample (same order, but match by value) */
        size_t j;
        const json_t *c;
        json_array_foreach(le0, j, c) {
            if (json_number_value(json_array_get(c, 0)) == le) {
                cum0 = json_number_value(json_array_get(c, 1));
                break;
            }
        }
        if (cum1 - cum0 >= 0.95 * total)
            return le;
    }
    return NAN;
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Per second between two samples; NAN when either lacks it or it went down
 * (the server restarted). */
static double rate(double v0, double v1, double dt)
{
    if (isnan(v0) || isnan(v1) || !(dt > 0) || v1 < v0)
        return NAN;
    return (v1 - v0) / dt;
}

static void put(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs(" NaN", f);
    else
        fprintf(f, " %.6g", v);
}

/* Writes server.dat; *max_* get each plot's largest value (axis ranges). */
typedef struct smax {
    double conn, lat_lo, lat_hi, bp, q, qbytes, broker_lo, broker_hi;
    int bp_on[N_BP + 2]; /* which backpressure / gap / snapshot series ever moved */
} smax;

static int write_dat(const json_t *rep, const char *dir, smax *m, char *err, size_t errlen)
{
    FILE *f = rdoc_fopen(dir, "server.dat", err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# server's /metrics samples (report.json server.samples): t_s conn_ws conn_sse conn_poll conn_all "
               "p95_ms");
    for (size_t k = 0; k < N_BP; k++)
        fprintf(f, " %s/s", bp_series[k].key);
    fprintf(f, " gaps_sent/s snapshots_sent/s sendq_max_messages sendq_messages sendq_bytes broker_lag_p95_ms\n");
    memset(m, 0, sizeof *m);
    m->lat_lo = m->broker_lo = INFINITY;
    const json_t *prev = NULL, *smp;
    size_t i;
    json_array_foreach(samples_of(rep), i, smp) {
        if (!good(smp))
            continue;
        double t = num(smp, "t_s");
        const json_t *c = json_object_get(smp, "connections");
        double ws = num(c, "ws"), sse = num(c, "sse"), poll = num(c, "poll");
        double all = (isnan(ws) ? 0 : ws) + (isnan(sse) ? 0 : sse) + (isnan(poll) ? 0 : poll);
        m->conn = fmax(m->conn, all);
        fprintf(f, "%.3f", t);
        put(f, ws);
        put(f, sse);
        put(f, poll);
        put(f, c ? all : NAN);
        double dt = prev ? t - num(prev, "t_s") : NAN;
        double p95 = prev ? rplot_server_interval_p95(json_object_get(prev, "lat_le"), num(prev, "latency_count"),
                                                       json_object_get(smp, "lat_le"), num(smp, "latency_count"))
                          : NAN;
        if (!isnan(p95)) {
            p95 *= 1000.0;
            m->lat_lo = fmin(m->lat_lo, p95);
            m->lat_hi = fmax(m->lat_hi, p95);
        }
        put(f, p95);
        for (size_t k = 0; k <= N_BP + 1; k++) {
            double r;
            if (k < N_BP)
                r = prev ? rate(num(json_object_get(prev, "backpressure"), bp_series[k].key),
                                num(json_object_get(smp, "backpressure"), bp_series[k].key), dt)
                         : NAN;
            else
                r = prev ? rate(num(prev, k == N_BP ? "gaps_sent" : "snapshots_sent"),
                                num(smp, k == N_BP ? "gaps_sent" : "snapshots_sent"), dt)
                         : NAN;
            put(f, r);
            if (r > 0) {
                m->bp_on[k] = 1;
                m->bp = fmax(m->bp, r);
            }
        }
        double qmax = num(smp, "sendq_max_messages"), qall = num(smp, "sendq_messages"), qb = num(smp, "sendq_bytes");
        put(f, qmax);
        put(f, qall);
        put(f, qb);
        m->q = fmax(m->q, fmax(isnan(qmax) ? 0 : qmax, isnan(qall) ? 0 : qall));
        m->qbytes = fmax(m->qbytes, isnan(qb) ? 0 : qb);
        double bl = prev ? rplot_server_interval_p95(json_object_get(prev, "broker_lag_le"),
                                                     num(prev, "broker_lag_count"),
                                                     json_object_get(smp, "broker_lag_le"),
                                                     num(smp, "broker_lag_count"))
                         : NAN;
        if (!isnan(bl)) {
            bl *= 1000.0;
            m->broker_lo = fmin(m->broker_lo, bl);
            m->broker_hi = fmax(m->broker_hi, bl);
        }
        put(f, bl);
        fputc('\n', f);
        prev = smp;
    }
    return rdoc_fclose(f, "server.dat", err, errlen);
}

static void time_axis(FILE *gp, const json_t *rep)
{
    double tmax = rdoc_num_or(rep, "duration_s", 0);
    const json_t *smps = samples_of(rep);
    const json_t *last = json_array_get(smps, json_array_size(smps) ? json_array_size(smps) - 1 : 0);
    if (last && num(last, "t_s") > tmax)
        tmax = num(last, "t_s");
    fprintf(gp, "set xlabel \"time since start (s)\"\nset xrange [0:%.3f]\n", tmax > 0 ? tmax + 1 : 1);
}

static void log_or_linear(FILE *gp, double lo, double hi, const char *label)
{
    fprintf(gp, "set ylabel \"%s\"\n", label);
    if (lo > 0 && isfinite(lo) && hi / lo > 30)
        fprintf(gp, "set logscale y\n");
    else
        fprintf(gp, "set yrange [0:%g]\n", hi > 0 ? hi * 1.15 : 1);
}

int rplot_server_write(const json_t *rep, const char *plots_dir, FILE *gp, char *err, size_t errlen)
{
    if (!rplot_server_has(rep, 0))
        return 0;
    smax m;
    if (write_dat(rep, plots_dir, &m, err, errlen) != 0)
        return -1;
    int n = 0;
    /* columns of server.dat */
    enum { C_T = 1, C_WS, C_SSE, C_POLL, C_ALL, C_P95, C_BP0 };
    const int c_qmax = C_BP0 + (int)N_BP + 2, c_qall = c_qmax + 1, c_qbytes = c_qmax + 2, c_broker = c_qmax + 3;

    rplot_gp_begin(gp, "server_connections", rplot_server_plots[0].title);
    time_axis(gp, rep);
    rplot_gp_faults(gp, rep);
    fprintf(gp, "set ylabel \"connections\"\nset yrange [0:%g]\n"
                "plot \"server.dat\" using 1:%d with lines lw 2 lc rgb \"#3182bd\" title \"server: WebSocket\", \\\n"
                "     \"\" using 1:%d with lines lw 2 lc rgb \"#31a354\" title \"server: SSE\", \\\n"
                "     \"\" using 1:%d with lines lw 2 lc rgb \"#fd8d3c\" title \"server: long-poll\", \\\n"
                "     \"timeline.dat\" using 1:7 with lines lw 2 dt 2 lc rgb \"#000000\" title \"clients connected\"\n",
            fmax(m.conn, 1) * 1.15, C_WS, C_SSE, C_POLL);
    rplot_gp_end(gp, "server_connections");
    n++;

    /* the axis holds the clients' p95 too (their line is drawn on it) */
    size_t ti;
    const json_t *row;
    json_array_foreach(json_object_get(rep, "timeline"), ti, row) {
        double c = num(row, "p95_us") / 1000.0;
        if (c > 0) {
            m.lat_lo = fmin(m.lat_lo, c);
            m.lat_hi = fmax(m.lat_hi, c);
        }
    }
    rplot_gp_begin(gp, "server_latency", rplot_server_plots[1].title);
    if (m.lat_hi <= 0) {
        rplot_gp_no_data(gp, "the server reported no delivery latency (no live events written)");
    } else {
        time_axis(gp, rep);
        rplot_gp_faults(gp, rep);
        log_or_linear(gp, m.lat_lo, m.lat_hi, "latency p95 (ms)");
        fprintf(gp, "plot \"server.dat\" using 1:%d with steps lw 2 lc rgb \"#e6550d\" title \"server p95 (bucket bound)\", \\\n"
                    "     \"timeline.dat\" using 1:3 with lines lw 2 dt 2 lc rgb \"#000000\" title \"clients p95\"\n",
                C_P95);
    }
    rplot_gp_end(gp, "server_latency");
    n++;

    rplot_gp_begin(gp, "server_backpressure", rplot_server_plots[2].title);
    time_axis(gp, rep);
    rplot_gp_faults(gp, rep);
    fprintf(gp, "set ylabel \"per second\"\nset yrange [0:%g]\n", m.bp > 0 ? m.bp * 1.15 : 1);
    /* every series is drawn (a flat zero says "this policy did nothing"),
     * so the key always names them all */
    fprintf(gp, "plot ");
    for (size_t k = 0; k < N_BP + 2; k++) {
        const char *title = k < N_BP ? bp_series[k].title : k == N_BP ? "gaps sent" : "snapshots sent";
        const char *color = k < N_BP ? bp_series[k].color : k == N_BP ? "#3182bd" : "#31a354";
        fprintf(gp, "%s\"server.dat\" using 1:($%d == $%d ? $%d : 0) with lines lw %d %slc rgb \"%s\" title \"%s\"",
                k ? ", \\\n     " : "", C_BP0 + (int)k, C_BP0 + (int)k, C_BP0 + (int)k, m.bp_on[k] ? 2 : 1,
                k >= N_BP ? "dt 2 " : "", color, title);
    }
    fputc('\n', gp);
    rplot_gp_end(gp, "server_backpressure");
    n++;

    rplot_gp_begin(gp, "server_queues", rplot_server_plots[3].title);
    time_axis(gp, rep);
    rplot_gp_faults(gp, rep);
    fprintf(gp, "set ylabel \"queued messages\"\nset y2label \"queued bytes\"\nset ytics nomirror\nset y2tics\n"
                "set yrange [0:%g]\nset y2range [0:%g]\n"
                "plot \"server.dat\" using 1:%d with lines lw 2 lc rgb \"#de2d26\" axes x1y1 title \"deepest connection (msgs, left)\", \\\n"
                "     \"\" using 1:%d with lines lw 2 lc rgb \"#3182bd\" axes x1y1 title \"all connections (msgs, left)\", \\\n"
                "     \"\" using 1:%d with lines lw 2 dt 2 lc rgb \"#636363\" axes x1y2 title \"queued bytes (right)\"\n",
            m.q > 0 ? m.q * 1.15 : 1, m.qbytes > 0 ? m.qbytes * 1.15 : 1, c_qmax, c_qall, c_qbytes);
    rplot_gp_end(gp, "server_queues");
    n++;

    if (rplot_server_has(rep, 4)) {
        rplot_gp_begin(gp, "server_broker_lag", rplot_server_plots[4].title);
        if (m.broker_hi <= 0) {
            rplot_gp_no_data(gp, "no event came over the broker");
        } else {
            time_axis(gp, rep);
            rplot_gp_faults(gp, rep);
            log_or_linear(gp, m.broker_lo, m.broker_hi, "broker lag p95 (ms)");
            fprintf(gp, "plot \"server.dat\" using 1:%d with steps lw 2 lc rgb \"#756bb1\" title \"broker lag p95 (bucket bound)\"\n",
                    c_broker);
        }
        rplot_gp_end(gp, "server_broker_lag");
        n++;
    }
    return n;
}
