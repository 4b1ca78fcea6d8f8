/*
 * test_openapi - docs/openapi.json is what mc_openapi_write makes from the
 * .proto descriptors of this build (regenerate: `make openapi`), it is
 * well-formed JSON (RFC 8259, parsed here strictly), every "$ref" resolves,
 * it has exactly the REST routes of the contract (issue 15), and every
 * message schema has one lowerCamelCase property per proto field.
 *
 * Contract: run from the repository root (reads docs/openapi.json).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>

#include "mc_test.h"
#include "mc_openapi.h"
#include "motcua/v1/intake.pb-c.h"

/* --- a strict JSON parser into a small tree ------------------------------- */

typedef enum jkind { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jkind_t;

typedef struct jnode {
    jkind_t        kind;     /* what it is */
    char          *key;      /* member name inside an object, else NULL */
    char          *text;     /* J_STR: the decoded string (escapes kept as is) */
    struct jnode **items;    /* J_ARR / J_OBJ children */
    size_t         n_items;  /* entries in items */
} jnode_t;

typedef struct jparse {
    const char *p;    /* next byte */
    const char *end;  /* end of input */
    bool        bad;  /* a syntax error was seen */
} jparse_t;

/* ws - skip JSON whitespace */
static void ws(jparse_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

/* parse_string - a string literal (the opening quote at j->p); malloc'd copy of its body */
static char *parse_string(jparse_t *j)
{
    if (j->p >= j->end || *j->p != '"') {
        j->bad = true;
        return NULL;
    }
    const char *start = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        if ((unsigned char)*j->p < 0x20) {
            j->bad = true;
            return NULL;
        }
        if (*j->p == '\\') {
            j->p++;
            if (j->p >= j->end || !strchr("\"\\/bfnrtu", *j->p)) {
                j->bad = true;
                return NULL;
            }
            if (*j->p == 'u')
                for (int k = 0; k < 4; k++)
                    if (++j->p >= j->end || !isxdigit((unsigned char)*j->p)) {
                        j->bad = true;
                        return NULL;
                    }
        }
        j->p++;
    }
    if (j->p >= j->end) {
        j->bad = true;
        return NULL;
    }
    size_t n = (size_t)(j->p - start);
    j->p++;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, start, n);
        s[n] = '\0';
    }
    return s;
}

/* add_item - append child to node */
static void add_item(jnode_t *node, jnode_t *child, jparse_t *j)
{
    jnode_t **grown = realloc(node->items, (node->n_items + 1) * sizeof *grown);
    if (!grown) {
        j->bad = true;
        return;
    }
    node->items = grown;
    node->items[node->n_items++] = child;
}

static jnode_t *parse_value(jparse_t *j, int depth);

/* parse_container - an object or array after its opening brace */
static void parse_container(jparse_t *j, jnode_t *node, int depth)
{
    char close = node->kind == J_OBJ ? '}' : ']';
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return;
    }
    for (;;) {
        char *key = NULL;
        ws(j);
        if (node->kind == J_OBJ) {
            key = parse_string(j);
            ws(j);
            if (!key || j->p >= j->end || *j->p != ':') {
                free(key);
                j->bad = true;
                return;
            }
            j->p++;
        }
        jnode_t *child = parse_value(j, depth + 1);
        if (!child) {
            free(key);
            j->bad = true;
            return;
        }
        child->key = key;
        add_item(node, child, j);
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return;
        }
        j->bad = true;
        return;
    }
}

/* parse_number - RFC 8259 number grammar */
static bool parse_number(jparse_t *j)
{
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || !isdigit((unsigned char)*p))
        return false;
    if (*p == '0')
        p++;
    else
        while (p < j->end && isdigit((unsigned char)*p))
            p++;
    if (p < j->end && *p == '.') {
        if (++p >= j->end || !isdigit((unsigned char)*p))
            return false;
        while (p < j->end && isdigit((unsigned char)*p))
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || !isdigit((unsigned char)*p))
            return false;
        while (p < j->end && isdigit((unsigned char)*p))
            p++;
    }
    j->p = p;
    return true;
}

