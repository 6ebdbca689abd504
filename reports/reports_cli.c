/* reports_cli.c — the `rtchaos report | compare | merge | scorecard` command lines,
 * ready for bin/rtchaos's dispatcher to call. */
#include "reports.h"

#include <string.h>

int reports_cli_report(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: rtchaos report RUN_DIR...   (re-render report.md, report.html and plots "
                        "from RUN_DIR/report.json)\n");
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        char err[1024];
        if (reports_render(argv[i], err, sizeof err) != 0 ||
            reports_print_summary(argv[i], stdout, err, sizeof err) != 0) {
            fprintf(stderr, "rtchaos report %s: %s\n", argv[i], err);
            rc = 2;
        }
    }
    return rc;
}

int reports_cli_compare(int argc, char **argv)
{
    reports_compare_opts opts;
    const char *base, *newj, *out_dir;
    char err[1024];
    if (reports_compare_parse_args(argc, argv, &opts, &base, &newj, &out_dir, err, sizeof err) != 0) {
        fprintf(stderr, "rtchaos compare: %s\n", err);
        return 2;
    }
    int rc = reports_compare(base, newj, &opts, stdout, out_dir, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "rtchaos compare: %s\n", err);
        return 2;
    }
    if (out_dir)
        printf("compare report: %s/compare.html\n", out_dir);
    return rc;
}

int reports_cli_merge(int argc, char **argv)
{
    if (argc < 2 || argv[0][0] == '-') {
        fprintf(stderr, "usage: rtchaos merge OUT_DIR SHARD_DIR...   (exact merge of shard reports)\n");
        return 2;
    }
    char err[1024];
    int rc = reports_merge(argv[0], (const char *const *)argv + 1, argc - 1, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "rtchaos merge: %s\n", err);
        return 2;
    }
    if (reports_print_summary(argv[0], stdout, err, sizeof err) != 0)
        fprintf(stderr, "rtchaos merge: %s\n", err);
    return rc;
}

int reports_cli_scorecard(int argc, char **argv)
{
    if (argc < 2 || argv[0][0] == '-') {
        fprintf(stderr, "usage: rtchaos scorecard OUT_DIR SUITE_RUN_DIR...   (runs of one suite against "
                        "different targets, side by side)\n");
        return 2;
    }
    char err[1024];
    if (reports_scorecard(argv[0], (const char *const *)argv + 1, argc - 1, err, sizeof err) != 0) {
        fprintf(stderr, "rtchaos scorecard: %s\n", err);
        return 2;
    }
    printf("scorecard: %s/scorecard.html (also scorecard.md, scorecard.json)\n", argv[0]);
    return 0;
}
