/* A small reader over libyaml's document tree: typed access to scalars, sequences and mappings,
 * with every error located as "FILE:LINE:COL: ..." from the node's mark. */
#ifndef AGLM_YAML_YDOC_H
#define AGLM_YAML_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>
#include "aglm/status.h"

typedef struct ydoc {
    yaml_document_t doc;
    const char *path; /* as the user gave it; shown in every message */
} ydoc;

/* What a plain scalar resolves to under the YAML 1.2 core schema; a quoted scalar is a string. */
typedef enum yscalar_kind { YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_STRING } yscalar_kind;

/* Parses `len` bytes of `text` into *d (its first document). Empty input, or input with no
 * document, is an error; so is libyaml's own error, reported with its line and column. */
aglm_status ydoc_parse(ydoc *d, const char *path, const unsigned char *text, size_t len);
void ydoc_free(ydoc *d);

yaml_node_t *ydoc_root(ydoc *d);

/* Sets the error "PATH:LINE:COL: message" for node n (n NULL: "PATH: message") and returns st. */
aglm_status ydoc_fail(const ydoc *d, const yaml_node_t *n, aglm_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Prefixes the current error with n's location (for errors raised below this reader). */
aglm_status ydoc_wrap(const ydoc *d, const yaml_node_t *n, aglm_status st);

int ydoc_is_map(const yaml_node_t *n);
int ydoc_is_seq(const yaml_node_t *n);
int ydoc_is_scalar(const yaml_node_t *n);
/* A scalar that resolves to null (`~`, `null`, empty). */
int ydoc_is_null(const yaml_node_t *n);

/* The value of `key` in mapping m, or NULL when absent. */
yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *m, const char *key);
size_t ydoc_map_len(const yaml_node_t *m);
/* Pair i of mapping m. */
void ydoc_map_pair(ydoc *d, const yaml_node_t *m, size_t i, yaml_node_t **key, yaml_node_t **value);
size_t ydoc_seq_len(const yaml_node_t *s);
yaml_node_t *ydoc_seq_item(ydoc *d, const yaml_node_t *s, size_t i);

/* Checks that m is a mapping whose keys are plain strings out of `allowed` (NULL-terminated),
 * each at most once; `what` names m in messages ("node", "input"). */
aglm_status ydoc_check_map(ydoc *d, const yaml_node_t *m, const char *what,
                           const char *const *allowed);

/* Requires n to be a sequence; `what` names it in the message. */
aglm_status ydoc_expect_seq(ydoc *d, const yaml_node_t *n, const char *what);

yscalar_kind ydoc_scalar_kind(const yaml_node_t *n);
/* "null", "a bool", "an integer", "a float", "a string", "a list", "a mapping": for messages. */
const char *ydoc_kind_name(const yaml_node_t *n);

/* Typed scalars: an error naming `what` and the YAML found when n is not of the type. */
aglm_status ydoc_text(ydoc *d, const yaml_node_t *n, const char *what, const char **out);
aglm_status ydoc_int(ydoc *d, const yaml_node_t *n, const char *what, int64_t *out);
/* An integer or a float (YAML ints are accepted where floats are wanted). */
aglm_status ydoc_float(ydoc *d, const yaml_node_t *n, const char *what, double *out);
aglm_status ydoc_bool(ydoc *d, const yaml_node_t *n, const char *what, int *out);

#endif
