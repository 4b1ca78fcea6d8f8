/*
 * mc_agencies - the agencies that handle steps of dossiers, from
 * config/agencies.yaml: the ward's own departments (the first step of every
 * dossier) and partner agencies (police, social insurance, land registry,
 * tax...).
 *
 * Contract: mc_agencies_load() reads the file strictly (mc_yaml: unknown
 * keys, wrong types, duplicate codes or keys fail with file:line:col) and
 * returns an immutable table, safe to read from any thread. Each agency has
 * exactly one of `public_key` (40 Z85 characters) or `public_key_file`
 * (relative to the yaml file's directory; the file must exist and hold a
 * valid key). A public key belongs to one agency only: it is the agency's
 * identity on the wire (mc_curve's ZAP handler).
 *
 *   agencies:
 *     - {code: TU_PHAP, name: "Công chức Tư pháp - Hộ tịch", kind: department,
 *        public_key_file: keys/TU_PHAP.pub}
 */
#ifndef MC_AGENCIES_H
#define MC_AGENCIES_H

#include <stddef.h>

#include "mc_err.h"

typedef enum mc_agency_kind {
    MC_AGENCY_DEPARTMENT = 0, /* a desk of the ward itself */
    MC_AGENCY_PARTNER    = 1, /* another agency (liên thông) */
} mc_agency_kind_t;

typedef struct mc_agency {
    char            *code;           /* e.g. "CONG_AN_XA": matches procedures.yaml */
    char            *name;           /* human name */
    mc_agency_kind_t kind;           /* department or partner */
    char             public_key[41]; /* CURVE public key, Z85 */
} mc_agency_t;

typedef struct mc_agencies {
    mc_agency_t *items; /* in file order */
    size_t       count; /* entries in items */
} mc_agencies_t;

/* mc_agencies_load - read agencies.yaml; every error reported */
int mc_agencies_load(const char *path, mc_agencies_t **agencies, mc_err_t *err);

/* mc_agencies_destroy - free and NULL the caller's pointer */
void mc_agencies_destroy(mc_agencies_t **agencies);

/* mc_agencies_find - the agency with this code, or NULL */
const mc_agency_t *mc_agencies_find(const mc_agencies_t *agencies, const char *code);

/* mc_agencies_by_key - the agency with this Z85 public key, or NULL */
const mc_agency_t *mc_agencies_by_key(const mc_agencies_t *agencies, const char *public_z85);

#endif
