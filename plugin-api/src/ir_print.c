/* The IR text printer. Output is stable (same graph, same text) and parses back to a graph that
 * prints identically: floats carry enough digits to round-trip, every attribute kind has its own
 * syntax, and names that are not plain identifiers are quoted. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir_text.h"

/* Constants longer than this are elided under AGLM_PRINT_ELIDE_CONSTANTS. */
#define ELIDE_LIMIT 16
/* Elements per line of long constant data. */
#define PER_LINE 16

static const char *const reserved[] = {"graph", "opset",  "meta",    "const",   "value",  "tensor",
                                       "ints",  "floats", "strings", "tensors", "graphs", "true",
                                       "false", "inf",    "nan",     "_"};

int ir_is_reserved(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
            return 1;
    return 0;
}

static int ident_span(const char *s, size_t len)
{
    if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

int ir_is_ident(const char *s)
{
    return s && ident_span(s, strlen(s));
}

int ir_is_bare_value(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

int ir_is_bare_domain(const char *s)
{
    const char *seg = s;
    for (;; s++) {
        if (*s == '.' || !*s) {
            if (!ident_span(seg, (size_t)(s - seg)) || ir_is_reserved(seg, (size_t)(s - seg)))
                return 0;
            if (!*s)
                return 1;
            seg = s + 1;
        }
    }
}

/* ---- output buffer ----------------------------------------------------------------------- */

static int sb_reserve(strbuf *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (sb->len + extra + 1 > sb->cap &&
        grow_array((void **)&sb->buf, &sb->cap, sb->len + extra + 1, 1)) {
        sb->failed = 1;
        return -1;
    }
    return 0;
}

void sb_putc(strbuf *sb, char c)
{
    if (sb_reserve(sb, 1) == 0) {
        sb->buf[sb->len++] = c;
        sb->buf[sb->len] = '\0';
    }
}

void sb_puts(strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    if (sb_reserve(sb, n) == 0) {
        memcpy(sb->buf + sb->len, s, n + 1);
        sb->len += n;
    }
}

void sb_printf(strbuf *sb, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_puts(sb, small);
        return;
    }
    if (sb_reserve(sb, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void sb_quoted(strbuf *sb, const char *s, size_t len)
{
    sb_putc(sb, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sb_putc(sb, '\\');
            sb_putc(sb, (char)c);
        } else if (c == '\n') {
            sb_puts(sb, "\\n");
        } else if (c == '\t') {
            sb_puts(sb, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            sb_printf(sb, "\\x%02x", c);
        } else {
            sb_putc(sb, (char)c); /* UTF-8 passes through, so non-ASCII names stay readable */
        }
    }
    sb_putc(sb, '"');
}

void sb_name(strbuf *sb, const char *s)
{
    if (ir_is_ident(s))
        sb_puts(sb, s);
    else
        sb_quoted(sb, s, strlen(s));
}

static void sb_indent(strbuf *sb, int n)
{
    for (int i = 0; i < n; i++)
        sb_putc(sb, ' ');
}

/* ---- pieces ------------------------------------------------------------------------------ */

static void print_value_ref(strbuf *sb, const aglm_value *v)
{
    sb_putc(sb, '%');
    if (ir_is_bare_value(v->name))
        sb_puts(sb, v->name);
    else
        sb_quoted(sb, v->name, strlen(v->name));
}

static void print_dtype(strbuf *sb, aglm_dtype dt)
{
    sb_puts(sb, dt == AGLM_UNDEFINED ? "?" : aglm_dtype_name(dt));
}

/* "f32[N,3,?]"; "f32" for an unknown shape. */
static void print_type(strbuf *sb, const aglm_value *v)
{
    print_dtype(sb, v->dtype);
    if (v->rank < 0)
        return;
    sb_putc(sb, '[');
    for (int i = 0; i < v->rank; i++) {
        if (i)
            sb_putc(sb, ',');
        if (v->dims[i].value >= 0)
            sb_printf(sb, "%lld", (long long)v->dims[i].value);
        else if (v->dims[i].sym)
            sb_name(sb, v->dims[i].sym);
        else
            sb_putc(sb, '?');
    }
    sb_putc(sb, ']');
}

/* ": type", left out for a value of unknown dtype and shape. */
static void print_decl(strbuf *sb, const aglm_value *v)
{
    print_value_ref(sb, v);
    if (v->dtype == AGLM_UNDEFINED && v->rank < 0)
        return;
    sb_puts(sb, ": ");
    print_type(sb, v);
}

static void print_tensor_type(strbuf *sb, const aglm_tensor *t)
{
    print_dtype(sb, t->dtype);
    sb_putc(sb, '[');
    for (int i = 0; i < t->rank; i++)
        sb_printf(sb, i ? ",%lld" : "%lld", (long long)t->dims[i]);
    sb_putc(sb, ']');
}

/* The shortest of %.6g .. %.9g that reads back to the same f32 (or, with `half`, to the same
 * f16/bf16 bits): exact like %.9g, but "0.1" rather than "0.100000001". */
static void fmt_f32(char *buf, size_t size, float f, aglm_dtype half)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)f);
        if (isnan(f))
            return;
        float back = strtof(buf, NULL);
        if (half == AGLM_F16    ? aglm_f32_to_f16(back) == aglm_f32_to_f16(f)
            : half == AGLM_BF16 ? aglm_f32_to_bf16(back) == aglm_f32_to_bf16(f)
                                : memcmp(&back, &f, sizeof f) == 0)
            return;
    }
}

