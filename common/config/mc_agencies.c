/*
 * mc_agencies - config/agencies.yaml (contract in mc_agencies.h).
 */
#include "mc_agencies.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_curve.h"
#include "mc_yaml.h"
#include "mc_limits.h"

#define AGENCIES_MAX 10000 /* agencies one file may list */

/* code_ok - agency codes are what procedures.yaml uses: A-Z, 0-9, '_', 1..64 */
static bool code_ok(const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || n > MC_AGENCY_CODE_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* load_one - one entry of the agencies list into a */
static int load_one(const char *path, const mc_yaml_node_t *node, mc_agency_t *a, mc_err_t *err)
{
    static const char *const keys[] = {"code", "name", "kind", "public_key", "public_key_file",
                                       NULL};
    static const char *const required[] = {"code", "name", "kind", NULL};
    if (mc_yaml_check_keys(node, "agency", keys, required, err) < 0)
        return -1;
    char w[512];
    int rc = 0;
    char *kind = NULL;
    if (mc_yaml_get_string(node, "code", true, MC_AGENCY_CODE_LEN, &a->code, err) < 0 ||
        mc_yaml_get_string(node, "name", true, 500, &a->name, err) < 0 ||
        mc_yaml_get_string(node, "kind", true, 16, &kind, err) < 0) {
        rc = -1;
        goto done;
    }
    if (!code_ok(a->code)) {
        mc_err_add(err, "%s: key 'code': expected 1..64 of A-Z, 0-9 and _",
                   mc_yaml_where(mc_yaml_get(node, "code"), w, sizeof w));
        rc = -1;
    }
    if (strcmp(kind, "department") == 0) {
        a->kind = MC_AGENCY_DEPARTMENT;
    } else if (strcmp(kind, "partner") == 0) {
        a->kind = MC_AGENCY_PARTNER;
    } else {
        mc_err_add(err, "%s: key 'kind': expected department or partner",
                   mc_yaml_where(mc_yaml_get(node, "kind"), w, sizeof w));
        rc = -1;
    }
    if (mc_curve_yaml_public_key(path, node, "agency", a->code, a->public_key, err) != 0)
        rc = -1;
done:
    free(kind);
    return rc;
}

/* mc_agencies_load - read and check the whole file */
int mc_agencies_load(const char *path, mc_agencies_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    static const char *const top[] = {"agencies", NULL};
    int rc = mc_yaml_check_keys(root, "agencies.yaml", top, top, err);
    const mc_yaml_node_t *list = rc == 0 ? mc_yaml_get(root, "agencies") : NULL;
    if (list && mc_yaml_expect(list, MC_YAML_SEQUENCE, "agencies", err) < 0)
        rc = -1;
    mc_agencies_t *t = calloc(1, sizeof *t);
    if (!t) {
        mc_err_add(err, "out of memory");
        mc_yaml_destroy(&doc);
        return -1;
    }
    if (rc == 0 && list->count > AGENCIES_MAX) {
        mc_err_add(err, "%s: more than %d agencies", path, AGENCIES_MAX);
        rc = -1;
    }
    if (rc == 0 && list->count > 0) {
        t->items = calloc(list->count, sizeof *t->items);
        if (!t->items) {
            mc_err_add(err, "out of memory");
            rc = -1;
        }
    }
    for (size_t i = 0; t->items && i < list->count; i++) {
        mc_agency_t *a = &t->items[t->count++];
        if (load_one(path, list->items[i], a, err) < 0) {
            rc = -1;
            continue; /* keep reporting: every problem in one run */
        }
        char w[512];
        for (size_t j = 0; j + 1 < t->count; j++) {
            if (!t->items[j].code || !t->items[j].public_key[0])
                continue; /* an entry that already failed */
            if (strcmp(t->items[j].code, a->code) == 0) {
                mc_err_add(err, "%s: agency '%s' listed twice",
                           mc_yaml_where(list->items[i], w, sizeof w), a->code);
                rc = -1;
            } else if (strcmp(t->items[j].public_key, a->public_key) == 0) {
                mc_err_add(err, "%s: agency '%s' has the same public key as '%s'",
                           mc_yaml_where(list->items[i], w, sizeof w), a->code,
                           t->items[j].code);
                rc = -1;
            }
        }
    }
    mc_yaml_destroy(&doc);
    if (rc != 0) {
        mc_agencies_destroy(&t);
        return -1;
    }
    *out = t;
    return 0;
}

/* mc_agencies_destroy - free everything */
void mc_agencies_destroy(mc_agencies_t **agencies)
{
    if (!agencies || !*agencies)
        return;
    for (size_t i = 0; i < (*agencies)->count; i++) {
        free((*agencies)->items[i].code);
        free((*agencies)->items[i].name);
    }
    free((*agencies)->items);
    free(*agencies);
    *agencies = NULL;
}

/* mc_agencies_find - by code */
const mc_agency_t *mc_agencies_find(const mc_agencies_t *agencies, const char *code)
{
    for (size_t i = 0; agencies && code && i < agencies->count; i++)
        if (strcmp(agencies->items[i].code, code) == 0)
            return &agencies->items[i];
    return NULL;
}

/* mc_agencies_by_key - by public key (an empty key never matches) */
const mc_agency_t *mc_agencies_by_key(const mc_agencies_t *agencies, const char *public_z85)
{
    for (size_t i = 0; agencies && public_z85 && *public_z85 && i < agencies->count; i++)
        if (agencies->items[i].public_key[0] &&
            strcmp(agencies->items[i].public_key, public_z85) == 0)
            return &agencies->items[i];
    return NULL;
}
