/* datadir.c — finding shipped scenarios by name (see datadir.h). */
#include "datadir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

size_t datadir_scenario_dirs(const char *exe_dir, char dirs[][4096], size_t cap)
{
    size_t n = 0;
    char cand[3][4096];
    size_t nc = 0;
    const char *env = getenv("RTCHAOS_DATADIR");
    if (env && *env)
        snprintf(cand[nc++], sizeof cand[0], "%s/scenarios", env);
    snprintf(cand[nc++], sizeof cand[0], "%s/../share/rtchaos/scenarios", exe_dir);
    snprintf(cand[nc++], sizeof cand[0], "%s/../scenarios", exe_dir);
    for (size_t k = 0; k < nc && n < cap; k++) {
        if (!is_dir(cand[k]))
            continue;
        /* the tidy path for messages and reports (".." folded away) */
        char *real = realpath(cand[k], NULL);
        snprintf(dirs[n++], 4096, "%s", real ? real : cand[k]);
        free(real);
    }
    return n;
}

static int has_ext(const char *s)
{
    size_t l = strlen(s);
    return (l > 5 && !strcmp(s + l - 5, ".yaml")) || (l > 4 && !strcmp(s + l - 4, ".yml"));
}

/* Appends p to the "looked in" list (truncated silently: it is a message). */
static void tried(char *err, size_t errlen, size_t *used, const char *p)
{
    if (*used >= errlen)
        return;
    int w = snprintf(err + *used, errlen - *used, "\n  %s", p);
    if (w > 0)
        *used += (size_t)w;
}

int datadir_find(const char *arg, const char *exe_dir, char *out, size_t outlen, char *err, size_t errlen)
{
    char cand[4096];
    size_t used = 0;
    int w = snprintf(err, errlen, "no scenario or suite '%s'; looked for:", arg);
    used = w > 0 ? (size_t)w : 0;

    /* an absolute path or one from the current folder is only ever that
     * path: the loader says what is wrong with it */
    if (arg[0] == '/' || !strncmp(arg, "./", 2) || !strncmp(arg, "../", 3)) {
        snprintf(out, outlen, "%s", arg);
        return 0;
    }
    const char *forms[2] = {arg, NULL};
    char with_ext[4096];
    if (!has_ext(arg)) {
        snprintf(with_ext, sizeof with_ext, "%s.yaml", arg);
        forms[1] = with_ext;
    }
    for (int f = 0; f < 2 && forms[f]; f++) {
        if (is_file(forms[f])) {
            snprintf(out, outlen, "%s", forms[f]);
            return 0;
        }
        tried(err, errlen, &used, forms[f]);
    }
    char dirs[3][4096];
    size_t nd = datadir_scenario_dirs(exe_dir, dirs, 3);
    for (size_t d = 0; d < nd; d++) {
        for (int f = 0; f < 2 && forms[f]; f++) {
            snprintf(cand, sizeof cand, "%s/%s", dirs[d], forms[f]);
            if (is_file(cand)) {
                snprintf(out, outlen, "%s", cand);
                return 0;
            }
            tried(err, errlen, &used, cand);
        }
    }
    if (nd == 0 && used < errlen)
        snprintf(err + used, errlen - used, "\n  (no shipped scenarios found: set RTCHAOS_DATADIR, or install "
                                            "rtchaos so EXE/../share/rtchaos/scenarios exists)");
    return -1;
}
