/* record.c — formats and reads the publisher's record (record.h); reading goes through jansson, as foreign servers may re-encode the JSON they pass on. */
#include "record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int record_format(char *buf, size_t cap, const char *run, const char *ch, uint64_t seq, int64_t ts_us,
                  const char *data, size_t data_len)
{
    char chj[ENV_CH_MAX * 6 + 8], runj[RECORD_RUN_MAX * 6 + 8];
    if (envelope_json_str(chj, sizeof chj, ch, strlen(ch)) < 0 ||
        envelope_json_str(runj, sizeof runj, run, strlen(run)) < 0)
        return -1;
    int k = snprintf(buf, cap, "{\"run\":%s,\"ch\":%s,\"seq\":%llu,\"ts\":%lld,\"data\":", runj, chj,
                     (unsigned long long)seq, (long long)ts_us);
    if (k < 0 || (size_t)k + data_len + 2 > cap)
        return -1;
    memcpy(buf + k, data, data_len);
    k += (int)data_len;
    buf[k++] = '}';
    buf[k] = '\0';
    return k;
}

/* Reads the record fields of object o. */
static int record_read(const json_t *o, record *out, char *err, size_t errlen)
{
    json_t *run = json_object_get(o, "run"), *ch = json_object_get(o, "ch");
    json_t *seq = json_object_get(o, "seq"), *ts = json_object_get(o, "ts");
    if (!json_is_object(o))
        snprintf(err, errlen, "payload is not a JSON object");
    else if (!json_is_string(run) || json_string_length(run) > RECORD_RUN_MAX)
        snprintf(err, errlen, "payload has no rtchaos record (\"run\")");
    else if (!json_is_string(ch) || json_string_length(ch) == 0 || json_string_length(ch) > ENV_CH_MAX)
        snprintf(err, errlen, "record: \"ch\" is not a channel name");
    else if (!json_is_integer(seq) || json_integer_value(seq) < 1)
        snprintf(err, errlen, "record: \"seq\" is not a positive integer");
    else if (!json_is_integer(ts))
        snprintf(err, errlen, "record: \"ts\" is not an integer");
    else {
        memset(out, 0, sizeof *out);
        snprintf(out->run, sizeof out->run, "%s", json_string_value(run));
        snprintf(out->ch, sizeof out->ch, "%s", json_string_value(ch));
        out->seq = (uint64_t)json_integer_value(seq);
        out->ts_us = (int64_t)json_integer_value(ts);
        json_t *data = json_object_get(o, "data");
        if (json_is_string(data)) {
            const char *v = json_string_value(data);
            char why[96];
            out->data_str = 1;
            out->data_len = json_string_length(data);
            out->data_stamped = fl_payload_value_stamped(v, out->data_len);
            out->data_ok = fl_payload_value_check(v, out->data_len, out->ch, NULL, NULL, why, sizeof why) == 0;
        }
        return 0;
    }
    return -1;
}

/* The value at dot path p under o, or NULL; *missing_key set to the
 * first key not found. */
static json_t *at_path(json_t *o, const char *p, char *missing, size_t mcap)
{
    while (*p) {
        size_t k = strcspn(p, ".");
        char key[128];
        if (k == 0 || k >= sizeof key || (!json_is_object(o) && !json_is_array(o)))
            return NULL;
        memcpy(key, p, k);
        key[k] = '\0';
        if (json_is_array(o)) {
            /* an index into an array ("1": Socket.IO's ["event", payload, offset]) */
            char *end;
            unsigned long i = strtoul(key, &end, 10);
            o = *end || key[0] < '0' || key[0] > '9' ? NULL : json_array_get(o, i);
        } else {
            o = json_object_get(o, key);
        }
        if (!o) {
            snprintf(missing, mcap, "%s", key);
            return NULL;
        }
        p += k + (p[k] == '.');
    }
    return o;
}

int record_scan_offset(const char *buf, size_t len, const char *path, const char *offset_path, record *out,
                       uint64_t *offset, int *has_offset, char *err, size_t errlen)
{
    if (has_offset)
        *has_offset = 0;
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    if (!root) {
        snprintf(err, errlen, "payload is not JSON: %s", je.text);
        return -1;
    }
    if (offset_path && offset_path[0] && offset && has_offset) {
        char miss[128];
        json_t *ov = at_path(root, offset_path, miss, sizeof miss);
        if (json_is_integer(ov) && json_integer_value(ov) >= 0) {
            *offset = (uint64_t)json_integer_value(ov);
            *has_offset = 1;
        }
    }
    char missing[128] = "";
    json_t *o = at_path(root, path ? path : "", missing, sizeof missing);
    if (!o) {
        snprintf(err, errlen, "payload has nothing at '%s'", path);
        /* an object without the key: the service's control message */
        int rc = missing[0] && json_is_object(root) ? -2 : -1;
        json_decref(root);
        return rc;
    }
    json_t *inner = NULL;
    if (json_is_string(o)) {
        inner = json_loadb(json_string_value(o), json_string_length(o), 0, &je);
        if (!inner) {
            snprintf(err, errlen, "payload string is not JSON: %s", je.text);
            json_decref(root);
            return -1;
        }
        o = inner;
    }
    int rc = record_read(o, out, err, errlen);
    json_decref(inner);
    json_decref(root);
    return rc;
}

int record_scan_path(const char *buf, size_t len, const char *path, record *out, char *err, size_t errlen)
{
    return record_scan_offset(buf, len, path, NULL, out, NULL, NULL, err, errlen);
}

int record_scan(const char *buf, size_t len, record *out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    if (!o || !json_is_object(o)) {
        snprintf(err, errlen, "payload is not a JSON object%s%s", o ? "" : ": ", o ? "" : je.text);
        json_decref(o);
        return -1;
    }
    int rc = record_read(o, out, err, errlen);
    json_decref(o);
    return rc;
}
