/*
 * test_yaml - mc_yaml: the tree, its places, and the strict accessors.
 *
 * Contract: every check here can fail; each refusal (unknown key, wrong
 * type, duplicate key, alias, tag, second document, bounds, bad UTF-8,
 * missing file) must both fail and say where.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mc_test.h"
#include "mc_yaml.h"

/* load - parse a string as document "t.yaml" */
static int load(const char *text, mc_yaml_doc_t **doc, mc_err_t *err)
{
    mc_err_clear(err);
    return mc_yaml_load_buffer("t.yaml", text, strlen(text), doc, err);
}

/* has - does the error text contain s? */
static int has(const mc_err_t *err, const char *s)
{
    return strstr(err->text, s) != NULL;
}

MC_TEST(test_tree_and_places)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    REQUIRE(load("a: 1\nb:\n  - x\n  - \"y z\"\nc: {d: true}\n", &doc, &err) == 0);
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    REQUIRE(root && root->kind == MC_YAML_MAPPING);
    CHECK_INT(root->count, 3);
    const mc_yaml_node_t *b = mc_yaml_get(root, "b");
    REQUIRE(b && b->kind == MC_YAML_SEQUENCE);
    CHECK_INT(b->count, 2);
    CHECK_INT(b->items[1]->line, 4);
    CHECK_INT(b->items[1]->column, 5);
    CHECK(b->items[0]->plain);
    CHECK(!b->items[1]->plain);
    CHECK_STR(b->items[1]->value, "y z");
    char where[64];
    CHECK_STR(mc_yaml_where(b->items[0], where, sizeof where), "t.yaml:3:5");
    CHECK(mc_yaml_get(root, "zz") == NULL);
    CHECK(mc_yaml_get(b, "x") == NULL); /* not a mapping */
    bool d = false;
    CHECK(mc_yaml_get_bool(mc_yaml_get(root, "c"), "d", true, &d, &err) == 0);
    CHECK(d);
    mc_yaml_destroy(&doc);
    CHECK(doc == NULL);
    mc_yaml_destroy(&doc); /* harmless twice */
}

MC_TEST(test_unknown_and_missing_keys)
{
    static const char *const allowed[] = {"name", "age", NULL};
    static const char *const required[] = {"name", NULL};
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    REQUIRE(load("age: 3\n\nnmae: x\n", &doc, &err) == 0);
    CHECK(mc_yaml_check_keys(mc_yaml_root(doc), "person", allowed, required, &err) == -1);
    CHECK(has(&err, "t.yaml:3:1: key 'nmae': unknown key in person"));
    CHECK(has(&err, "key 'name': missing in person"));
    CHECK_INT(err.count, 2);
    mc_yaml_destroy(&doc);

    REQUIRE(load("- 1\n", &doc, &err) == 0);
    CHECK(mc_yaml_check_keys(mc_yaml_root(doc), "person", allowed, NULL, &err) == -1);
    CHECK(has(&err, "t.yaml:1:1: person: expected a mapping, found a sequence"));
    mc_yaml_destroy(&doc);
}

