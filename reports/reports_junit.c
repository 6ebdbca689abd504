/* reports_junit.c — report.json → junit.xml (one testcase per verdict). */
#include "reports.h"

#include <math.h>

#include "rdoc.h"

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

int reports_write_junit(const char *run_dir, char *err, size_t errlen)
{
    char path[4096];
    rdoc_path(path, sizeof path, run_dir, "report.json");
    json_t *rep = rdoc_load(path, err, errlen);
    if (!rep)
        return -1;
    const json_t *vs = json_object_get(rep, "verdicts");
    int run_pass = json_is_true(json_object_get(rep, "pass"));
    /* A scenario without budgets still gives CI one testcase: the run's own
     * pass/fail, so an empty suite never reads as green by accident. */
    int extra = json_array_size(vs) == 0, extra_fail = extra && !run_pass;
    size_t failures = (size_t)extra_fail, i;
    const json_t *v;
    json_array_foreach(vs, i, v) if (!json_is_true(json_object_get(v, "pass"))) failures++;

    FILE *f = rdoc_fopen(run_dir, "junit.xml", err, errlen);
    if (!f) {
        json_decref(rep);
        return -1;
    }
    const char *scenario = rdoc_str_or(rep, "scenario", "rtchaos");
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"rtchaos.");
    xml_text(f, scenario);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
            json_array_size(vs) + (size_t)extra, failures, rdoc_num_or(rep, "duration_s", 0));
    json_array_foreach(vs, i, v) {
        const char *name = rdoc_str_or(v, "name", "?");
        char value[64], budget[64];
        rdoc_fmt_num(value, sizeof value, rdoc_num_or(v, "value", NAN));
        rdoc_fmt_num(budget, sizeof budget, rdoc_num_or(v, "budget", NAN));
        fprintf(f, "  <testcase classname=\"rtchaos.");
        xml_text(f, scenario);
        fprintf(f, "\" name=\"");
        xml_text(f, name);
        fprintf(f, "\">");
        if (!json_is_true(json_object_get(v, "pass"))) {
            fprintf(f, "<failure message=\"");
            xml_text(f, name);
            fprintf(f, ": measured %s, budget ", value);
            xml_text(f, rdoc_str_or(v, "op", "?"));
            fprintf(f, " %s\"/>", budget);
        }
        fprintf(f, "</testcase>\n");
    }
    if (extra) {
        fprintf(f, "  <testcase classname=\"rtchaos.");
        xml_text(f, scenario);
        fprintf(f, "\" name=\"run\">");
        if (extra_fail)
            fprintf(f, "<failure message=\"the run failed (see report.json)\"/>");
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    json_decref(rep);
    return rdoc_fclose(f, "junit.xml", err, errlen);
}
