/* What makes two nodes or two constants the same, for value numbering. */
#include "cse.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull; /* FNV-1a */
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    return mix(h, s, strlen(s) + 1);
}

uint64_t cse_tensor_hash(const aglm_tensor *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix(h, &t->dtype, sizeof t->dtype);
    h = mix(h, &t->rank, sizeof t->rank);
    h = mix(h, t->dims, (size_t)t->rank * sizeof t->dims[0]);
    return mix(h, t->data, aglm_tensor_nbytes(t));
}

int cse_tensor_equal(const aglm_tensor *a, const aglm_tensor *b)
{
    if (a->dtype != b->dtype || !aglm_tensor_same_shape(a, b))
        return 0;
    size_t n = aglm_tensor_nbytes(a);
    return n == 0 || memcmp(a->data, b->data, n) == 0;
}

uint64_t cse_node_hash(const aglm_node *n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix_str(h, aglm_node_op(n));
    h = mix_str(h, aglm_node_domain(n));
    size_t n_in = aglm_node_num_inputs(n), n_attr = aglm_node_num_attrs(n);
    h = mix(h, &n_in, sizeof n_in);
    for (size_t i = 0; i < n_in; i++) {
        const aglm_value *v = aglm_node_input(n, i);
        h = mix(h, &v, sizeof v);
    }
    h = mix(h, &n_attr, sizeof n_attr);
    /* Summed, so attribute order (which equality ignores) does not change the hash. */
    uint64_t attrs = 0;
    for (size_t i = 0; i < n_attr; i++) {
        const aglm_attr *a = aglm_node_attr_at(n, i);
        aglm_attr_type k = aglm_attr_kind(a);
        uint64_t ha = mix_str(0xcbf29ce484222325ull, aglm_attr_name(a));
        ha = mix(ha, &k, sizeof k);
        if (k == AGLM_ATTR_INT) {
            int64_t v = aglm_attr_i(a);
            ha = mix(ha, &v, sizeof v);
        }
        attrs += ha;
    }
    return h ^ attrs;
}

/* Floats compare by bits, so NaN equals NaN and 0.0 differs from -0.0 (both matter to ops). */
static int floats_equal(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

static int attr_equal(const aglm_attr *a, const aglm_attr *b)
{
    aglm_attr_type k = aglm_attr_kind(a);
    if (k != aglm_attr_kind(b) || strcmp(aglm_attr_name(a), aglm_attr_name(b)) != 0)
        return 0;
    size_t na = 0, nb = 0;
    switch (k) {
    case AGLM_ATTR_INT: return aglm_attr_i(a) == aglm_attr_i(b);
    case AGLM_ATTR_FLOAT: {
        float fa = aglm_attr_f(a), fb = aglm_attr_f(b);
        return floats_equal(&fa, &fb, 1);
    }
    case AGLM_ATTR_STRING: {
        const char *sa = aglm_attr_s(a, &na), *sb = aglm_attr_s(b, &nb);
        return na == nb && memcmp(sa, sb, na) == 0;
    }
    case AGLM_ATTR_TENSOR: return cse_tensor_equal(aglm_attr_tensor(a), aglm_attr_tensor(b));
    case AGLM_ATTR_FLOATS: {
        const float *fa = aglm_attr_floats(a, &na), *fb = aglm_attr_floats(b, &nb);
        return na == nb && floats_equal(fa, fb, na);
    }
    case AGLM_ATTR_INTS: {
        const int64_t *ia = aglm_attr_ints(a, &na), *ib = aglm_attr_ints(b, &nb);
        return na == nb && (na == 0 || memcmp(ia, ib, na * sizeof *ia) == 0);
    }
    case AGLM_ATTR_STRINGS: {
        const char *const *sa = aglm_attr_strings(a, &na), *const *sb = aglm_attr_strings(b, &nb);
        if (na != nb)
            return 0;
        for (size_t i = 0; i < na; i++)
            if (strcmp(sa[i], sb[i]) != 0)
                return 0;
        return 1;
    }
    case AGLM_ATTR_TENSORS: {
        const aglm_tensor *ta = aglm_attr_tensors(a, &na), *tb = aglm_attr_tensors(b, &nb);
        if (na != nb)
            return 0;
        for (size_t i = 0; i < na; i++)
            if (!cse_tensor_equal(&ta[i], &tb[i]))
                return 0;
        return 1;
    }
    default: return 0; /* subgraphs: nodes holding them are never merged (cse.c) */
    }
}

int cse_node_equal(const aglm_node *a, const aglm_node *b)
{
    if (strcmp(aglm_node_op(a), aglm_node_op(b)) != 0 ||
        strcmp(aglm_node_domain(a), aglm_node_domain(b)) != 0)
        return 0;
    if (aglm_node_num_inputs(a) != aglm_node_num_inputs(b) ||
        aglm_node_num_attrs(a) != aglm_node_num_attrs(b) ||
        aglm_node_num_outputs(a) != aglm_node_num_outputs(b))
        return 0;
    for (size_t i = 0; i < aglm_node_num_inputs(a); i++)
        if (aglm_node_input(a, i) != aglm_node_input(b, i))
            return 0;
    /* Attribute order is not meaning: match each of a's by name in b. */
    for (size_t i = 0; i < aglm_node_num_attrs(a); i++) {
        const aglm_attr *x = aglm_node_attr_at(a, i);
        const aglm_attr *y = aglm_node_attr(b, aglm_attr_name(x));
        if (!y || !attr_equal(x, y))
            return 0;
    }
    return 1;
}
