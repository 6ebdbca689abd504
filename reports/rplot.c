/* rplot.c — plot data files and gnuplot scripts for reports and compares,
 * and running gnuplot under a deadline. The drawing is gnuplot's; this file
 * only extracts series from report.json and says what to draw. */
#include "rplot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crun.h"
#include "hist.h"
#include "rdoc.h"
#include "reports.h"
#include "rplot_server.h"

const rplot_info rplot_report_plots[RPLOT_REPORT_N] = {
    {"latency", "Live latency p50 / p95 / p99 over time (fault windows shaded)"},
    {"spectrum", "Latency percentile spectrum, live vs replay"},
    {"throughput", "Published vs delivered messages per second"},
    {"clients", "Connected clients and reconnects per second"},
    {"resync", "Resync time distribution"},
};

const rplot_info rplot_compare_plots[RPLOT_COMPARE_N] = {
    {"compare_latency", "Live latency p95 over time, base vs new"},
    {"compare_spectrum", "Live latency percentile spectrum, base vs new"},
    {"compare_throughput", "Delivered messages per second, base vs new"},
};

/* One timeline second, latencies in ms (NAN = none that second). */
typedef struct trow {
    double t_s, p50_ms, p95_ms, p99_ms, published, delivered, connected, reconnects;
} trow;

typedef struct series {
    trow *rows;
    size_t n;
    int has_lat, has_tput, has_conn, has_reconn;
    double lat_min_ms, lat_max_ms;
    double max_published, max_delivered, max_connected, max_reconnects;
} series;

static void series_free(series *s)
{
    free(s->rows);
    memset(s, 0, sizeof *s);
}

/* Reads report.timeline. A row's p50/p95/p99 come from its "lat" buckets
 * when present (exact for that second), else from p50_us/p95_us/p99_us. */
static int series_load(const json_t *rep, series *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->lat_min_ms = INFINITY;
    const json_t *tl = json_object_get(rep, "timeline");
    size_t n = json_is_array(tl) ? json_array_size(tl) : 0;
    if (n == 0)
        return 0;
    s->rows = calloc(n, sizeof *s->rows);
    hist *h = hist_new();
    if (!s->rows || !h) {
        hist_free(h);
        series_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i;
    const json_t *row;
    json_array_foreach(tl, i, row) {
        trow *r = &s->rows[s->n];
        if (rdoc_num(row, "t_s", &r->t_s) != 0)
            continue;
        r->p50_ms = r->p95_ms = r->p99_ms = NAN;
        const json_t *lat = json_object_get(row, "lat");
        if (json_is_array(lat) && json_array_size(lat) > 0) {
            hist_reset(h);
            size_t j;
            const json_t *b;
            json_array_foreach(lat, j, b) {
                const json_t *v = json_array_get(b, 0), *c = json_array_get(b, 1);
                if (json_is_integer(v) && json_is_integer(c) && json_integer_value(v) >= 0 &&
                    json_integer_value(c) > 0)
                    hist_record_n(h, (uint64_t)json_integer_value(v), (uint64_t)json_integer_value(c));
            }
            if (hist_count(h) > 0) {
                r->p50_ms = (double)hist_percentile(h, 50) / 1000.0;
                r->p95_ms = (double)hist_percentile(h, 95) / 1000.0;
                r->p99_ms = (double)hist_percentile(h, 99) / 1000.0;
            }
        } else {
            double v;
            if (rdoc_num(row, "p50_us", &v) == 0) r->p50_ms = v / 1000.0;
            if (rdoc_num(row, "p95_us", &v) == 0) r->p95_ms = v / 1000.0;
            if (rdoc_num(row, "p99_us", &v) == 0) r->p99_ms = v / 1000.0;
        }
        /* A second with no delivery has no latency, whatever was stored. */
        double delivered = rdoc_num_or(row, "delivered", NAN);
        if (delivered == 0)
            r->p50_ms = r->p95_ms = r->p99_ms = NAN;
        double pct3[3] = {r->p50_ms, r->p95_ms, r->p99_ms};
        for (int k = 0; k < 3; k++) {
            if (!isnan(pct3[k]) && pct3[k] > 0) {
                s->has_lat = 1;
                if (pct3[k] < s->lat_min_ms) s->lat_min_ms = pct3[k];
                if (pct3[k] > s->lat_max_ms) s->lat_max_ms = pct3[k];
            }
        }
        r->published = rdoc_num_or(row, "published", NAN);
        r->delivered = delivered;
        r->connected = rdoc_num_or(row, "connected", NAN);
        r->reconnects = rdoc_num_or(row, "reconnects", NAN);
        if (r->published > s->max_published) s->max_published = r->published;
        if (r->delivered > s->max_delivered) s->max_delivered = r->delivered;
        if (r->connected > s->max_connected) s->max_connected = r->connected;
        if (r->reconnects > s->max_reconnects) s->max_reconnects = r->reconnects;
        if (!isnan(r->published) || !isnan(r->delivered)) s->has_tput = 1;
        if (!isnan(r->connected)) s->has_conn = 1;
        if (!isnan(r->reconnects)) s->has_reconn = 1;
        s->n++;
    }
    hist_free(h);
    return 0;
}

static void put_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs(" NaN", f);
    else
        fprintf(f, " %.6g", v);
}

