/*
 * mc_clients - the clients admitted to motcua-intake, from clients.yaml
 * (files.clients, beside motcua.yaml): ward offices' counter software and
 * the online portal. A client's CURVE public key is its identity on the
 * wire: intake's ZAP handler (mc_curve) refuses every other key during the
 * handshake, and names the client by its code in each frame's User-Id.
 *
 * Contract: mc_clients_load() reads the file strictly (mc_yaml: unknown
 * keys, wrong types, duplicate codes or keys fail with file:line:col) and
 * returns an immutable table, safe to read from any thread. Each client has
 * a code (A-Z, 0-9, _; 1..64), a name, a role, 1..MC_CLIENT_WARDS_MAX ward
 * codes it acts for, and exactly one of `public_key` (40 Z85 characters) or
 * `public_key_file` (relative to the yaml file's directory). Whether the
 * wards are served here is the caller's check (mc_clients_check_wards).
 *
 *   clients:
 *     - {code: QUAY_KIM_LIEN, name: "Quầy một cửa phường Kim Liên", role: counter,
 *        wards: ["00229"], public_key_file: keys/QUAY_KIM_LIEN.pub}
 *     - {code: CONG_DVC, name: "Cổng dịch vụ công", role: portal,
 *        wards: ["00229", "00220"], public_key_file: keys/CONG_DVC.pub}
 */
#ifndef MC_CLIENTS_H
#define MC_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "mc_cfg.h"
#include "mc_err.h"

#define MC_CLIENT_WARDS_MAX 1000 /* wards one client may act for */

typedef enum mc_client_role {
    MC_CLIENT_COUNTER = 1, /* a ward office's counter: acts for applicants present in person */
    MC_CLIENT_PORTAL  = 2, /* the online portal: acts for applicants who hold their dossier's secret */
} mc_client_role_t;

typedef struct mc_client {
    char            *code;           /* e.g. "QUAY_KIM_LIEN": the actor in the dossier's history */
    char            *name;           /* human name */
    mc_client_role_t role;           /* counter or portal */
    char           **wards;          /* ward codes it acts for */
    size_t           n_wards;        /* entries in wards */
    bool             all_wards;      /* acts for every ward (only the plain-text stand-in) */
    char             public_key[41]; /* CURVE public key, Z85 ("" for the plain-text stand-in) */
} mc_client_t;

typedef struct mc_clients {
    mc_client_t *items; /* in file order */
    size_t       count; /* entries in items */
} mc_clients_t;

/* mc_clients_load - read clients.yaml; every error reported */
int mc_clients_load(const char *path, mc_clients_t **clients, mc_err_t *err);

/* mc_clients_check_wards - every client's wards are served by cfg (errors name client and ward) */
int mc_clients_check_wards(const mc_clients_t *clients, const mc_cfg_t *cfg, mc_err_t *err);

/* mc_clients_destroy - free and NULL the caller's pointer */
void mc_clients_destroy(mc_clients_t **clients);

/* mc_clients_find - the client with this code, or NULL */
const mc_client_t *mc_clients_find(const mc_clients_t *clients, const char *code);

/* mc_clients_by_key - the client with this Z85 public key, or NULL */
const mc_client_t *mc_clients_by_key(const mc_clients_t *clients, const char *public_z85);

/* mc_clients_code_of_key - mc_zap_lookup_fn: the code of the client with this key, or NULL */
const char *mc_clients_code_of_key(const void *clients, const char *public_z85);

/* mc_client_acts_for - may client act for ward_code? */
bool mc_client_acts_for(const mc_client_t *client, const char *ward_code);

/* mc_client_role_name - "counter" or "portal" */
const char *mc_client_role_name(mc_client_role_t role);

#endif
