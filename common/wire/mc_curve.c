/*
 * mc_curve - CURVE keys and the ZAP handler (contract in mc_curve.h).
 *
 * The ZAP handler is the only place where a connection gets an identity:
 * libzmq asks it during the CURVE handshake, before any frame is delivered,
 * and stamps every later frame of that connection with the user id we
 * return. So "which agency sent this" is answered by the key the peer
 * proved it holds, never by anything the peer writes in a payload.
 */
#include "mc_curve.h"
#include "mc_cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_transport.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* mc_curve_keypair - zmq_curve_keypair with our error reporting */
int mc_curve_keypair(char public_z85[MC_CURVE_KEY_LEN + 1], char secret_z85[MC_CURVE_KEY_LEN + 1],
                     mc_err_t *err)
{
    if (zmq_curve_keypair(public_z85, secret_z85) != 0) {
        mc_err_add(err, "curve: cannot make a keypair: %s (libzmq without CURVE?)",
                   zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* mc_curve_key_valid - 40 Z85 characters that decode */
bool mc_curve_key_valid(const char *z85)
{
    if (!z85 || strlen(z85) != MC_CURVE_KEY_LEN)
        return false;
    uint8_t raw[32];
    return zmq_z85_decode(raw, z85) != NULL;
}

/* mc_curve_public_of - derive the public key */
int mc_curve_public_of(const char *secret_z85, char public_z85[MC_CURVE_KEY_LEN + 1],
                       mc_err_t *err)
{
    if (!mc_curve_key_valid(secret_z85) || zmq_curve_public(public_z85, secret_z85) != 0) {
        mc_err_add(err, "curve: not a valid secret key");
        return -1;
    }
    return 0;
}

/* read_key - the first non-comment line of an open key file, checked; closes f */
static int read_key(FILE *f, const char *path, char z85[MC_CURVE_KEY_LEN + 1], mc_err_t *err)
{
    char line[256];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (mc_curve_key_valid(line)) {
            memcpy(z85, line, MC_CURVE_KEY_LEN + 1);
            found = 0;
        }
        break;
    }
    fclose(f);
    if (found != 0)
        mc_err_add(err, "%s: expected one CURVE key of 40 Z85 characters", path);
    explicit_bzero(line, sizeof line); /* may have held a secret key */
    return found;
}

/* mc_curve_read_key - the key in a (public) key file, checked */
int mc_curve_read_key(const char *path, char z85[MC_CURVE_KEY_LEN + 1], mc_err_t *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        mc_err_add(err, "%s: cannot read key file: %s", path, strerror(errno));
        return -1;
    }
    return read_key(f, path, z85, err);
}

/* mc_curve_read_secret_key - the key in a secret key file only its owner can read */
int mc_curve_read_secret_key(const char *path, char z85[MC_CURVE_KEY_LEN + 1], mc_err_t *err)
{
    FILE *f = mc_cfg_open_secret(path, "CURVE secret key", err);
    return f ? read_key(f, path, z85, err) : -1;
}

/* write_key_file - create path exclusively with mode, write one line */
static int write_key_file(const char *path, const char *comment, const char *key, mode_t mode,
                          mc_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        mc_err_add(err, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    fchmod(fd, mode); /* the umask must not widen or narrow what we promise */
    char buf[256];
    int n = snprintf(buf, sizeof buf, "# %s\n%s\n", comment, key);
    int rc = (n > 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0) ? 0 : -1;
    explicit_bzero(buf, sizeof buf);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0)
        mc_err_add(err, "%s: cannot write: %s", path, strerror(errno));
    return rc;
}

/* mc_curve_write_keys - NAME.key (0600) and NAME.pub */
int mc_curve_write_keys(const char *dir, const char *name, char *public_z85, mc_err_t *err)
{
    char pub[MC_CURVE_KEY_LEN + 1], sec[MC_CURVE_KEY_LEN + 1];
    if (mc_curve_keypair(pub, sec, err) != 0)
        return -1;
    char key_path[4096], pub_path[4096], comment[300];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name);
    snprintf(comment, sizeof comment, "motcua CURVE secret key of %s: keep it private", name);
    int rc = write_key_file(key_path, comment, sec, 0600, err);
    explicit_bzero(sec, sizeof sec);
    if (rc != 0)
        return -1;
    snprintf(comment, sizeof comment, "motcua CURVE public key of %s", name);
    if (write_key_file(pub_path, comment, pub, 0644, err) != 0) {
        unlink(key_path); /* half a keypair is worse than none */
        return -1;
    }
    if (public_z85)
        memcpy(public_z85, pub, sizeof pub);
    return 0;
}

