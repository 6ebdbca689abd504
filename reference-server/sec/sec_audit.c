/* sec_audit.c — JSON-lines audit log with a line budget and token redaction. */
#include "sec_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

struct sec_audit {
    int fd;
    int own_fd;
    pthread_mutex_t lock;
    sec_rate budget;
    sec_bucket bucket;
    uint64_t written, suppressed, suppressed_pending;
};

sec_audit *sec_audit_open(const char *path, sec_rate budget, char *err, size_t errlen)
{
    sec_audit *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        a->fd = 2;
    } else {
        a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (a->fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(a);
            return NULL;
        }
        a->own_fd = 1;
    }
    pthread_mutex_init(&a->lock, NULL);
    a->budget = budget;
    return a;
}

void sec_audit_close(sec_audit *a)
{
    if (!a)
        return;
    if (a->own_fd)
        close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

uint64_t sec_audit_written(const sec_audit *a)
{
    return a->written;
}

uint64_t sec_audit_suppressed(const sec_audit *a)
{
    return a->suppressed;
}

static int b64url(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int sec_audit_redact(char *s)
{
    static const char mark[] = "[redacted]";
    int count = 0;
    char *w = s;
    const char *r = s;
    while (*r) {
        if (r[0] == 'e' && r[1] == 'y' && r[2] == 'J' && (r == s || !b64url(r[-1]))) {
            /* header . payload . signature (the signature may be empty) */
            const char *p = r;
            int dots = 0;
            while (b64url(*p) || (*p == '.' && dots < 2 && (dots++, 1)))
                p++;
            if (dots == 2 && p - r >= (long)sizeof mark - 1) {
                memcpy(w, mark, sizeof mark - 1);
                w += sizeof mark - 1;
                r = p;
                count++;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
    return count;
}

/* Sets key to a redacted copy of val (when val is not NULL). Returns 0/-1. */
static int set_str(json_t *o, const char *key, const char *val)
{
    if (!val)
        return 0;
    char *copy = strdup(val);
    if (!copy)
        return -1;
    sec_audit_redact(copy);
    json_t *js = json_string(copy);
    if (!js) {
        /* not valid UTF-8: keep the ASCII, mark the rest */
        for (char *c = copy; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
        js = json_string(copy);
    }
    free(copy);
    return json_object_set_new(o, key, js);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int sec_audit_write(sec_audit *a, int64_t wall_us, uint64_t mono_us, const sec_audit_event *ev,
                    char *err, size_t errlen)
{
    pthread_mutex_lock(&a->lock);
    if (!sec_bucket_take(&a->bucket, &a->budget, mono_us, 1, NULL)) {
        a->suppressed++;
        a->suppressed_pending++;
        pthread_mutex_unlock(&a->lock);
        return 1;
    }
    char ts[40];
    clock_format_utc(wall_us, ts, sizeof ts);
    json_t *o = json_object();
    int bad = !o;
    if (o) {
        bad |= json_object_set_new(o, "ts", json_string(ts));
        bad |= set_str(o, "action", ev->action);
        bad |= set_str(o, "outcome", ev->outcome);
        bad |= set_str(o, "reason", ev->reason);
        if (ev->who && ev->who->authenticated) {
            bad |= set_str(o, "sub", ev->who->sub);
            if (ev->who->tenant[0])
                bad |= set_str(o, "tenant", ev->who->tenant);
            json_t *roles = json_array();
            for (int i = 0; roles && i < ev->who->nroles; i++)
                bad |= json_array_append_new(roles, json_string(ev->who->roles[i]));
            bad |= json_object_set_new(o, "roles", roles ? roles : json_null());
        } else {
            bad |= json_object_set_new(o, "sub", json_null());
        }
        bad |= set_str(o, "ch", ev->channel);
        bad |= set_str(o, "remote", ev->remote);
        bad |= set_str(o, "transport", ev->transport);
        bad |= set_str(o, "detail", ev->detail);
        if (a->suppressed_pending)
            bad |= json_object_set_new(o, "suppressed", json_integer((json_int_t)a->suppressed_pending));
    }
    /* invalid UTF-8 in a field makes json_string fail; JSON_ENSURE_ASCII keeps
     * the line plain ASCII for any reader */
    char *line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(o);
    int rc = 0;
    if (!line) {
        snprintf(err, errlen, "audit record could not be encoded");
        rc = -1;
    } else {
        size_t n = strlen(line);
        line[n] = '\n'; /* json_dumps leaves the NUL; the newline replaces it */
        if (write_all(a->fd, line, n + 1) < 0) {
            snprintf(err, errlen, "audit write: %s", strerror(errno));
            rc = -1;
        } else {
            a->written++;
            a->suppressed_pending = 0;
        }
        free(line);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}
