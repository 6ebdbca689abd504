/* scenario_set.c — `--set path=value` overrides edited into a scenario's
 * YAML document before it is read, each new node remembering the override
 * that made it so its errors name the --set, not a line of the file. */
#include "scenario_set.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Copies node src of document from into c->doc; returns the new id or 0. */
static int copy_node(ydoc *c, yaml_document_t *from, int src, const char *origin, int depth)
{
    yaml_node_t *n = yaml_document_get_node(from, src);
    if (!n || depth > 32)
        return 0;
    int id = 0;
    if (n->type == YAML_SCALAR_NODE) {
        id = yaml_document_add_scalar(&c->doc, NULL, n->data.scalar.value, (int)n->data.scalar.length,
                                      n->data.scalar.style);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        id = yaml_document_add_sequence(&c->doc, NULL, YAML_FLOW_SEQUENCE_STYLE);
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        for (size_t i = 0; id && i < cnt; i++) {
            int item = yaml_document_get_node(from, src)->data.sequence.items.start[i];
            int cid = copy_node(c, from, item, origin, depth + 1);
            if (cid)
                yaml_document_append_sequence_item(&c->doc, id, cid);
        }
    } else {
        id = yaml_document_add_mapping(&c->doc, NULL, YAML_FLOW_MAPPING_STYLE);
        size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
        for (size_t i = 0; id && i < cnt; i++) {
            yaml_node_pair_t pr = yaml_document_get_node(from, src)->data.mapping.pairs.start[i];
            int k = copy_node(c, from, pr.key, origin, depth + 1);
            int v = copy_node(c, from, pr.value, origin, depth + 1);
            if (k && v)
                yaml_document_append_mapping_pair(&c->doc, id, k, v);
        }
    }
    if (id > 0)
        ydoc_set_origin(c, id, origin);
    return id;
}

static int new_scalar(ydoc *c, const char *s, const char *origin)
{
    yaml_document_t tmp;
    memset(&tmp, 0, sizeof tmp);
    yaml_document_initialize(&tmp, NULL, NULL, NULL, 1, 1);
    int id = yaml_document_add_scalar(&tmp, NULL, (yaml_char_t *)s, -1, YAML_PLAIN_SCALAR_STYLE);
    int r = copy_node(c, &tmp, id, origin, 0);
    yaml_document_delete(&tmp);
    return r;
}

static int new_mapping(ydoc *c, const char *origin)
{
    yaml_document_t tmp;
    memset(&tmp, 0, sizeof tmp);
    yaml_document_initialize(&tmp, NULL, NULL, NULL, 1, 1);
    int id = yaml_document_add_mapping(&tmp, NULL, YAML_BLOCK_MAPPING_STYLE);
    int r = copy_node(c, &tmp, id, origin, 0);
    yaml_document_delete(&tmp);
    return r;
}

/* Parses value as a YAML fragment (scalar or flow collection) and copies it
 * into the document; returns its node id or 0 with a diagnostic. */
static int parse_set_value(ydoc *c, const char *expr, const char *value)
{
    yaml_parser_t p;
    yaml_document_t d;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)value, strlen(value));
    int id = 0;
    if (!yaml_parser_load(&p, &d)) {
        ydoc_note(c, "--set %s: the value is not valid YAML: %s", expr,
                     p.problem ? p.problem : "parse error");
        yaml_parser_delete(&p);
        return 0;
    }
    int root = yaml_document_get_root_node(&d) ? 1 : 0;
    if (root)
        id = copy_node(c, &d, 1, expr, 0);
    else
        id = new_scalar(c, "", expr);
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
    return id;
}

void scenario_set_apply(ydoc *c, const char *expr)
{
    const char *eq = strchr(expr, '=');
    if (!eq || eq == expr) {
        ydoc_note(c, "--set %s: expected path=value, like clients.0.count=10", expr);
        return;
    }
    char *path = strndup(expr, (size_t)(eq - expr));
    int val = parse_set_value(c, expr, eq + 1);
    if (!val) {
        free(path);
        return;
    }
    int cur = 1; /* root */
    char *save = NULL;
    char walked[256] = "";
    for (char *seg = strtok_r(path, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        int last = save == NULL || *save == '\0';
        yaml_node_t *n = ydoc_node(c, cur);
        if (n->type == YAML_SEQUENCE_NODE) {
            char *end;
            unsigned long idx = strtoul(seg, &end, 10);
            size_t len = ydoc_seq_len(c, cur);
            if (!isdigit((unsigned char)seg[0]) || *end) {
                ydoc_note(c, "--set %s: '%s' is a list: expected an index from 0 to %zu, got '%s'",
                             expr, walked[0] ? walked : "(root)", len ? len - 1 : 0, seg);
                break;
            }
            if (idx >= len) {
                ydoc_note(c, "--set %s: index %lu is out of range: %s has %zu item%s", expr, idx,
                             walked, len, len == 1 ? "" : "s");
                break;
            }
            if (last) {
                ydoc_node(c, cur)->data.sequence.items.start[idx] = val;
                break;
            }
            cur = ydoc_seq_item(c, cur, idx);
        } else if (n->type == YAML_MAPPING_NODE) {
            size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
            int found = -1;
            for (size_t i = 0; i < np; i++) {
                yaml_node_t *k = ydoc_node(c, n->data.mapping.pairs.start[i].key);
                if (k && k->type == YAML_SCALAR_NODE && !strcmp(ydoc_scalar(k), seg)) {
                    found = (int)i;
                    break;
                }
            }
            if (found >= 0) {
                if (last) {
                    ydoc_node(c, cur)->data.mapping.pairs.start[found].value = val;
                    break;
                }
                cur = ydoc_node(c, cur)->data.mapping.pairs.start[found].value;
            } else {
                int k = new_scalar(c, seg, expr);
                int v = last ? val : new_mapping(c, expr);
                yaml_document_append_mapping_pair(&c->doc, cur, k, v);
                if (last)
                    break;
                cur = v;
            }
        } else {
            ydoc_note(c, "--set %s: '%s' is a single value, it has no '%s'", expr,
                         walked[0] ? walked : "(root)", seg);
            break;
        }
        size_t wl = strlen(walked);
        snprintf(walked + wl, sizeof walked - wl, "%s%s", wl ? "." : "", seg);
    }
    free(path);
}

