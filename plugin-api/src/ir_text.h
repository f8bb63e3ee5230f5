/* Pieces the IR text printer and parser share (docs/ir-text.md describes the format). */
#ifndef AGLM_IR_TEXT_H
#define AGLM_IR_TEXT_H

#include <stddef.h>
#include "graph_internal.h"

/* Words the format gives a meaning. Only ops and domains, which can start a statement, are
 * quoted when spelled like one; every other name sits where no keyword can. */
int ir_is_reserved(const char *s, size_t len);
/* 1 when s prints bare as a name: [A-Za-z_][A-Za-z0-9_]*. */
int ir_is_ident(const char *s);
/* 1 when a value name prints bare after '%': [A-Za-z0-9_.]+. */
int ir_is_bare_value(const char *s);
/* 1 when a domain prints bare: non-reserved identifiers joined by single dots. */
int ir_is_bare_domain(const char *s);

/* Growable output buffer; `failed` sticks after an allocation failure. */
typedef struct strbuf {
    char *buf;
    size_t len, cap;
    int failed;
} strbuf;

void sb_putc(strbuf *sb, char c);
void sb_puts(strbuf *sb, const char *s);
void sb_printf(strbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* s (len bytes) as a quoted string with escapes. */
void sb_quoted(strbuf *sb, const char *s, size_t len);
/* s bare when ir_is_ident, else quoted. */
void sb_name(strbuf *sb, const char *s);

/* ---- lexer (ir_lex.c) -------------------------------------------------------------------- */

typedef enum tok_kind {
    T_EOF,
    T_IDENT,  /* [A-Za-z_][A-Za-z0-9_]* */
    T_STRING, /* "..." with \\ \" \n \t \r \xHH escapes; span includes the quotes */
    T_VALUE,  /* %name or %"name"; span excludes the '%' */
    T_NUMBER, /* -?digits[.digits][e[+-]digits], or -inf / -nan */
    T_PUNCT,  /* one of ( ) [ ] { } , : = . @ < > ? */
    T_ARROW,  /* -> */
    T_ERROR   /* lexer->err says why */
} tok_kind;

typedef struct token {
    tok_kind kind;
    const char *start;
    size_t len;
    int is_float; /* T_NUMBER with a '.', an exponent, inf or nan */
    int line, col;
} token;

typedef struct lexer {
    const char *p;
    const char *line_start;
    int line;
    token cur;
    char err[96];
} lexer;

void lex_init(lexer *lx, const char *text);
/* Moves to the next token (lx->cur). */
void lex_next(lexer *lx);
/* Decodes a T_STRING token, or the quoted form of a T_VALUE, into a malloc'd buffer. */
char *lex_string(const token *t, size_t *len);
/* The name a T_IDENT, T_STRING or T_VALUE token spells (malloc'd); NULL on allocation failure
 * or, with *has_nul set, when a quoted name holds a NUL byte. */
char *lex_name(const token *t, int *has_nul);
/* "'('", "value %x", "end of input", ... for "expected X but found Y" messages. */
const char *lex_describe(const token *t, char *buf, size_t size);
/* 1 when t is the identifier `word`. */
int tok_is(const token *t, const char *word);
/* 1 when t is the punctuation character c. */
int tok_punct(const token *t, char c);

/* Prints g's text form into sb (ir_print.c). */
void ir_print_graph(strbuf *sb, const aglm_graph *g, int indent, unsigned flags);

#endif
