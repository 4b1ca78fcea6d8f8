/*
 * mc_routing - which desk of the ward handles a procedure: config/routing.yaml.
 *
 * Contract: mc_routing_load() reads routing.yaml strictly (unknown keys,
 * wrong types, duplicate entries, procedure codes not in the catalog and
 * ward codes not served are errors, each with file:line:col) and returns an
 * immutable table, safe to share between threads. mc_routing_lookup() always
 * answers for a procedure of the catalog: the per-ward override if there is
 * one, else the procedure's entry in routing.yaml, else the catalog's own
 * `department` (so a procedure added to the catalog is routed to the desk
 * the catalog names until routing.yaml says otherwise).
 *
 *     procedures:
 *       - procedure: "2.000815"            catalog code
 *         department: TU_PHAP              desk code [A-Z0-9_], <= 64 bytes
 *         department_name: "..."           its human name
 *         wards:                           optional per-ward overrides
 *           - {ward: "00220", department: CHUNG_THUC, department_name: "..."}
 */
#ifndef MC_ROUTING_H
#define MC_ROUTING_H

#include "mc_catalog.h"
#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_yaml.h"

/* a routing answer: pointers into the table or the catalog */
typedef struct mc_route {
    const char *department;      /* desk code: dossier.department and the agency of step 1 */
    const char *department_name; /* for people */
} mc_route_t;

typedef struct mc_routing mc_routing_t;

/* mc_routing_load - read routing.yaml against cfg's catalog and wards */
int mc_routing_load(const char *path, const mc_cfg_t *cfg, mc_routing_t **out, mc_err_t *err);

/* mc_routing_from_yaml - the same from a parsed root */
int mc_routing_from_yaml(const mc_yaml_node_t *root, const mc_cfg_t *cfg, mc_routing_t **out,
                         mc_err_t *err);

/* mc_routing_destroy - free and NULL the caller's pointer */
void mc_routing_destroy(mc_routing_t **routing);

/* mc_routing_lookup - the desk for proc in ward (see the contract for the order) */
mc_route_t mc_routing_lookup(const mc_routing_t *routing, const mc_procedure_t *proc,
                             const char *ward_code);

#endif
