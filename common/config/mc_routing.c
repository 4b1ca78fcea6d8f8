/*
 * mc_routing - procedure -> desk, with per-ward overrides (contract in
 * mc_routing.h). Every problem in the file is reported before failing.
 */
#include "mc_routing.h"
#include "mc_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_CODE_MAX MC_AGENCY_CODE_LEN /* a desk is an agency */
#define RT_NAME_MAX 1000 /* bytes in a desk name */

typedef struct rt_entry {
    char *procedure;       /* catalog code */
    char *ward;            /* NULL: every ward */
    char *department;      /* desk code */
    char *department_name; /* its name */
} rt_entry_t;

struct mc_routing {
    rt_entry_t *entries; /* procedure entries and ward overrides */
    size_t      count;   /* entries used */
    size_t      cap;     /* entries allocated */
};

/* desk_code_ok - [A-Z0-9_], like the catalog's department codes */
static bool desk_code_ok(const char *s)
{
    if (!s[0])
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* find - the entry for (procedure, ward), ward NULL for the general one */
static const rt_entry_t *find(const mc_routing_t *r, const char *procedure, const char *ward)
{
    for (size_t i = 0; r && i < r->count; i++) {
        const rt_entry_t *e = &r->entries[i];
        if (strcmp(e->procedure, procedure) != 0)
            continue;
        if ((!ward && !e->ward) || (ward && e->ward && strcmp(ward, e->ward) == 0))
            return e;
    }
    return NULL;
}

/* add_entry - read department/department_name of map into a new entry */
static int add_entry(mc_routing_t *r, const mc_yaml_node_t *map, const char *procedure,
                     const char *ward, mc_err_t *err)
{
    char w[512];
    if (find(r, procedure, ward)) {
        mc_err_add(err, "%s: procedure '%s'%s%s: listed twice", mc_yaml_where(map, w, sizeof w),
                   procedure, ward ? " ward " : "", ward ? ward : "");
        return -1;
    }
    char *dept = NULL, *name = NULL;
    if (mc_yaml_get_string(map, "department", true, RT_CODE_MAX, &dept, err) < 0 ||
        mc_yaml_get_string(map, "department_name", true, RT_NAME_MAX, &name, err) < 0) {
        free(dept);
        free(name);
        return -1;
    }
    if (!desk_code_ok(dept) || !name[0]) {
        mc_err_add(err, "%s: key '%s': %s", mc_yaml_where(map, w, sizeof w),
                   !desk_code_ok(dept) ? "department" : "department_name",
                   !desk_code_ok(dept) ? "expected a desk code of A-Z, 0-9 and _"
                                       : "must not be empty");
        free(dept);
        free(name);
        return -1;
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        rt_entry_t *e = realloc(r->entries, cap * sizeof *e);
        if (!e) {
            free(dept);
            free(name);
            mc_err_add(err, "out of memory");
            return -1;
        }
        r->entries = e;
        r->cap = cap;
    }
    rt_entry_t *e = &r->entries[r->count];
    e->procedure = strdup(procedure);
    e->ward = ward ? strdup(ward) : NULL;
    e->department = dept;
    e->department_name = name;
    r->count++;
    if (!e->procedure || (ward && !e->ward)) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    return 0;
}

/* load_overrides - the optional `wards` list of one procedure entry */
static int load_overrides(mc_routing_t *r, const mc_yaml_node_t *seq, const char *procedure,
                          const mc_cfg_t *cfg, mc_err_t *err)
{
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "wards", err) < 0)
        return -1;
    static const char *const keys[] = {"ward", "department", "department_name", NULL};
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *o = seq->items[i];
        if (mc_yaml_check_keys(o, "ward override", keys, keys, err) < 0) {
            rc = -1;
            continue;
        }
        char *ward = NULL, w[512];
        if (mc_yaml_get_string(o, "ward", true, MC_WARD_CODE_LEN, &ward, err) < 0) {
            rc = -1;
            continue;
        }
        if (!mc_cfg_ward(cfg, ward)) {
            mc_err_add(err, "%s: key 'ward': '%s' is not a ward served here (motcua.yaml wards)",
                       mc_yaml_where(mc_yaml_get(o, "ward"), w, sizeof w), ward);
            rc = -1;
        } else if (add_entry(r, o, procedure, ward, err) < 0) {
            rc = -1;
        }
        free(ward);
    }
    return rc;
}

