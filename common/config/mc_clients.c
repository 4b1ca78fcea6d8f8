/*
 * mc_clients - clients.yaml, intake's client registry (contract in mc_clients.h).
 */
#include "mc_clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mc_curve.h"
#include "mc_yaml.h"
#include "mc_limits.h"

#define CLIENTS_MAX 10000 /* clients one file may list */

/* client_code_ok - A-Z, 0-9, '_', 1..64: safe in logs and in the history's actor */
static bool client_code_ok(const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9') ||
              code[i] == '_'))
            return false;
    return true;
}

/* load_wards - the entry's `wards` sequence of ward codes */
static int load_wards(const mc_yaml_node_t *node, mc_client_t *c, mc_err_t *err)
{
    const mc_yaml_node_t *list = mc_yaml_get(node, "wards");
    char w[512];
    if (!list && c->role == MC_CLIENT_GATEWAY)
        return 0; /* a gateway acts for nobody itself: its requests name a client */
    if (!list) {
        mc_err_add(err, "%s: client '%s': key 'wards' is required for role %s",
                   mc_yaml_where(node, w, sizeof w), c->code ? c->code : "?",
                   mc_client_role_name(c->role));
        return -1;
    }
    if (mc_yaml_expect(list, MC_YAML_SEQUENCE, "wards", err) < 0)
        return -1;
    if (list->count == 0 || list->count > MC_CLIENT_WARDS_MAX) {
        mc_err_add(err, "%s: key 'wards': expected 1..%d ward codes",
                   mc_yaml_where(list, w, sizeof w), MC_CLIENT_WARDS_MAX);
        return -1;
    }
    c->wards = calloc(list->count, sizeof *c->wards);
    if (!c->wards) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        if (mc_yaml_scalar_string(list->items[i], "ward", MC_WARD_CODE_LEN, &c->wards[c->n_wards], err) < 0)
            return -1;
        c->n_wards++;
    }
    return 0;
}

/* load_token - the optional token_sha256: exactly 64 lowercase hex digits */
static int load_token(const mc_yaml_node_t *node, mc_client_t *c, mc_err_t *err)
{
    char w[512];
    char *hex = NULL;
    if (mc_yaml_get_string(node, "token_sha256", false, 64, &hex, err) < 0)
        return -1;
    if (!hex)
        return 0;
    bool ok = strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64 &&
              sodium_hex2bin(c->token_sha256, sizeof c->token_sha256, hex, 64, NULL, NULL, NULL) == 0;
    free(hex);
    if (!ok) {
        mc_err_add(err, "%s: key 'token_sha256': expected 64 lowercase hex digits "
                        "(the SHA-256 of the token: `motcua token NAME`)",
                   mc_yaml_where(mc_yaml_get(node, "token_sha256"), w, sizeof w));
        return -1;
    }
    c->has_token = true;
    return 0;
}

/* load_client - one entry of the clients list into c */
static int load_client(const char *path, const mc_yaml_node_t *node, mc_client_t *c,
                       mc_err_t *err)
{
    static const char *const keys[] = {"code", "name", "role", "wards", "public_key",
                                       "public_key_file", "token_sha256", "gateway_only", NULL};
    static const char *const required[] = {"code", "name", "role", NULL};
    if (mc_yaml_check_keys(node, "client", keys, required, err) < 0)
        return -1;
    char w[512];
    char *role = NULL;
    int rc = 0;
    if (mc_yaml_get_string(node, "code", true, 64, &c->code, err) < 0 ||
        mc_yaml_get_string(node, "name", true, 500, &c->name, err) < 0 ||
        mc_yaml_get_string(node, "role", true, 16, &role, err) < 0) {
        free(role);
        return -1;
    }
    if (!client_code_ok(c->code)) {
        mc_err_add(err, "%s: key 'code': expected 1..64 of A-Z, 0-9 and _",
                   mc_yaml_where(mc_yaml_get(node, "code"), w, sizeof w));
        rc = -1;
    }
    if (strcmp(role, "counter") == 0) {
        c->role = MC_CLIENT_COUNTER;
    } else if (strcmp(role, "portal") == 0) {
        c->role = MC_CLIENT_PORTAL;
    } else if (strcmp(role, "gateway") == 0) {
        c->role = MC_CLIENT_GATEWAY;
    } else {
        mc_err_add(err, "%s: key 'role': expected counter, portal or gateway",
                   mc_yaml_where(mc_yaml_get(node, "role"), w, sizeof w));
        rc = -1;
    }
    free(role);
    if (load_wards(node, c, err) != 0)
        rc = -1;
    if (load_token(node, c, err) != 0)
        rc = -1;
    /* a token alone is enough: such a client comes only through the gateway;
     * gateway_only: true says on purpose that it has neither (the citizen
     * pages' gateway.public_client: only a gateway acts as it, with
     * IntakeRequest.on_behalf_of), so a key forgotten elsewhere still fails */
    bool gateway_only = false;
    if (mc_yaml_get_bool(node, "gateway_only", false, &gateway_only, err) < 0)
        rc = -1;
    bool has_key = mc_yaml_get(node, "public_key") || mc_yaml_get(node, "public_key_file");
    if (gateway_only && (has_key || c->has_token)) {
        mc_err_add(err, "%s: client %s: gateway_only: true takes neither a key nor a token",
                   mc_yaml_where(node, w, sizeof w), c->code);
        rc = -1;
    } else if (!gateway_only && (has_key || !c->has_token) &&
        mc_curve_yaml_public_key(path, node, "client", c->code, c->public_key, err) != 0)
        rc = -1;
    return rc;
}

