/* rout.c — Markdown / HTML document writer used by render and compare. */
#include "rout.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void rout_text(rout *o, const char *s)
{
    for (; s && *s; s++) {
        char c = *s;
        if (o->html) {
            switch (c) {
            case '&': fputs("&amp;", o->f); break;
            case '<': fputs("&lt;", o->f); break;
            case '>': fputs("&gt;", o->f); break;
            case '"': fputs("&quot;", o->f); break;
            case '\'': fputs("&#39;", o->f); break;
            default: fputc(c, o->f);
            }
        } else {
            if (c == '\n' || c == '\r')
                fputc(' ', o->f);
            else if (c == '|' || c == '\\' || c == '*' || c == '`' || c == '[' || c == ']')
                fprintf(o->f, "\\%c", c);
            else if (c == '<' && (s[1] == '/' || s[1] == '!' || s[1] == '?' ||
                                  ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z')))
                fputs("&lt;", o->f); /* would open an HTML tag; "<=" stays readable */
            else
                fputc(c, o->f);
        }
    }
}

void rout_heading(rout *o, int level, const char *text, const char *id)
{
    if (o->html) {
        fprintf(o->f, "<h%d", level);
        if (id)
            fprintf(o->f, " id=\"%s\"", id);
        fputc('>', o->f);
        rout_text(o, text);
        fprintf(o->f, "</h%d>\n", level);
    } else {
        fprintf(o->f, "\n%.*s ", level, "######");
        rout_text(o, text);
        fputs("\n\n", o->f);
    }
}

void rout_para(rout *o, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs(o->html ? "<p>" : "", o->f);
    rout_text(o, buf);
    fputs(o->html ? "</p>\n" : "\n\n", o->f);
}

void rout_table_begin(rout *o, const char *id, const char *const *cols, int ncols)
{
    if (o->html) {
        fprintf(o->f, "<table");
        if (id)
            fprintf(o->f, " id=\"%s\"", id);
        fputs("><thead><tr>", o->f);
        for (int i = 0; i < ncols; i++) {
            fputs("<th>", o->f);
            rout_text(o, cols[i]);
            fputs("</th>", o->f);
        }
        fputs("</tr></thead><tbody>\n", o->f);
    } else {
        fputc('|', o->f);
        for (int i = 0; i < ncols; i++) {
            fputc(' ', o->f);
            rout_text(o, cols[i]);
            fputs(" |", o->f);
        }
        fputs("\n|", o->f);
        for (int i = 0; i < ncols; i++)
            fputs("---|", o->f);
        fputc('\n', o->f);
    }
}

void rout_table_row(rout *o, const char *row_class, const char *const *cells, int ncells)
{
    if (o->html) {
        if (row_class)
            fprintf(o->f, "<tr class=\"%s\">", row_class);
        else
            fputs("<tr>", o->f);
        for (int i = 0; i < ncells; i++) {
            fputs("<td>", o->f);
            rout_text(o, cells[i]);
            fputs("</td>", o->f);
        }
        fputs("</tr>\n", o->f);
    } else {
        fputc('|', o->f);
        for (int i = 0; i < ncells; i++) {
            fputc(' ', o->f);
            rout_text(o, cells[i]);
            fputs(" |", o->f);
        }
        fputc('\n', o->f);
    }
}

void rout_table_end(rout *o)
{
    fputs(o->html ? "</tbody></table>\n" : "\n", o->f);
}

void rout_base64(FILE *f, const unsigned char *d, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        fputc(tbl[v >> 18], f);
        fputc(tbl[(v >> 12) & 63], f);
        fputc(tbl[(v >> 6) & 63], f);
        fputc(tbl[v & 63], f);
    }
    if (i < len) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < len ? (unsigned)d[i + 1] << 8 : 0);
        fputc(tbl[v >> 18], f);
        fputc(tbl[(v >> 12) & 63], f);
        fputc(i + 1 < len ? tbl[(v >> 6) & 63] : '=', f);
        fputc('=', f);
    }
}
