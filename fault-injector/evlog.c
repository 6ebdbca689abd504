/* evlog.c — bounded ring + JSON-lines file of the proxy's actions. */
#include "evlog.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVLOG_TIME_THRESHOLD 1000000000000ULL /* since >= this is a µs time */

typedef struct evline {
    uint64_t t_us;
    char *text; /* one JSON object, no newline */
} evline;

struct evlog {
    FILE *f;
    evline *ring;
    size_t cap;
    uint64_t n; /* events logged; event i lives at ring[i % cap] while n - i <= cap */
};

evlog *evlog_new(const char *path, size_t ring_cap, char *err, size_t errlen)
{
    evlog *l = calloc(1, sizeof *l);
    if (!l || !(l->ring = calloc(ring_cap, sizeof *l->ring))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cap = ring_cap;
    if (path) {
        l->f = fopen(path, "a");
        if (!l->f) {
            snprintf(err, errlen, "cannot open events file %s: %m", path);
            free(l->ring);
            free(l);
            return NULL;
        }
    }
    return l;
}

void evlog_free(evlog *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->cap; i++)
        free(l->ring[i].text);
    if (l->f)
        fclose(l->f);
    free(l->ring);
    free(l);
}

void evlog_add(evlog *l, const char *proxy, uint64_t conn, const char *toxic,
               const char *action, json_t *detail)
{
    int64_t t = clock_wall_us();
    json_t *o = json_pack("{s:I,s:I}", "i", (json_int_t)l->n, "t_us", (json_int_t)t);
    if (proxy)
        json_object_set_new(o, "proxy", json_string(proxy));
    if (conn)
        json_object_set_new(o, "conn", json_integer((json_int_t)conn));
    if (toxic)
        json_object_set_new(o, "toxic", json_string(toxic));
    json_object_set_new(o, "action", json_string(action));
    if (detail && json_is_object(detail))
        json_object_update_missing(o, detail);
    json_decref(detail);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!text)
        return;
    if (l->f) {
        fputs(text, l->f);
        fputc('\n', l->f);
        fflush(l->f);
    }
    evline *slot = &l->ring[l->n % l->cap];
    free(slot->text);
    slot->text = text;
    slot->t_us = (uint64_t)t;
    l->n++;
}

uint64_t evlog_count(const evlog *l)
{
    return l->n;
}

void evlog_write_since(evlog *l, uint64_t since, size_t max, struct evbuffer *out)
{
    uint64_t first = l->n > l->cap ? l->n - l->cap : 0;
    uint64_t i = first;
    if (since < EVLOG_TIME_THRESHOLD) {
        if (since > i)
            i = since;
    } else {
        while (i < l->n && l->ring[i % l->cap].t_us < since)
            i++;
    }
    uint64_t end = i;
    evbuffer_add_printf(out, "{\"first\":%llu,\"events\":[", (unsigned long long)first);
    for (size_t k = 0; end < l->n && k < max; end++, k++)
        evbuffer_add_printf(out, "%s%s", k ? "," : "", l->ring[end % l->cap].text);
    if (end < i)
        end = i;
    if (end > l->n)
        end = l->n;
    evbuffer_add_printf(out, "],\"next\":%llu}", (unsigned long long)end);
}
