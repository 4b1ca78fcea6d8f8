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
 * codes it acts for (optional, and unused, for role gateway), at most one of
 * `public_key` (40 Z85 characters) or `public_key_file` (relative to the
 * yaml file's directory), and optionally `token_sha256` (64 lowercase hex
 * digits: the SHA-256 of its HTTP bearer token); a key, a token or both. A
 * client with a token and no key cannot connect over ZeroMQ (its
 * public_key is ""): it reaches intake only through motcua-gateway, whose
 * requests name it in IntakeRequest.on_behalf_of (role gateway: a CURVE
 * client that acts for other clients, never for itself). Codes, keys and
 * tokens are unique. Whether the wards are served here is the caller's
 * check (mc_clients_check_wards).
 *
 *   clients:
 *     - {code: QUAY_KIM_LIEN, name: "Quầy một cửa phường Kim Liên", role: counter,
 *        wards: ["00229"], public_key_file: keys/QUAY_KIM_LIEN.pub}
 *     - {code: CONG_DVC, name: "Cổng dịch vụ công", role: portal,
 *        wards: ["00229", "00220"], public_key_file: keys/CONG_DVC.pub}
 *     - {code: CONG_CONG, name: "Trang tra cứu công cộng", role: portal,
 *        wards: ["00229"], gateway_only: true}    (no key nor token: only a gateway acts as it)
 *     - {code: WEB_APP, name: "Ứng dụng web", role: portal,
 *        wards: ["00229"], token_sha256: "9f86d0...(64 hex)"}
 *     - {code: GATEWAY, name: "Cổng HTTP motcua-gateway", role: gateway,
 *        public_key_file: keys/GATEWAY.pub}
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
    MC_CLIENT_GATEWAY = 3, /* motcua-gateway: acts only on behalf of another client (on_behalf_of) */
} mc_client_role_t;

#define MC_TOKEN_MIN_LEN 16  /* shortest bearer token mc_clients_find_token hashes */
#define MC_TOKEN_MAX_LEN 512 /* longest one (a longer header is nobody's) */
#define MC_TOKEN_NEW_LEN 43  /* mc_clients_token_new: 32 random bytes, URL-safe base64 */

typedef struct mc_client {
    char            *code;           /* e.g. "QUAY_KIM_LIEN": the actor in the dossier's history */
    char            *name;           /* human name */
    mc_client_role_t role;           /* counter or portal */
    char           **wards;          /* ward codes it acts for */
    size_t           n_wards;        /* entries in wards */
    bool             all_wards;      /* acts for every ward (only the plain-text stand-in) */
    char             public_key[41]; /* CURVE public key, Z85 ("" for the plain-text stand-in or a token-only client) */
    unsigned char    token_sha256[32]; /* SHA-256 of its HTTP bearer token, when has_token */
    bool             has_token;      /* token_sha256 was given */
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

/* mc_client_role_name - "counter", "portal" or "gateway" */
const char *mc_client_role_name(mc_client_role_t role);

/*
 * mc_clients_find_token - the client whose token_sha256 is the SHA-256 of
 * token (a NUL-terminated bearer token, MC_TOKEN_MIN_LEN..MC_TOKEN_MAX_LEN
 * bytes), or NULL. The hash is compared with every client's in constant
 * time; the token is neither kept nor logged.
 */
const mc_client_t *mc_clients_find_token(const mc_clients_t *clients, const char *token);

/* mc_clients_token_new - a new random token (MC_TOKEN_NEW_LEN URL-safe
 * base64 characters) and its token_sha256 (64 lowercase hex); 0 or -1 */
int mc_clients_token_new(char token[MC_TOKEN_NEW_LEN + 1], char token_sha256[65]);

/* mc_clients_token_hash - the token_sha256 line of a token (64 lowercase hex); 0 or -1 */
int mc_clients_token_hash(const char *token, char token_sha256[65]);

#endif