static void fmt_f64(char *buf, size_t size, double d)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (isnan(d))
            return;
        double back = strtod(buf, NULL);
        if (memcmp(&back, &d, sizeof d) == 0)
            return;
    }
}

static void print_element(strbuf *sb, const aglm_tensor *t, int64_t i)
{
    const unsigned char *p = (const unsigned char *)t->data + (size_t)i * aglm_dtype_size(t->dtype);
    union {
        float f;
        double d;
        int8_t i8;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
    } e;
    memcpy(&e, p, aglm_dtype_size(t->dtype));
    char buf[48];
    switch (t->dtype) {
    case AGLM_F32:
        fmt_f32(buf, sizeof buf, e.f, AGLM_F32);
        sb_puts(sb, buf);
        break;
    case AGLM_F64:
        fmt_f64(buf, sizeof buf, e.d);
        sb_puts(sb, buf);
        break;
    /* Every f16 and bf16 value is exact in f32, so the f32 text carries it exactly. */
    case AGLM_F16:
        fmt_f32(buf, sizeof buf, aglm_f16_to_f32(e.u16), AGLM_F16);
        sb_puts(sb, buf);
        break;
    case AGLM_BF16:
        fmt_f32(buf, sizeof buf, aglm_bf16_to_f32(e.u16), AGLM_BF16);
        sb_puts(sb, buf);
        break;
    case AGLM_I8: sb_printf(sb, "%d", e.i8); break;
    case AGLM_U8: sb_printf(sb, "%u", e.u8); break;
    case AGLM_I16: sb_printf(sb, "%d", e.i16); break;
    case AGLM_U16: sb_printf(sb, "%u", e.u16); break;
    case AGLM_I32: sb_printf(sb, "%ld", (long)e.i32); break;
    case AGLM_U32: sb_printf(sb, "%lu", (unsigned long)e.u32); break;
    case AGLM_I64: sb_printf(sb, "%lld", (long long)e.i64); break;
    case AGLM_U64: sb_printf(sb, "%llu", (unsigned long long)e.u64); break;
    case AGLM_BOOL: sb_puts(sb, e.u8 ? "true" : "false"); break;
    default: sb_putc(sb, '?'); break;
    }
}

/* "[1, 2, 3]", wrapped every PER_LINE elements at `indent`, or "<N elements>" when elided or
 * when the data cannot be read here (not on the CPU). */
static void print_data(strbuf *sb, const aglm_tensor *t, int indent, unsigned flags)
{
    int64_t n = aglm_tensor_numel(t);
    if (((flags & AGLM_PRINT_ELIDE_CONSTANTS) && n > ELIDE_LIMIT) || t->device != AGLM_DEVICE_CPU ||
        (!t->data && n > 0) || aglm_dtype_size(t->dtype) == 0) {
        sb_printf(sb, "<%lld elements>", (long long)n);
        return;
    }
    sb_putc(sb, '[');
    for (int64_t i = 0; i < n && !sb->failed; i++) {
        if (n > PER_LINE && i % PER_LINE == 0) {
            if (i)
                sb_putc(sb, ',');
            sb_putc(sb, '\n');
            sb_indent(sb, indent);
        } else if (i) {
            sb_puts(sb, ", ");
        }
        print_element(sb, t, i);
    }
    sb_putc(sb, ']');
}

