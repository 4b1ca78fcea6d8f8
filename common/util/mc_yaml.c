/*
 * mc_yaml - YAML documents as a small tree that remembers where each node
 * was written, with strict typed accessors (see mc_yaml.h).
 *
 * Contract: the whole input is read into memory (bounded by
 * MC_YAML_MAX_FILE) and parsed with the libyaml event API into a tree of
 * malloc'd nodes owned by one mc_yaml_doc_t. Anchors, aliases, tags, complex
 * (non-scalar) keys and second documents are refused; so are duplicate keys,
 * too many nodes, too deep nesting and too long scalars. Every error names
 * "file:line:col" with 1-based line and column. Nothing here is global or
 * mutable between calls: documents may be loaded from several threads.
 */
#include "mc_yaml.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MC_YAML_MAX_FILE (16u * 1024u * 1024u) /* biggest file we agree to read */
#define MC_YAML_SHOW     64                    /* bytes of a key/value echoed in messages */

struct mc_yaml_doc {
    char           *file;  /* file name, shared by every node's file pointer */
    mc_yaml_node_t *root;  /* the document's root node */
};

typedef struct builder {
    yaml_parser_t parser; /* libyaml state */
    const char   *file;   /* name for messages (the doc's copy) */
    size_t        nodes;  /* nodes created so far, against MC_YAML_MAX_NODES */
    mc_err_t     *err;    /* where messages go */
} builder_t;

/* node_free - free a node and everything below it */
static void node_free(mc_yaml_node_t *node)
{
    if (!node)
        return;
    if (node->kind != MC_YAML_SCALAR) {
        for (size_t i = 0; i < node->count; i++) {
            node_free(node->items ? node->items[i] : NULL);
            if (node->keys)
                node_free(node->keys[i]);
        }
    }
    free(node->items);
    free(node->keys);
    free(node->value);
    free(node);
}

/* mark_line / mark_col - libyaml marks are 0-based; people count from 1 */
static int mark_line(yaml_mark_t m) { return (int)m.line + 1; }
static int mark_col(yaml_mark_t m) { return (int)m.column + 1; }

/* node_new - allocate a node at a mark, counting it against the node bound */
static mc_yaml_node_t *node_new(builder_t *b, mc_yaml_kind_t kind, yaml_mark_t mark)
{
    if (b->nodes >= MC_YAML_MAX_NODES) {
        mc_err_add(b->err, "%s:%d:%d: too many YAML nodes (at most %d)", b->file,
                   mark_line(mark), mark_col(mark), MC_YAML_MAX_NODES);
        return NULL;
    }
    mc_yaml_node_t *node = calloc(1, sizeof *node);
    if (!node) {
        mc_err_add(b->err, "%s: out of memory", b->file);
        return NULL;
    }
    b->nodes++;
    node->kind = kind;
    node->file = b->file;
    node->line = mark_line(mark);
    node->column = mark_col(mark);
    return node;
}

/* show_text - a printable, bounded rendering of untrusted bytes for messages */
static const char *show_text(const char *text, size_t length, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < length && o + 5 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i >= MC_YAML_SHOW) {
            buf[o++] = '.';
            buf[o++] = '.';
            buf[o++] = '.';
            break;
        }
        if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* event_refused - reject anchors and tags, which configuration never needs */
static int event_refused(builder_t *b, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    case YAML_ALIAS_EVENT:
        mc_err_add(b->err, "%s:%d:%d: aliases (*name) are not allowed", b->file,
                   mark_line(ev->start_mark), mark_col(ev->start_mark));
        return -1;
    default:
        return 0;
    }
    if (anchor) {
        mc_err_add(b->err, "%s:%d:%d: anchors (&name) are not allowed", b->file,
                   mark_line(ev->start_mark), mark_col(ev->start_mark));
        return -1;
    }
    if (tag) {
        mc_err_add(b->err, "%s:%d:%d: tags (!tag) are not allowed", b->file,
                   mark_line(ev->start_mark), mark_col(ev->start_mark));
        return -1;
    }
    return 0;
}

