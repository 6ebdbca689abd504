/* proto.c — the protocol adapters' registry and the helpers they share (paths with {ch}, percent-encoding, resume promises). */
#include "proto.h"

#include <stdio.h>
#include <string.h>

static const proto *const registry[] = {&proto_v1, &proto_nchan};
const char *const proto_name_list[] = {"v1", "nchan"};
const size_t proto_count = sizeof registry / sizeof *registry;

const proto *proto_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *proto_names(void)
{
    return "v1, nchan";
}

const char *proto_resume_str(proto_resume r)
{
    switch (r) {
    case PROTO_RESUME_SEQ_EPOCH: return "seq_epoch";
    case PROTO_RESUME_BUFFER: return "within_buffer";
    case PROTO_RESUME_OFFSET: return "offset";
    case PROTO_RESUME_NONE: return "none";
    }
    return "?";
}

int proto_pct_encode(const char *s, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                   ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == ':';
        if (n + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            buf[n++] = (char)ch;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[ch >> 4];
            buf[n++] = hex[ch & 15];
        }
    }
    if (n >= cap)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

int proto_expand_path(const char *path, const char *ch, char *buf, size_t cap)
{
    char enc[PROTO_PATH_MAX];
    if (proto_pct_encode(ch, enc, sizeof enc) < 0)
        return -1;
    const char *p = strstr(path, "{ch}");
    int k = p ? snprintf(buf, cap, "%.*s%s%s", (int)(p - path), path, enc, p + 4)
              : snprintf(buf, cap, "%s%s%s", path, path[0] && path[strlen(path) - 1] == '/' ? "" : "/", enc);
    if (k < 0 || (size_t)k >= cap)
        return -1;
    return k;
}

int proto_check_path(const char *what, const char *path, char *err, size_t errlen)
{
    if (path[0] != '/') {
        snprintf(err, errlen, "%s '%s': expected a path starting with '/', like /sub/{ch}", what, path);
        return -1;
    }
    for (const char *q = path; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 127) {
            snprintf(err, errlen, "%s '%s': no spaces or control characters allowed", what, path);
            return -1;
        }
    const char *p = strstr(path, "{ch}");
    if (!p) {
        snprintf(err, errlen, "%s '%s': expected '{ch}' where the channel name goes, like /sub/{ch}", what, path);
        return -1;
    }
    if (strstr(p + 4, "{ch}")) {
        snprintf(err, errlen, "%s '%s': '{ch}' may appear once", what, path);
        return -1;
    }
    const char *brace = strchr(path, '{');
    while (brace) {
        if (strncmp(brace, "{ch}", 4) != 0) {
            snprintf(err, errlen, "%s '%s': unknown field '%.*s' (only {ch} is known)", what, path,
                     (int)(strcspn(brace, "}") + (strchr(brace, '}') ? 1 : 0)), brace);
            return -1;
        }
        brace = strchr(brace + 4, '{');
    }
    return 0;
}
