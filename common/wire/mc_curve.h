/*
 * mc_curve - CURVE keys and the ZAP handler that turns a client's public key
 * into an agency code.
 *
 * Contract:
 *   * Keys are Z85 text, 40 characters (32 bytes). A key file holds one key
 *     on one line (blank lines and lines starting with '#' are ignored).
 *     Secret key files are written mode 0600 and never logged; a public key
 *     is derived from a secret key when needed, so a client needs only its
 *     secret key file and the server's public key file.
 *   * mc_zap_start() runs a ZAP handler thread (RFC 27) bound to
 *     inproc://zeromq.zap.01 in mc_transport_ctx(). It must run before any
 *     CURVE server socket is bound: without a handler libzmq would accept
 *     every client. It accepts a CURVE client only when its public key is
 *     listed in the agencies table, and answers with the agency code as the
 *     ZAP user id, so each received frame's "User-Id" property names the
 *     agency. Anything else (unknown key, other mechanism) gets 400.
 *   * The table must not change while the handler runs; a reload gives the
 *     handler a new one with mc_zap_set_table() and may free the old one as
 *     soon as that returned (lookups run under the handler's lock and copy
 *     the user id out).
 *   * mc_zap_start_lookup() is the same handler for any registry (intake's
 *     clients): lookup turns a public key into the user id, NULL refuses.
 *     Log events are "<who>_authenticated" and "<who>_refused".
 *   * mc_zap_admit() gives one ZAP domain a single admitted key for the
 *     whole process (the events bus: one key shared by every daemon
 *     instance); whichever handler runs answers that domain from it, not
 *     from its table. The ZAP endpoint is one per ZeroMQ context, so this
 *     is process-wide; mc_zap_running() says whether a handler is bound.
 */
#ifndef MC_CURVE_H
#define MC_CURVE_H

#include <stdbool.h>

#include "mc_agencies.h"
#include "mc_err.h"
#include "mc_transport.h"
#include "mc_yaml.h"

#define MC_CURVE_KEY_LEN 40 /* Z85 characters of a 32-byte key */

/* mc_curve_keypair - a new keypair; each buffer gets 40 characters and a NUL */
int mc_curve_keypair(char public_z85[MC_CURVE_KEY_LEN + 1], char secret_z85[MC_CURVE_KEY_LEN + 1],
                     mc_err_t *err);

/* mc_curve_public_of - the public key of a secret key */
int mc_curve_public_of(const char *secret_z85, char public_z85[MC_CURVE_KEY_LEN + 1],
                       mc_err_t *err);

/* mc_curve_key_valid - 40 Z85 characters that decode to 32 bytes? */
bool mc_curve_key_valid(const char *z85);

/* mc_curve_read_key - the key in a key file (checked); for public keys */
int mc_curve_read_key(const char *path, char z85[MC_CURVE_KEY_LEN + 1], mc_err_t *err);

/*
 * mc_curve_read_secret_key - the key in a secret key file (checked), which
 * must be a regular file its group and others cannot read (0600 or 0400,
 * as `motcua keygen` writes it; mc_cfg_open_secret): a daemon refuses to
 * start on a key anybody else on the host could have copied.
 */
int mc_curve_read_secret_key(const char *path, char z85[MC_CURVE_KEY_LEN + 1], mc_err_t *err);

/*
 * mc_curve_write_keys - NAME.key (the secret key, mode 0600) and NAME.pub
 * (the public key, 0644) in dir; refuses to overwrite an existing file.
 * public_z85 (may be NULL) receives the public key.
 */
int mc_curve_write_keys(const char *dir, const char *name, char *public_z85, mc_err_t *err);

/*
 * mc_curve_yaml_public_key - the public key of a registry entry (agencies.yaml,
 * clients.yaml): exactly one of `public_key` (Z85) or `public_key_file`
 * (relative to yaml_path's directory); errors name file:line:col, what and code.
 */
int mc_curve_yaml_public_key(const char *yaml_path, const mc_yaml_node_t *node, const char *what,
                             const char *code, char public_z85[MC_CURVE_KEY_LEN + 1],
                             mc_err_t *err);

/* mc_curve_client_keys - a client's keys: its secret key file (the public key
 * is derived) and the server's public key file */
int mc_curve_client_keys(const char *secret_key_file, const char *server_public_key_file,
                         mc_transport_keys_t *keys, mc_err_t *err);

typedef struct mc_zap mc_zap_t;

/* mc_zap_lookup_fn - the user id (a code) of a client's public key, NULL if unknown */
typedef const char *(*mc_zap_lookup_fn)(const void *table, const char *public_z85);

/* mc_zap_start - bind the ZAP endpoint and start the handler thread */
mc_zap_t *mc_zap_start(const mc_agencies_t *agencies, mc_err_t *err);

/* mc_zap_start_lookup - the same handler over any registry; who names it in logs */
mc_zap_t *mc_zap_start_lookup(const char *who, mc_zap_lookup_fn lookup, const void *table,
                              mc_err_t *err);

/* mc_zap_set_table - answer from table from now on (a reload); the old one
 * is no longer read once this returns */
void mc_zap_set_table(mc_zap_t *zap, const void *table);

/* mc_zap_admit - from now on, a request for domain is admitted only with
 * public_z85 (user id user; logs "<user>_authenticated"/"<user>_refused"),
 * by any handler of this process; a second call for domain replaces the key */
int mc_zap_admit(const char *domain, const char *public_z85, const char *user, mc_err_t *err);

/* mc_zap_running - is a ZAP handler bound in this process? */
bool mc_zap_running(void);

/* mc_zap_stop - stop the thread, close its socket, free, NULL the pointer */
void mc_zap_stop(mc_zap_t **zap);

#endif