/* next_event - pull one event, reporting libyaml's syntax errors with a place */
static int next_event(builder_t *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->parser, ev))
        return 0;
    yaml_parser_t *p = &b->parser;
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_MEMORY_ERROR) {
        mc_err_add(b->err, "%s: out of memory while parsing", b->file);
    } else if (p->context) {
        mc_err_add(b->err, "%s:%d:%d: YAML syntax error: %s %s", b->file, mark_line(m),
                   mark_col(m), p->context, p->problem ? p->problem : "");
    } else {
        mc_err_add(b->err, "%s:%d:%d: YAML syntax error: %s", b->file, mark_line(m),
                   mark_col(m), p->problem ? p->problem : "unknown problem");
    }
    return -1;
}

/* push_item - append to a growing array of node pointers */
static int push_item(builder_t *b, mc_yaml_node_t ***array, size_t count, size_t *cap,
                     mc_yaml_node_t *item)
{
    if (count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        mc_yaml_node_t **grown = realloc(*array, ncap * sizeof *grown);
        if (!grown) {
            mc_err_add(b->err, "%s: out of memory", b->file);
            return -1;
        }
        *array = grown;
        *cap = ncap;
    }
    (*array)[count] = item;
    return 0;
}

typedef struct key_ref {
    const mc_yaml_node_t *key;   /* the key node */
    size_t                index; /* position in the mapping, for a stable order */
} key_ref_t;

/* key_ref_cmp - order keys by bytes, then by position */
static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref_t *x = a, *y = b;
    size_t n = x->key->length < y->key->length ? x->key->length : y->key->length;
    int c = memcmp(x->key->value, y->key->value, n);
    if (c)
        return c;
    if (x->key->length != y->key->length)
        return x->key->length < y->key->length ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* check_duplicates - sorting keeps this O(n log n) even for huge mappings */
static int check_duplicates(builder_t *b, const mc_yaml_node_t *map)
{
    if (map->count < 2)
        return 0;
    key_ref_t *refs = malloc(map->count * sizeof *refs);
    if (!refs) {
        mc_err_add(b->err, "%s: out of memory", b->file);
        return -1;
    }
    for (size_t i = 0; i < map->count; i++) {
        refs[i].key = map->keys[i];
        refs[i].index = i;
    }
    qsort(refs, map->count, sizeof *refs, key_ref_cmp);
    int rc = 0;
    for (size_t i = 1; i < map->count; i++) {
        const mc_yaml_node_t *k = refs[i].key, *prev = refs[i - 1].key;
        if (k->length == prev->length && memcmp(k->value, prev->value, k->length) == 0) {
            /* sorted by position within equal keys: k is the later one */
            const mc_yaml_node_t *first = map->keys[refs[i - 1].index];
            char show[4 * MC_YAML_SHOW + 8];
            mc_err_add(b->err, "%s:%d:%d: key '%s': duplicate key (first at line %d)",
                       b->file, k->line, k->column,
                       show_text(k->value, k->length, show, sizeof show), first->line);
            rc = -1;
        }
    }
    free(refs);
    return rc;
}

static int build_node(builder_t *b, yaml_event_t *ev, int depth, mc_yaml_node_t **out);

/* build_child - build_node on the event just read, then free that event */
static int build_child(builder_t *b, yaml_event_t *ev, int depth, mc_yaml_node_t **out)
{
    int rc = build_node(b, ev, depth, out);
    yaml_event_delete(ev);
    return rc;
}

/* build_scalar - copy a scalar event's bytes into a node */
static int build_scalar(builder_t *b, yaml_event_t *ev, mc_yaml_node_t **out)
{
    size_t len = ev->data.scalar.length;
    if (len > MC_YAML_MAX_SCALAR) {
        mc_err_add(b->err, "%s:%d:%d: scalar too long (%zu bytes, at most %d)", b->file,
                   mark_line(ev->start_mark), mark_col(ev->start_mark), len,
                   MC_YAML_MAX_SCALAR);
        return -1;
    }
    mc_yaml_node_t *node = node_new(b, MC_YAML_SCALAR, ev->start_mark);
    if (!node)
        return -1;
    node->value = malloc(len + 1);
    if (!node->value) {
        free(node);
        mc_err_add(b->err, "%s: out of memory", b->file);
        return -1;
    }
    memcpy(node->value, ev->data.scalar.value, len);
    node->value[len] = '\0';
    node->length = len;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    *out = node;
    return 0;
}