/* clash - does entry i repeat the code, key or token of an earlier, valid entry? */
static int clash(const mc_clients_t *t, size_t i, const mc_yaml_node_t *node, mc_err_t *err)
{
    char w[512];
    const mc_client_t *c = &t->items[i];
    for (size_t j = 0; j < i; j++) {
        const mc_client_t *o = &t->items[j];
        if (!o->code || (!o->public_key[0] && !o->has_token))
            continue; /* an entry that already failed */
        const char *what =
            strcmp(o->code, c->code) == 0 ? "is listed twice"
            : o->public_key[0] && strcmp(o->public_key, c->public_key) == 0
                ? "has the public key of"
            : o->has_token && c->has_token && memcmp(o->token_sha256, c->token_sha256, 32) == 0
                ? "has the token of"
                : NULL;
        if (what) {
            mc_err_add(err, "%s: client '%s' %s '%s'", mc_yaml_where(node, w, sizeof w), c->code,
                       what, o->code);
            return -1;
        }
    }
    return 0;
}

/* mc_clients_load - read and check the whole file */
int mc_clients_load(const char *path, mc_clients_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    static const char *const top[] = {"clients", NULL};
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    const mc_yaml_node_t *list = NULL;
    int rc = mc_yaml_check_keys(root, "clients.yaml", top, top, err);
    if (rc == 0) {
        list = mc_yaml_get(root, "clients");
        rc = mc_yaml_expect(list, MC_YAML_SEQUENCE, "clients", err) < 0 ? -1 : 0;
    }
    if (rc == 0 && list->count > CLIENTS_MAX) {
        mc_err_add(err, "%s: more than %d clients", path, CLIENTS_MAX);
        rc = -1;
    }
    mc_clients_t *t = calloc(1, sizeof *t);
    if (t && rc == 0 && list->count > 0 && !(t->items = calloc(list->count, sizeof *t->items)))
        rc = -1;
    if (!t) {
        mc_err_add(err, "out of memory");
        mc_yaml_destroy(&doc);
        return -1;
    }
    for (size_t i = 0; rc == 0 && t->items && i < list->count; i++) {
        t->count++;
        if (load_client(path, list->items[i], &t->items[i], err) != 0 ||
            clash(t, i, list->items[i], err) != 0)
            rc = -1;
    }
    /* every problem in one run: keep checking the remaining entries */
    for (size_t i = t->count; rc != 0 && t->items && list && i < list->count; i++) {
        t->count++;
        (void)load_client(path, list->items[i], &t->items[i], err);
    }
    mc_yaml_destroy(&doc);
    if (rc != 0) {
        mc_clients_destroy(&t);
        return -1;
    }
    *out = t;
    return 0;
}

/* mc_clients_check_wards - a client may only act for wards served here */
int mc_clients_check_wards(const mc_clients_t *clients, const mc_cfg_t *cfg, mc_err_t *err)
{
    int rc = 0;
    for (size_t i = 0; clients && i < clients->count; i++)
        for (size_t k = 0; k < clients->items[i].n_wards; k++)
            if (!mc_cfg_ward(cfg, clients->items[i].wards[k])) {
                mc_err_add(err, "%s: client '%s': ward '%s' is not in motcua.yaml's wards",
                           cfg->clients_path, clients->items[i].code, clients->items[i].wards[k]);
                rc = -1;
            }
    return rc;
}

