/* main.c — the rtchaos CLI: run, validate, report, compare, merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define EXIT_PASS    0
#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define EXIT_BROKEN  3

static void usage(FILE *f)
{
    fputs("usage:\n"
          "  rtchaos validate [--target URL] [--set path=value]... SCENARIO.yaml...\n"
          "      check scenarios (structure and meaning); every error as file:line:col\n"
          "exit codes: 0 pass, 1 a verdict failed, 2 invalid scenario or command line, 3 the run broke\n",
          f);
}

/* Collects --set values (pointers into argv). */
typedef struct sets {
    const char **v;
    size_t n;
} sets;

static int sets_add(sets *s, const char *v)
{
    const char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[s->n++] = v;
    s->v = nv;
    return 0;
}

static int cmd_validate(int argc, char **argv)
{
    sets st = {0};
    int has_target = 0, nfiles = 0, bad = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files)
        return EXIT_BROKEN;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--set") && i + 1 < argc)
            sets_add(&st, argv[++i]);
        else if (!strncmp(a, "--set=", 6))
            sets_add(&st, a + 6);
        else if (!strcmp(a, "--target") && i + 1 < argc) {
            has_target = 1;
            i++;
        } else if (!strncmp(a, "--target=", 9))
            has_target = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            free(st.v);
            return EXIT_PASS;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "rtchaos validate: unknown option '%s'\n", a);
            usage(stderr);
            free(files);
            free(st.v);
            return EXIT_USAGE;
        } else
            files[nfiles++] = a;
    }
    if (nfiles == 0) {
        fprintf(stderr, "rtchaos validate: expected at least one scenario file\n");
        usage(stderr);
        free(files);
        free(st.v);
        return EXIT_USAGE;
    }
    scn_load_opts o = {.sets = st.v, .nsets = st.n, .has_target = has_target};
    for (int i = 0; i < nfiles; i++) {
        scenario s;
        scn_diag d;
        scn_diag_init(&d);
        if (scenario_load(files[i], &o, &s, &d) < 0) {
            for (size_t k = 0; k < d.n; k++)
                fprintf(stderr, "%s\n", d.msgs[k]);
            bad++;
        } else {
            char dur[32];
            printf("%s: ok: %s, %s, %llu clients in %zu group%s, %zu fault%s, %zu budget%s\n", files[i],
                   s.name, scenario_format_duration(s.duration_us, dur, sizeof dur),
                   (unsigned long long)scenario_total_clients(&s), s.nclients, s.nclients == 1 ? "" : "s",
                   s.nfaults, s.nfaults == 1 ? "" : "s", s.nbudgets, s.nbudgets == 1 ? "" : "s");
            scenario_free(&s);
        }
        scn_diag_free(&d);
    }
    free(files);
    free(st.v);
    return bad ? EXIT_USAGE : EXIT_PASS;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_PASS;
    }
    fprintf(stderr, "rtchaos: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
