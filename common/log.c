/* log.c — logfmt records on stderr, one write(2) each. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static const char *log_component = "rtchaos";
static log_level log_min = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *component, log_level min_level)
{
    log_component = component;
    log_min = min_level;
}

int log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    if (lvl < log_min)
        return;
    char msg[1024], line[1400], ts[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    size_t n = (size_t)snprintf(line, sizeof line, "ts=%s level=%s comp=%s msg=\"",
                                clock_format_utc(clock_wall_us(), ts, sizeof ts), log_names[lvl],
                                log_component);
    for (const char *c = msg; *c && n < sizeof line - 4; c++) {
        if (*c == '"' || *c == '\\') {
            line[n++] = '\\';
            line[n++] = *c;
        } else if (*c == '\n') {
            line[n++] = '\\';
            line[n++] = 'n';
        } else {
            line[n++] = *c;
        }
    }
    line[n++] = '"';
    line[n++] = '\n';
    ssize_t w;
    do {
        w = write(STDERR_FILENO, line, n);
    } while (w < 0 && errno == EINTR);
}