/* mc_routing_from_yaml - build the table from a parsed root */
int mc_routing_from_yaml(const mc_yaml_node_t *root, const mc_cfg_t *cfg, mc_routing_t **out,
                         mc_err_t *err)
{
    *out = NULL;
    static const char *const root_keys[] = {"procedures", NULL};
    if (mc_yaml_check_keys(root, "routing.yaml", root_keys, root_keys, err) < 0)
        return -1;
    const mc_yaml_node_t *list = mc_yaml_get(root, "procedures");
    if (mc_yaml_expect(list, MC_YAML_SEQUENCE, "procedures", err) < 0)
        return -1;
    mc_routing_t *r = calloc(1, sizeof *r);
    if (!r) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    static const char *const allowed[] = {"procedure", "department", "department_name", "wards",
                                          NULL};
    static const char *const required[] = {"procedure", "department", "department_name", NULL};
    int rc = 0;
    for (size_t i = 0; i < list->count; i++) {
        const mc_yaml_node_t *p = list->items[i];
        if (mc_yaml_check_keys(p, "routing entry", allowed, required, err) < 0) {
            rc = -1;
            continue;
        }
        char *code = NULL, w[512];
        if (mc_yaml_get_string(p, "procedure", true, MC_PROCEDURE_CODE_LEN, &code, err) < 0) {
            rc = -1;
            continue;
        }
        if (!mc_catalog_find(cfg->catalog, code)) {
            mc_err_add(err, "%s: key 'procedure': '%s' is not in the catalog (procedures.yaml)",
                       mc_yaml_where(mc_yaml_get(p, "procedure"), w, sizeof w), code);
            rc = -1;
        } else {
            if (add_entry(r, p, code, NULL, err) < 0)
                rc = -1;
            const mc_yaml_node_t *wards = mc_yaml_get(p, "wards");
            if (wards && load_overrides(r, wards, code, cfg, err) < 0)
                rc = -1;
        }
        free(code);
    }
    if (rc < 0) {
        mc_routing_destroy(&r);
        return -1;
    }
    *out = r;
    return 0;
}

/* mc_routing_load - parse the file and build */
int mc_routing_load(const char *path, const mc_cfg_t *cfg, mc_routing_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    int rc = mc_routing_from_yaml(mc_yaml_root(doc), cfg, out, err);
    mc_yaml_destroy(&doc);
    return rc;
}

/* mc_routing_destroy - free every entry */
void mc_routing_destroy(mc_routing_t **routing)
{
    if (!routing || !*routing)
        return;
    mc_routing_t *r = *routing;
    for (size_t i = 0; i < r->count; i++) {
        free(r->entries[i].procedure);
        free(r->entries[i].ward);
        free(r->entries[i].department);
        free(r->entries[i].department_name);
    }
    free(r->entries);
    free(r);
    *routing = NULL;
}

/* mc_routing_lookup - ward override, procedure entry, then the catalog */
mc_route_t mc_routing_lookup(const mc_routing_t *routing, const mc_procedure_t *proc,
                             const char *ward_code)
{
    const rt_entry_t *e = ward_code ? find(routing, proc->code, ward_code) : NULL;
    if (!e)
        e = find(routing, proc->code, NULL);
    if (e)
        return (mc_route_t){e->department, e->department_name};
    return (mc_route_t){proc->department,
                        proc->department_name && proc->department_name[0] ? proc->department_name
                                                                           : proc->department};
}
