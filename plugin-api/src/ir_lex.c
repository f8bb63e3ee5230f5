/* The IR text lexer. It never reads past the terminating NUL, whatever the input, and reports
 * every malformed token as T_ERROR with a reason, so the parser can name line and column. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir_text.h"

void lex_init(lexer *lx, const char *text)
{
    memset(lx, 0, sizeof *lx);
    lx->p = text;
    lx->line_start = text;
    lx->line = 1;
    lex_next(lx);
}

static int is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static int is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static int is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

static void skip_space(lexer *lx)
{
    for (;;) {
        char c = *lx->p;
        if (c == '\n') {
            lx->p++;
            lx->line++;
            lx->line_start = lx->p;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '#') { /* comment to the end of the line */
            while (*lx->p && *lx->p != '\n')
                lx->p++;
        } else {
            return;
        }
    }
}

static void lex_error(lexer *lx, const char *msg)
{
    snprintf(lx->err, sizeof lx->err, "%s", msg);
    lx->cur.kind = T_ERROR;
}

/* Scans a quoted string starting at the opening quote; returns its end (past the closing
 * quote) or NULL with lx->err set. */
static const char *scan_string(lexer *lx, const char *s)
{
    for (s++;; s++) {
        char c = *s;
        if (c == '"')
            return s + 1;
        if (c == '\0' || c == '\n') {
            lex_error(lx, "unterminated string");
            return NULL;
        }
        if (c != '\\')
            continue;
        c = *++s;
        if (c == 'x') {
            if (!is_hex(s[1]) || !is_hex(s[2])) {
                lex_error(lx, "bad escape: \\x needs two hex digits");
                return NULL;
            }
            s += 2;
        } else if (!strchr("\\\"ntr", c) || c == '\0') {
            lex_error(lx, "bad escape in string (use \\\\, \\\", \\n, \\t, \\r or \\xHH)");
            return NULL;
        }
    }
}

static void scan_number(lexer *lx, token *t)
{
    const char *s = lx->p;
    if (*s == '-')
        s++;
    if (is_ident_start(*s)) { /* -inf, -nan */
        const char *e = s;
        while (is_ident_char(*e))
            e++;
        if ((e - s == 3) && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)) {
            t->is_float = 1;
            t->len = (size_t)(e - lx->p);
            return;
        }
        lex_error(lx, "unexpected '-'");
        return;
    }
    if (!isdigit((unsigned char)*s)) {
        lex_error(lx, "unexpected '-'");
        return;
    }
    while (isdigit((unsigned char)*s))
        s++;
    if (*s == '.') {
        t->is_float = 1;
        s++;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        const char *e = s + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            t->is_float = 1;
            while (isdigit((unsigned char)*e))
                e++;
            s = e;
        }
    }
    if (is_ident_char(*s) || *s == '.') {
        lex_error(lx, "malformed number");
        return;
    }
    t->len = (size_t)(s - lx->p);
}

void lex_next(lexer *lx)
{
    skip_space(lx);
    token *t = &lx->cur;
    memset(t, 0, sizeof *t);
    t->start = lx->p;
    t->line = lx->line;
    t->col = (int)(lx->p - lx->line_start) + 1;
    char c = *lx->p;
    if (c == '\0') {
        t->kind = T_EOF;
        return;
    }
    if (is_ident_start(c)) {
        const char *s = lx->p;
        while (is_ident_char(*s))
            s++;
        t->kind = T_IDENT;
        t->len = (size_t)(s - lx->p);
    } else if (c == '"') {
        const char *e = scan_string(lx, lx->p);
        if (!e)
            return;
        t->kind = T_STRING;
        t->len = (size_t)(e - lx->p);
    } else if (c == '%') {
        const char *s = lx->p + 1;
        if (*s == '"') {
            const char *e = scan_string(lx, s);
            if (!e)
                return;
            s = e;
        } else {
            while (is_ident_char(*s) || *s == '.')
                s++;
            if (s == lx->p + 1) {
                lex_error(lx, "expected a value name after '%'");
                return;
            }
        }
        t->kind = T_VALUE;
        t->start = lx->p + 1;
        t->len = (size_t)(s - t->start);
        lx->p = s;
        return;
    } else if (c == '-' && lx->p[1] == '>') {
        t->kind = T_ARROW;
        t->len = 2;
    } else if (c == '-' || isdigit((unsigned char)c)) {
        t->kind = T_NUMBER;
        scan_number(lx, t);
        if (t->kind == T_ERROR)
            return;
    } else if (strchr("()[]{},:=.@<>?", c)) {
        t->kind = T_PUNCT;
        t->len = 1;
    } else {
        if (isprint((unsigned char)c))
            snprintf(lx->err, sizeof lx->err, "unexpected character '%c'", c);
        else
            snprintf(lx->err, sizeof lx->err, "unexpected byte 0x%02x", (unsigned char)c);
        t->kind = T_ERROR;
        return;
    }
    lx->p += t->len;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

char *lex_string(const token *t, size_t *len)
{
    /* The lexer validated the escapes, so decoding cannot go wrong. */
    const char *s = t->start + 1, *end = t->start + t->len - 1;
    char *out = malloc(t->len), *o = out;
    if (!out)
        return NULL;
    while (s < end) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n':
            *o++ = '\n';
            s++;
            break;
        case 't':
            *o++ = '\t';
            s++;
            break;
        case 'r':
            *o++ = '\r';
            s++;
            break;
        case 'x':
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 3;
            break;
        default: *o++ = *s++; break;
        }
    }
    *o = '\0';
    if (len)
        *len = (size_t)(o - out);
    return out;
}

char *lex_name(const token *t, int *has_nul)
{
    *has_nul = 0;
    int quoted = t->kind == T_STRING || (t->kind == T_VALUE && t->start[0] == '"');
    if (!quoted)
        return dup_mem(t->start, t->len);
    size_t len;
    char *s = lex_string(t, &len);
    if (s && strlen(s) != len) {
        free(s);
        *has_nul = 1;
        return NULL;
    }
    return s;
}

const char *lex_describe(const token *t, char *buf, size_t size)
{
    int n = t->len > 40 ? 40 : (int)t->len;
    const char *more = t->len > 40 ? "..." : "";
    switch (t->kind) {
    case T_EOF: snprintf(buf, size, "end of input"); break;
    case T_IDENT: snprintf(buf, size, "'%.*s%s'", n, t->start, more); break;
    case T_STRING: snprintf(buf, size, "string %.*s%s", n, t->start, more); break;
    case T_VALUE: snprintf(buf, size, "value %%%.*s%s", n, t->start, more); break;
    case T_NUMBER: snprintf(buf, size, "number %.*s", n, t->start); break;
    case T_PUNCT: snprintf(buf, size, "'%c'", t->start[0]); break;
    case T_ARROW: snprintf(buf, size, "'->'"); break;
    default: snprintf(buf, size, "an invalid token"); break;
    }
    return buf;
}

int tok_is(const token *t, const char *word)
{
    return t->kind == T_IDENT && strlen(word) == t->len && memcmp(t->start, word, t->len) == 0;
}

int tok_punct(const token *t, char c)
{
    return t->kind == T_PUNCT && t->start[0] == c;
}
