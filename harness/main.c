/* main.c — the rtchaos CLI: run, validate, report, compare, merge, scorecard, list. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "datadir.h"
#include "netfault.h"
#include "netns.h"
#include "orch.h"
#include "proto.h"
#include "reports.h"
#include "scenario.h"
#include "startat.h"
#include "suite.h"
#include "version.h"

static void self_exe(char *buf, size_t cap);
static void self_dir(char *buf, size_t cap);

static void usage(FILE *f)
{
    fputs("usage:\n"
          "  rtchaos run SCENARIO.yaml [--target URL [--protocol P] [--ca FILE]] [--out DIR] [--seed N] [--set path=value]...\n"
          "              [--shard i/N] [--start-at TIME] [--workers N] [--quiet|--json]\n"
          "              [--metrics-addr HOST:PORT [--metrics-linger DURATION]] [--push-url URL]\n"
          "      run a scenario; writes DIR/report.json, junit.xml, report.md, report.html, events.jsonl;\n"
          "      --metrics-addr serves live Prometheus metrics at http://HOST:PORT/metrics during the run;\n"
          "      --push-url pushes the final figures to a Prometheus Pushgateway (http://HOST:PORT)\n"
          "      --start-at TIME (RFC 3339 with offset, or Unix seconds; at most 1 h ahead) starts the clients at\n"
          "      that wall-clock instant, so shards on several machines share one timeline (docs/fleet.md)\n"
          "      --target https://HOST:PORT (or wss://) speaks TLS; --ca FILE is the CA its certificate must\n"
          "      chain to (= --set target.ca=FILE; default: the system store)\n"
          "  rtchaos run SUITE.yaml [--out DIR] [--target URL [--protocol P] [--ca FILE]] [--set path=value]... [--short]\n"
          "              [--only S] [--jobs N] [--quiet]\n"
          "      run every scenario of a suite (docs/suites.md); one index, one exit code; with --protocol P an\n"
          "      entry P cannot run is listed as not applicable to this protocol, with the reason; --jobs N runs up\n"
          "      to N entries at once, only those with no drill, latency or rate budget (the others run alone)\n"
          "  rtchaos validate [--target URL] [--protocol P] [--set path=value]... SCENARIO.yaml|SUITE.yaml...\n"
          "      check scenarios (structure and meaning); every error as file:line:col\n"
          "  rtchaos report RUN_DIR...\n"
          "      re-render report.md, report.html and plots from RUN_DIR/report.json\n"
          "  rtchaos compare BASE.json NEW.json [--max-regress M=L]... [--max M=V]... [--min M=V]...\n"
          "                  [--no-defaults] [--out DIR]\n"
          "      regression gate: exit 1 when NEW is worse than BASE beyond the margins\n"
          "  rtchaos merge OUT_DIR SHARD_DIR...\n"
          "      exact merge of shard reports\n"
          "  rtchaos scorecard OUT_DIR SUITE_RUN_DIR...\n"
          "      runs of one suite against different targets/protocols side by side: scorecard.md/html/json\n"
          "  rtchaos list [scenarios|keys|protocols|dirs]\n"
          "      the shipped scenarios and suites by name, the --set paths, the --protocol adapters,\n"
          "      or where names are looked for\n"
          "  rtchaos --version | --help\n"
          "SCENARIO and SUITE are a file or a shipped name (smoke, rfp/fanout, suites/rfp);\n"
          "names are looked up in $RTCHAOS_DATADIR/scenarios, then EXE/../share/rtchaos/scenarios,\n"
          "then EXE/../scenarios (EXE: the folder of rtchaos)\n"
          "exit codes: 0 pass, 1 a verdict failed (or a regression), 2 invalid scenario or command line,\n"
          "            3 the run itself broke\n",
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

static void print_diag(const scn_diag *d)
{
    for (size_t k = 0; k < d->n; k++)
        fprintf(stderr, "%s\n", d->msgs[k]);
}

/* Takes an option's value: "--opt VALUE" or "--opt=VALUE". */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t l = strlen(name);
    if (!strncmp(argv[*i], name, l) && argv[*i][l] == '=')
        return argv[*i] + l + 1;
    if (!strcmp(argv[*i], name)) {
        if (*i + 1 >= argc)
            return NULL;
        return argv[++*i];
    }
    return NULL;
}

static int is_opt(const char *a, const char *name)
{
    size_t l = strlen(name);
    return !strncmp(a, name, l) && (a[l] == '\0' || a[l] == '=');
}

