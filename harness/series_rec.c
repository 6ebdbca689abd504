/* series_rec.c — records the run's Prometheus pages as time series and
 * writes them as promtool test input (see series_rec.h). The text format is
 * parsed here by hand: only sample lines are needed (name, label set kept
 * verbatim, value), which no packaged C library parses for us. */
#include "series_rec.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "httpc.h"

/* At 1 s steps: 10 hours. Later samples are not kept (the file would be
 * hundreds of MB and no drill is that long). */
#define SREC_MAX_STEPS 36000
#define SREC_BUCKETS 1024

typedef struct series {
    struct series *next;
    char *key;            /* name{job="…",instance="…",labels…} */
    double *v;
    unsigned char *has;
    long n, cap;          /* steps 0..n-1 */
} series;

typedef struct src {
    char job[64], host[256], path[256], instance[300];
    uint16_t port;
} src;

struct srec {
    series *tab[SREC_BUCKETS];
    series **order;       /* first-seen order, for a stable file */
    size_t nseries, cap_order;
    long steps;           /* max step + 1 */
    src *srcs;
    size_t nsrcs;
    uint64_t t0_us;
    unsigned interval_ms;
    uint64_t errors;
    int oom;
    pthread_t th;
    int thread_on;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
};

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static series *series_get(srec *s, const char *key)
{
    uint32_t b = fnv(key) % SREC_BUCKETS;
    for (series *p = s->tab[b]; p; p = p->next)
        if (!strcmp(p->key, key))
            return p;
    series *p = calloc(1, sizeof *p);
    if (!p || !(p->key = strdup(key))) {
        free(p);
        return NULL;
    }
    if (s->nseries == s->cap_order) {
        size_t nc = s->cap_order ? s->cap_order * 2 : 256;
        series **no = realloc(s->order, nc * sizeof *no);
        if (!no) {
            free(p->key);
            free(p);
            return NULL;
        }
        s->order = no;
        s->cap_order = nc;
    }
    s->order[s->nseries++] = p;
    p->next = s->tab[b];
    s->tab[b] = p;
    return p;
}

