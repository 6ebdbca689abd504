/* main.c — reports-tool, a test driver for the reports library (the product
 * CLI is bin/rtchaos): render, junit, summary, compare and merge. */
#include <stdio.h>
#include <string.h>

#include "reports.h"

static int usage(void)
{
    fputs("usage: reports-tool render RUN_DIR | junit RUN_DIR | summary RUN_DIR\n"
          "       reports-tool compare BASE.json NEW.json [rules] [--out DIR]\n"
          "       reports-tool merge OUT_DIR SHARD_DIR...\n"
          "exit: 0 ok/pass, 1 regressed/failed, 2 usage or error\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    char err[1024] = "";
    if (argc < 3)
        return usage();
    const char *cmd = argv[1];
    int rc;
    if (strcmp(cmd, "render") == 0 && argc == 3)
        rc = reports_render(argv[2], err, sizeof err);
    else if (strcmp(cmd, "junit") == 0 && argc == 3)
        rc = reports_write_junit(argv[2], err, sizeof err);
    else if (strcmp(cmd, "summary") == 0 && argc == 3)
        rc = reports_print_summary(argv[2], stdout, err, sizeof err);
    else if (strcmp(cmd, "compare") == 0) {
        return reports_cli_compare(argc - 2, argv + 2);
    } else if (strcmp(cmd, "merge") == 0)
        return reports_cli_merge(argc - 2, argv + 2);
    else if (strcmp(cmd, "report") == 0)
        return reports_cli_report(argc - 2, argv + 2);
    else
        return usage();
    if (rc < 0) {
        fprintf(stderr, "reports-tool %s: %s\n", cmd, err);
        return 2;
    }
    return rc;
}