static int series_write(const series *s, const char *dir, const char *name, char *err, size_t errlen)
{
    FILE *f = rdoc_fopen(dir, name, err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# t_s p50_ms p95_ms p99_ms published delivered connected reconnects\n");
    for (size_t i = 0; i < s->n; i++) {
        const trow *r = &s->rows[i];
        fprintf(f, "%.3f", r->t_s);
        put_num(f, r->p50_ms > 0 ? r->p50_ms : NAN);
        put_num(f, r->p95_ms > 0 ? r->p95_ms : NAN);
        put_num(f, r->p99_ms > 0 ? r->p99_ms : NAN);
        put_num(f, r->published);
        put_num(f, r->delivered);
        put_num(f, r->connected);
        put_num(f, r->reconnects);
        fputc('\n', f);
    }
    return rdoc_fclose(f, name, err, errlen);
}

/* HDR-style spectrum: x = 1/(1-p) from 2 (50%) to 10^4 (99.99%), y = the
 * value at percentile p in ms. From the "hist" member when present, else
 * from the summary percentiles. Returns the number of points written (0 =
 * no data) or -1. */
static int spectrum_write(const json_t *lat_kind, const char *dir, const char *name, char *err, size_t errlen)
{
    int present = 0, points = 0;
    hist *h = rdoc_hist(lat_kind, &present, err, errlen);
    if (!h)
        return -1;
    FILE *f = rdoc_fopen(dir, name, err, errlen);
    if (!f) {
        hist_free(h);
        return -1;
    }
    fprintf(f, "# x=1/(1-p) percentile value_ms\n");
    if (present && hist_count(h) > 0) {
        const int steps = 120;
        for (int i = 0; i <= steps; i++) {
            double x = 2.0 * pow(5000.0, (double)i / steps);
            double pct = 100.0 * (1.0 - 1.0 / x);
            fprintf(f, "%.6g %.6g %.6g\n", x, pct, (double)hist_percentile(h, pct) / 1000.0);
            points++;
        }
    } else if (!present && rdoc_num_or(lat_kind, "count", 0) > 0) {
        static const struct { const char *key; double x; } pts[] = {
            {"p50", 2}, {"p95", 20}, {"p99", 100}, {"p999", 1000}};
        for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
            double v;
            if (rdoc_num(lat_kind, pts[i].key, &v) == 0) {
                fprintf(f, "%g %g %.6g\n", pts[i].x, 100.0 * (1 - 1 / pts[i].x), v / 1000.0);
                points++;
            }
        }
    }
    hist_free(h);
    if (rdoc_fclose(f, name, err, errlen) != 0)
        return -1;
    return points;
}

/* Resync times binned 10 per decade (log x); bins from the "hist" buckets.
 * Returns the number of non-empty bins or -1. */