/* resolve - name relative to the directory of path (absolute names kept) */
static char *resolve(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    if (name[0] == '/' || !slash)
        return strdup(name);
    size_t n = (size_t)(slash - path) + 1 + strlen(name) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%.*s/%s", (int)(slash - path), path, name);
    return out;
}

/* mc_curve_yaml_public_key - public_key or public_key_file of one entry */
int mc_curve_yaml_public_key(const char *yaml_path, const mc_yaml_node_t *node, const char *what,
                             const char *code, char public_z85[MC_CURVE_KEY_LEN + 1],
                             mc_err_t *err)
{
    char w[512];
    char *key = NULL, *key_file = NULL;
    int rc = 0;
    if (mc_yaml_get_string(node, "public_key", false, 64, &key, err) < 0 ||
        mc_yaml_get_string(node, "public_key_file", false, 4096, &key_file, err) < 0) {
        rc = -1;
    } else if ((key != NULL) == (key_file != NULL)) {
        mc_err_add(err, "%s: %s '%s': give exactly one of public_key and public_key_file",
                   mc_yaml_where(node, w, sizeof w), what, code ? code : "?");
        rc = -1;
    } else if (key) {
        if (!mc_curve_key_valid(key)) {
            mc_err_add(err, "%s: key 'public_key': expected 40 Z85 characters",
                       mc_yaml_where(mc_yaml_get(node, "public_key"), w, sizeof w));
            rc = -1;
        } else {
            memcpy(public_z85, key, MC_CURVE_KEY_LEN + 1);
        }
    } else {
        char *full = resolve(yaml_path, key_file);
        mc_err_t sub;
        mc_err_clear(&sub);
        if (!full || mc_curve_read_key(full, public_z85, &sub) != 0) {
            char first[512];
            mc_err_add(err, "%s: key 'public_key_file': %s",
                       mc_yaml_where(mc_yaml_get(node, "public_key_file"), w, sizeof w),
                       full ? mc_err_first(&sub, first, sizeof first) : "out of memory");
            rc = -1;
        }
        free(full);
    }
    free(key);
    free(key_file);
    return rc;
}

/* mc_curve_client_keys - our secret key file, the server's public key file */
int mc_curve_client_keys(const char *secret_key_file, const char *server_public_key_file,
                         mc_transport_keys_t *keys, mc_err_t *err)
{
    memset(keys, 0, sizeof *keys);
    int rc = 0;
    if (mc_curve_read_key(secret_key_file, keys->secret_key, err) != 0 ||
        mc_curve_public_of(keys->secret_key, keys->public_key, err) != 0 ||
        mc_curve_read_key(server_public_key_file, keys->server_public, err) != 0)
        rc = -1;
    if (rc != 0)
        explicit_bzero(keys, sizeof *keys);
    return rc;
}

#define ZAP_ADMITTED_MAX 4 /* domains with one admitted key (the events bus) */

/* the domains answered from one key, whichever handler runs (mc_zap_admit) */
static struct {
    char domain[64];                     /* ZMQ_ZAP_DOMAIN of the server sockets */
    char public_key[MC_CURVE_KEY_LEN + 1]; /* the one key admitted */
    char user[32];                       /* user id given, and log name */
} admitted[ZAP_ADMITTED_MAX];
static size_t          n_admitted;                           /* entries in admitted */
static pthread_mutex_t admitted_lock = PTHREAD_MUTEX_INITIALIZER; /* admitted, n_admitted */
static atomic_int      zap_running;                          /* handlers bound now */

/* mc_zap_admit - one key for domain, process-wide */
int mc_zap_admit(const char *domain, const char *public_z85, const char *user, mc_err_t *err)
{
    if (!mc_curve_key_valid(public_z85) || strlen(domain) >= sizeof admitted[0].domain ||
        strlen(user) >= sizeof admitted[0].user) {
        mc_err_add(err, "curve: bad ZAP domain, key or user for %s", domain);
        return -1;
    }
    pthread_mutex_lock(&admitted_lock);
    size_t i = 0;
    while (i < n_admitted && strcmp(admitted[i].domain, domain) != 0)
        i++;
    int rc = 0;
    if (i == ZAP_ADMITTED_MAX) {
        mc_err_add(err, "curve: too many ZAP domains with one key");
        rc = -1;
    } else {
        snprintf(admitted[i].domain, sizeof admitted[i].domain, "%s", domain);
        memcpy(admitted[i].public_key, public_z85, MC_CURVE_KEY_LEN + 1);
        snprintf(admitted[i].user, sizeof admitted[i].user, "%s", user);
        if (i == n_admitted)
            n_admitted++;
    }
    pthread_mutex_unlock(&admitted_lock);
    return rc;
}