/* mc_clients_destroy - free everything */
void mc_clients_destroy(mc_clients_t **clients)
{
    if (!clients || !*clients)
        return;
    for (size_t i = 0; i < (*clients)->count; i++) {
        mc_client_t *c = &(*clients)->items[i];
        for (size_t k = 0; k < c->n_wards; k++)
            free(c->wards[k]);
        free(c->wards);
        free(c->code);
        free(c->name);
        sodium_memzero(c->token_sha256, sizeof c->token_sha256);
    }
    free((*clients)->items);
    free(*clients);
    *clients = NULL;
}

/* mc_clients_find - by code */
const mc_client_t *mc_clients_find(const mc_clients_t *clients, const char *code)
{
    for (size_t i = 0; clients && code && i < clients->count; i++)
        if (strcmp(clients->items[i].code, code) == 0)
            return &clients->items[i];
    return NULL;
}

/* mc_clients_by_key - by public key (an empty key never matches) */
const mc_client_t *mc_clients_by_key(const mc_clients_t *clients, const char *public_z85)
{
    for (size_t i = 0; clients && public_z85 && *public_z85 && i < clients->count; i++)
        if (clients->items[i].public_key[0] &&
            strcmp(clients->items[i].public_key, public_z85) == 0)
            return &clients->items[i];
    return NULL;
}

/* mc_clients_code_of_key - for mc_zap_start_lookup */
const char *mc_clients_code_of_key(const void *clients, const char *public_z85)
{
    const mc_client_t *c = mc_clients_by_key(clients, public_z85);
    return c ? c->code : NULL;
}

/* mc_client_acts_for - is ward_code one of the client's wards? */
bool mc_client_acts_for(const mc_client_t *client, const char *ward_code)
{
    if (!client || !ward_code)
        return false;
    if (client->all_wards)
        return true;
    for (size_t i = 0; i < client->n_wards; i++)
        if (strcmp(client->wards[i], ward_code) == 0)
            return true;
    return false;
}

/* mc_client_role_name - the role as written in clients.yaml */
const char *mc_client_role_name(mc_client_role_t role)
{
    return role == MC_CLIENT_PORTAL ? "portal" : role == MC_CLIENT_GATEWAY ? "gateway" : "counter";
}

/* mc_clients_find_token - hash the token, then compare with EVERY client's
 * hash in constant time (no early exit: the time does not say which client
 * or how many bytes matched) */
const mc_client_t *mc_clients_find_token(const mc_clients_t *clients, const char *token)
{
    if (!clients || !token)
        return NULL;
    size_t n = strlen(token);
    if (n < MC_TOKEN_MIN_LEN || n > MC_TOKEN_MAX_LEN)
        return NULL;
    unsigned char hash[32];
    if (crypto_hash_sha256(hash, (const unsigned char *)token, n) != 0)
        return NULL;
    const mc_client_t *found = NULL;
    for (size_t i = 0; i < clients->count; i++) {
        const mc_client_t *c = &clients->items[i];
        /* sodium_memcmp runs in constant time; evaluate it for every client */
        bool match = sodium_memcmp(hash, c->token_sha256, sizeof hash) == 0;
        if (match && c->has_token && !found)
            found = c;
    }
    sodium_memzero(hash, sizeof hash);
    return found;
}

/* mc_clients_token_new - a fresh token (URL-safe base64 of 32 random bytes)
 * and the lowercase hex SHA-256 clients.yaml keeps */
int mc_clients_token_new(char token[MC_TOKEN_NEW_LEN + 1], char token_sha256[65])
{
    unsigned char raw[32];
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, MC_TOKEN_NEW_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return mc_clients_token_hash(token, token_sha256);
}

/* mc_clients_token_hash - SHA-256 of the token's bytes, lowercase hex */
int mc_clients_token_hash(const char *token, char token_sha256[65])
{
    unsigned char hash[32];
    if (!token || crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token)) != 0)
        return -1;
    sodium_bin2hex(token_sha256, 65, hash, sizeof hash);
    return 0;
}
