/*
 * mc_cli_dossier - dossiers the command-line programs build by hand: from a YAML file
 * (`motcua submit`, `motcua supplement`), or at random (`motcua-load`, tests).
 *
 * Contract: mc_cli_dossier_from_yaml() checks only the file's structure and
 * types - unknown keys, wrong types, a sha256 that is not 64 hex digits, a
 * channel or form outside its list - and reports every such problem as
 * "file:line:col: key 'x': ...". What the values mean (a citizen ID's
 * digits, whether the procedure exists, ...) is the intake daemon's to
 * judge, so a well-formed file with bad content is sent and comes back as
 * a Rejection that names the field. Absent strings stay "" (proto3's
 * default); an absent submission_id is left "" for the caller to fill.
 *
 * Every message built here is malloc'd piece by piece and must be freed
 * with mc_cli_dossier_free() - never with protobuf_c_message_free_unpacked(),
 * which expects protobuf-c's own allocation layout.
 */
#ifndef MC_CLI_DOSSIER_H
#define MC_CLI_DOSSIER_H

#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_yaml.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

/* mc_cli_dossier_from_yaml - read a dossier file into a new SubmitDossier */
int mc_cli_dossier_from_yaml(const char *path, Motcua__V1__SubmitDossier **out, mc_err_t *err);

/*
 * mc_cli_random_dossier - a valid random dossier, number n of this process:
 * submission_id "load-<pid>-<n>", procedure n-th (cyclically) among the
 * catalog's procedures that accept online or direct filing, a channel the
 * procedure allows, one document for each required document. The content
 * is a function of (pid, n) so the same n always gives the same dossier
 * (a resend is then a true retry). ward NULL cycles over cfg's wards.
 * Returns 0, or -1 when cfg has no usable procedure or ward, or on out of
 * memory.
 */
int mc_cli_random_dossier(const mc_cfg_t *cfg, unsigned n, const char *ward,
                       Motcua__V1__SubmitDossier **out);

/* mc_cli_document_from_yaml - one DocumentRef from a YAML mapping named
 * "<list>[index]" in messages (type, name, media_type, size, sha256, uri,
 * form, copies); NULL with every problem in err */
Motcua__V1__DocumentRef *mc_cli_document_from_yaml(const mc_yaml_node_t *node, const char *list,
                                                size_t index, mc_err_t *err);

/* mc_cli_document_free - free a DocumentRef built by mc_cli_document_from_yaml */
void mc_cli_document_free(Motcua__V1__DocumentRef *d);

/* mc_cli_dossier_free - free a message built here and NULL the caller's pointer */
void mc_cli_dossier_free(Motcua__V1__SubmitDossier **p);

#endif