/* mc_zap_running - a handler holds the ZAP endpoint */
bool mc_zap_running(void)
{
    return atomic_load(&zap_running) > 0;
}

/* admitted_user - for a domain given one key: 1 and user (the key matches)
 * or "" (it does not) and its log name in who; 0 for any other domain */
static int admitted_user(const char *domain, const char *z85, char *user, size_t size, char *who,
                         size_t who_size)
{
    int found = 0;
    pthread_mutex_lock(&admitted_lock);
    for (size_t i = 0; i < n_admitted && !found; i++)
        if (strcmp(admitted[i].domain, domain) == 0) {
            found = 1;
            snprintf(who, who_size, "%s", admitted[i].user);
            snprintf(user, size, "%s", z85 && strcmp(admitted[i].public_key, z85) == 0
                                           ? admitted[i].user : "");
        }
    pthread_mutex_unlock(&admitted_lock);
    return found;
}

struct mc_zap {
    void             *socket;      /* REP bound to ZAP_ENDPOINT, used by the thread only */
    mc_zap_lookup_fn  lookup;      /* public key -> user id */
    const void       *table;       /* who may connect (not owned), for lookup; under lock */
    pthread_mutex_t   lock;        /* table against mc_zap_set_table (a reload) */
    char              ok_event[48];     /* "<who>_authenticated" */
    char              refused_event[48]; /* "<who>_refused" */
    char              who[24];     /* log key naming the user id: "agency", "client" */
    pthread_t         thread;      /* the handler */
    atomic_bool       stop;        /* set by mc_zap_stop */
};

/* frame_text - a received frame as a bounded string */
static void frame_text(zmq_msg_t *m, char *buf, size_t size)
{
    size_t n = zmq_msg_size(m);
    if (n >= size)
        n = size - 1;
    memcpy(buf, zmq_msg_data(m), n);
    buf[n] = '\0';
}