/* --protocol P: a known adapter becomes the override target.protocol=P
 * (in buf, which must outlive the sets). Returns 0, or -1 after saying why. */
static int protocol_set(const char *v, char *buf, size_t cap, const char *cmd)
{
    if (!v) {
        fprintf(stderr, "rtchaos %s: --protocol needs a value (one of %s)\n", cmd, proto_names());
        return -1;
    }
    if (!proto_find(v)) {
        fprintf(stderr, "rtchaos %s: --protocol %s: unknown protocol (known: %s)\n", cmd, v, proto_names());
        return -1;
    }
    snprintf(buf, cap, "target.protocol=%s", v);
    return 0;
}

static int cmd_validate(int argc, char **argv)
{
    char proto_set[96];
    sets st = {0};
    int has_target = 0, nfiles = 0, bad = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files)
        return ORCH_EXIT_BROKEN;
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
        else if (is_opt(a, "--protocol")) {
            const char *v = opt_value(argc, argv, &i, "--protocol");
            if (protocol_set(v, proto_set, sizeof proto_set, "validate") < 0) {
                free(files);
                free(st.v);
                return ORCH_EXIT_USAGE;
            }
            sets_add(&st, proto_set);
        }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            free(st.v);
            return ORCH_EXIT_PASS;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "rtchaos validate: unknown option '%s'\n", a);
            usage(stderr);
            free(files);
            free(st.v);
            return ORCH_EXIT_USAGE;
        } else
            files[nfiles++] = a;
    }
    if (nfiles == 0) {
        fprintf(stderr, "rtchaos validate: expected at least one scenario file\n");
        usage(stderr);
        free(files);
        free(st.v);
        return ORCH_EXIT_USAGE;
    }
    scn_load_opts o = {.sets = st.v, .nsets = st.n, .has_target = has_target};
    char exe[PATH_MAX];
    self_exe(exe, sizeof exe);
    char exedir[PATH_MAX];
    self_dir(exedir, sizeof exedir);
    for (int i = 0; i < nfiles; i++) {
        char path[PATH_MAX], ferr[4096];
        if (datadir_find(files[i], exedir, path, sizeof path, ferr, sizeof ferr) < 0) {
            fprintf(stderr, "rtchaos validate: %s\n", ferr);
            bad++;
            continue;
        }
        files[i] = path;
        if (suite_is_suite_file(files[i])) {
            if (suite_validate(files[i], exe, stderr) != 0)
                bad++;
            else
                printf("%s: ok: suite\n", files[i]);
            continue;
        }
        scenario s;
        scn_diag d;
        scn_diag_init(&d);
        char perr[512];
        if (scenario_load(files[i], &o, &s, &d) < 0) {
            print_diag(&d);
            bad++;
        } else if (s.network.namespaces && netns_privileged(perr, sizeof perr) < 0) {
            /* Refused here, not at run time: a scenario whose faults cannot
             * be applied must never run without them. */
            fprintf(stderr, "%s: %s\n", files[i], perr);
            scenario_free(&s);
            bad++;
        } else {
            char dur[32];
            printf("%s: ok: %s, %s, %llu clients in %zu group%s, %zu fault%s, %zu budget%s\n", files[i], s.name,
                   scenario_format_duration(s.duration_us, dur, sizeof dur),
                   (unsigned long long)scenario_total_clients(&s), s.nclients, s.nclients == 1 ? "" : "s",
                   s.nfaults, s.nfaults == 1 ? "" : "s", s.nbudgets, s.nbudgets == 1 ? "" : "s");
            scenario_free(&s);
        }
        scn_diag_free(&d);
    }
    free(files);
    free(st.v);
    return bad ? ORCH_EXIT_USAGE : ORCH_EXIT_PASS;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* This executable's path (suites run it once per entry). */
static void self_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0)
        snprintf(buf, cap, "rtchaos");
    else
        buf[n] = '\0';
}

/* The folder of this executable: rtchaos-server and rtchaos-proxy live beside it. */
static void self_dir(char *buf, size_t cap)
{
    self_exe(buf, cap);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(buf, cap, ".");
}

/* The index of the first argument that is not an option or an option's
 * value, or -1. */
static int first_file(int argc, char **argv)
{
    static const char *const with_value[] = {"--set",   "--target", "--protocol",     "--out",
                                             "--seed",  "--workers", "--shard", "--start-at", "--only", "--jobs", "--metrics-addr",
                                             "--metrics-linger", "--push-url", "--ca"};
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] != '-')
            return i;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            if (!strcmp(argv[i], with_value[k]))
                i++;
    }
    return -1;
}

