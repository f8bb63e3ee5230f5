/* Einsum's rule: parses the equation ("ij,jk->ik", implicit output "ij,jk", "..." broadcasting,
 * repeated labels) and gives the output the sizes of its labels. With any input rank unknown
 * only the dtype is known. */
#include <ctype.h>
#include <string.h>
#include "infer_internal.h"

#define MAX_TERM (AGLM_MAX_RANK + 1)
#define ELLIPSIS (-1)

typedef struct eterm {
    int n, has_ellipsis;
    int label[MAX_TERM]; /* 0-51 for letters, ELLIPSIS */
} eterm;

static aglm_status parse_term(const infer_ctx *c, const char *s, size_t len, eterm *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < len;) {
        if (t->n >= MAX_TERM)
            return infer_err(c, AGLM_ERR_INVALID, "an equation term has more than %d labels",
                             MAX_TERM);
        if (s[i] == '.') {
            if (i + 3 > len || s[i + 1] != '.' || s[i + 2] != '.' || t->has_ellipsis)
                return infer_err(c, AGLM_ERR_INVALID, "equation has a bad or repeated ellipsis");
            t->has_ellipsis = 1;
            t->label[t->n++] = ELLIPSIS;
            i += 3;
        } else if (isalpha((unsigned char)s[i])) {
            t->label[t->n++] = islower((unsigned char)s[i]) ? s[i] - 'a' : s[i] - 'A' + 26;
            i++;
        } else {
            return infer_err(c, AGLM_ERR_INVALID, "equation has the invalid character '%c'", s[i]);
        }
    }
    return AGLM_OK;
}

static aglm_status einsum(infer_ctx *c)
{
    const char *eq = aglm_node_get_string(c->node, "equation", NULL);
    if (!eq)
        return infer_err(c, AGLM_ERR_INVALID, "attribute 'equation' is missing");
    aglm_status st;
    for (size_t i = 1; i < c->n_in; i++)
        if ((st = infer_same_dtype(c, 0, i)) != AGLM_OK)
            return st;
    char buf[512];
    size_t len = 0;
    for (const char *p = eq; *p; p++)
        if (!isspace((unsigned char)*p)) {
            if (len + 1 >= sizeof buf)
                return infer_err(c, AGLM_ERR_INVALID, "equation is too long");
            buf[len++] = *p;
        }
    buf[len] = '\0';
    const char *arrow = strstr(buf, "->");
    size_t lhs = arrow ? (size_t)(arrow - buf) : len;
    infer_type y;
    infer_type_unknown(&y, c->n_in ? c->in[0].dtype : AGLM_UNDEFINED);
    aglm_dim size[52];
    int count[52] = {0}, seen[52] = {0}, ell = 0, all_known = 1;
    aglm_dim ell_dims[AGLM_MAX_RANK];
    size_t nt = 0, start = 0;
    for (size_t i = 0; i <= lhs; i++) {
        if (i < lhs && buf[i] != ',')
            continue;
        eterm t;
        if ((st = parse_term(c, buf + start, i - start, &t)) != AGLM_OK)
            return st;
        start = i + 1;
        if (nt >= c->n_in)
            return infer_err(c, AGLM_ERR_INVALID,
                             "equation '%s' has more terms than the %zu inputs", eq, c->n_in);
        const infer_type *x = &c->in[nt++];
        for (int j = 0; j < t.n; j++)
            if (t.label[j] != ELLIPSIS)
                count[t.label[j]]++;
        if (x->rank < 0) {
            all_known = 0;
            continue;
        }
        int letters = t.n - t.has_ellipsis, er = x->rank - letters;
        char sx[128];
        if (er < 0 || (!t.has_ellipsis && er != 0))
            return infer_err(c, AGLM_ERR_SHAPE, "equation term %zu has %d labels for input %s",
                             nt - 1, letters, infer_type_str(x, sx, sizeof sx));
        /* ellipsis dims align right; a static dim other than 1 wins */
        int before = 0; /* labels before the ellipsis */
        while (before < t.n && t.label[before] != ELLIPSIS)
            before++;
        for (int e = 0; e < er; e++) {
            int slot = AGLM_MAX_RANK - er + e;
            aglm_dim d = x->dims[before + e];
            if (er > ell) {
                for (int k = AGLM_MAX_RANK - er; k < AGLM_MAX_RANK - ell; k++)
                    ell_dims[k] = infer_dim_static(1);
                ell = er;
            }
            if (infer_dim_is_static(ell_dims[slot]) && ell_dims[slot].value == 1)
                ell_dims[slot] = d;
            else if (!(infer_dim_is_static(d) && d.value == 1))
                ell_dims[slot] = infer_dim_merge(ell_dims[slot], d);
        }
        for (int j = 0, a = 0; j < t.n; j++) {
            if (t.label[j] == ELLIPSIS) {
                a += er;
                continue;
            }
            int l = t.label[j];
            aglm_dim d = x->dims[a++];
            int d_one = infer_dim_is_static(d) && d.value == 1;
            if (!seen[l] || (infer_dim_is_static(size[l]) && size[l].value == 1))
                size[l] = d;
            else if (!d_one && infer_dim_conflict(size[l], d))
                return infer_err(c, AGLM_ERR_SHAPE, "label sizes differ: %lld and %lld in '%s'",
                                 (long long)size[l].value, (long long)d.value, eq);
            else if (!d_one)
                size[l] = infer_dim_merge(size[l], d);
            seen[l] = 1;
        }
    }
    if (nt != c->n_in)
        return infer_err(c, AGLM_ERR_INVALID, "equation '%s' has %zu terms for %zu inputs", eq, nt,
                         c->n_in);
    if (!all_known) {
        infer_set_out(c, 0, &y);
        return AGLM_OK;
    }
    y.rank = 0;
    if (arrow) {
        eterm o;
        if ((st = parse_term(c, arrow + 2, strlen(arrow + 2), &o)) != AGLM_OK)
            return st;
        int used[52] = {0};
        for (int j = 0; j < o.n; j++) {
            if (o.label[j] == ELLIPSIS) {
                if (y.rank + ell > AGLM_MAX_RANK)
                    return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank is more than %d",
                                     AGLM_MAX_RANK);
                for (int e = 0; e < ell; e++)
                    y.dims[y.rank++] = ell_dims[AGLM_MAX_RANK - ell + e];
                continue;
            }
            int l = o.label[j];
            if (!count[l] || used[l])
                return infer_err(c, AGLM_ERR_INVALID,
                                 "an output label of '%s' is not in any input or is repeated", eq);
            used[l] = 1;
            if (y.rank >= AGLM_MAX_RANK)
                return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank is more than %d",
                                 AGLM_MAX_RANK);
            y.dims[y.rank++] = size[l];
        }
    } else {
        for (int e = 0; e < ell; e++)
            y.dims[y.rank++] = ell_dims[AGLM_MAX_RANK - ell + e];
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < 26; k++) {
                int l = pass == 0 ? 26 + k : k; /* 'A'-'Z' sort before 'a'-'z' */
                if (count[l] != 1)
                    continue;
                if (y.rank >= AGLM_MAX_RANK)
                    return infer_err(c, AGLM_ERR_UNSUPPORTED, "output rank is more than %d",
                                     AGLM_MAX_RANK);
                y.dims[y.rank++] = size[l];
            }
    }
    infer_set_out(c, 0, &y);
    return AGLM_OK;
}

const infer_rule infer_rules_einsum[] = {
    {"Einsum", einsum},
    {NULL, NULL},
};