/* build_collection - read a sequence's items or a mapping's pairs until its end */
static int build_collection(builder_t *b, yaml_event_t *start, int depth, mc_yaml_node_t **out)
{
    bool is_map = start->type == YAML_MAPPING_START_EVENT;
    if (depth >= MC_YAML_MAX_DEPTH) {
        mc_err_add(b->err, "%s:%d:%d: nesting too deep (at most %d levels)", b->file,
                   mark_line(start->start_mark), mark_col(start->start_mark),
                   MC_YAML_MAX_DEPTH);
        return -1;
    }
    mc_yaml_node_t *node =
        node_new(b, is_map ? MC_YAML_MAPPING : MC_YAML_SEQUENCE, start->start_mark);
    if (!node)
        return -1;
    size_t cap_items = 0, cap_keys = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev) < 0)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        mc_yaml_node_t *key = NULL, *value = NULL;
        if (is_map) {
            if (ev.type != YAML_SCALAR_EVENT && ev.type != YAML_ALIAS_EVENT) {
                mc_err_add(b->err, "%s:%d:%d: mapping keys must be plain text, not a %s",
                           b->file, mark_line(ev.start_mark), mark_col(ev.start_mark),
                           ev.type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
                yaml_event_delete(&ev);
                goto fail;
            }
            if (build_child(b, &ev, depth + 1, &key) < 0)
                goto fail;
            if (push_item(b, &node->keys, node->count, &cap_keys, key) < 0) {
                node_free(key);
                goto fail;
            }
            /* the key is owned now; a missing value slot is NULL-safe in node_free */
            if (push_item(b, &node->items, node->count, &cap_items, NULL) < 0) {
                node_free(key);
                goto fail;
            }
            node->count++;
            if (next_event(b, &ev) < 0)
                goto fail;
            if (build_child(b, &ev, depth + 1, &value) < 0)
                goto fail;
            node->items[node->count - 1] = value;
        } else {
            if (build_child(b, &ev, depth + 1, &value) < 0)
                goto fail;
            if (push_item(b, &node->items, node->count, &cap_items, value) < 0) {
                node_free(value);
                goto fail;
            }
            node->count++;
        }
    }
    if (is_map && check_duplicates(b, node) < 0)
        goto fail;
    *out = node;
    return 0;
fail:
    node_free(node);
    return -1;
}

/* build_node - turn the event just read (and those that follow it) into a node */
static int build_node(builder_t *b, yaml_event_t *ev, int depth, mc_yaml_node_t **out)
{
    *out = NULL;
    if (event_refused(b, ev) < 0)
        return -1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return build_scalar(b, ev, out);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return build_collection(b, ev, depth, out);
    default:
        mc_err_add(b->err, "%s:%d:%d: unexpected YAML event", b->file,
                   mark_line(ev->start_mark), mark_col(ev->start_mark));
        return -1;
    }
}

/* expect_event - read one event and insist on its type */
static int expect_event(builder_t *b, yaml_event_type_t type, yaml_event_t *ev)
{
    if (next_event(b, ev) < 0)
        return -1;
    if (ev->type != type) {
        yaml_event_delete(ev);
        return 1;
    }
    return 0;
}

/* parse_stream - exactly one document holding one root node */
static int parse_stream(builder_t *b, mc_yaml_node_t **root)
{
    yaml_event_t ev;
    int rc = expect_event(b, YAML_STREAM_START_EVENT, &ev);
    if (rc != 0) {
        if (rc > 0)
            mc_err_add(b->err, "%s: not a YAML stream", b->file);
        return -1;
    }
    yaml_event_delete(&ev);

    if (next_event(b, &ev) < 0)
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        mc_err_add(b->err, "%s:1:1: empty file: no YAML document", b->file);
        return -1;
    }
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        yaml_event_delete(&ev);
        mc_err_add(b->err, "%s: malformed YAML stream", b->file);
        return -1;
    }
    yaml_event_delete(&ev);

    if (next_event(b, &ev) < 0)
        return -1;
    rc = build_child(b, &ev, 0, root);
    if (rc < 0)
        return -1;

    if (expect_event(b, YAML_DOCUMENT_END_EVENT, &ev) != 0)
        goto fail;
    yaml_event_delete(&ev);
    if (next_event(b, &ev) < 0)
        goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        mc_err_add(b->err, "%s:%d:%d: only one YAML document per file is allowed", b->file,
                   mark_line(ev.start_mark), mark_col(ev.start_mark));
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    return 0;
fail:
    node_free(*root);
    *root = NULL;
    return -1;
}