MC_TEST(test_integers_strict)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    REQUIRE(load("a: 7\nb: 7x\nc: \"7\"\nd: -12\ne: 007\nf: 99999999999999999999\n"
                 "g: 300\nh: 1.5\ni: -0\nj: -9223372036854775808\n",
                 &doc, &err) == 0);
    const mc_yaml_node_t *r = mc_yaml_root(doc);
    int64_t v = 0;
    CHECK(mc_yaml_get_int(r, "a", true, 0, 10, &v, &err) == 0);
    CHECK_INT(v, 7);
    mc_err_clear(&err);
    CHECK(mc_yaml_get_int(r, "b", true, 0, 10, &v, &err) == -1);
    CHECK(has(&err, "t.yaml:2:4: key 'b': expected a plain decimal integer"));
    CHECK(mc_yaml_get_int(r, "c", true, 0, 10, &v, &err) == -1);
    CHECK(has(&err, "(quoted)"));
    CHECK(mc_yaml_get_int(r, "d", true, -100, 100, &v, &err) == 0);
    CHECK_INT(v, -12);
    CHECK(mc_yaml_get_int(r, "e", true, 0, 10, &v, &err) == -1);
    mc_err_clear(&err);
    CHECK(mc_yaml_get_int(r, "f", true, 0, INT64_MAX, &v, &err) == -1);
    CHECK(has(&err, "out of range"));
    mc_err_clear(&err);
    CHECK(mc_yaml_get_int(r, "g", true, 0, 255, &v, &err) == -1);
    CHECK(has(&err, "300 is out of range (0..255)"));
    CHECK(mc_yaml_get_int(r, "h", true, 0, 10, &v, &err) == -1);
    CHECK(mc_yaml_get_int(r, "i", true, -10, 10, &v, &err) == -1);
    CHECK(mc_yaml_get_int(r, "j", true, INT64_MIN, 0, &v, &err) == 0);
    CHECK(v == INT64_MIN);
    /* absent and optional: untouched, success */
    v = 42;
    CHECK(mc_yaml_get_int(r, "zz", false, 0, 10, &v, &err) == 0);
    CHECK_INT(v, 42);
    mc_err_clear(&err);
    CHECK(mc_yaml_get_int(r, "zz", true, 0, 10, &v, &err) == -1);
    CHECK(has(&err, "key 'zz': missing"));
    /* a sequence item by itself */
    mc_yaml_destroy(&doc);
    REQUIRE(load("[5, x]\n", &doc, &err) == 0);
    r = mc_yaml_root(doc);
    CHECK(mc_yaml_scalar_int(r->items[0], "years[0]", 0, 9, &v, &err) == 0);
    CHECK_INT(v, 5);
    mc_err_clear(&err);
    CHECK(mc_yaml_scalar_int(r->items[1], "years[1]", 0, 9, &v, &err) == -1);
    CHECK(has(&err, "t.yaml:1:5: years[1]: expected a plain decimal integer"));
    mc_yaml_destroy(&doc);
}

MC_TEST(test_booleans_strict)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    REQUIRE(load("a: true\nb: false\nc: yes\nd: \"true\"\ne: True\nf: [1]\n", &doc, &err) == 0);
    const mc_yaml_node_t *r = mc_yaml_root(doc);
    bool v = false;
    CHECK(mc_yaml_get_bool(r, "a", true, &v, &err) == 0 && v);
    CHECK(mc_yaml_get_bool(r, "b", true, &v, &err) == 0 && !v);
    mc_err_clear(&err);
    CHECK(mc_yaml_get_bool(r, "c", true, &v, &err) == -1);
    CHECK(has(&err, "t.yaml:3:4: key 'c': expected true or false, found 'yes'"));
    CHECK(mc_yaml_get_bool(r, "d", true, &v, &err) == -1);
    CHECK(mc_yaml_get_bool(r, "e", true, &v, &err) == -1);
    CHECK(mc_yaml_get_bool(r, "f", true, &v, &err) == -1);
    mc_yaml_destroy(&doc);
}

MC_TEST(test_strings_strict)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    REQUIRE(load("a: \"Phường Kim Liên\"\nb: {x: 1}\nc: \"a\\0b\"\nd:\ne: ~\nf: abcdef\n"
                 "g: \"\"\nh: plain text\n",
                 &doc, &err) == 0);
    const mc_yaml_node_t *r = mc_yaml_root(doc);
    char *s = NULL;
    CHECK(mc_yaml_get_string(r, "a", true, 100, &s, &err) == 0);
    CHECK_STR(s, "Phường Kim Liên");
    free(s);
    s = NULL;
    mc_err_clear(&err);
    CHECK(mc_yaml_get_string(r, "b", true, 100, &s, &err) == -1);
    CHECK(has(&err, "t.yaml:2:4: key 'b': expected a string, found a mapping"));
    CHECK(mc_yaml_get_string(r, "c", true, 100, &s, &err) == -1);
    CHECK(has(&err, "key 'c': not valid UTF-8"));
    CHECK(mc_yaml_get_string(r, "d", true, 100, &s, &err) == -1);
    CHECK(mc_yaml_get_string(r, "e", true, 100, &s, &err) == -1);
    CHECK(has(&err, "null"));
    mc_err_clear(&err);
    CHECK(mc_yaml_get_string(r, "f", true, 5, &s, &err) == -1);
    CHECK(has(&err, "too long (6 bytes, at most 5)"));
    CHECK(s == NULL);
    CHECK(mc_yaml_get_string(r, "g", true, 5, &s, &err) == 0);
    CHECK_STR(s, "");
    free(s);
    s = NULL;
    CHECK(mc_yaml_get_string(r, "h", true, 50, &s, &err) == 0);
    CHECK_STR(s, "plain text");
    free(s);
    s = NULL;
    CHECK(mc_yaml_get_string(r, "absent", false, 50, &s, &err) == 0);
    CHECK(s == NULL);
    mc_yaml_destroy(&doc);

    /* bytes that are not UTF-8 never reach a caller as a string */
    static const char bad[] = "a: \"\xc3\x28\"\n";
    int rc = load(bad, &doc, &err);
    if (rc == 0) {
        CHECK(mc_yaml_get_string(mc_yaml_root(doc), "a", true, 50, &s, &err) == -1);
        mc_yaml_destroy(&doc);
    }
    CHECK(s == NULL);
}

