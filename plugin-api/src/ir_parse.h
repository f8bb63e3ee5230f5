/* The IR text parser's shared parts (ir_parse.c: graphs, statements, nodes; ir_parse_lit.c:
 * names, numbers, types, constant data; ir_parse_attr.c: attributes). */
#ifndef AGLM_IR_PARSE_H
#define AGLM_IR_PARSE_H

#include "ir_text.h"

#define MAX_DEPTH                                                                                  \
    64 /* nested subgraphs; deeper input is refused rather than overflowing the stack */

typedef struct parser {
    lexer lx;
    int depth;
} parser;

typedef struct ptype {
    aglm_dtype dt;
    int rank;
    aglm_dim dims[AGLM_MAX_RANK];
} ptype;

/* "line L, column C: <message>" as an AGLM_ERR_PARSE error. */
aglm_status ir_err_at(int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* "expected <what> but found <token>" at the current token (or the lexer's own complaint). */
aglm_status ir_unexpected(parser *p, const char *expected);
/* Prefixes an error from the graph API with the place in the text it came from. */
aglm_status ir_api_err(const token *t, aglm_status st);
aglm_status ir_nomem_at(const token *t);
/* Consumes punctuation c or fails; ir_accept() consumes it if present. */
aglm_status ir_expect(parser *p, char c);
int ir_accept(parser *p, char c);
/* A name (identifier or string, no NUL byte) / a %value name (not empty), malloc'd. */
aglm_status ir_parse_name(parser *p, const char *what, char **out);
aglm_status ir_parse_value_name(parser *p, char **out);
aglm_status ir_parse_i64(parser *p, int64_t *out);
/* The current number token (or inf/nan) as NUL-terminated text for strto*; does not advance. */
aglm_status ir_float_text(parser *p, char *buf, size_t size);
int ir_is_float_word(const token *t);
/* dtype ['[' dims ']'], symbols interned into g's tree. */
aglm_status ir_parse_type(parser *p, aglm_graph *g, ptype *ty);
int ir_type_equal(const ptype *t, const aglm_value *v);
const char *ir_ptype_str(const ptype *t, char *buf, size_t size);
/* '[' elements ']' into a new tensor of static type ty; `what` names it in errors. */
aglm_status ir_parse_data(parser *p, const ptype *ty, const char *what, aglm_tensor *t);
/* The attributes of node n (of graph g), after the opening '{'. */
aglm_status ir_parse_attrs(parser *p, aglm_graph *g, aglm_node *n);
/* 'graph' name signature body; a subgraph of parent, or a top-level graph when parent is NULL. */
aglm_status ir_parse_graph(parser *p, aglm_graph *parent, aglm_graph **out);

#endif