/* mc_yaml_load_buffer - parse bytes into a document */
int mc_yaml_load_buffer(const char *name, const char *data, size_t size,
                        mc_yaml_doc_t **doc, mc_err_t *err)
{
    *doc = NULL;
    if (!name)
        name = "(buffer)";
    if (!data && size) {
        mc_err_add(err, "%s: no data", name);
        return -1;
    }
    mc_yaml_doc_t *d = calloc(1, sizeof *d);
    if (!d || !(d->file = strdup(name))) {
        free(d);
        mc_err_add(err, "%s: out of memory", name);
        return -1;
    }
    builder_t b = {.file = d->file, .err = err};
    if (!yaml_parser_initialize(&b.parser)) {
        mc_yaml_destroy(&d);
        mc_err_add(err, "%s: cannot initialise the YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)(data ? data : ""), size);
    int rc = parse_stream(&b, &d->root);
    yaml_parser_delete(&b.parser);
    if (rc < 0) {
        mc_yaml_destroy(&d);
        return -1;
    }
    *doc = d;
    return 0;
}

/* mc_yaml_load_file - read a whole (bounded) file, then parse it */
int mc_yaml_load_file(const char *path, mc_yaml_doc_t **doc, mc_err_t *err)
{
    *doc = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        mc_err_add(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 64 * 1024, len = 0;
    char *data = malloc(cap);
    if (!data) {
        fclose(f);
        mc_err_add(err, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= MC_YAML_MAX_FILE) {
                free(data);
                fclose(f);
                mc_err_add(err, "%s: file too large (at most %u bytes)", path,
                           MC_YAML_MAX_FILE);
                return -1;
            }
            size_t ncap = cap * 2 > MC_YAML_MAX_FILE ? MC_YAML_MAX_FILE : cap * 2;
            char *grown = realloc(data, ncap);
            if (!grown) {
                free(data);
                fclose(f);
                mc_err_add(err, "%s: out of memory", path);
                return -1;
            }
            data = grown;
            cap = ncap;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                free(data);
                fclose(f);
                mc_err_add(err, "%s: cannot read: %s", path, strerror(e));
                return -1;
            }
            break;
        }
    }
    fclose(f);
    if (len == cap && cap == MC_YAML_MAX_FILE) {
        /* exactly at the bound with more possibly unread: treat as too large */
        free(data);
        mc_err_add(err, "%s: file too large (at most %u bytes)", path, MC_YAML_MAX_FILE);
        return -1;
    }
    int rc = mc_yaml_load_buffer(path, data, len, doc, err);
    free(data);
    return rc;
}

/* mc_yaml_root - the root node */
const mc_yaml_node_t *mc_yaml_root(const mc_yaml_doc_t *doc)
{
    return doc ? doc->root : NULL;
}

/* mc_yaml_destroy - free a document and NULL the caller's pointer */
void mc_yaml_destroy(mc_yaml_doc_t **doc)
{
    if (!doc || !*doc)
        return;
    node_free((*doc)->root);
    free((*doc)->file);
    free(*doc);
    *doc = NULL;
}

/* key_is - does a key node hold exactly this text? */
static bool key_is(const mc_yaml_node_t *k, const char *key, size_t klen)
{
    return k && k->length == klen && memcmp(k->value, key, klen) == 0;
}

/* mc_yaml_get - value of key in a mapping */
const mc_yaml_node_t *mc_yaml_get(const mc_yaml_node_t *map, const char *key)
{
    if (!map || map->kind != MC_YAML_MAPPING || !key)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->count; i++)
        if (key_is(map->keys[i], key, klen))
            return map->items[i];
    return NULL;
}

