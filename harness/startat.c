/* startat.c — --start-at: parsing a wall-clock instant and waiting for it (startat.h). */
#include "startat.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

/* The fraction after a '.' (1 to 9 digits) in µs. */
static int fraction_us(const char **p, int64_t *us)
{
    int64_t v = 0, scale = 1000000;
    int n = 0;
    while (isdigit((unsigned char)**p)) {
        if (++n > 9)
            return -1;
        scale /= 10;
        v += (**p - '0') * scale; /* digits past µs add 0: scale reaches 0 */
        (*p)++;
    }
    *us = v;
    return n ? 0 : -1;
}

static int parse_unix(const char *s, int64_t *wall_us)
{
    const char *p = s;
    int64_t sec = 0, frac = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        if (sec > (INT64_MAX / 1000000 - 9) / 10)
            return -1;
        sec = sec * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        p++;
        if (fraction_us(&p, &frac) < 0)
            return -1;
    }
    if (*p)
        return -1;
    *wall_us = sec * 1000000 + frac;
    return 0;
}

static int parse_rfc3339(const char *s, int64_t *wall_us)
{
    const char *p = s;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, se;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        if (fraction_us(&p, &frac) < 0)
            return -1;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off_s = sign * (oh * 3600 + om * 60);
    } else
        return -1; /* RFC 3339 needs the offset: a local time means a different instant per machine */
    if (*p)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se == 60 ? 59 : se; /* a leap second: the instant after :59 is close enough */
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    /* timegm normalises 2026-02-31 to March: such a date is a mistake */
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
        return -1;
    *wall_us = ((int64_t)t - off_s) * 1000000 + frac;
    return 0;
}

int startat_parse(const char *s, int64_t *wall_us, char *err, size_t errlen)
{
    if (s && strchr(s, '-') && parse_rfc3339(s, wall_us) == 0)
        return 0;
    if (s && !strchr(s, '-') && parse_unix(s, wall_us) == 0)
        return 0;
    snprintf(err, errlen, "--start-at %s: expected an RFC 3339 time with its offset "
             "(2026-12-07T09:30:00Z, 2026-12-07T10:30:00+01:00) or Unix seconds (1796635800)", s ? s : "");
    return -1;
}

int startat_check(int64_t at_us, int64_t now_us, int64_t max_ahead_us, char *err, size_t errlen)
{
    char when[40];
    clock_format_utc(at_us, when, sizeof when);
    if (at_us <= now_us) {
        snprintf(err, errlen, "--start-at %s is %.1f s in the past: give every shard a time still ahead "
                 "(e.g. $(date -u -d '+2 min' +%%Y-%%m-%%dT%%H:%%M:%%SZ))", when, (double)(now_us - at_us) / 1e6);
        return -1;
    }
    if (at_us - now_us > max_ahead_us) {
        snprintf(err, errlen, "--start-at %s is %.0f s ahead, more than the %.0f s allowed (a wrong date or unit?)",
                 when, (double)(at_us - now_us) / 1e6, (double)max_ahead_us / 1e6);
        return -1;
    }
    return 0;
}

int startat_wait(int64_t at_us, volatile sig_atomic_t *stop)
{
    for (;;) {
        if (stop && *stop)
            return -1;
        int64_t now = clock_wall_us();
        if (now >= at_us)
            return 0;
        /* 100 ms steps so a signal is seen; the last step ends on the
         * instant itself (absolute CLOCK_REALTIME sleep) */
        int64_t until = at_us - now > 100000 ? now + 100000 : at_us;
        struct timespec ts = {.tv_sec = until / 1000000, .tv_nsec = (long)(until % 1000000) * 1000};
        int rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
        if (rc && rc != EINTR)
            clock_sleep_ms(10); /* never starts early: the loop looks at the clock again */
    }
}
