/* rplot.h — internal to reports/: writes plot data files and a gnuplot
 * script for a report (or a pair of reports), and runs gnuplot on them. */
#ifndef RTCHAOS_RPLOT_H
#define RTCHAOS_RPLOT_H
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

typedef struct rplot_info {
    const char *name;  /* file stem: plots/<name>.svg and .png */
    const char *title; /* caption */
} rplot_info;

#define RPLOT_REPORT_N 5
#define RPLOT_COMPARE_N 3
extern const rplot_info rplot_report_plots[RPLOT_REPORT_N];
extern const rplot_info rplot_compare_plots[RPLOT_COMPARE_N];

/* Writes plots_dir/{timeline,spectrum_live,spectrum_replay,resync}.dat and
 * plots.gp, then runs gnuplot there, producing every rplot_report_plots
 * entry as .svg and .png. A plot without data is drawn empty with a
 * "no data" label. Returns 0, or -1 with err. */
int rplot_report(const json_t *rep, const char *plots_dir, char *err, size_t errlen);

/* Same for compare: compare_*.dat, compare.gp and the rplot_compare_plots
 * (base vs new overlaid). */
int rplot_compare(const json_t *base, const json_t *newr, const char *plots_dir, char *err, size_t errlen);

/* gnuplot script pieces shared by the report's plot files: start a plot
 * (SVG terminal, output NAME.svg, title), end it (the same again as
 * NAME.png), shade the report's fault windows, draw an empty frame with a
 * message. */
void rplot_gp_begin(FILE *gp, const char *name, const char *title);
void rplot_gp_end(FILE *gp, const char *name);
void rplot_gp_faults(FILE *gp, const json_t *rep);
void rplot_gp_no_data(FILE *gp, const char *what);

/* Runs `gnuplot SCRIPT` with dir as working directory (program from
 * $RTCHAOS_GNUPLOT, default "gnuplot"; output in dir/gnuplot.log), killed
 * after REPORTS_GNUPLOT_DEADLINE_MS. Returns 0 when it exited 0, else -1
 * with err (including the first error line of its log). */
int rplot_run_gnuplot(const char *dir, const char *script, char *err, size_t errlen);

#endif