/* mc_yaml_where_key - where map[key] is, or map when there is no such key */
const char *mc_yaml_where_key(const mc_yaml_node_t *map, const char *key, char *buf, size_t n)
{
    const mc_yaml_node_t *v = mc_yaml_get(map, key);
    return mc_yaml_where(v ? v : map, buf, n);
}

/* kind_name - for messages */
static const char *kind_name(mc_yaml_kind_t kind)
{
    switch (kind) {
    case MC_YAML_SCALAR:
        return "a scalar";
    case MC_YAML_SEQUENCE:
        return "a sequence";
    case MC_YAML_MAPPING:
        return "a mapping";
    }
    return "something else";
}

/* mc_yaml_where - "file:line:col" of a node */
const char *mc_yaml_where(const mc_yaml_node_t *node, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (!node)
        snprintf(buf, size, "?");
    else
        snprintf(buf, size, "%s:%d:%d", node->file ? node->file : "?", node->line,
                 node->column);
    return buf;
}

/* mc_yaml_expect - fail unless node has the given kind */
int mc_yaml_expect(const mc_yaml_node_t *node, mc_yaml_kind_t kind, const char *what,
                   mc_err_t *err)
{
    if (!node) {
        mc_err_add(err, "%s: missing (expected %s)", what, kind_name(kind));
        return -1;
    }
    if (node->kind != kind) {
        char where[512];
        mc_err_add(err, "%s: %s: expected %s, found %s",
                   mc_yaml_where(node, where, sizeof where), what, kind_name(kind),
                   kind_name(node->kind));
        return -1;
    }
    return 0;
}

/* mc_yaml_expect_list - a sequence, bounded */
int mc_yaml_expect_list(const mc_yaml_node_t *node, const char *key, int max, const char *noun,
                        mc_err_t *err)
{
    if (mc_yaml_expect(node, MC_YAML_SEQUENCE, key, err) < 0)
        return -1;
    if (node->count > (size_t)max) {
        char where[512];
        mc_err_add(err, "%s: key '%s': at most %d %s", mc_yaml_where(node, where, sizeof where),
                   key, max, noun);
        return -1;
    }
    return 0;
}

/* mc_yaml_check_item - check one item's keys; a non-mapping cannot be read further */
bool mc_yaml_check_item(const mc_yaml_node_t *item, const char *what,
                        const char *const *allowed, const char *const *required, int *rc,
                        mc_err_t *err)
{
    if (mc_yaml_check_keys(item, what, allowed, required, err) < 0) {
        *rc = -1;
        if (item->kind != MC_YAML_MAPPING)
            return false;
    }
    return true;
}

/* in_list - is this key (bytes) one of a NULL-terminated list? */
static bool in_list(const mc_yaml_node_t *k, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (key_is(k, list[i], strlen(list[i])))
            return true;
    return false;
}

/* mc_yaml_check_keys - unknown and missing keys, one message each */
int mc_yaml_check_keys(const mc_yaml_node_t *map, const char *what,
                       const char *const *allowed, const char *const *required,
                       mc_err_t *err)
{
    if (mc_yaml_expect(map, MC_YAML_MAPPING, what, err) < 0)
        return -1;
    int rc = 0;
    char where[512];
    for (size_t i = 0; i < map->count; i++) {
        const mc_yaml_node_t *k = map->keys[i];
        if (in_list(k, allowed) || in_list(k, required))
            continue;
        char show[4 * MC_YAML_SHOW + 8], list[512];
        size_t o = 0;
        list[0] = '\0';
        for (size_t j = 0; allowed && allowed[j] && o < sizeof list; j++) {
            int n = snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", allowed[j]);
            if (n < 0)
                break;
            o += (size_t)n;
        }
        mc_err_add(err, "%s: key '%s': unknown key in %s (allowed: %s)",
                   mc_yaml_where(k, where, sizeof where),
                   show_text(k->value, k->length, show, sizeof show), what, list);
        rc = -1;
    }
    for (size_t j = 0; required && required[j]; j++) {
        if (!mc_yaml_get(map, required[j])) {
            mc_err_add(err, "%s: key '%s': missing in %s",
                       mc_yaml_where(map, where, sizeof where), required[j], what);
            rc = -1;
        }
    }
    return rc;
}

