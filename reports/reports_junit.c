/* reports_junit.c — report.json → junit.xml (one testcase per verdict), the
 * one writer for the harness at the end of a run and for `rtchaos report` /
 * `rtchaos merge`, so a run's junit.xml is the same whoever wrote it. */
#include "reports.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "rdoc.h"
#include "version.h"

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 has no other control characters: show that one was there */
            fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s, f);
        }
    }
}

/* A measured value or budget for a failure message: integers whole, others
 * to 10 significant digits (a value just over its budget must not print as
 * equal to it), "n/a" when absent. */
static void fmt_value(char *buf, size_t len, const json_t *j)
{
    rdoc_fmt_num_digits(buf, len, json_is_number(j) ? json_number_value(j) : NAN, 10);
}

static void open_case(FILE *f, const char *scenario, const char *name)
{
    fputs("  <testcase classname=\"rtchaos.", f);
    xml_text(f, scenario);
    fputs("\" name=\"", f);
    xml_text(f, name);
    fputs("\">", f);
}

int reports_junit_write(const json_t *rep, const char *run_dir, char *err, size_t errlen)
{
    const json_t *vs = json_object_get(rep, "verdicts");
    const char *run_error = rdoc_str_or(rep, "error", NULL);
    size_t nv = json_array_size(vs), failures = 0, i;
    const json_t *v;
    json_array_foreach(vs, i, v) if (!json_is_true(json_object_get(v, "pass"))) failures++;
    /* A scenario without budgets still gives CI one testcase: the run's own
     * pass/fail, so an empty suite never reads as green by accident. */
    int extra = nv == 0 && !run_error;
    int extra_fail = extra && !json_is_true(json_object_get(rep, "pass"));
    failures += (size_t)extra_fail;

    /* written beside and renamed over: a reader never sees half a file */
    FILE *f = rdoc_fopen(run_dir, "junit.xml.tmp", err, errlen);
    if (!f)
        return -1;
    const char *scenario = rdoc_str_or(rep, "scenario", "scenario");
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"rtchaos.", f);
    xml_text(f, scenario);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\">\n",
            nv + (size_t)extra + (run_error ? 1 : 0), failures, run_error ? 1 : 0,
            rdoc_num_or(rep, "duration_s", 0));
    /* which rtchaos ran it (CI servers show testsuite properties) */
    fputs("<properties><property name=\"rtchaos.version\" value=\"", f);
    xml_text(f, rdoc_str_or(rep, "rtchaos_version", rtchaos_version));
    fputs("\"/><property name=\"rtchaos.seed\" value=\"", f);
    fprintf(f, "%lld", (long long)json_integer_value(json_object_get(rep, "seed")));
    fputs("\"/></properties>\n", f);
    if (run_error) { /* the run broke: its figures are not to be trusted */
        open_case(f, scenario, "run");
        fputs("<error message=\"", f);
        xml_text(f, run_error);
        fputs("\"/></testcase>\n", f);
    }
    json_array_foreach(vs, i, v) {
        const char *name = rdoc_str_or(v, "name", "?");
        /* the budget as written ("p95_live_ms <= 50") tells two budgets on
         * one metric apart */
        open_case(f, scenario, rdoc_str_or(v, "text", name));
        if (!json_is_true(json_object_get(v, "pass"))) {
            char value[64], budget[64];
            fmt_value(value, sizeof value, json_object_get(v, "value"));
            fmt_value(budget, sizeof budget, json_object_get(v, "budget"));
            const char *why = rdoc_str_or(v, "error", rdoc_str_or(v, "note", NULL));
            fputs("<failure message=\"", f);
            xml_text(f, name);
            fprintf(f, ": measured %s, budget ", value);
            xml_text(f, rdoc_str_or(v, "op", "?"));
            fprintf(f, " %s", budget);
            if (why) {
                fputs("; ", f);
                xml_text(f, why);
            }
            fputs("\" type=\"budget\"/>", f);
        }
        fputs("</testcase>\n", f);
    }
    if (extra) {
        open_case(f, scenario, "run");
        if (extra_fail)
            fputs("<failure message=\"the run failed (see report.json)\"/>", f);
        fputs("</testcase>\n", f);
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    char tmp[4096], path[4096];
    rdoc_path(tmp, sizeof tmp, run_dir, "junit.xml.tmp");
    rdoc_path(path, sizeof path, run_dir, "junit.xml");
    if (rdoc_fclose(f, "junit.xml", err, errlen) != 0 || rename(tmp, path) != 0) {
        if (!err[0] || errno)
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int reports_write_junit(const char *run_dir, char *err, size_t errlen)
{
    char path[4096];
    rdoc_path(path, sizeof path, run_dir, "report.json");
    json_t *rep = rdoc_load(path, err, errlen);
    if (!rep)
        return -1;
    int rc = reports_junit_write(rep, run_dir, err, errlen);
    json_decref(rep);
    return rc;
}