static int series_put(series *p, long k, double v)
{
    if (k >= p->cap) {
        long nc = p->cap ? p->cap : 64;
        while (nc <= k)
            nc *= 2;
        double *nv = realloc(p->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        unsigned char *nh = realloc(p->has, (size_t)nc);
        if (!nh)
            return -1;
        memset(nh + p->cap, 0, (size_t)(nc - p->cap));
        p->has = nh;
        p->cap = nc;
    }
    p->v[k] = v; /* two scrapes rounded to one step: the later one wins */
    p->has[k] = 1;
    if (k + 1 > p->n)
        p->n = k + 1;
    return 0;
}

int srec_add_page(srec *s, const char *job, const char *instance, long k, const char *text)
{
    if (k < 0 || k >= SREC_MAX_STEPS)
        return 0;
    int taken = 0;
    char key[2048];
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *end = line + len;
        if (len && line[0] != '#') {
            const char *p = line;
            while (p < end && *p != '{' && *p != ' ')
                p++;
            size_t nlen = (size_t)(p - line);
            const char *lab = NULL;
            size_t llen = 0;
            if (p < end && *p == '{') {
                /* the label set, '}' inside a quoted value included */
                const char *q = p + 1;
                int inq = 0;
                for (; q < end && (inq || *q != '}'); q++) {
                    if (inq && *q == '\\' && q + 1 < end)
                        q++;
                    else if (*q == '"')
                        inq = !inq;
                }
                lab = p + 1;
                llen = (size_t)(q - lab);
                p = q < end ? q + 1 : end;
            }
            while (p < end && *p == ' ')
                p++;
            char num[64];
            size_t vl = 0;
            while (p < end && *p != ' ' && vl + 1 < sizeof num)
                num[vl++] = *p++;
            num[vl] = '\0';
            char *e;
            double v = strtod(num, &e);
            if (nlen && vl && *e == '\0') {
                int kl = snprintf(key, sizeof key, "%.*s{job=\"%s\",instance=\"%s\"%s%.*s}", (int)nlen, line, job,
                                  instance, llen ? "," : "", (int)llen, lab ? lab : "");
                if (kl > 0 && (size_t)kl < sizeof key) {
                    series *ser = series_get(s, key);
                    if (!ser || series_put(ser, k, v) < 0) {
                        s->oom = 1;
                        return -1;
                    }
                    if (k + 1 > s->steps)
                        s->steps = k + 1;
                    taken++;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return taken;
}

srec *srec_new_for_test(unsigned interval_ms)
{
    srec *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->interval_ms = interval_ms ? interval_ms : 1000;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    return s;
}

static void take_samples(srec *s)
{
    for (size_t i = 0; i < s->nsrcs; i++) {
        src *c = &s->srcs[i];
        uint64_t at = clock_mono_us();
        long k = (long)llround(((double)at - (double)s->t0_us) / (s->interval_ms * 1000.0));
        int status = 0;
        char *body = NULL, err[256];
        if (httpc_request(c->host, c->port, "GET", c->path, NULL, s->interval_ms, &status, &body, err, sizeof err) ==
                0 &&
            status == 200 && body) {
            pthread_mutex_lock(&s->mu);
            srec_add_page(s, c->job, c->instance, k, body);
            pthread_mutex_unlock(&s->mu);
        } else {
            pthread_mutex_lock(&s->mu);
            s->errors++;
            pthread_mutex_unlock(&s->mu);
        }
        free(body);
    }
}

static void *rec_main(void *arg)
{
    srec *s = arg;
    uint64_t next = clock_mono_us();
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        take_samples(s);
        /* steps stay on the t0 grid: the next one is due a whole interval
         * after the last, not after the scrape's own duration */
        next += (uint64_t)s->interval_ms * 1000u;
        uint64_t now = clock_mono_us();
        if (next < now)
            next = now;
        pthread_mutex_lock(&s->mu);
        while (!s->stop && clock_mono_us() < next)
            clock_cond_wait_us(&s->cond, &s->mu, next - clock_mono_us());
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

srec *srec_start(const srec_source *sources, size_t n, uint64_t t0_mono_us, unsigned interval_ms, char *err,
                 size_t errlen)
{
    srec *s = srec_new_for_test(interval_ms);
    if (!s || !(s->srcs = calloc(n ? n : 1, sizeof *s->srcs))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        src *c = &s->srcs[i];
        snprintf(c->job, sizeof c->job, "%s", sources[i].job);
        snprintf(c->host, sizeof c->host, "%s", sources[i].host);
        snprintf(c->path, sizeof c->path, "%s", sources[i].path && *sources[i].path ? sources[i].path : "/metrics");
        c->port = sources[i].port;
        snprintf(c->instance, sizeof c->instance, strchr(c->host, ':') ? "[%s]:%u" : "%s:%u", c->host,
                 (unsigned)c->port);
    }
    s->nsrcs = n;
    s->t0_us = t0_mono_us;
    if (pthread_create(&s->th, NULL, rec_main, s) != 0) {
        snprintf(err, errlen, "cannot start the series-recording thread");
        free(s->srcs);
        free(s);
        return NULL;
    }
    s->thread_on = 1;
    return s;
}

/* The key as a YAML single-quoted scalar's body: ' doubled. */
static void put_quoted(FILE *f, const char *k)
{
    for (; *k; k++) {
        if (*k == '\'')
            fputc('\'', f);
        fputc(*k, f);
    }
}

static void put_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", f);
    else
        fprintf(f, "%.15g", v);
}

long srec_finish(srec *s, const char *path, const char *comment, char *err, size_t errlen)
{
    if (!s)
        return 0;
    if (s->thread_on) {
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        take_samples(s); /* the figures at the end of the drain */
    }
    long written = 0;
    if (s->oom) {
        snprintf(err, errlen, "out of memory while recording series");
        written = -1;
    } else if (path) {
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, errlen, "cannot write %s", path);
            written = -1;
        } else {
            fprintf(f, "# Series recorded by rtchaos run every %u ms (%s); step k is t = k * interval after the\n"
                       "# start of the run (warm-up included). `_` = no sample at that step (%llu scrapes got no answer).\n"
                       "# The body of one test group of a `promtool test rules` file (docs/observability.md).\n",
                    s->interval_ms, comment ? comment : "", (unsigned long long)s->errors);
            if (s->interval_ms % 1000 == 0)
                fprintf(f, "interval: %us\n", s->interval_ms / 1000);
            else
                fprintf(f, "interval: %ums\n", s->interval_ms);
            fputs("input_series:\n", f);
            for (size_t i = 0; i < s->nseries; i++) {
                series *p = s->order[i];
                fputs("  - series: '", f);
                put_quoted(f, p->key);
                fputs("'\n    values: '", f);
                for (long k = 0; k < p->n; k++) {
                    if (k)
                        fputc(' ', f);
                    if (p->has[k])
                        put_value(f, p->v[k]);
                    else
                        fputc('_', f);
                }
                fputs("'\n", f);
                written++;
            }
            if (fclose(f) != 0) {
                snprintf(err, errlen, "cannot write %s", path);
                written = -1;
            }
        }
    }
    for (size_t i = 0; i < s->nseries; i++) {
        free(s->order[i]->key);
        free(s->order[i]->v);
        free(s->order[i]->has);
        free(s->order[i]);
    }
    free(s->order);
    free(s->srcs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
    return written;
}
