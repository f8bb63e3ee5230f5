/* libyaml document-tree reader: parses into yaml_document_t (which keeps a mark per node, so
 * every later error can say line and column) and resolves plain scalars by the YAML 1.2 core
 * schema, so `3` is an integer, `3.0` a float and `"3"` a string. */
#include "ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libyaml marks count from 0; editors count from 1. */
#define LINE(m) ((unsigned long)(m).line + 1)
#define COL(m) ((unsigned long)(m).column + 1)

static aglm_status parser_error(const char *path, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "unknown error";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory while parsing yaml", path);
    case YAML_READER_ERROR:
        return aglm_error(AGLM_ERR_PARSE, "%s: malformed yaml: %s at byte %zu", path, problem,
                          p->problem_offset);
    default:
        if (p->context)
            return aglm_error(AGLM_ERR_PARSE,
                              "%s:%lu:%lu: malformed yaml: %s (%s at line %lu column %lu)", path,
                              LINE(p->problem_mark), COL(p->problem_mark), problem, p->context,
                              LINE(p->context_mark), COL(p->context_mark));
        return aglm_error(AGLM_ERR_PARSE, "%s:%lu:%lu: malformed yaml: %s", path,
                          LINE(p->problem_mark), COL(p->problem_mark), problem);
    }
}

aglm_status ydoc_parse(ydoc *d, const char *path, const unsigned char *text, size_t len)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory while parsing yaml", path);
    yaml_parser_set_input_string(&p, text, len);
    if (!yaml_parser_load(&p, &d->doc)) {
        aglm_status st = parser_error(path, &p);
        yaml_parser_delete(&p);
        memset(&d->doc, 0, sizeof d->doc);
        return st;
    }
    if (!yaml_document_get_root_node(&d->doc)) {
        yaml_document_delete(&d->doc);
        yaml_parser_delete(&p);
        return aglm_error(AGLM_ERR_PARSE, "%s: empty file: no yaml document in it", path);
    }
    /* A second document would be silently ignored; say so instead, and parse it so a syntax
     * error after the first document is reported too. */
    yaml_document_t extra;
    if (!yaml_parser_load(&p, &extra)) {
        aglm_status st = parser_error(path, &p);
        yaml_parser_delete(&p);
        ydoc_free(d);
        return st;
    }
    yaml_node_t *second = yaml_document_get_root_node(&extra);
    if (second) {
        yaml_mark_t m = second->start_mark;
        yaml_document_delete(&extra);
        yaml_parser_delete(&p);
        ydoc_free(d);
        return aglm_error(AGLM_ERR_PARSE,
                          "%s:%lu:%lu: a second yaml document; a model file holds one", path,
                          LINE(m), COL(m));
    }
    yaml_document_delete(&extra);
    yaml_parser_delete(&p);
    return AGLM_OK;
}

void ydoc_free(ydoc *d)
{
    if (d->doc.nodes.start)
        yaml_document_delete(&d->doc);
    memset(&d->doc, 0, sizeof d->doc);
}

yaml_node_t *ydoc_root(ydoc *d)
{
    return yaml_document_get_root_node(&d->doc);
}

static aglm_status vfail(const ydoc *d, const yaml_node_t *n, aglm_status st, const char *fmt,
                         va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return aglm_error(st, "%s: (message lost: out of memory)", d->path);
    if (n)
        st =
            aglm_error(st, "%s:%lu:%lu: %s", d->path, LINE(n->start_mark), COL(n->start_mark), msg);
    else
        st = aglm_error(st, "%s: %s", d->path, msg);
    free(msg);
    return st;
}

aglm_status ydoc_fail(const ydoc *d, const yaml_node_t *n, aglm_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st = vfail(d, n, st, fmt, ap);
    va_end(ap);
    return st;
}

aglm_status ydoc_wrap(const ydoc *d, const yaml_node_t *n, aglm_status st)
{
    if (!n)
        return aglm_error_wrap(st, "%s", d->path);
    return aglm_error_wrap(st, "%s:%lu:%lu", d->path, LINE(n->start_mark), COL(n->start_mark));
}

int ydoc_is_map(const yaml_node_t *n)
{
    return n && n->type == YAML_MAPPING_NODE;
}

int ydoc_is_seq(const yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE;
}

