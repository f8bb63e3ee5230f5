/* The IR text parser's literals: errors with line and column, names, numbers, types and
 * constant data. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir_parse.h"

/* ---- errors and token helpers ------------------------------------------------------------ */

aglm_status ir_err_at(int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return aglm_error(AGLM_ERR_PARSE, "line %d, column %d: %s", line, col, msg);
}

aglm_status ir_unexpected(parser *p, const char *expected)
{
    const token *t = &p->lx.cur;
    if (t->kind == T_ERROR)
        return ir_err_at(t->line, t->col, "%s", p->lx.err);
    char found[80];
    return ir_err_at(t->line, t->col, "expected %s but found %s", expected,
                     lex_describe(t, found, sizeof found));
}

/* Wraps an error from the graph API with the place in the text it came from. */
aglm_status ir_api_err(const token *t, aglm_status st)
{
    return aglm_error_wrap(st == AGLM_OK ? AGLM_ERR_INTERNAL : st, "line %d, column %d", t->line,
                           t->col);
}

aglm_status ir_nomem_at(const token *t)
{
    return ir_err_at(t->line, t->col, "out of memory");
}

aglm_status ir_expect(parser *p, char c)
{
    char what[8] = {'\'', c, '\'', 0};
    if (!tok_punct(&p->lx.cur, c))
        return ir_unexpected(p, what);
    lex_next(&p->lx);
    return AGLM_OK;
}

int ir_accept(parser *p, char c)
{
    if (!tok_punct(&p->lx.cur, c))
        return 0;
    lex_next(&p->lx);
    return 1;
}

/* A name: an identifier or a quoted string (without NUL bytes). */
aglm_status ir_parse_name(parser *p, const char *what, char **out)
{
    const token *t = &p->lx.cur;
    *out = NULL;
    if (t->kind != T_IDENT && t->kind != T_STRING)
        return ir_unexpected(p, what);
    int has_nul;
    *out = lex_name(t, &has_nul);
    if (!*out)
        return has_nul ? ir_err_at(t->line, t->col, "%s cannot contain a NUL byte", what)
                       : ir_nomem_at(t);
    lex_next(&p->lx);
    return AGLM_OK;
}

aglm_status ir_parse_value_name(parser *p, char **out)
{
    const token *t = &p->lx.cur;
    *out = NULL;
    if (t->kind != T_VALUE)
        return ir_unexpected(p, "a value (%name)");
    int has_nul;
    *out = lex_name(t, &has_nul);
    if (!*out)
        return has_nul ? ir_err_at(t->line, t->col, "a value name cannot contain a NUL byte")
                       : ir_nomem_at(t);
    if (!**out) {
        free(*out);
        *out = NULL;
        return ir_err_at(t->line, t->col, "a value name cannot be empty");
    }
    lex_next(&p->lx);
    return AGLM_OK;
}

/* Copies a number token into buf (NUL-terminated) for strto*. */
static aglm_status number_text(const token *t, char *buf, size_t size)
{
    if (t->len >= size)
        return ir_err_at(t->line, t->col, "number is too long");
    memcpy(buf, t->start, t->len);
    buf[t->len] = '\0';
    return AGLM_OK;
}

int ir_is_float_word(const token *t)
{
    return tok_is(t, "inf") || tok_is(t, "nan");
}

aglm_status ir_parse_i64(parser *p, int64_t *out)
{
    const token *t = &p->lx.cur;
    char buf[64];
    if (t->kind != T_NUMBER || t->is_float)
        return ir_unexpected(p, "an integer");
    aglm_status st = number_text(t, buf, sizeof buf);
    if (st != AGLM_OK)
        return st;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return ir_err_at(t->line, t->col, "integer %s does not fit in 64 bits", buf);
    *out = v;
    lex_next(&p->lx);
    return AGLM_OK;
}

/* A number or inf/nan as a double (floats parse with strtof where exactness matters). */
aglm_status ir_float_text(parser *p, char *buf, size_t size)
{
    const token *t = &p->lx.cur;
    if (t->kind != T_NUMBER && !ir_is_float_word(t))
        return ir_unexpected(p, "a number");
    return number_text(t, buf, size);
}

/* ---- types ------------------------------------------------------------------------------- */

static aglm_status parse_dtype(parser *p, aglm_dtype *dt)
{
    const token *t = &p->lx.cur;
    if (tok_punct(t, '?')) {
        *dt = AGLM_UNDEFINED;
        lex_next(&p->lx);
        return AGLM_OK;
    }
    if (t->kind != T_IDENT)
        return ir_unexpected(p, "a dtype (f32, i64, ...)");
    char buf[32];
    if (t->len >= sizeof buf)
        return ir_err_at(t->line, t->col, "unknown dtype '%.*s'", 31, t->start);
    memcpy(buf, t->start, t->len);
    buf[t->len] = '\0';
    *dt = aglm_dtype_from_name(buf);
    if (*dt == AGLM_UNDEFINED)
        return ir_err_at(t->line, t->col, "unknown dtype '%s'", buf);
    lex_next(&p->lx);
    return AGLM_OK;
}