static int cmd_run(int argc, char **argv, const char *command)
{
    /* a shipped name ("smoke", "suites/rfp") becomes its file, in place, so
     * the suite runner and the scenario loader below see a path */
    int fi = first_file(argc, argv);
    char resolved[PATH_MAX];
    if (fi >= 0) {
        char exedir[PATH_MAX], ferr[4096];
        self_dir(exedir, sizeof exedir);
        if (datadir_find(argv[fi], exedir, resolved, sizeof resolved, ferr, sizeof ferr) < 0) {
            fprintf(stderr, "rtchaos run: %s\n", ferr);
            return ORCH_EXIT_USAGE;
        }
        argv[fi] = resolved;
    }
    const char *first = fi >= 0 ? argv[fi] : NULL;
    if (first && suite_is_suite_file(first)) {
        char exe[PATH_MAX];
        self_exe(exe, sizeof exe);
        return suite_cli_run(argc, argv, exe);
    }
    char proto_set[96], ca_set[PATH_MAX + 16];
    sets st = {0};
    orch_opts o = {0};
    const char *file = NULL;
    char bindir[PATH_MAX];
    self_dir(bindir, sizeof bindir);
    o.bin_dir = getenv("RTCHAOS_BIN") && *getenv("RTCHAOS_BIN") ? getenv("RTCHAOS_BIN") : bindir;
    o.command = command;
    int rc = ORCH_EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        unsigned long long n;
        if (is_opt(a, "--set")) {
            if (!(v = opt_value(argc, argv, &i, "--set")))
                goto missing;
            sets_add(&st, v);
        } else if (is_opt(a, "--target")) {
            if (!(v = opt_value(argc, argv, &i, "--target")))
                goto missing;
            o.target = v;
        } else if (is_opt(a, "--protocol")) {
            if (protocol_set(opt_value(argc, argv, &i, "--protocol"), proto_set, sizeof proto_set, "run") < 0)
                goto out;
            sets_add(&st, proto_set);
        } else if (is_opt(a, "--ca")) {
            if (!(v = opt_value(argc, argv, &i, "--ca")))
                goto missing;
            if (strlen(v) >= PATH_MAX) {
                fprintf(stderr, "rtchaos run: --ca %s: path too long\n", v);
                goto out;
            }
            snprintf(ca_set, sizeof ca_set, "target.ca=%s", v);
            sets_add(&st, ca_set);
        } else if (is_opt(a, "--out")) {
            if (!(v = opt_value(argc, argv, &i, "--out")))
                goto missing;
            o.out_dir = v;
        } else if (is_opt(a, "--seed")) {
            if (!(v = opt_value(argc, argv, &i, "--seed")))
                goto missing;
            if (parse_uint(v, UINT64_MAX, &n) < 0) {
                fprintf(stderr, "rtchaos run: --seed %s: expected a non-negative integer\n", v);
                goto out;
            }
            o.has_seed = 1;
            o.seed = n;
        } else if (is_opt(a, "--workers")) {
            if (!(v = opt_value(argc, argv, &i, "--workers")))
                goto missing;
            if (parse_uint(v, 64, &n) < 0 || n == 0) {
                fprintf(stderr, "rtchaos run: --workers %s: expected an integer from 1 to 64\n", v);
                goto out;
            }
            o.workers = (unsigned)n;
        } else if (is_opt(a, "--metrics-addr")) {
            if (!(v = opt_value(argc, argv, &i, "--metrics-addr")))
                goto missing;
            char host[256], err[256];
            uint16_t port;
            if (scenario_parse_hostport(v, host, sizeof host, &port, err, sizeof err) < 0) {
                fprintf(stderr, "rtchaos run: --metrics-addr: %s\n", err);
                goto out;
            }
            o.metrics_addr = v;
        } else if (is_opt(a, "--push-url")) {
            if (!(v = opt_value(argc, argv, &i, "--push-url")))
                goto missing;
            char host[256], path[256], err[256];
            uint16_t port;
            if (scenario_parse_url(v, host, sizeof host, &port, path, sizeof path, err, sizeof err) < 0) {
                fprintf(stderr, "rtchaos run: --push-url: %s\n", err);
                goto out;
            }
            o.push_url = v;
        } else if (is_opt(a, "--metrics-linger")) {
            if (!(v = opt_value(argc, argv, &i, "--metrics-linger")))
                goto missing;
            char err[256];
            if (scenario_parse_duration(v, &o.metrics_linger_us, err, sizeof err) < 0 ||
                o.metrics_linger_us > 600000000ULL) {
                fprintf(stderr, "rtchaos run: --metrics-linger %s: expected a duration up to 10m (e.g. 5s)\n", v);
                goto out;
            }
            o.has_metrics_linger = 1;
        } else if (is_opt(a, "--shard")) {
            if (!(v = opt_value(argc, argv, &i, "--shard")))
                goto missing;
            unsigned idx, cnt;
            char tail;
            if (sscanf(v, "%u/%u%c", &idx, &cnt, &tail) != 2 || cnt == 0 || cnt > 10000 || idx >= cnt) {
                fprintf(stderr, "rtchaos run: --shard %s: expected i/N with 0 <= i < N (e.g. 0/4)\n", v);
                goto out;
            }
            o.shard_index = idx;
            o.shard_count = cnt;
        } else if (is_opt(a, "--start-at")) {
            if (!(v = opt_value(argc, argv, &i, "--start-at")))
                goto missing;
            char err[512];
            if (startat_parse(v, &o.start_at_us, err, sizeof err) < 0 ||
                startat_check(o.start_at_us, clock_wall_us(), STARTAT_MAX_AHEAD_US, err, sizeof err) < 0) {
                fprintf(stderr, "rtchaos run: %s\n", err);
                goto out;
            }
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            if (o.output == ORCH_OUT_JSON) {
                fprintf(stderr, "rtchaos run: --quiet and --json exclude each other\n");
                goto out;
            }
            o.output = ORCH_OUT_QUIET;
        } else if (!strcmp(a, "--json")) {
            if (o.output == ORCH_OUT_QUIET) {
                fprintf(stderr, "rtchaos run: --quiet and --json exclude each other\n");
                goto out;
            }
            o.output = ORCH_OUT_JSON;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = ORCH_EXIT_PASS;
            goto out;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "rtchaos run: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        } else if (file) {
            fprintf(stderr, "rtchaos run: one scenario at a time (got '%s' and '%s')\n", file, a);
            goto out;
        } else
            file = a;
        continue;
    missing:
        fprintf(stderr, "rtchaos run: %s needs a value\n", a);
        goto out;
    }
    if (!file) {
        fprintf(stderr, "rtchaos run: expected a scenario file\n");
        usage(stderr);
        goto out;
    }
    if (o.target) {
        char host[256], prefix[256], err[512];
        uint16_t port;
        if (orch_parse_target(o.target, host, sizeof host, &port, prefix, sizeof prefix, err, sizeof err) < 0) {
            fprintf(stderr, "rtchaos run: %s\n", err);
            goto out;
        }
    }
    scn_load_opts lo = {.sets = st.v, .nsets = st.n, .has_target = o.target != NULL};
    scenario s;
    scn_diag d;
    scn_diag_init(&d);
    if (scenario_load(file, &lo, &s, &d) < 0) {
        print_diag(&d);
        scn_diag_free(&d);
        goto out;
    }
    scn_diag_free(&d);
    /* TLS settings without a TLS target, or a CA file that cannot be read,
     * are mistakes in the command (exit 2), not a broken run */
    if ((s.target.ca || s.target.insecure) && !(o.target && orch_target_tls(o.target))) {
        fprintf(stderr, "rtchaos run: %s only applies to an https:// or wss:// --target\n",
                s.target.ca ? "--ca / target.ca" : "target.insecure");
        scenario_free(&s);
        goto out;
    }
    if (s.target.ca && access(s.target.ca, R_OK) != 0) {
        fprintf(stderr, "rtchaos run: --ca / target.ca %s: %s\n", s.target.ca, strerror(errno));
        scenario_free(&s);
        goto out;
    }
    netns_support sup;
    if (s.network.namespaces) {
        /* Refused before anything starts (exit 2): no privilege, or a
         * kernel that cannot apply one of the scenario's faults. */
        char perr[512];
        if (netns_privileged(perr, sizeof perr) < 0) {
            fprintf(stderr, "rtchaos run: %s: %s\n", file, perr);
            scenario_free(&s);
            goto out;
        }
        if (netns_probe(&sup, perr, sizeof perr) < 0 || netfault_supported(&s, &sup, perr, sizeof perr) < 0) {
            fprintf(stderr, "rtchaos run: %s: %s\n", file, perr);
            scenario_free(&s);
            goto out;
        }
        o.net_support = &sup;
    }
    rc = orch_run(&s, &o);
    scenario_free(&s);