/* Floats in attributes always look like floats ("1.0", not "1"), so INT and FLOAT stay apart. */
static void print_attr_float(strbuf *sb, float f)
{
    char buf[48];
    fmt_f32(buf, sizeof buf, f, AGLM_F32);
    sb_puts(sb, buf);
    if (isfinite(f) && !strpbrk(buf, ".e"))
        sb_puts(sb, ".0");
}

static void print_tensor_literal(strbuf *sb, const aglm_tensor *t, int indent, unsigned flags)
{
    sb_puts(sb, "tensor ");
    print_tensor_type(sb, t);
    sb_putc(sb, ' ');
    print_data(sb, t, indent, flags);
}

static void print_attr(strbuf *sb, const aglm_attr *a, int indent, unsigned flags)
{
    static const char *const empty_kind[] = {[AGLM_ATTR_FLOATS] = "floats",
                                             [AGLM_ATTR_INTS] = "ints",
                                             [AGLM_ATTR_STRINGS] = "strings",
                                             [AGLM_ATTR_TENSORS] = "tensors",
                                             [AGLM_ATTR_GRAPHS] = "graphs"};
    sb_name(sb, a->name);
    sb_putc(sb, '=');
    switch (a->type) {
    case AGLM_ATTR_INT: sb_printf(sb, "%lld", (long long)a->i); return;
    case AGLM_ATTR_FLOAT: print_attr_float(sb, a->f); return;
    case AGLM_ATTR_STRING: sb_quoted(sb, a->s, a->s_len); return;
    case AGLM_ATTR_TENSOR: print_tensor_literal(sb, &a->t, indent + 4, flags); return;
    case AGLM_ATTR_GRAPH: ir_print_graph(sb, a->g, indent, flags); return;
    default: break;
    }
    if (a->type < AGLM_ATTR_FLOATS || a->type > AGLM_ATTR_GRAPHS) {
        sb_puts(sb, "?"); /* unreachable through the API; the verifier reports it */
        return;
    }
    if (!a->count)
        sb_puts(sb, empty_kind[a->type]); /* an empty list needs its kind spelled out */
    sb_putc(sb, '[');
    for (size_t i = 0; i < a->count; i++) {
        if (i)
            sb_puts(sb, ", ");
        switch (a->type) {
        case AGLM_ATTR_FLOATS: print_attr_float(sb, a->floats[i]); break;
        case AGLM_ATTR_INTS: sb_printf(sb, "%lld", (long long)a->ints[i]); break;
        case AGLM_ATTR_STRINGS: sb_quoted(sb, a->strings[i], strlen(a->strings[i])); break;
        case AGLM_ATTR_TENSORS: print_tensor_literal(sb, &a->tensors[i], indent + 4, flags); break;
        default: ir_print_graph(sb, a->graphs[i], indent, flags); break;
        }
    }
    sb_putc(sb, ']');
}

static void print_op(strbuf *sb, const aglm_node *n)
{
    if (n->domain[0]) {
        if (ir_is_bare_domain(n->domain))
            sb_puts(sb, n->domain);
        else
            sb_quoted(sb, n->domain, strlen(n->domain));
        sb_putc(sb, '.');
    }
    /* An op can start a statement, where a keyword would be read as one: quote those. */
    if (ir_is_ident(n->op) && !ir_is_reserved(n->op, strlen(n->op)))
        sb_puts(sb, n->op);
    else
        sb_quoted(sb, n->op, strlen(n->op));
}

static void print_node(strbuf *sb, const aglm_node *n, int indent, unsigned flags)
{
    sb_indent(sb, indent);
    for (size_t i = 0; i < n->n_out; i++) {
        if (i)
            sb_puts(sb, ", ");
        if (n->out[i])
            print_decl(sb, n->out[i]);
        else
            sb_putc(sb, '_');
    }
    if (n->n_out)
        sb_puts(sb, " = ");
    print_op(sb, n);
    sb_putc(sb, '(');
    for (size_t i = 0; i < n->n_in; i++) {
        if (i)
            sb_puts(sb, ", ");
        if (n->in[i])
            print_value_ref(sb, n->in[i]);
        else
            sb_putc(sb, '_');
    }
    sb_putc(sb, ')');
    if (n->n_attrs) {
        sb_puts(sb, " {");
        for (size_t i = 0; i < n->n_attrs; i++) {
            if (i)
                sb_puts(sb, ", ");
            print_attr(sb, n->attrs[i], indent, flags);
        }
        sb_putc(sb, '}');
    }
    if (!n->fresh_name) {
        sb_puts(sb, " @");
        sb_name(sb, n->name);
    }
    sb_putc(sb, '\n');
}

