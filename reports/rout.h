/* rout.h — internal to reports/: one writer for Markdown and HTML documents
 * (headings, paragraphs, tables, escaping), so each report section is
 * written once for both formats. */
#ifndef RTCHAOS_ROUT_H
#define RTCHAOS_ROUT_H
#include <stdio.h>

typedef struct rout {
    FILE *f;
    int html; /* 0 = Markdown, 1 = HTML */
} rout;

/* Text escaped for the format (HTML entities; Markdown table pipes and
 * newlines). */
void rout_text(rout *o, const char *s);
void rout_heading(rout *o, int level, const char *text, const char *id);
/* A paragraph; fmt is printf-style, the result is escaped. */
void rout_para(rout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tables: begin with column titles (id is the HTML id, may be NULL). Each
 * row's cells are escaped; row_class (HTML only, may be NULL) is e.g.
 * "pass" / "fail". */
void rout_table_begin(rout *o, const char *id, const char *const *cols, int ncols);
void rout_table_row(rout *o, const char *row_class, const char *const *cells, int ncells);
void rout_table_end(rout *o);

/* Standard base64 (RFC 4648) of len bytes, written to f. Hand-written: it
 * is a dozen lines and the only encoder at hand would be OpenSSL's, a
 * dependency this library does not otherwise need. */
void rout_base64(FILE *f, const unsigned char *data, size_t len);

#endif