out:
    free(st.v);
    return rc;
}

/* Prints the shipped scenarios and suites below dir as names (relative
 * path without ".yaml"), sorted, each once even when two folders have it. */
static int list_names_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_walk(names *nm, const char *root, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof sub ||
            snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full)
            continue; /* a path too long to open is no shipped scenario */
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            names_walk(nm, root, sub);
            continue;
        }
        size_t l = strlen(sub);
        if (l < 6 || strcmp(sub + l - 5, ".yaml"))
            continue;
        sub[l - 5] = '\0';
        if (nm->n == nm->cap) {
            size_t nc = nm->cap ? nm->cap * 2 : 64;
            char **nv = realloc(nm->v, nc * sizeof *nv);
            if (!nv)
                break;
            nm->v = nv;
            nm->cap = nc;
        }
        if ((nm->v[nm->n] = strdup(sub)))
            nm->n++;
    }
    closedir(d);
}

static int cmd_list(int argc, char **argv)
{
    const char *what = argc > 0 ? argv[0] : "scenarios";
    if (argc > 1 || (strcmp(what, "scenarios") && strcmp(what, "keys") && strcmp(what, "dirs") &&
                     strcmp(what, "protocols"))) {
        fprintf(stderr, "rtchaos list: expected scenarios, keys, protocols or dirs\n");
        usage(stderr);
        return ORCH_EXIT_USAGE;
    }
    if (!strcmp(what, "keys")) {
        scenario_print_set_keys(stdout);
        return ORCH_EXIT_PASS;
    }
    if (!strcmp(what, "protocols")) {
        for (size_t k = 0; k < proto_count; k++)
            printf("%s\n", proto_name_list[k]);
        return ORCH_EXIT_PASS;
    }
    char exedir[PATH_MAX], dirs[3][4096];
    self_dir(exedir, sizeof exedir);
    size_t nd = datadir_scenario_dirs(exedir, dirs, 3);
    if (!strcmp(what, "dirs")) {
        for (size_t k = 0; k < nd; k++)
            printf("%s\n", dirs[k]);
        return ORCH_EXIT_PASS;
    }
    names nm = {0};
    for (size_t k = 0; k < nd; k++)
        names_walk(&nm, dirs[k], "");
    if (nm.n)
        qsort(nm.v, nm.n, sizeof *nm.v, list_names_cmp);
    for (size_t i = 0; i < nm.n; i++) {
        if (!i || strcmp(nm.v[i], nm.v[i - 1]))
            printf("%s\n", nm.v[i]);
    }
    for (size_t i = 0; i < nm.n; i++)
        free(nm.v[i]);
    free(nm.v);
    return ORCH_EXIT_PASS;
}