/* dtype ['[' dims ']']; symbols are interned into g's tree right away. */
aglm_status ir_parse_type(parser *p, aglm_graph *g, ptype *ty)
{
    memset(ty, 0, sizeof *ty);
    ty->rank = -1;
    aglm_status st = parse_dtype(p, &ty->dt);
    if (st != AGLM_OK || !ir_accept(p, '['))
        return st;
    ty->rank = 0;
    if (ir_accept(p, ']'))
        return AGLM_OK;
    do {
        const token *t = &p->lx.cur;
        if (ty->rank == AGLM_MAX_RANK)
            return ir_err_at(t->line, t->col, "rank exceeds the maximum of %d", AGLM_MAX_RANK);
        aglm_dim *d = &ty->dims[ty->rank++];
        d->value = AGLM_DIM_DYNAMIC;
        d->sym = NULL;
        if (ir_accept(p, '?'))
            continue;
        if (t->kind == T_NUMBER) {
            if ((st = ir_parse_i64(p, &d->value)) != AGLM_OK)
                return st;
            if (d->value < 0)
                return ir_err_at(t->line, t->col, "a dim cannot be negative");
            continue;
        }
        int line = t->line, col = t->col;
        char *sym;
        if ((st = ir_parse_name(p, "a dim (number, symbol or '?')", &sym)) != AGLM_OK)
            return st;
        d->sym = sym[0] ? shared_intern(g->shared, sym) : NULL;
        free(sym);
        if (!d->sym)
            return ir_err_at(line, col, "a symbolic dim needs a name");
    } while (ir_accept(p, ','));
    return ir_expect(p, ']');
}

int ir_type_equal(const ptype *t, const aglm_value *v)
{
    if (t->dt != v->dtype || t->rank != v->rank)
        return 0;
    for (int i = 0; i < t->rank; i++) {
        const aglm_dim *a = &t->dims[i], *b = &v->dims[i];
        if (a->value != b->value || !a->sym != !b->sym || (a->sym && strcmp(a->sym, b->sym) != 0))
            return 0;
    }
    return 1;
}

const char *ir_ptype_str(const ptype *t, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "%s", t->dt ? aglm_dtype_name(t->dt) : "?");
    for (int i = 0; i < t->rank && len < size; i++) {
        const aglm_dim *d = &t->dims[i];
        const char *sep = i ? "," : "[";
        if (d->value >= 0)
            len += (size_t)snprintf(buf + len, size - len, "%s%lld", sep, (long long)d->value);
        else
            len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, d->sym ? d->sym : "?");
    }
    if (t->rank >= 0 && len < size)
        snprintf(buf + len, size - len, "%s]", t->rank ? "" : "[");
    return buf;
}

/* ---- constant data ----------------------------------------------------------------------- */

