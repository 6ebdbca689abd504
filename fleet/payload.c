/* payload.c — the publisher's payloads: "fields" and the stamped string (payload.h). */
#include "payload.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"

int fl_payload_fields(char *buf, size_t cap, const char *ch, uint64_t n, uint32_t payload_bytes)
{
    char chj[ENV_CH_MAX * 6 + 8];
    if (envelope_json_str(chj, sizeof chj, ch, strlen(ch)) < 0)
        return -1;
    /* each field carries ~1/8 of the payload as padding ('a'..'h' by field,
     * so no two fields look alike) */
    size_t pad = payload_bytes > 8 * 24 ? (payload_bytes - 8 * 24) / FL_PAYLOAD_FIELDS : 1;
    int k = snprintf(buf, cap, "{\"n\":%llu,\"ch\":%s", (unsigned long long)n, chj);
    if (k < 0 || (size_t)k >= cap)
        return -1;
    size_t w = (size_t)k;
    for (unsigned f = 0; f < FL_PAYLOAD_FIELDS; f++) {
        int h = snprintf(buf + w, cap - w, ",\"f%u\":\"", f);
        if (h < 0 || (size_t)h >= cap - w || w + (size_t)h + pad + 32 >= cap)
            return -1;
        w += (size_t)h;
        memset(buf + w, 'a' + (int)f, pad);
        w += pad;
        h = snprintf(buf + w, cap - w, "-%llu\"", (unsigned long long)(n >> f));
        if (h < 0 || (size_t)h >= cap - w)
            return -1;
        w += (size_t)h;
    }
    if (w + 2 > cap)
        return -1;
    buf[w++] = '}';
    buf[w] = '\0';
    return (int)w;
}

size_t fl_payload_string_len(uint32_t payload_bytes)
{
    return payload_bytes < 16 ? 16 : payload_bytes;
}

/* 16 bits of FNV-1a over the channel's name, n and (when stamped) ts, mixed */
static unsigned stamp_hash(const char *ch, uint64_t n, int with_ts, uint64_t ts)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)ch; *c; c++)
        h = (h ^ *c) * 16777619u;
    for (int i = 0; i < 8; i++)
        h = (h ^ (uint32_t)((n >> (8 * i)) & 0xff)) * 16777619u;
    for (int i = 0; with_ts && i < 8; i++)
        h = (h ^ (uint32_t)((ts >> (8 * i)) & 0xff)) * 16777619u;
    h ^= h >> 16;
    return h & 0xffff;
}

void fl_payload_string(char *buf, size_t len, const char *ch, uint64_t n, uint64_t ts)
{
    memset(buf, 'x', len);
    buf[0] = '"';
    buf[len - 1] = '"';
    buf[len] = '\0';
    char st[64];
    int k = -1;
    if (ts)
        k = snprintf(st, sizeof st, "%llu.%04x.%llu.", (unsigned long long)n, stamp_hash(ch, n, 1, ts),
                     (unsigned long long)ts);
    if (k < 0 || (size_t)k + 2 > len) /* no room for the time: the stamp without it */
        k = snprintf(st, sizeof st, "%llu.%04x.", (unsigned long long)n, stamp_hash(ch, n, 0, 0));
    if (k > 0 && (size_t)k + 2 <= len)
        memcpy(buf + 1, st, (size_t)k);
}

/* the digits of a decimal number at p[0..n) (at most 20), or 0 */
static size_t digits(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 20 && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* the length of a stamp "<digits>.<4 hex>." or "<digits>.<4 hex>.<digits>."
 * at p[0..n), or 0; *ts_at gets the offset of the time's digits (0: none) */
static size_t stamp_len_ts(const char *p, size_t n, size_t *ts_at)
{
    size_t i = digits(p, n);
    *ts_at = 0;
    if (i == 0 || i + 6 > n || p[i] != '.' || p[i + 5] != '.')
        return 0;
    for (size_t j = i + 1; j < i + 5; j++)
        if (!((p[j] >= '0' && p[j] <= '9') || (p[j] >= 'a' && p[j] <= 'f')))
            return 0;
    size_t t = i + 6, d = digits(p + t, n - t);
    if (d == 0)
        return t; /* padding follows: a stamp without the time */
    if (t + d >= n || p[t + d] != '.')
        return 0;
    *ts_at = t;
    return t + d + 1;
}

static size_t stamp_len(const char *p, size_t n)
{
    size_t ts_at;
    return stamp_len_ts(p, n, &ts_at);
}

static uint64_t parse_u64(const char *p)
{
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

int fl_payload_value_stamped(const char *v, size_t n)
{
    return stamp_len(v, n) > 0;
}

int fl_payload_value_check(const char *v, size_t n, const char *ch, uint64_t *ts, uint64_t *num, char *why,
                           size_t whylen)
{
    size_t i = 0;
    if (ts)
        *ts = 0;
    if (num)
        *num = 0;
    if (n && v[0] != 'x') {
        size_t ts_at, sl = stamp_len_ts(v, n, &ts_at);
        if (!sl) {
            snprintf(why, whylen, "data's stamp is malformed");
            return -1;
        }
        uint64_t number = parse_u64(v), when = ts_at ? parse_u64(v + ts_at) : 0;
        i = digits(v, n); /* then ".hhhh." */
        unsigned h = 0;
        for (size_t j = i + 1; j < i + 5; j++)
            h = h * 16 + (unsigned)(v[j] <= '9' ? v[j] - '0' : v[j] - 'a' + 10);
        if (h != stamp_hash(ch, number, ts_at != 0, when)) {
            snprintf(why, whylen, "data's stamp (event %llu) is not one published on this channel",
                     (unsigned long long)number);
            return -1;
        }
        if (ts)
            *ts = when;
        if (num)
            *num = number;
        i = sl;
    }
    for (; i < n; i++)
        if (v[i] != 'x') {
            snprintf(why, whylen, "data differs from what was published at byte %zu", i + 1);
            return -1;
        }
    return 0;
}

int fl_payload_string_ours(const char *data, size_t dlen, size_t len)
{
    if (dlen < 2 || data[0] != '"')
        return 0;
    return dlen == len || stamp_len(data + 1, dlen - 1) > 0;
}

int fl_payload_string_check(const char *data, size_t dlen, size_t len, const char *ch, uint64_t *ts, uint64_t *num,
                            char *why, size_t whylen)
{
    if (ts)
        *ts = 0;
    if (num)
        *num = 0;
    if (dlen != len || dlen < 2 || data[0] != '"' || data[dlen - 1] != '"') {
        snprintf(why, whylen, "data is %zu bytes, not the %zu-byte string published", dlen, len);
        return -1;
    }
    return fl_payload_value_check(data + 1, dlen - 2, ch, ts, num, why, whylen);
}