static void print_const(strbuf *sb, const aglm_value *v, int indent, unsigned flags)
{
    sb_indent(sb, indent);
    sb_puts(sb, "const ");
    print_value_ref(sb, v);
    sb_puts(sb, ": ");
    print_tensor_type(sb, &v->cst);
    sb_puts(sb, " = ");
    print_data(sb, &v->cst, indent + 4, flags);
    sb_putc(sb, '\n');
}

/* `indent` is where the enclosing statement starts: the body goes 4 deeper, the closing brace
 * 2 deeper, so nested graphs stand out from the attributes around them. A top-level graph
 * (indent -2) gets a body at 2 and its brace at column 0. */
void ir_print_graph(strbuf *sb, const aglm_graph *g, int indent, unsigned flags)
{
    int body = indent + 4, close = indent + 2;
    sb_puts(sb, "graph ");
    sb_name(sb, g->name);
    sb_putc(sb, '(');
    for (size_t i = 0; i < g->n_inputs; i++) {
        if (i)
            sb_puts(sb, ", ");
        print_decl(sb, g->inputs[i]);
    }
    sb_puts(sb, ") -> (");
    for (size_t i = 0; i < g->n_outputs; i++) {
        if (i)
            sb_puts(sb, ", ");
        print_decl(sb, g->outputs[i]);
    }
    sb_puts(sb, ") {\n");
    for (size_t i = 0; i < g->n_opsets; i++) {
        sb_indent(sb, body);
        sb_puts(sb, "opset ");
        const char *d = g->opset_domains[i][0] ? g->opset_domains[i] : "ai.onnx";
        if (ir_is_bare_domain(d))
            sb_puts(sb, d);
        else
            sb_quoted(sb, d, strlen(d));
        sb_printf(sb, " %lld\n", (long long)g->opset_versions[i]);
    }
    for (size_t i = 0; i < g->n_meta; i++) {
        sb_indent(sb, body);
        sb_puts(sb, "meta ");
        sb_name(sb, g->meta_keys[i]);
        sb_puts(sb, " = ");
        sb_quoted(sb, g->meta_vals[i], strlen(g->meta_vals[i]));
        sb_putc(sb, '\n');
    }
    /* Constant inputs first, in input order: the parser creates inputs before anything else, so
     * this is the order it will hold them in, and the text prints the same again. */
    for (size_t i = 0; i < g->n_inputs; i++)
        if (g->inputs[i]->has_const)
            print_const(sb, g->inputs[i], body, flags);
    for (size_t i = 0; i < g->n_values; i++)
        if (g->values[i]->has_const && !g->values[i]->is_input)
            print_const(sb, g->values[i], body, flags);
    for (size_t i = 0; i < g->n_values; i++) {
        const aglm_value *v = g->values[i];
        if (!v->producer && !v->is_input && !v->has_const) {
            sb_indent(sb, body);
            sb_puts(sb, "value ");
            print_decl(sb, v);
            sb_putc(sb, '\n');
        }
    }
    for (size_t i = 0; i < g->n_nodes; i++)
        print_node(sb, g->nodes[i], body, flags);
    sb_indent(sb, close);
    sb_putc(sb, '}');
}

char *aglm_graph_to_text(const aglm_graph *g, unsigned flags)
{
    if (!g) {
        aglm_error(AGLM_ERR_INVALID, "to_text: graph is NULL");
        return NULL;
    }
    strbuf sb = {0};
    ir_print_graph(&sb, g, -2, flags);
    sb_putc(&sb, '\n');
    if (sb.failed) {
        free(sb.buf);
        aglm_error(AGLM_ERR_NOMEM, "graph '%s': out of memory printing", g->name);
        return NULL;
    }
    return sb.buf;
}

aglm_status aglm_graph_print(const aglm_graph *g, FILE *f, unsigned flags)
{
    if (!g || !f)
        return aglm_error(AGLM_ERR_INVALID, "print: graph or file is NULL");
    char *text = aglm_graph_to_text(g, flags);
    if (!text)
        return AGLM_ERR_NOMEM;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    free(text);
    if (!ok)
        return aglm_error(AGLM_ERR_IO, "graph '%s': writing the text form failed", g->name);
    return AGLM_OK;
}
