/* log.h — structured (logfmt) logging to stderr, one line per record. */
#ifndef RTCHAOS_LOG_H
#define RTCHAOS_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Process-wide settings; call once at start-up before threads exist.
 * component names the binary ("server", "proxy", "harness"). */
void log_init(const char *component, log_level min_level);
/* Parses "debug|info|warn|error"; returns -1 when unknown. */
int log_level_parse(const char *s, log_level *out);

/* Writes `ts=… level=… comp=… msg="…"` plus optional key=value pairs already
 * formatted by the caller in fmt (printf-style) to stderr. The message is
 * quoted and escaped; one write(2) per line so threads do not interleave.
 * Thread-safe. */
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