int ydoc_is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

int ydoc_is_null(const yaml_node_t *n)
{
    return ydoc_is_scalar(n) && ydoc_scalar_kind(n) == YS_NULL;
}

static int key_is(const yaml_node_t *k, const char *key)
{
    size_t len = strlen(key);
    return k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
           memcmp(k->data.scalar.value, key, len) == 0;
}

yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *m, const char *key)
{
    if (!ydoc_is_map(m))
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (key_is(yaml_document_get_node(&d->doc, p->key), key))
            return yaml_document_get_node(&d->doc, p->value);
    return NULL;
}

size_t ydoc_map_len(const yaml_node_t *m)
{
    return ydoc_is_map(m) ? (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) : 0;
}

void ydoc_map_pair(ydoc *d, const yaml_node_t *m, size_t i, yaml_node_t **key, yaml_node_t **value)
{
    const yaml_node_pair_t *p = &m->data.mapping.pairs.start[i];
    *key = yaml_document_get_node(&d->doc, p->key);
    *value = yaml_document_get_node(&d->doc, p->value);
}

size_t ydoc_seq_len(const yaml_node_t *s)
{
    return ydoc_is_seq(s) ? (size_t)(s->data.sequence.items.top - s->data.sequence.items.start) : 0;
}

yaml_node_t *ydoc_seq_item(ydoc *d, const yaml_node_t *s, size_t i)
{
    return yaml_document_get_node(&d->doc, s->data.sequence.items.start[i]);
}

/* ---- scalars --------------------------------------------------------------------------- */

static int all_in(const char *s, const char *set)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr(set, *s))
            return 0;
    return 1;
}

static int one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const inf_words[] = {".inf", ".Inf", ".INF", NULL};
static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};

static int is_int_text(const char *s)
{
    if (strncmp(s, "0o", 2) == 0)
        return all_in(s + 2, "01234567");
    if (strncmp(s, "0x", 2) == 0)
        return all_in(s + 2, "0123456789abcdefABCDEF");
    if (*s == '-' || *s == '+')
        s++;
    return all_in(s, "0123456789");
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?  or .inf / .nan */
static int is_float_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (one_of(s, inf_words))
        return 1;
    if (one_of(s, nan_words))
        return s[-1] != '-' && s[-1] != '+';
    size_t digits = 0;
    while (*s >= '0' && *s <= '9')
        s++, digits++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9')
            s++, digits++;
    }
    if (digits == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Plain scalars follow the core schema unless an explicit tag says otherwise. */
static const char *explicit_tag(const yaml_node_t *n)
{
    const char *tag = (const char *)n->tag;
    if (!tag || strcmp(tag, YAML_DEFAULT_SCALAR_TAG) == 0)
        return NULL;
    return tag;
}

yscalar_kind ydoc_scalar_kind(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    const char *tag = explicit_tag(n);
    if (tag) {
        if (strcmp(tag, YAML_INT_TAG) == 0)
            return YS_INT;
        if (strcmp(tag, YAML_FLOAT_TAG) == 0)
            return YS_FLOAT;
        if (strcmp(tag, YAML_BOOL_TAG) == 0)
            return YS_BOOL;
        if (strcmp(tag, YAML_NULL_TAG) == 0)
            return YS_NULL;
        return YS_STRING;
    }
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || strlen(s) != n->data.scalar.length)
        return YS_STRING;
    if (one_of(s, null_words))
        return YS_NULL;
    if (one_of(s, true_words) || one_of(s, false_words))
        return YS_BOOL;
    if (is_int_text(s))
        return YS_INT;
    if (is_float_text(s))
        return YS_FLOAT;
    return YS_STRING;
}

const char *ydoc_kind_name(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SCALAR_NODE:
        switch (ydoc_scalar_kind(n)) {
        case YS_NULL: return "null";
        case YS_BOOL: return "a bool";
        case YS_INT: return "an integer";
        case YS_FLOAT: return "a float";
        case YS_STRING: return "a string";
        }
        break;
    default: break;
    }
    return "nothing";
}