/* parse_value - any value; NULL on a syntax error */
static jnode_t *parse_value(jparse_t *j, int depth)
{
    ws(j);
    jnode_t *node = calloc(1, sizeof *node);
    if (!node || depth > 64 || j->p >= j->end) {
        free(node);
        return NULL;
    }
    static const struct {
        const char *word; /* literal */
        jkind_t     kind; /* its node */
    } words[] = {{"true", J_BOOL}, {"false", J_BOOL}, {"null", J_NULL}};
    char c = *j->p;
    if (c == '{' || c == '[') {
        j->p++;
        node->kind = c == '{' ? J_OBJ : J_ARR;
        parse_container(j, node, depth);
    } else if (c == '"') {
        node->kind = J_STR;
        node->text = parse_string(j);
    } else {
        bool ok = false;
        for (size_t i = 0; i < 3 && !ok; i++) {
            size_t n = strlen(words[i].word);
            if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i].word, n) == 0) {
                node->kind = words[i].kind;
                j->p += n;
                ok = true;
            }
        }
        if (!ok) {
            node->kind = J_NUM;
            ok = parse_number(j);
        }
        if (!ok)
            j->bad = true;
    }
    return node;
}

/* jfree - the tree */
static void jfree(jnode_t *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n_items; i++)
        jfree(node->items[i]);
    free(node->items);
    free(node->key);
    free(node->text);
    free(node);
}

/* jget - the member named key of an object, or NULL */
static const jnode_t *jget(const jnode_t *obj, const char *key)
{
    for (size_t i = 0; obj && obj->kind == J_OBJ && i < obj->n_items; i++)
        if (strcmp(obj->items[i]->key, key) == 0)
            return obj->items[i];
    return NULL;
}

/* resolve - a local reference "#/a/b" in root, or NULL */
static const jnode_t *resolve(const jnode_t *root, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    char path[512];
    snprintf(path, sizeof path, "%s", ref + 2);
    const jnode_t *node = root;
    for (char *save = NULL, *part = strtok_r(path, "/", &save); part && node;
         part = strtok_r(NULL, "/", &save))
        node = jget(node, part);
    return node;
}

/* check_refs - every "$ref" under node resolves in root; the count seen */
static size_t check_refs(const jnode_t *root, const jnode_t *node, size_t *unresolved)
{
    size_t seen = 0;
    for (size_t i = 0; i < node->n_items; i++) {
        const jnode_t *c = node->items[i];
        if (c->key && strcmp(c->key, "$ref") == 0) {
            seen++;
            if (c->kind != J_STR || !resolve(root, c->text)) {
                printf("  unresolved $ref %s\n", c->text ? c->text : "(not a string)");
                (*unresolved)++;
            }
        }
        seen += check_refs(root, c, unresolved);
    }
    return seen;
}

/* --- the tests ----------------------------------------------------------- */

static char   *committed;     /* docs/openapi.json */
static size_t  committed_len; /* its bytes */
static jnode_t *doc;          /* committed, parsed */