/* A --set of a secret (target.secret=VALUE, Pusher's signing secret) as
 * the report shows it: the value hidden, a ${VAR} kept. */
#define SECRET_SET "target.secret="
#define SECRET_SHOWN SECRET_SET "(hidden)"
static const char *shown_arg(const char *a)
{
    if (!strncmp(a, SECRET_SET, strlen(SECRET_SET)) && a[strlen(SECRET_SET)] != '$')
        return SECRET_SHOWN;
    return a;
}

/* The command line as one string, for the report (secrets hidden). */
static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + sizeof SECRET_SHOWN + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, shown_arg(argv[i]));
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ORCH_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) {
        char *line = join_args(argc, argv);
        int rc = cmd_run(argc - 2, argv + 2, line);
        free(line);
        return rc;
    }
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "report"))
        return reports_cli_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "compare"))
        return reports_cli_compare(argc - 2, argv + 2);
    if (!strcmp(cmd, "merge"))
        return reports_cli_merge(argc - 2, argv + 2);
    if (!strcmp(cmd, "scorecard"))
        return reports_cli_scorecard(argc - 2, argv + 2);
    if (!strcmp(cmd, "list"))
        return cmd_list(argc - 2, argv + 2);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        version_print(stdout, "rtchaos");
        return ORCH_EXIT_PASS;
    }
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return ORCH_EXIT_PASS;
    }
    fprintf(stderr, "rtchaos: unknown command '%s'\n", cmd);
    usage(stderr);
    return ORCH_EXIT_USAGE;
}
