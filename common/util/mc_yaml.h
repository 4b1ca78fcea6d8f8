/*
 * mc_yaml - YAML documents as a small tree that remembers where each node
 * was written, with strict typed accessors.
 *
 * Contract: mc_yaml_load_file() parses one YAML document with libyaml into
 * a tree of scalars, sequences and mappings. Anchors, aliases, tags and
 * multi-document streams are refused (configuration must be plain). Every
 * node carries its file name, 1-based line and column, so every error a
 * caller reports can say "file:line:col: key 'x': ...". Duplicate keys in a
 * mapping are an error. Bounded: at most MC_YAML_MAX_NODES nodes, nesting
 * MC_YAML_MAX_DEPTH, scalars MC_YAML_MAX_SCALAR bytes; larger input fails
 * cleanly. The typed accessors never accept a silently wrong type: "7x" is
 * not an integer, "yes" is not a string where a boolean is expected, and a
 * mapping with a key outside the allowed list fails mc_yaml_check_keys().
 */
#ifndef MC_YAML_H
#define MC_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

#define MC_YAML_MAX_NODES  200000
#define MC_YAML_MAX_DEPTH  32
#define MC_YAML_MAX_SCALAR 65536

typedef enum mc_yaml_kind {
    MC_YAML_SCALAR,
    MC_YAML_SEQUENCE,
    MC_YAML_MAPPING,
} mc_yaml_kind_t;

typedef struct mc_yaml_node mc_yaml_node_t;

struct mc_yaml_node {
    mc_yaml_kind_t   kind;     /* scalar, sequence or mapping */
    const char      *file;     /* file name as given to the loader (shared) */
    int              line;     /* 1-based line where the node starts */
    int              column;   /* 1-based column where the node starts */
    char            *value;    /* scalar: NUL-terminated text; else NULL */
    size_t           length;   /* scalar: bytes in value (may hold no NUL) */
    bool             plain;    /* scalar: written without quotes */
    size_t           count;    /* sequence/mapping: number of items/pairs */
    mc_yaml_node_t **items;    /* sequence: items; mapping: values */
    mc_yaml_node_t **keys;     /* mapping: keys (scalars), same order */
};

typedef struct mc_yaml_doc mc_yaml_doc_t;

/* mc_yaml_load_file - parse a file; *doc on success, messages in err */
int mc_yaml_load_file(const char *path, mc_yaml_doc_t **doc, mc_err_t *err);

/* mc_yaml_load_buffer - parse bytes; name is used in messages */
int mc_yaml_load_buffer(const char *name, const char *data, size_t size,
                        mc_yaml_doc_t **doc, mc_err_t *err);

/* mc_yaml_root - the document's root node (never NULL for a loaded doc) */
const mc_yaml_node_t *mc_yaml_root(const mc_yaml_doc_t *doc);

/* mc_yaml_destroy - free a document and NULL the caller's pointer */
void mc_yaml_destroy(mc_yaml_doc_t **doc);

/* mc_yaml_get - value of key in a mapping, NULL if absent or not a mapping */
const mc_yaml_node_t *mc_yaml_get(const mc_yaml_node_t *map, const char *key);

/* mc_yaml_where_key - "file:line:col" of map[key], or of map when the key is
 * absent: where a message about that key points */
const char *mc_yaml_where_key(const mc_yaml_node_t *map, const char *key, char *buf, size_t n);

/*
 * mc_yaml_check_keys - fail (one message per offender) when map is not a
 * mapping, holds a key not in allowed (NULL-terminated), or lacks one of
 * required (NULL-terminated, may be NULL). what names the mapping in
 * messages, e.g. "procedure", "database".
 */
int mc_yaml_check_keys(const mc_yaml_node_t *map, const char *what,
                       const char *const *allowed, const char *const *required,
                       mc_err_t *err);

/*
 * Typed accessors. Each reads map[key]; when the key is absent it leaves
 * *out unchanged and succeeds, unless required is true. Wrong types and
 * out-of-range values fail with "file:line:col: key 'k': ...".
 * Strings are returned malloc'd (caller frees); max_len bounds them in bytes
 * and they must be valid UTF-8 without NUL bytes.
 */
int mc_yaml_get_string(const mc_yaml_node_t *map, const char *key, bool required,
                       size_t max_len, char **out, mc_err_t *err);
int mc_yaml_get_int(const mc_yaml_node_t *map, const char *key, bool required,
                    int64_t min, int64_t max, int64_t *out, mc_err_t *err);
int mc_yaml_get_bool(const mc_yaml_node_t *map, const char *key, bool required,
                     bool *out, mc_err_t *err);

/* mc_yaml_get_text - map[key] as a required, non-empty bounded UTF-8 string */
int mc_yaml_get_text(const mc_yaml_node_t *map, const char *key, size_t max_len, char **out,
                     mc_err_t *err);

/* mc_yaml_scalar_string / _int - the same checks on a node itself (e.g. a
 * sequence item); what names it in messages */
int mc_yaml_scalar_string(const mc_yaml_node_t *node, const char *what,
                          size_t max_len, char **out, mc_err_t *err);
int mc_yaml_scalar_int(const mc_yaml_node_t *node, const char *what,
                       int64_t min, int64_t max, int64_t *out, mc_err_t *err);

/* mc_yaml_expect - fail unless node has the given kind */
int mc_yaml_expect(const mc_yaml_node_t *node, mc_yaml_kind_t kind, const char *what,
                   mc_err_t *err);

/* mc_yaml_expect_list - fail unless node is a sequence of at most max items;
 * key names it and noun its items in messages ("at most 50 documents") */
int mc_yaml_expect_list(const mc_yaml_node_t *node, const char *key, int max, const char *noun,
                        mc_err_t *err);

/* mc_yaml_check_item - mc_yaml_check_keys on one item of a list: *rc becomes
 * -1 on any problem; false when the item is no mapping and must be skipped */
bool mc_yaml_check_item(const mc_yaml_node_t *item, const char *what,
                        const char *const *allowed, const char *const *required, int *rc,
                        mc_err_t *err);

/* mc_yaml_where - "file:line:col" of a node into buf */
const char *mc_yaml_where(const mc_yaml_node_t *node, char *buf, size_t size);

#endif