MC_TEST(test_duplicate_keys)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    CHECK(load("a: 1\nb: 2\nc:\n  x: 1\n  x: 2\n", &doc, &err) == -1);
    CHECK(doc == NULL);
    CHECK(has(&err, "t.yaml:5:3: key 'x': duplicate key (first at line 4)"));
    CHECK(load("a: 1\na: 1\n", &doc, &err) == -1);
    CHECK(has(&err, "t.yaml:2:1: key 'a': duplicate key"));
}

MC_TEST(test_refused_constructs)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    CHECK(load("a: &x 1\nb: *x\n", &doc, &err) == -1);
    CHECK(has(&err, "t.yaml:1:4: anchors"));
    CHECK(load("a: !!str 1\n", &doc, &err) == -1);
    CHECK(has(&err, "tags"));
    CHECK(load("a: 1\n---\nb: 2\n", &doc, &err) == -1);
    CHECK(has(&err, "t.yaml:2:1: only one YAML document"));
    CHECK(load("? [a, b]\n: 1\n", &doc, &err) == -1);
    CHECK(has(&err, "mapping keys must be plain text"));
    CHECK(load("", &doc, &err) == -1);
    CHECK(has(&err, "empty file"));
    CHECK(load("a: [1, 2\n", &doc, &err) == -1);
    CHECK(has(&err, "t.yaml:2:1: YAML syntax error"));
    CHECK(doc == NULL);
}

MC_TEST(test_bounds)
{
    mc_err_t err;
    mc_yaml_doc_t *doc = NULL;
    /* nesting: 40 levels of flow sequences */
    char deep[128];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    deep[80] = '\0';
    CHECK(load(deep, &doc, &err) == -1);
    CHECK(has(&err, "nesting too deep"));
    /* 32 levels are fine */
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = '\0';
    CHECK(load(deep, &doc, &err) == 0);
    mc_yaml_destroy(&doc);

    size_t n = MC_YAML_MAX_SCALAR + 1;
    char *big = malloc(n + 8);
    REQUIRE(big);
    memcpy(big, "a: ", 3);
    memset(big + 3, 'x', n);
    strcpy(big + 3 + n, "\n");
    CHECK(load(big, &doc, &err) == -1);
    CHECK(has(&err, "scalar too long"));
    free(big);
}

MC_TEST(test_files)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_yaml_doc_t *doc = NULL;
    CHECK(mc_yaml_load_file("/nonexistent/dir/x.yaml", &doc, &err) == -1);
    CHECK(doc == NULL);
    CHECK(has(&err, "/nonexistent/dir/x.yaml: cannot open: No such file or directory"));

    char path[] = "/tmp/test_yaml_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char *text = "# comment\nkey: value\nbad: 1\n";
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    mc_err_clear(&err);
    REQUIRE(mc_yaml_load_file(path, &doc, &err) == 0);
    static const char *const allowed[] = {"key", NULL};
    CHECK(mc_yaml_check_keys(mc_yaml_root(doc), "top", allowed, NULL, &err) == -1);
    char want[128];
    snprintf(want, sizeof want, "%s:3:1: key 'bad'", path);
    CHECK(has(&err, want));
    mc_yaml_destroy(&doc);
    unlink(path);

    mc_err_clear(&err);
    CHECK(mc_yaml_load_file("/tmp", &doc, &err) == -1);
    CHECK(has(&err, "/tmp: cannot read"));
}

/* main - run every test */
int main(void)
{
    mc_test_run(test_tree_and_places);
    mc_test_run(test_unknown_and_missing_keys);
    mc_test_run(test_integers_strict);
    mc_test_run(test_booleans_strict);
    mc_test_run(test_strings_strict);
    mc_test_run(test_duplicate_keys);
    mc_test_run(test_refused_constructs);
    mc_test_run(test_bounds);
    mc_test_run(test_files);
    return mc_test_done("test_yaml");
}
