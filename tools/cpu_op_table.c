/* Prints the cpu backend's op table as Markdown, from the kernel tables themselves: one row per
 * op with its input count (libaglm's op schema) and the dtypes input 0 may have. Built and run
 * by cpu_op_table.sh.
 *
 * It includes table.c so it walks the very `families` array cpu_kernel_find searches: a family
 * added there shows up here with no change to this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/table.c"

typedef struct row {
    const char *domain;
    const cpu_kernel *k;
} row;

static int by_op(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->domain, y->domain);
    return c ? c : strcmp(x->k->op, y->k->op);
}

/* Dtypes in the order a reader expects: floats, signed, unsigned, bool. */
static void print_dtypes(uint32_t mask)
{
    static const aglm_dtype order[] = {AGLM_F32, AGLM_F64, AGLM_F16, AGLM_BF16, AGLM_I8,
                                       AGLM_I16, AGLM_I32, AGLM_I64, AGLM_U8,   AGLM_U16,
                                       AGLM_U32, AGLM_U64, AGLM_BOOL};
    if (mask == CPU_ANY) {
        fputs("any (the kernel checks)", stdout);
        return;
    }
    const char *sep = "";
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (mask & CPU_DT(order[i])) {
            printf("%s%s", sep, aglm_dtype_name(order[i]));
            sep = ", ";
        }
}

int main(void)
{
    size_t n = 0, cap = 64;
    row *rows = malloc(cap * sizeof *rows);
    const size_t n_fam = sizeof families / sizeof families[0];
    for (size_t f = 0; rows && f <= n_fam; f++) {
        const cpu_kernel *table = f < n_fam ? families[f] : cpu_preview_kernels;
        for (const cpu_kernel *k = table; rows && k->op; k++) {
            const char *domain = f < n_fam ? "" : "ai.onnx.preview";
            /* cpu_kernel_find returns the first entry of a name: later ones are dead. */
            if (cpu_kernel_find(k->op, domain) != k)
                continue;
            if (n == cap) {
                row *grown = realloc(rows, 2 * cap * sizeof *rows);
                if (!grown)
                    free(rows);
                rows = grown;
                cap *= 2;
            }
            if (rows)
                rows[n++] = (row){domain, k};
        }
    }
    if (!rows) {
        fprintf(stderr, "cpu_op_table: out of memory\n");
        return 1;
    }
    qsort(rows, n, sizeof *rows, by_op);
    printf("| op | inputs | dtypes of the first input |\n| --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        const cpu_kernel *k = rows[i].k;
        printf("| %s%s%s | ", rows[i].domain, rows[i].domain[0] ? "." : "", k->op);
        const aglm_op_schema *s = aglm_op_schema_find(rows[i].domain, k->op);
        if (!s)
            fputs("? (no op schema)", stdout);
        else if (s->min_inputs == s->max_inputs)
            printf("%d", s->min_inputs);
        else if (s->max_inputs == AGLM_OP_VARIADIC)
            printf("%d or more", s->min_inputs);
        else
            printf("%d to %d", s->min_inputs, s->max_inputs);
        fputs(" | ", stdout);
        print_dtypes(k->dtypes);
        fputs(" |\n", stdout);
    }
    printf("\n%zu ops.\n", n);
    free(rows);
    return 0;
}