static int resync_write(const json_t *lat_kind, const char *dir, char *err, size_t errlen)
{
    enum { NBINS = 100 }; /* 10 per decade over 1 µs .. 10^10 µs */
    double counts[NBINS] = {0};
    const json_t *buckets = json_object_get(json_object_get(lat_kind, "hist"), "buckets");
    size_t i;
    const json_t *b;
    json_array_foreach(buckets, i, b) {
        double v = json_number_value(json_array_get(b, 0));
        double c = json_number_value(json_array_get(b, 1));
        int bin = v < 1 ? 0 : (int)floor(10.0 * log10(v) + 1e-9);
        if (bin < 0) bin = 0;
        if (bin >= NBINS) bin = NBINS - 1;
        counts[bin] += c;
    }
    FILE *f = rdoc_fopen(dir, "resync.dat", err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# center_ms count low_ms high_ms\n");
    int n = 0;
    for (int k = 0; k < NBINS; k++) {
        if (counts[k] <= 0)
            continue;
        double lo = pow(10.0, k / 10.0) / 1000.0, hi = pow(10.0, (k + 1) / 10.0) / 1000.0;
        fprintf(f, "%.6g %.0f %.6g %.6g\n", sqrt(lo * hi), counts[k], lo, hi);
        n++;
    }
    if (rdoc_fclose(f, "resync.dat", err, errlen) != 0)
        return -1;
    return n;
}

static void gp_quoted(FILE *gp, const char *s)
{
    fputc('"', gp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', gp);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, gp);
    }
    fputc('"', gp);
}

/* Starts one plot: resets settings, sets the SVG terminal and the output. */
void rplot_gp_begin(FILE *gp, const char *name, const char *title)
{
    fprintf(gp, "\n# ---- %s\nreset\n", name);
    fprintf(gp, "set terminal svg size 900,400 font \"sans,11\" background rgb \"white\" noenhanced\n");
    fprintf(gp, "set output \"%s.svg\"\nset title ", name);
    gp_quoted(gp, title);
    fprintf(gp, "\nset grid lc rgb \"#dddddd\"\nset key outside bottom center horizontal\n");
}

/* Ends one plot: the same drawing again as PNG (for Markdown). */
void rplot_gp_end(FILE *gp, const char *name)
{
    fprintf(gp, "set terminal pngcairo size 900,400 font \"sans,10\" background rgb \"white\" noenhanced\n");
    fprintf(gp, "set output \"%s.png\"\nreplot\nunset output\n", name);
}

/* A plot with nothing to draw still gets axes and a message (gnuplot
 * refuses to plot a series whose every point is undefined). */
void rplot_gp_no_data(FILE *gp, const char *what)
{
    fprintf(gp, "set xrange [0:1]\nset yrange [0:1]\nunset xtics\nunset ytics\n");
    fprintf(gp, "set label 99 ");
    gp_quoted(gp, what);
    fprintf(gp, " at graph 0.5, graph 0.5 center font \",14\"\nplot NaN notitle\n");
}

/* Shades fault windows (and marks instant faults with a dashed line), each
 * labelled once by name at the top of the plot. */
void rplot_gp_faults(FILE *gp, const json_t *rep)
{
    const json_t *faults = json_object_get(rep, "faults");
    size_t i;
    const json_t *f;
    int obj = 1;
    json_array_foreach(faults, i, f) {
        if (obj > 200)
            break;
        double from = rdoc_num_or(f, "from_s", NAN), to = rdoc_num_or(f, "to_s", NAN);
        if (isnan(from))
            continue;
        char label[160];
        rdoc_fault_label(f, label, sizeof label);
        int first = 1;
        for (size_t j = 0; j < i; j++) {
            char other[160];
            if (strcmp(rdoc_fault_label(json_array_get(faults, j), other, sizeof other), label) == 0)
                first = 0;
        }
        if (!isnan(to) && to > from)
            fprintf(gp, "set object %d rect from %.3f, graph 0 to %.3f, graph 1 behind "
                        "fc rgb \"#f08080\" fs transparent solid 0.25 noborder\n", obj, from, to);
        else
            fprintf(gp, "set arrow %d from %.3f, graph 0 to %.3f, graph 1 nohead "
                        "lc rgb \"#c00000\" dt 2 lw 1.5 back\n", obj, from, from);
        if (first) {
            fprintf(gp, "set label %d ", obj);
            gp_quoted(gp, label);
            fprintf(gp, " at %.3f, graph %.2f left offset 0.3,0 front font \",9\" tc rgb \"#a00000\"\n", from,
                    0.96 - 0.06 * ((obj - 1) % 4));
        }
        obj++;
    }
}

static void gp_time_axis(FILE *gp, const json_t *rep, const series *s)
{
    double dur = rdoc_num_or(rep, "duration_s", 0);
    double tmax = s->n ? s->rows[s->n - 1].t_s : 0;
    if (tmax < dur)
        tmax = dur;
    fprintf(gp, "set xlabel \"time since start (s)\"\nset xrange [0:%.3f]\n", tmax > 0 ? tmax + 1 : 1);
}

/* Log scale on y when the values span more than a factor of 30. */
static void gp_lat_axis(FILE *gp, double lo, double hi)
{
    fprintf(gp, "set ylabel \"latency (ms)\"\n");
    if (lo > 0 && hi / lo > 30)
        fprintf(gp, "set logscale y\n");
    else
        fprintf(gp, "set yrange [0:*]\n");
}

/* One line of a two-line plot: column col of file against column 1. */
typedef struct gp_line {
    int on; /* 0: left out (that run or kind has no data) */
    const char *file;
    int col;
    const char *color, *title;
} gp_line;

/* The rest of a "plot " command: line a, then line b, each only when on
 * (at least one is). */
static void gp_two_lines(FILE *gp, gp_line a, gp_line b)
{
    if (a.on)
        fprintf(gp, "\"%s\" using 1:%d with lines lw 2 lc rgb \"%s\" title \"%s\"%s", a.file, a.col, a.color,
                a.title, b.on ? ", \\\n     " : "\n");
    if (b.on)
        fprintf(gp, "\"%s\" using 1:%d with lines lw 2 lc rgb \"%s\" title \"%s\"\n", b.file, b.col, b.color,
                b.title);
}

static void gp_spectrum_axes(FILE *gp)
{
    fprintf(gp, "set logscale x\nset xrange [2:10000]\n"
                "set xtics (\"50%%%%\" 2, \"90%%%%\" 10, \"99%%%%\" 100, \"99.9%%%%\" 1000, \"99.99%%%%\" 10000)\n"
                "set xlabel \"percentile\"\nset ylabel \"latency (ms)\"\nset logscale y\n");
}

/* An axis range from 0 to 15% above the largest value, so a flat series
 * is not drawn on the frame. */
static double headroom(double max)
{
    return max > 0 ? max * 1.15 : 1;
}

static int run_script_file(const char *dir, const char *script, FILE *gp, char *err, size_t errlen)
{
    if (rdoc_fclose(gp, script, err, errlen) != 0)
        return -1;
    return rplot_run_gnuplot(dir, script, err, errlen);
}

int rplot_report(const json_t *rep, const char *plots_dir, char *err, size_t errlen)
{
    series s;
    if (rdoc_mkdir(plots_dir, err, errlen) != 0 || series_load(rep, &s, err, errlen) != 0)
        return -1;
    int rc = -1, live_pts, replay_pts, resync_bins;
    FILE *gp = NULL;
    if (series_write(&s, plots_dir, "timeline.dat", err, errlen) != 0)
        goto out;
    live_pts = spectrum_write(rdoc_latency(rep, "live"), plots_dir, "spectrum_live.dat", err, errlen);
    replay_pts = spectrum_write(rdoc_latency(rep, "replay"), plots_dir, "spectrum_replay.dat", err, errlen);
    resync_bins = resync_write(rdoc_latency(rep, "resync"), plots_dir, err, errlen);
    if (live_pts < 0 || replay_pts < 0 || resync_bins < 0)
        goto out;
    if (!(gp = rdoc_fopen(plots_dir, "plots.gp", err, errlen)))
        goto out;
    fprintf(gp, "# plots.gp — written by rtchaos from report.json; run `gnuplot plots.gp` here.\n");

    rplot_gp_begin(gp, "latency", rplot_report_plots[0].title);
    if (!s.has_lat) {
        rplot_gp_no_data(gp, "no live events delivered: no latency to plot");
    } else {
        gp_time_axis(gp, rep, &s);
        gp_lat_axis(gp, s.lat_min_ms, s.lat_max_ms);
        rplot_gp_faults(gp, rep);
        fprintf(gp, "plot \"timeline.dat\" using 1:2 with lines lw 2 lc rgb \"#2b8cbe\" title \"p50\", \\\n"
                    "     \"\" using 1:3 with lines lw 2 lc rgb \"#e6550d\" title \"p95\", \\\n"
                    "     \"\" using 1:4 with lines lw 2 lc rgb \"#756bb1\" title \"p99\"\n");
    }
    rplot_gp_end(gp, "latency");

    rplot_gp_begin(gp, "spectrum", rplot_report_plots[1].title);
    if (live_pts == 0 && replay_pts == 0) {
        rplot_gp_no_data(gp, "no live or replayed events: no latency spectrum");
    } else {
        gp_spectrum_axes(gp);
        fprintf(gp, "plot ");
        gp_two_lines(gp, (gp_line){ live_pts > 0, "spectrum_live.dat", 3, "#2b8cbe", "live" },
                     (gp_line){ replay_pts > 0, "spectrum_replay.dat", 3, "#e6550d", "replay" });
    }
    rplot_gp_end(gp, "spectrum");

    rplot_gp_begin(gp, "throughput", rplot_report_plots[2].title);
    if (!s.has_tput) {
        rplot_gp_no_data(gp, "no timeline: nothing published or delivered");
    } else {
        gp_time_axis(gp, rep, &s);
        rplot_gp_faults(gp, rep);
        fprintf(gp, "set ylabel \"delivered / s\"\nset y2label \"published / s\"\nset ytics nomirror\n"
                    "set y2tics\nset yrange [0:%g]\nset y2range [0:%g]\n"
                    "plot \"timeline.dat\" using 1:6 with lines lw 2 lc rgb \"#31a354\" axes x1y1 title \"delivered/s (left)\", \\\n"
                    "     \"\" using 1:5 with lines lw 2 dt 2 lc rgb \"#636363\" axes x1y2 title \"published/s (right)\"\n",
                headroom(s.max_delivered), headroom(s.max_published));
    }
    rplot_gp_end(gp, "throughput");

    rplot_gp_begin(gp, "clients", rplot_report_plots[3].title);
    if (!s.has_conn && !s.has_reconn) {
        rplot_gp_no_data(gp, "no timeline: no client counts");
    } else {
        gp_time_axis(gp, rep, &s);
        rplot_gp_faults(gp, rep);
        fprintf(gp, "set ylabel \"connected clients\"\nset y2label \"reconnects / s\"\nset ytics nomirror\n"
                    "set y2tics\nset yrange [0:%g]\nset y2range [0:%g]\n"
                    "plot \"timeline.dat\" using 1:7 with lines lw 2 lc rgb \"#3182bd\" axes x1y1 title \"connected (left)\"",
                headroom(s.max_connected), headroom(s.max_reconnects));
        if (s.has_reconn)
            fprintf(gp, ", \\\n     \"\" using 1:8 with impulses lw 3 lc rgb \"#de2d26\" axes x1y2 title \"reconnects/s (right)\"");
        fprintf(gp, "\n");
    }
    rplot_gp_end(gp, "clients");

    rplot_gp_begin(gp, "resync", rplot_report_plots[4].title);
    if (resync_bins == 0) {
        rplot_gp_no_data(gp, "no resyncs in this run");
    } else {
        fprintf(gp, "set logscale x\nset xlabel \"resync time (ms, reconnect to caught up)\"\n"
                    "set ylabel \"resyncs\"\nset yrange [0:*]\nset style fill solid 0.6 border lc rgb \"#08519c\"\n"
                    "plot \"resync.dat\" using 1:2:3:4:(0):2 with boxxyerror lc rgb \"#6baed6\" title \"resyncs per bin (10 bins per decade)\"\n");
    }
    rplot_gp_end(gp, "resync");

    /* the server's samples beside the clients' (Server's view) */
    if (rplot_server_write(rep, plots_dir, gp, err, errlen) < 0)
        goto out;
    rc = run_script_file(plots_dir, "plots.gp", gp, err, errlen);
    gp = NULL;
out:
    if (gp)
        fclose(gp);
    series_free(&s);
    return rc;
}

int rplot_compare(const json_t *base, const json_t *newr, const char *plots_dir, char *err, size_t errlen)
{
    series sb, sn;
    if (rdoc_mkdir(plots_dir, err, errlen) != 0 || series_load(base, &sb, err, errlen) != 0)
        return -1;
    if (series_load(newr, &sn, err, errlen) != 0) {
        series_free(&sb);
        return -1;
    }
    int rc = -1, bpts, npts;
    FILE *gp = NULL;
    if (series_write(&sb, plots_dir, "compare_base.dat", err, errlen) != 0 ||
        series_write(&sn, plots_dir, "compare_new.dat", err, errlen) != 0)
        goto out;
    bpts = spectrum_write(rdoc_latency(base, "live"), plots_dir, "compare_spectrum_base.dat", err, errlen);
    npts = spectrum_write(rdoc_latency(newr, "live"), plots_dir, "compare_spectrum_new.dat", err, errlen);
    if (bpts < 0 || npts < 0 || !(gp = rdoc_fopen(plots_dir, "compare.gp", err, errlen)))
        goto out;
    fprintf(gp, "# compare.gp — written by rtchaos compare; run `gnuplot compare.gp` here.\n");

    rplot_gp_begin(gp, "compare_latency", rplot_compare_plots[0].title);
    if (!sb.has_lat && !sn.has_lat) {
        rplot_gp_no_data(gp, "neither run delivered live events");
    } else {
        double lo = fmin(sb.lat_min_ms, sn.lat_min_ms), hi = fmax(sb.lat_max_ms, sn.lat_max_ms);
        gp_time_axis(gp, sb.n >= sn.n ? base : newr, sb.n >= sn.n ? &sb : &sn);
        gp_lat_axis(gp, lo, hi);
        rplot_gp_faults(gp, newr);
        fprintf(gp, "plot ");
        gp_two_lines(gp, (gp_line){ sb.has_lat, "compare_base.dat", 3, "#969696", "base p95" },
                     (gp_line){ sn.has_lat, "compare_new.dat", 3, "#e6550d", "new p95" });
    }
    rplot_gp_end(gp, "compare_latency");

    rplot_gp_begin(gp, "compare_spectrum", rplot_compare_plots[1].title);
    if (bpts == 0 && npts == 0) {
        rplot_gp_no_data(gp, "neither run delivered live events");
    } else {
        gp_spectrum_axes(gp);
        fprintf(gp, "plot ");
        gp_two_lines(gp, (gp_line){ bpts > 0, "compare_spectrum_base.dat", 3, "#969696", "base" },
                     (gp_line){ npts > 0, "compare_spectrum_new.dat", 3, "#e6550d", "new" });
    }
    rplot_gp_end(gp, "compare_spectrum");

    rplot_gp_begin(gp, "compare_throughput", rplot_compare_plots[2].title);
    if (!sb.has_tput && !sn.has_tput) {
        rplot_gp_no_data(gp, "neither run has a timeline");
    } else {
        gp_time_axis(gp, sb.n >= sn.n ? base : newr, sb.n >= sn.n ? &sb : &sn);
        fprintf(gp, "set ylabel \"delivered / s\"\nset yrange [0:%g]\nplot ",
                headroom(fmax(sb.max_delivered, sn.max_delivered)));
        gp_two_lines(gp, (gp_line){ sb.has_tput, "compare_base.dat", 6, "#969696", "base" },
                     (gp_line){ sn.has_tput, "compare_new.dat", 6, "#31a354", "new" });
    }
    rplot_gp_end(gp, "compare_throughput");

    rc = run_script_file(plots_dir, "compare.gp", gp, err, errlen);
    gp = NULL;
out:
    if (gp)
        fclose(gp);
    series_free(&sb);
    series_free(&sn);
    return rc;
}

/* First line of the log that gnuplot wrote, for the error message. */
static void log_excerpt(const char *dir, char *buf, size_t len)
{
    char path[4096], e[64];
    size_t n;
    rdoc_path(path, sizeof path, dir, "gnuplot.log");
    buf[0] = 0;
    char *text = rdoc_read_file(path, &n, e, sizeof e);
    if (!text)
        return;
    /* gnuplot prints the offending line, a caret line, then the message:
     * keep the last non-empty line, which names the problem. */
    char *last = NULL, *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strspn(line, " \t^") != strlen(line))
            last = line;
    if (last)
        snprintf(buf, len, "%s", last);
    free(text);
}