/* zap_reply - the six reply frames of RFC 27 */
static void zap_reply(void *s, const char *request_id, size_t request_id_len, const char *status,
                      const char *text, const char *user_id)
{
    zmq_send(s, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(s, request_id, request_id_len, ZMQ_SNDMORE);
    zmq_send(s, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(s, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(s, "", 0, 0);
}

/* zap_handle - read one request (all its frames) and answer it */
static void zap_handle(mc_zap_t *zap)
{
    /* frames: version, request id, domain, address, identity, mechanism, credentials... */
    zmq_msg_t frames[8];
    int n = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zap->socket, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        int more = zmq_msg_more(&m);
        if (n < 8)
            frames[n++] = m;
        else
            zmq_msg_close(&m);
        if (!more)
            break;
    }
    char version[8] = "", mechanism[16] = "", address[64] = "", domain[64] = "";
    char request_id[256] = "";
    size_t request_id_len = 0;
    if (n >= 2) {
        frame_text(&frames[0], version, sizeof version);
        request_id_len = zmq_msg_size(&frames[1]) < sizeof request_id ? zmq_msg_size(&frames[1]) : 0;
        memcpy(request_id, zmq_msg_data(&frames[1]), request_id_len);
    }
    if (n >= 6) {
        frame_text(&frames[2], domain, sizeof domain);
        frame_text(&frames[3], address, sizeof address);
        frame_text(&frames[5], mechanism, sizeof mechanism);
    }
    const char *user = NULL;
    char found[128]; /* the user id copied under the lock: a reload may free the table */
    char z85[MC_CURVE_KEY_LEN + 1] = "";
    bool curve = n >= 7 && strcmp(mechanism, "CURVE") == 0 && zmq_msg_size(&frames[6]) == 32 &&
                 zmq_z85_encode(z85, zmq_msg_data(&frames[6]), 32);
    char who[32];
    const char *ok_event = zap->ok_event, *refused_event = zap->refused_event, *who_key = zap->who;
    char own_ok[48], own_refused[48];
    if (admitted_user(domain, curve ? z85 : NULL, found, sizeof found, who, sizeof who)) {
        /* a domain with its one key (the events bus): never the handler's table */
        user = found[0] ? found : NULL;
        snprintf(own_ok, sizeof own_ok, "%s_authenticated", who);
        snprintf(own_refused, sizeof own_refused, "%s_refused", who);
        ok_event = own_ok;
        refused_event = own_refused;
        who_key = "peer";
    } else if (curve) {
        pthread_mutex_lock(&zap->lock);
        const char *u = zap->lookup(zap->table, z85);
        if (u && snprintf(found, sizeof found, "%s", u) < (int)sizeof found)
            user = found;
        pthread_mutex_unlock(&zap->lock);
    }
    if (strcmp(version, "1.0") != 0) {
        zap_reply(zap->socket, request_id, request_id_len, "500", "bad ZAP version", "");
    } else if (user) {
        zap_reply(zap->socket, request_id, request_id_len, "200", "OK", user);
        mc_log(MC_LOG_INFO, ok_event, "%s=%s address=%s", who_key, user,
               address[0] ? address : "-");
    } else {
        zap_reply(zap->socket, request_id, request_id_len, "400", "unknown key", "");
        mc_log(MC_LOG_WARNING, refused_event, "reason=unknown_key mechanism=%s address=%s",
               mechanism[0] ? mechanism : "-", address[0] ? address : "-");
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

/* zap_main - serve ZAP requests until told to stop */
static void *zap_main(void *arg)
{
    mc_zap_t *zap = arg;
    while (!atomic_load(&zap->stop)) {
        zmq_pollitem_t item = {zap->socket, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, 100); /* short: it is also how often stop is seen */
        if (rc > 0 && (item.revents & ZMQ_POLLIN))
            zap_handle(zap);
        else if (rc < 0 && errno == ETERM)
            break;
    }
    return NULL;
}

/* agency_of_key - mc_zap_lookup_fn over an agencies table */
static const char *agency_of_key(const void *table, const char *public_z85)
{
    const mc_agency_t *a = mc_agencies_by_key(table, public_z85);
    return a ? a->code : NULL;
}

/* mc_zap_start - the agencies' handler */
mc_zap_t *mc_zap_start(const mc_agencies_t *agencies, mc_err_t *err)
{
    return mc_zap_start_lookup("agency", agency_of_key, agencies, err);
}

/* mc_zap_start_lookup - bind and start */
mc_zap_t *mc_zap_start_lookup(const char *who, mc_zap_lookup_fn lookup, const void *table,
                              mc_err_t *err)
{
    mc_zap_t *zap = calloc(1, sizeof *zap);
    if (!zap) {
        mc_err_add(err, "curve: out of memory");
        return NULL;
    }
    zap->lookup = lookup;
    zap->table = table;
    if (pthread_mutex_init(&zap->lock, NULL) != 0) {
        mc_err_add(err, "curve: cannot make the ZAP lock");
        free(zap);
        return NULL;
    }
    snprintf(zap->who, sizeof zap->who, "%s", who);
    snprintf(zap->ok_event, sizeof zap->ok_event, "%s_authenticated", who);
    snprintf(zap->refused_event, sizeof zap->refused_event, "%s_refused", who);
    atomic_init(&zap->stop, false);
    zap->socket = mc_transport_bind(ZMQ_REP, ZAP_ENDPOINT, NULL, err);
    if (!zap->socket) {
        pthread_mutex_destroy(&zap->lock);
        free(zap);
        return NULL;
    }
    if (pthread_create(&zap->thread, NULL, zap_main, zap) != 0) {
        mc_err_add(err, "curve: cannot start the ZAP thread");
        mc_transport_close(&zap->socket);
        pthread_mutex_destroy(&zap->lock);
        free(zap);
        return NULL;
    }
    atomic_fetch_add(&zap_running, 1);
    return zap;
}

/* mc_zap_set_table - the table lookups read from now on */
void mc_zap_set_table(mc_zap_t *zap, const void *table)
{
    pthread_mutex_lock(&zap->lock);
    zap->table = table;
    pthread_mutex_unlock(&zap->lock);
}

/* mc_zap_stop - stop, join, close, free */
void mc_zap_stop(mc_zap_t **zap_p)
{
    if (!zap_p || !*zap_p)
        return;
    mc_zap_t *zap = *zap_p;
    atomic_store(&zap->stop, true);
    pthread_join(zap->thread, NULL);
    mc_transport_close(&zap->socket);
    atomic_fetch_sub(&zap_running, 1);
    pthread_mutex_destroy(&zap->lock);
    free(zap);
    *zap_p = NULL;
}