aglm_status ydoc_check_map(ydoc *d, const yaml_node_t *m, const char *what,
                           const char *const *allowed)
{
    if (!ydoc_is_map(m))
        return ydoc_fail(d, m, AGLM_ERR_PARSE, "%s must be a mapping, not %s", what,
                         ydoc_kind_name(m));
    size_t n = ydoc_map_len(m);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k, *v;
        ydoc_map_pair(d, m, i, &k, &v);
        if (!ydoc_is_scalar(k))
            return ydoc_fail(d, k, AGLM_ERR_PARSE, "%s: a key must be a plain word, not %s", what,
                             ydoc_kind_name(k));
        const char *key = (const char *)k->data.scalar.value;
        size_t j = 0;
        while (allowed[j] && !key_is(k, allowed[j]))
            j++;
        if (!allowed[j]) {
            char list[512] = "";
            size_t used = 0;
            for (j = 0; allowed[j] && used < sizeof list; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         allowed[j]);
            return ydoc_fail(d, k, AGLM_ERR_PARSE, "unknown key '%s' in %s (expected one of: %s)",
                             key, what, list);
        }
        for (size_t q = 0; q < i; q++) {
            yaml_node_t *k2, *v2;
            ydoc_map_pair(d, m, q, &k2, &v2);
            if (key_is(k2, key))
                return ydoc_fail(d, k, AGLM_ERR_PARSE, "duplicate key '%s' in %s", key, what);
        }
    }
    return AGLM_OK;
}

aglm_status ydoc_expect_seq(ydoc *d, const yaml_node_t *n, const char *what)
{
    if (ydoc_is_seq(n))
        return AGLM_OK;
    return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s must be a list, not %s", what, ydoc_kind_name(n));
}

aglm_status ydoc_text(ydoc *d, const yaml_node_t *n, const char *what, const char **out)
{
    /* Names like `1` or `true` are fine as text; only null and collections are not. */
    if (!ydoc_is_scalar(n) || ydoc_scalar_kind(n) == YS_NULL)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s must be a string, not %s", what,
                         ydoc_kind_name(n));
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s contains a NUL character", what);
    *out = (const char *)n->data.scalar.value;
    return AGLM_OK;
}

aglm_status ydoc_int(ydoc *d, const yaml_node_t *n, const char *what, int64_t *out)
{
    if (!ydoc_is_scalar(n) || ydoc_scalar_kind(n) != YS_INT)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s must be an integer, not %s", what,
                         ydoc_kind_name(n));
    const char *s = (const char *)n->data.scalar.value;
    int base = 10;
    if (strncmp(s, "0o", 2) == 0)
        base = 8, s += 2;
    else if (strncmp(s, "0x", 2) == 0)
        base = 16, s += 2;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno == ERANGE || end == s || *end)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s: '%s' is not a 64-bit integer", what,
                         (const char *)n->data.scalar.value);
    *out = (int64_t)v;
    return AGLM_OK;
}

aglm_status ydoc_float(ydoc *d, const yaml_node_t *n, const char *what, double *out)
{
    yscalar_kind k = ydoc_is_scalar(n) ? ydoc_scalar_kind(n) : YS_NULL;
    if (k == YS_INT) {
        int64_t i;
        aglm_status st = ydoc_int(d, n, what, &i);
        if (st == AGLM_OK)
            *out = (double)i;
        return st;
    }
    if (!ydoc_is_scalar(n) || k != YS_FLOAT)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s must be a number, not %s", what,
                         ydoc_kind_name(n));
    const char *s = (const char *)n->data.scalar.value;
    const char *body = (*s == '-' || *s == '+') ? s + 1 : s;
    if (one_of(body, inf_words)) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return AGLM_OK;
    }
    if (one_of(body, nan_words)) {
        *out = NAN;
        return AGLM_OK;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    /* Underflow to zero or a denormal is fine; overflow to infinity is not what was written. */
    if (end == s || *end || (errno == ERANGE && isinf(v)))
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s: '%s' is out of range", what, s);
    *out = v;
    return AGLM_OK;
}

aglm_status ydoc_bool(ydoc *d, const yaml_node_t *n, const char *what, int *out)
{
    if (!ydoc_is_scalar(n) || ydoc_scalar_kind(n) != YS_BOOL)
        return ydoc_fail(d, n, AGLM_ERR_PARSE, "%s must be true or false, not %s", what,
                         ydoc_kind_name(n));
    *out = one_of((const char *)n->data.scalar.value, true_words);
    return AGLM_OK;
}