/* read_all - a whole file, malloc'd and NUL-terminated; NULL if unreadable */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    char chunk[8192];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(f);
    if (!mem || fclose(mem) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

MC_TEST(test_committed_file_is_current)
{
    char *fresh = NULL;
    size_t fresh_len = 0;
    FILE *mem = open_memstream(&fresh, &fresh_len);
    REQUIRE(mem);
    CHECK_INT(mc_openapi_write(mem), 0);
    fclose(mem);
    REQUIRE(committed);
    bool same = fresh_len == committed_len && memcmp(fresh, committed, fresh_len) == 0;
    if (!same)
        printf("  docs/openapi.json differs from the .proto descriptors: run `make openapi`\n");
    CHECK(same);
    /* deterministic: a second run gives the same bytes */
    char *again = NULL;
    size_t again_len = 0;
    mem = open_memstream(&again, &again_len);
    REQUIRE(mem);
    CHECK_INT(mc_openapi_write(mem), 0);
    fclose(mem);
    CHECK(again_len == fresh_len && memcmp(again, fresh, fresh_len) == 0);
    free(fresh);
    free(again);
}

MC_TEST(test_well_formed_and_refs_resolve)
{
    REQUIRE(doc);
    CHECK_INT(doc->kind, J_OBJ);
    CHECK(jget(doc, "openapi") && strncmp(jget(doc, "openapi")->text, "3.0.", 4) == 0);
    size_t unresolved = 0;
    size_t seen = check_refs(doc, doc, &unresolved);
    CHECK(seen > 50);
    CHECK_INT(unresolved, 0);
    /* the checker itself catches a dangling reference */
    CHECK(resolve(doc, "#/components/schemas/Receipt") != NULL);
    CHECK(resolve(doc, "#/components/schemas/NoSuchThing") == NULL);
    /* bad JSON is refused by the parser used above */
    static const char *const broken[] = {"{\"a\": 1,}", "{\"a\" 1}", "[01]", "{\"a\": tru}",
                                         "\"\\x\"", "{\"a\": [1, 2}"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        jparse_t j = {.p = broken[i], .end = broken[i] + strlen(broken[i])};
        jnode_t *n = parse_value(&j, 0);
        ws(&j);
        CHECK(j.bad || !n || j.p != j.end);
        jfree(n);
    }
}

MC_TEST(test_routes_are_the_contracts)
{
    REQUIRE(doc);
    static const struct {
        const char *path;   /* the contract's route */
        const char *method; /* its method */
        const char *ok;     /* its success status */
        const char *schema; /* the success body's schema, NULL for none */
    } want[] = {
        {"/v1/dossiers", "post", "201", "Receipt"},
        {"/v1/dossiers/{code}", "get", "200", "DossierStatus"},
        {"/v1/dossiers/{code}/supplement", "post", "200", "Acknowledgement"},
        {"/v1/dossiers/{code}/withdraw", "post", "200", "Acknowledgement"},
        {"/v1/dossiers/{code}/rating", "post", "200", "Acknowledgement"},
        {"/v1/procedures", "get", "200", "Catalog"},
        {"/healthz", "get", "200", NULL},
        {"/v1/openapi.json", "get", "200", NULL},
    };
    const jnode_t *paths = jget(doc, "paths");
    REQUIRE(paths);
    CHECK_INT(paths->n_items, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const jnode_t *op = jget(jget(paths, want[i].path), want[i].method);
        if (!op) {
            printf("  missing %s %s\n", want[i].method, want[i].path);
            CHECK(op);
            continue;
        }
        const jnode_t *ok = jget(jget(op, "responses"), want[i].ok);
        CHECK(ok);
        if (want[i].schema) {
            char ref[128];
            snprintf(ref, sizeof ref, "#/components/schemas/%s", want[i].schema);
            const jnode_t *r =
                jget(jget(jget(jget(ok, "content"), "application/json"), "schema"), "$ref");
            CHECK(r && strcmp(r->text, ref) == 0);
        }
    }
    /* the error statuses of a POST, each a Rejection; 429 and 503 with Retry-After */
    const jnode_t *post = jget(jget(paths, "/v1/dossiers"), "post");
    static const char *const errors[] = {"400", "401", "403", "404", "409",
                                         "413", "415", "429", "503"};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        const jnode_t *r = jget(jget(post, "responses"), errors[i]);
        const jnode_t *target = r ? resolve(doc, jget(r, "$ref") ? jget(r, "$ref")->text : "") : NULL;
        CHECK(target);
        const jnode_t *schema =
            jget(jget(jget(jget(target, "content"), "application/json"), "schema"), "$ref");
        CHECK(schema && strcmp(schema->text, "#/components/schemas/Rejection") == 0);
        bool retry = jget(jget(target, "headers"), "Retry-After") != NULL;
        CHECK_INT(retry, strcmp(errors[i], "429") == 0 || strcmp(errors[i], "503") == 0);
    }
    /* the headers of the contract */
    const jnode_t *params = jget(jget(doc, "components"), "parameters");
    CHECK_STR(jget(jget(params, "IdempotencyKey"), "name")->text, "Idempotency-Key");
    CHECK_STR(jget(jget(params, "DossierSecret"), "name")->text, "X-Dossier-Secret");
    CHECK_STR(jget(jget(jget(jget(doc, "components"), "securitySchemes"), "bearer"), "scheme")->text,
              "bearer");
}