/* Parses one element of dtype dt into out (dtype-sized). */
static aglm_status parse_element(parser *p, aglm_dtype dt, void *out)
{
    const token *t = &p->lx.cur;
    char buf[80];
    aglm_status st;
    if (dt == AGLM_BOOL) {
        uint8_t b;
        if (tok_is(t, "true") || tok_is(t, "false"))
            b = tok_is(t, "true");
        else if (t->kind == T_NUMBER && t->len == 1 && (t->start[0] == '0' || t->start[0] == '1'))
            b = t->start[0] == '1';
        else
            return ir_unexpected(p, "true or false");
        memcpy(out, &b, 1);
        lex_next(&p->lx);
        return AGLM_OK;
    }
    if (aglm_dtype_is_float(dt)) {
        if ((st = ir_float_text(p, buf, sizeof buf)) != AGLM_OK)
            return st;
        if (dt == AGLM_F64) {
            double d = strtod(buf, NULL);
            memcpy(out, &d, sizeof d);
        } else {
            float f = strtof(buf, NULL);
            if (dt == AGLM_F32) {
                memcpy(out, &f, sizeof f);
            } else {
                unsigned short h = dt == AGLM_F16 ? aglm_f32_to_f16(f) : aglm_f32_to_bf16(f);
                memcpy(out, &h, sizeof h);
            }
        }
        lex_next(&p->lx);
        return AGLM_OK;
    }
    if (t->kind != T_NUMBER || t->is_float)
        return ir_unexpected(p, "an integer");
    if ((st = number_text(t, buf, sizeof buf)) != AGLM_OK)
        return st;
    int neg = buf[0] == '-';
    errno = 0;
    long long s = neg ? strtoll(buf, NULL, 10) : 0;
    unsigned long long u = neg ? 0 : strtoull(buf, NULL, 10);
    int range = errno != ERANGE;
    switch (dt) {
    case AGLM_I8: range &= neg ? s >= INT8_MIN : u <= INT8_MAX; break;
    case AGLM_I16: range &= neg ? s >= INT16_MIN : u <= INT16_MAX; break;
    case AGLM_I32: range &= neg ? s >= INT32_MIN : u <= INT32_MAX; break;
    case AGLM_I64: range &= neg ? 1 : u <= INT64_MAX; break;
    case AGLM_U8: range &= !neg && u <= UINT8_MAX; break;
    case AGLM_U16: range &= !neg && u <= UINT16_MAX; break;
    case AGLM_U32: range &= !neg && u <= UINT32_MAX; break;
    case AGLM_U64: range &= !neg; break;
    default:
        return ir_err_at(t->line, t->col, "dtype %s cannot hold constant data",
                         aglm_dtype_name(dt));
    }
    if (!range)
        return ir_err_at(t->line, t->col, "%s is out of range for %s", buf, aglm_dtype_name(dt));
    int64_t v = neg ? (int64_t)s : (int64_t)u; /* u64 above INT64_MAX wraps, as stored */
    size_t sz = aglm_dtype_size(dt);
    switch (sz) {
    case 1: {
        int8_t x = (int8_t)v;
        memcpy(out, &x, 1);
        break;
    }
    case 2: {
        int16_t x = (int16_t)v;
        memcpy(out, &x, 2);
        break;
    }
    case 4: {
        int32_t x = (int32_t)v;
        memcpy(out, &x, 4);
        break;
    }
    default: memcpy(out, neg ? (const void *)&v : (const void *)&u, 8); break;
    }
    lex_next(&p->lx);
    return AGLM_OK;
}

/* numel of a static shape, saturating at INT64_MAX (a too-big shape then fails the count). */
static int64_t shape_numel(const ptype *ty)
{
    int64_t n = 1;
    for (int i = 0; i < ty->rank; i++) {
        if (ty->dims[i].value == 0)
            return 0;
        n = n > INT64_MAX / ty->dims[i].value ? INT64_MAX : n * ty->dims[i].value;
    }
    return n;
}

/* '[' elements ']' for a tensor of type ty (static). Elements are collected before the tensor
 * is allocated, so a huge declared shape costs nothing until the data matches it. */
aglm_status ir_parse_data(parser *p, const ptype *ty, const char *what, aglm_tensor *t)
{
    const token *at = &p->lx.cur;
    int line = at->line, col = at->col;
    memset(t, 0, sizeof *t);
    if (tok_punct(at, '<'))
        return ir_err_at(
            line, col,
            "the data of %s was elided when printed (AGLM_PRINT_ELIDE_CONSTANTS); print the "
            "graph without that flag to parse it",
            what);
    for (int i = 0; i < ty->rank; i++)
        if (ty->dims[i].value < 0)
            return ir_err_at(line, col, "%s needs a static shape", what);
    size_t esz = aglm_dtype_size(ty->dt);
    if (!esz)
        return ir_err_at(line, col, "%s: dtype %s cannot hold data", what,
                         ty->dt ? aglm_dtype_name(ty->dt) : "?");
    aglm_status st = ir_expect(p, '[');
    if (st != AGLM_OK)
        return st;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    int64_t want = shape_numel(ty);
    if (!tok_punct(&p->lx.cur, ']')) {
        do {
            if ((int64_t)n == want) {
                st = ir_err_at(p->lx.cur.line, p->lx.cur.col,
                               "%s: more than the %lld elements its type holds", what,
                               (long long)want);
                goto fail;
            }
            if (grow_array((void **)&buf, &cap, (n + 1) * esz, 1)) {
                st = ir_nomem_at(&p->lx.cur);
                goto fail;
            }
            if ((st = parse_element(p, ty->dt, buf + n * esz)) != AGLM_OK)
                goto fail;
            n++;
        } while (ir_accept(p, ','));
    }
    if ((int64_t)n != want) {
        st = ir_err_at(line, col, "%s: %zu elements given but its type holds %lld", what, n,
                       (long long)want);
        goto fail;
    }
    if ((st = ir_expect(p, ']')) != AGLM_OK)
        goto fail;
    int64_t dims[AGLM_MAX_RANK];
    for (int i = 0; i < ty->rank; i++)
        dims[i] = ty->dims[i].value;
    if ((st = aglm_tensor_alloc(t, ty->dt, ty->rank, dims)) != AGLM_OK) {
        st = ir_api_err(at, st);
        goto fail;
    }
    if (n)
        memcpy(t->data, buf, n * esz);
    free(buf);
    return AGLM_OK;
fail:
    free(buf);
    return st;
}
