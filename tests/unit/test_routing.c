/*
 * test_routing - mc_routing: the shipped config/routing.yaml against the
 * shipped catalog and wards, the lookup order (ward override, procedure
 * entry, catalog), and strictness (unknown procedure, unknown ward, unknown
 * key, duplicate entry are errors). Run from the repository root.
 */
#include <stdlib.h>
#include <string.h>

#include "mc_cfg.h"
#include "mc_routing.h"
#include "mc_test.h"

static mc_cfg_t *cfg; /* config/motcua.yaml with its catalog */

/* parse - routing from text; 0 or -1 with messages in err */
static int parse(const char *text, mc_routing_t **out, mc_err_t *err)
{
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_buffer("routing.yaml", text, strlen(text), &doc, err) < 0)
        return -1;
    int rc = mc_routing_from_yaml(mc_yaml_root(doc), cfg, out, err);
    mc_yaml_destroy(&doc);
    return rc;
}

MC_TEST(test_shipped_routing_loads)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_routing_t *r = NULL;
    CHECK(mc_routing_load("config/routing.yaml", cfg, &r, &err) == 0);
    if (err.count)
        printf("%s", err.text);
    REQUIRE(r);
    const mc_procedure_t *ct = mc_catalog_find(cfg->catalog, "2.000815");
    REQUIRE(ct);
    CHECK_STR(mc_routing_lookup(r, ct, "00220").department, "TU_PHAP_CHUNG_THUC");
    CHECK_STR(mc_routing_lookup(r, ct, "00229").department, "TU_PHAP");
    /* every catalog procedure has a desk */
    for (size_t i = 0; i < cfg->catalog->count; i++) {
        mc_route_t rt = mc_routing_lookup(r, &cfg->catalog->procedures[i], "00229");
        CHECK(rt.department && rt.department[0] && rt.department_name && rt.department_name[0]);
    }
    mc_routing_destroy(&r);
    CHECK(r == NULL);
}

MC_TEST(test_lookup_falls_back_to_catalog)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_routing_t *r = NULL;
    REQUIRE(parse("procedures:\n"
                  "  - procedure: \"1.001193\"\n"
                  "    department: HO_TICH\n"
                  "    department_name: \"Bàn hộ tịch\"\n"
                  "    wards: [{ward: \"00229\", department: KL_HO_TICH, department_name: \"KL\"}]\n",
                  &r, &err) == 0);
    const mc_procedure_t *ks = mc_catalog_find(cfg->catalog, "1.001193");
    const mc_procedure_t *tt = mc_catalog_find(cfg->catalog, "1.004222");
    REQUIRE(ks && tt);
    CHECK_STR(mc_routing_lookup(r, ks, "00229").department, "KL_HO_TICH");
    CHECK_STR(mc_routing_lookup(r, ks, "00220").department, "HO_TICH");
    CHECK_STR(mc_routing_lookup(r, tt, "00220").department, tt->department);
    mc_routing_destroy(&r);
}

MC_TEST(test_strict_errors)
{
    static const char *const bad[] = {
        "procedures:\n  - {procedure: \"9.999999\", department: X, department_name: \"x\"}\n",
        "procedures:\n  - {procedure: \"1.001193\", department: X, department_name: \"x\","
        " wards: [{ward: \"99999\", department: Y, department_name: \"y\"}]}\n",
        "procedures:\n  - {procedure: \"1.001193\", department: X, department_name: \"x\", desk: 1}\n",
        "procedures:\n  - {procedure: \"1.001193\", department: X, department_name: \"x\"}\n"
        "  - {procedure: \"1.001193\", department: Y, department_name: \"y\"}\n",
        "procedures:\n  - {procedure: \"1.001193\", department: \"lower case\", department_name: \"x\"}\n",
        "routes: []\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_err_t err;
        mc_err_clear(&err);
        mc_routing_t *r = NULL;
        CHECK(parse(bad[i], &r, &err) == -1);
        CHECK(r == NULL);
        CHECK(err.count > 0 && strstr(err.text, "routing.yaml:"));
        mc_routing_destroy(&r);
    }
}

int main(void)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load("config/motcua.yaml", &cfg, &err) != 0) {
        printf("%s", err.text);
        return 1;
    }
    mc_test_run(test_shipped_routing_loads);
    mc_test_run(test_lookup_falls_back_to_catalog);
    mc_test_run(test_strict_errors);
    mc_cfg_destroy(&cfg);
    return mc_test_done("test_routing");
}