/* check_message - schema name has one property per field of m, by json name */
static void check_message(const jnode_t *schemas, const char *name,
                          const ProtobufCMessageDescriptor *m)
{
    const jnode_t *props = jget(jget(schemas, name), "properties");
    if (!props) {
        printf("  no schema %s\n", name);
        CHECK(props);
        return;
    }
    CHECK_INT(props->n_items, m->n_fields);
    for (unsigned i = 0; i < m->n_fields; i++) {
        char json[128];
        size_t n = 0;
        bool up = false;
        for (const char *p = m->fields[i].name; *p && n + 1 < sizeof json; p++) {
            if (*p == '_') {
                up = true;
                continue;
            }
            json[n++] = up ? (char)toupper((unsigned char)*p) : *p;
            up = false;
        }
        json[n] = '\0';
        const jnode_t *prop = jget(props, json);
        if (!prop)
            printf("  %s: no property %s\n", name, json);
        CHECK(prop);
        if (prop && m->fields[i].label == PROTOBUF_C_LABEL_REPEATED)
            CHECK_STR(jget(prop, "type")->text, "array");
        if (prop && m->fields[i].type == PROTOBUF_C_TYPE_INT64)
            CHECK_STR(jget(prop, "type")->text, "string");
    }
}

MC_TEST(test_schemas_follow_the_descriptors)
{
    REQUIRE(doc);
    const jnode_t *schemas = jget(jget(doc, "components"), "schemas");
    REQUIRE(schemas);
    check_message(schemas, "SubmitDossier", &motcua__v1__submit_dossier__descriptor);
    check_message(schemas, "Receipt", &motcua__v1__receipt__descriptor);
    check_message(schemas, "Rejection", &motcua__v1__rejection__descriptor);
    check_message(schemas, "Catalog", &motcua__v1__catalog__descriptor);
    check_message(schemas, "Procedure", &motcua__v1__procedure__descriptor);
    check_message(schemas, "DocumentRef", &motcua__v1__document_ref__descriptor);
    check_message(schemas, "DossierStatus", &motcua__v1__dossier_status__descriptor);
    /* enums by name, every value */
    const jnode_t *reason = jget(jget(schemas, "Reason"), "enum");
    REQUIRE(reason);
    CHECK_INT(reason->n_items, motcua__v1__reason__descriptor.n_values);
    CHECK_STR(reason->items[12]->text, "REASON_FORBIDDEN");
    /* oneofs documented */
    const jnode_t *oneofs = jget(jget(schemas, "Applicant"), "x-proto-oneofs");
    CHECK(oneofs && oneofs->n_items == 1 && oneofs->items[0]->n_items == 2);
    /* the lowerCamelCase rule: dossier_code -> dossierCode, sha256 stays */
    CHECK(jget(jget(jget(schemas, "Receipt"), "properties"), "dossierCode") != NULL);
    CHECK(jget(jget(jget(schemas, "DocumentRef"), "properties"), "sha256") != NULL);
    CHECK_STR(jget(jget(jget(jget(schemas, "DocumentRef"), "properties"), "sha256"), "format")->text,
              "byte");
    /* internal messages never reach the public description */
    CHECK(jget(schemas, "PipelineEvent") == NULL);
}

int main(void)
{
    committed = read_all("docs/openapi.json", &committed_len);
    if (committed) {
        jparse_t j = {.p = committed, .end = committed + committed_len};
        doc = parse_value(&j, 0);
        ws(&j);
        if (j.bad || j.p != j.end) {
            printf("  docs/openapi.json is not well-formed JSON near byte %zu\n",
                   (size_t)(j.p - committed));
            jfree(doc);
            doc = NULL;
        }
    } else {
        printf("  cannot read docs/openapi.json (run from the repository root)\n");
    }
    mc_test_run(test_committed_file_is_current);
    mc_test_run(test_well_formed_and_refs_resolve);
    mc_test_run(test_routes_are_the_contracts);
    mc_test_run(test_schemas_follow_the_descriptors);
    jfree(doc);
    free(committed);
    return mc_test_done("test_openapi");
}