/*
 * utf8_valid - strict UTF-8: no overlong forms, no surrogates, nothing
 * above U+10FFFF, and no NUL (C strings would silently cut there).
 */
static bool utf8_valid(const char *text, size_t length)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < length) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (length - i - 1 < need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            unsigned char cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

/* is_null - a plain scalar YAML reads as null: empty, "~" or null */
static bool is_null(const mc_yaml_node_t *node)
{
    if (!node->plain)
        return false;
    return node->length == 0 || strcmp(node->value, "~") == 0 ||
           strcmp(node->value, "null") == 0 || strcmp(node->value, "Null") == 0 ||
           strcmp(node->value, "NULL") == 0;
}

/* label - "key 'k'" or the caller's name for a node, for messages */
static const char *label(char *buf, size_t size, const char *key, const char *what)
{
    if (key)
        snprintf(buf, size, "key '%s'", key);
    else
        snprintf(buf, size, "%s", what ? what : "value");
    return buf;
}

/* string_of - checks shared by the keyed and the node accessors */
static int string_of(const mc_yaml_node_t *node, const char *name, size_t max_len,
                     char **out, mc_err_t *err)
{
    char where[512];
    mc_yaml_where(node, where, sizeof where);
    if (node->kind != MC_YAML_SCALAR) {
        mc_err_add(err, "%s: %s: expected a string, found %s", where, name,
                   kind_name(node->kind));
        return -1;
    }
    if (is_null(node)) {
        mc_err_add(err, "%s: %s: expected a string, found an empty (null) value", where,
                   name);
        return -1;
    }
    if (node->length > max_len) {
        mc_err_add(err, "%s: %s: too long (%zu bytes, at most %zu)", where, name,
                   node->length, max_len);
        return -1;
    }
    if (!utf8_valid(node->value, node->length)) {
        mc_err_add(err, "%s: %s: not valid UTF-8 text (or holds a NUL byte)", where, name);
        return -1;
    }
    char *copy = malloc(node->length + 1);
    if (!copy) {
        mc_err_add(err, "%s: %s: out of memory", where, name);
        return -1;
    }
    memcpy(copy, node->value, node->length + 1);
    *out = copy;
    return 0;
}

/* int_of - a plain decimal integer, no leading zeros or '+', within bounds */
static int int_of(const mc_yaml_node_t *node, const char *name, int64_t min, int64_t max,
                  int64_t *out, mc_err_t *err)
{
    char where[512], show[4 * MC_YAML_SHOW + 8];
    mc_yaml_where(node, where, sizeof where);
    if (node->kind != MC_YAML_SCALAR) {
        mc_err_add(err, "%s: %s: expected an integer, found %s", where, name,
                   kind_name(node->kind));
        return -1;
    }
    const char *s = node->value;
    size_t n = node->length, i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    bool ok = node->plain && i < n && (s[i] != '0' || i + 1 == n);
    /* accumulate negatively so INT64_MIN is representable */
    int64_t v = 0;
    for (size_t k = i; ok && k < n; k++) {
        if (s[k] < '0' || s[k] > '9') {
            ok = false;
            break;
        }
        int d = s[k] - '0';
        if (v < (INT64_MIN + d) / 10) {
            mc_err_add(err, "%s: %s: integer out of range", where, name);
            return -1;
        }
        v = v * 10 - d;
    }
    if (ok && neg && v == 0)
        ok = false; /* "-0" is not how anyone writes zero */
    if (!ok) {
        mc_err_add(err, "%s: %s: expected a plain decimal integer, found '%s'%s", where, name,
                   show_text(s, n, show, sizeof show), node->plain ? "" : " (quoted)");
        return -1;
    }
    if (!neg) {
        if (v == INT64_MIN) {
            mc_err_add(err, "%s: %s: integer out of range", where, name);
            return -1;
        }
        v = -v;
    }
    if (v < min || v > max) {
        mc_err_add(err, "%s: %s: %" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")",
                   where, name, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* fetch - the value of key, handling absence and the required flag */
static int fetch(const mc_yaml_node_t *map, const char *key, bool required,
                 const mc_yaml_node_t **value, mc_err_t *err)
{
    char where[512];
    *value = NULL;
    if (!map || map->kind != MC_YAML_MAPPING) {
        mc_err_add(err, "%s: key '%s': the enclosing value is not a mapping",
                   mc_yaml_where(map, where, sizeof where), key);
        return -1;
    }
    *value = mc_yaml_get(map, key);
    if (!*value && required) {
        mc_err_add(err, "%s: key '%s': missing", mc_yaml_where(map, where, sizeof where), key);
        return -1;
    }
    return 0;
}

/* mc_yaml_get_string - map[key] as a bounded UTF-8 string */
int mc_yaml_get_string(const mc_yaml_node_t *map, const char *key, bool required,
                       size_t max_len, char **out, mc_err_t *err)
{
    const mc_yaml_node_t *v;
    if (fetch(map, key, required, &v, err) < 0)
        return -1;
    if (!v)
        return 0;
    char name[160];
    return string_of(v, label(name, sizeof name, key, NULL), max_len, out, err);
}

/* mc_yaml_get_int - map[key] as an integer in [min, max] */
int mc_yaml_get_int(const mc_yaml_node_t *map, const char *key, bool required,
                    int64_t min, int64_t max, int64_t *out, mc_err_t *err)
{
    const mc_yaml_node_t *v;
    if (fetch(map, key, required, &v, err) < 0)
        return -1;
    if (!v)
        return 0;
    char name[160];
    return int_of(v, label(name, sizeof name, key, NULL), min, max, out, err);
}

/* mc_yaml_get_text - a required string that is not empty */
int mc_yaml_get_text(const mc_yaml_node_t *map, const char *key, size_t max_len, char **out,
                     mc_err_t *err)
{
    if (mc_yaml_get_string(map, key, true, max_len, out, err) < 0)
        return -1;
    if ((*out)[0] == '\0') {
        char w[512];
        mc_err_add(err, "%s: key '%s': must not be empty", mc_yaml_where_key(map, key, w, sizeof w),
                   key);
        return -1;
    }
    return 0;
}

/* mc_yaml_get_bool - map[key] as exactly true or false */
int mc_yaml_get_bool(const mc_yaml_node_t *map, const char *key, bool required,
                     bool *out, mc_err_t *err)
{
    const mc_yaml_node_t *v;
    if (fetch(map, key, required, &v, err) < 0)
        return -1;
    if (!v)
        return 0;
    char where[512], show[4 * MC_YAML_SHOW + 8];
    mc_yaml_where(v, where, sizeof where);
    if (v->kind == MC_YAML_SCALAR && v->plain && strcmp(v->value, "true") == 0 &&
        v->length == 4) {
        *out = true;
        return 0;
    }
    if (v->kind == MC_YAML_SCALAR && v->plain && strcmp(v->value, "false") == 0 &&
        v->length == 5) {
        *out = false;
        return 0;
    }
    if (v->kind != MC_YAML_SCALAR)
        mc_err_add(err, "%s: key '%s': expected true or false, found %s", where, key,
                   kind_name(v->kind));
    else
        mc_err_add(err, "%s: key '%s': expected true or false, found '%s'%s", where, key,
                   show_text(v->value, v->length, show, sizeof show),
                   v->plain ? "" : " (quoted)");
    return -1;
}

/* mc_yaml_scalar_string - a node itself as a bounded UTF-8 string */
int mc_yaml_scalar_string(const mc_yaml_node_t *node, const char *what,
                          size_t max_len, char **out, mc_err_t *err)
{
    char name[160];
    label(name, sizeof name, NULL, what);
    if (!node) {
        mc_err_add(err, "%s: missing", name);
        return -1;
    }
    return string_of(node, name, max_len, out, err);
}

/* mc_yaml_scalar_int - a node itself as an integer in [min, max] */
int mc_yaml_scalar_int(const mc_yaml_node_t *node, const char *what,
                       int64_t min, int64_t max, int64_t *out, mc_err_t *err)
{
    char name[160];
    label(name, sizeof name, NULL, what);
    if (!node) {
        mc_err_add(err, "%s: missing", name);
        return -1;
    }
    return int_of(node, name, min, max, out, err);
}
