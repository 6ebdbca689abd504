/* ydoc.h — a libyaml document read with diagnostics: typed getters that
 * report every error as file:line:col (or "--set EXPR:" for a node an
 * override made), unknown keys with a did-you-mean. Shared by the scenario
 * loader (harness/scenario*.c) and the suite files (suite/suite_def.c). */
#ifndef RTCHAOS_YDOC_H
#define RTCHAOS_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <yaml.h>

/* Receives each error message (no trailing newline); arg is the caller's. */
typedef void (*ydoc_emit_fn)(void *arg, const char *msg);

/* One document being read. The caller fills file, emit and emit_arg, then
 * ydoc_parse()s; ydoc_free() releases the document and the origins.
 * Node ids are libyaml's (1 = root); a node pointer is valid only until the
 * document grows (--set adds nodes), an id stays valid. Not thread-safe. */
typedef struct ydoc {
    yaml_document_t doc;
    int doc_ok;               /* doc holds a parsed document */
    const char *file;         /* the name errors carry; not owned */
    char **origin;            /* per node id: the --set that made it, or NULL */
    size_t norigin;
    ydoc_emit_fn emit;
    void *emit_arg;
    size_t nerr;              /* errors emitted so far */
} ydoc;

/* Parses len bytes of YAML. On a syntax error emits
 * "FILE:LINE:COL: invalid YAML: …" and returns -1. */
int ydoc_parse(ydoc *y, const char *yaml, size_t len);
/* The same for the file named y->file ("FILE: why" when it cannot be
 * opened). */
int ydoc_parse_file(ydoc *y);
void ydoc_free(ydoc *y);

/* Emits a message as it is (no position), counting it as an error. */
void ydoc_note(ydoc *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error at node id: "FILE:LINE:COL: msg", with COL moved col_off
 * characters into a scalar; "--set EXPR: msg" for a node an override made;
 * "FILE: msg" when there is no such node. */
void ydoc_err_at_off(ydoc *y, int id, size_t col_off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define ydoc_err_at(y, id, ...) ydoc_err_at_off(y, id, 0, __VA_ARGS__)
/* An error at a node pointer; a NULL node is reported at 1:1. */
void ydoc_err_node(ydoc *y, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

yaml_node_t *ydoc_node(ydoc *y, int id);
/* The text of a scalar node, or NULL for anything else. */
const char *ydoc_scalar(const yaml_node_t *n);
/* The override that made node id, or NULL for a node of the file. */
const char *ydoc_origin(ydoc *y, int id);
/* Records that node id was made by override expr (copied). 0 / -1. */
int ydoc_set_origin(ydoc *y, int id, const char *expr);
/* Line and column (1-based) of node id; 0, 0 for a --set node. */
void ydoc_pos(ydoc *y, int id, int *line, int *col);
/* "a mapping", "a list", "'abc'" — what a node is, for "got …" messages. */
void ydoc_describe(const yaml_node_t *n, char *buf, size_t cap);
/* A plain empty, ~ or null scalar. */
int ydoc_is_null(const yaml_node_t *n);
/* YAML 1.1 booleans (true/yes/on, false/no/off). 0 / -1. */
int ydoc_parse_bool(const char *s, int *out);

/* Typed getters of node id. Each returns 0, or -1 after emitting an error
 * that says what was expected and what was found. */
int ydoc_want_scalar(ydoc *y, int id, const char *what);
int ydoc_str(ydoc *y, int id, char **out);          /* *out freed and replaced */
int ydoc_u64(ydoc *y, int id, uint64_t lo, uint64_t hi, uint64_t *out);
int ydoc_uint(ydoc *y, int id, unsigned lo, unsigned hi, unsigned *out);
int ydoc_double(ydoc *y, int id, double lo, double hi, double *out);
int ydoc_bool(ydoc *y, int id, int *out);
/* One of names[0..n); *out = its index. Did-you-mean on a near miss. */
int ydoc_enum(ydoc *y, int id, const char *const *names, size_t n, int *out);

/* Lists. ydoc_seq_len / ydoc_seq_item need a sequence node. */
int ydoc_want_seq(ydoc *y, int id, const char *where);
size_t ydoc_seq_len(ydoc *y, int id);
int ydoc_seq_item(ydoc *y, int id, size_t i);
/* A list of strings; *out (caller frees each and the array) holds the
 * items that were strings. */
int ydoc_str_list(ydoc *y, int id, const char *where, char ***out, size_t *nout);

/* Iterates a mapping's pairs, checking keys against known[0..nknown). For
 * each known key calls fn(y, obj, key index, value id, key id). Reports
 * unknown keys (with a did-you-mean) and duplicates. -1 when id is not a
 * mapping (reported). */
typedef void (*ydoc_field_fn)(ydoc *y, void *obj, size_t key, int val, int keynode);
int ydoc_walk_map(ydoc *y, int id, const char *where, const char *const *known, size_t nknown, ydoc_field_fn fn,
                  void *obj);
/* The value of key in mapping m, or NULL (m NULL or not a mapping too). */
yaml_node_t *ydoc_get(ydoc *y, const yaml_node_t *m, const char *key);
/* Reports each key of mapping m that is not in allowed (NULL-terminated),
 * as ydoc_walk_map does. Nothing for a NULL or non-mapping m. */
void ydoc_check_keys(ydoc *y, const yaml_node_t *m, const char *where, const char *const *allowed);

/* A YAML node as JSON: plain scalars that read as integers, numbers,
 * booleans or null keep their type. New reference, or NULL. */
json_t *ydoc_to_json(ydoc *y, int id, int depth);

/* The closest of cands within a third of word's length (at least 1 edit),
 * or the one candidate word starts, or NULL. */
const char *ydoc_closest(const char *word, const char *const *cands, size_t n);
/* "a, b, c" into buf (truncated to cap). */
void ydoc_join_list(char *buf, size_t cap, const char *const *items, size_t n);

#endif