int rplot_run_gnuplot(const char *dir, const char *script, char *err, size_t errlen)
{
    const char *prog = getenv("RTCHAOS_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/gnuplot.log", dir);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", log_path, strerror(errno));
        return -1;
    }
    char *argv[] = {(char *)prog, (char *)script, NULL};
    crun_spec sp = {.search_path = 1, .dir = dir, .out_fd = logfd, .err_fd = logfd};
    crun_result res;
    char e[512];
    int rc = crun_run(argv, &sp, NULL, REPORTS_GNUPLOT_DEADLINE_MS, &res, e, sizeof e);
    close(logfd);
    if (rc < 0) {
        snprintf(err, errlen, "%s (install gnuplot-nox)", e);
        return -1;
    }
    crun_result_free(&res); /* nothing captured: the log has it */
    if (res.timed_out) {
        snprintf(err, errlen, "gnuplot %s/%s did not finish within %d ms", dir, script, REPORTS_GNUPLOT_DEADLINE_MS);
        return -1;
    }
    int status = res.status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[512];
        log_excerpt(dir, why, sizeof why);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            snprintf(why, sizeof why, "%s not found (install gnuplot-nox)", prog);
        snprintf(err, errlen, "gnuplot %s/%s failed (%s %d): %s", dir, script,
                 WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 why);
        return -1;
    }
    return 0;
}
