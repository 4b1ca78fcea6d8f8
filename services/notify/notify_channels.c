/*
 * notify_channels - where messages go: the spool directory (unless
 * notify.spool_dir is ""), an HTTP SMS gateway and SMTP (each when
 * configured), both through libcurl.
 *
 * Contract (notify.h): a sender returns 0 when the channel took the
 * message. Errors are short and free of personal data, since they are
 * logged and stored in notification.last_error: curl's generic text or
 * the status code, never the server's reply (an SMTP server may echo the
 * address). Every transfer is bounded by the caller's timeout_ms, itself
 * at most NOTIFY_TRANSFER_MAX_MS (connect at most 5 s of it), so a send
 * ends inside the batch's send lease and a SIGTERM waits at most that
 * long for the batch in hand. The senders share nothing but the read-only
 * channels: notify_loop runs them on several threads at once. Each message carries its stable id
 * (notify_message_ref): the SMS gateway gets it as "ref" and as the
 * Idempotency-Key header, the e-mail as its Message-ID.
 * Secrets (the gateway token, the SMTP password) are read once at start
 * and wiped on destroy.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "mc_json.h"

#define CONNECT_TIMEOUT_MS 5000L /* at most this much of a transfer's time goes to connecting */
#define SECRET_MAX 4096 /* bytes in a token or password file */

struct notify_channels {
    const mc_cfg_notify_t *cfg;
    char                  *sms_token;     /* "" = no Authorization header */
    char                  *smtp_password; /* "" = none */
    char                   mail_domain[256]; /* for Message-ID, from smtp_from */
};

/* notify_channels_reload - the new cfg (same URLs and files: restart keys) */
void notify_channels_reload(notify_channels_t *channels, const mc_cfg_notify_t *cfg)
{
    channels->cfg = cfg;
}

/* wipe_free - zero a secret, then free it */
static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *v = s;
    while (*v)
        *v++ = '\0';
    free(s);
}

/* read_secret - a secret file's first line, without the newline; "" for no file; a file
 * others may read is refused (mc_cfg_open_secret) */
static char *read_secret(const char *path, const char *what, mc_err_t *err)
{
    if (!path || !*path)
        return strdup("");
    FILE *f = mc_cfg_open_secret(path, what, err);
    if (!f)
        return NULL;
    char *buf = calloc(1, SECRET_MAX);
    if (!buf) {
        fclose(f);
        mc_err_add(err, "out of memory");
        return NULL;
    }
    if (!fgets(buf, SECRET_MAX, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        mc_err_add(err, "%s: %s file is empty", path, what);
        free(buf);
        return NULL;
    }
    return buf;
}

/* notify_channels_new - secrets and spool directory */
notify_channels_t *notify_channels_new(const mc_cfg_notify_t *cfg, mc_err_t *err)
{
    notify_channels_t *c = calloc(1, sizeof *c);
    if (!c) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->sms_token = read_secret(cfg->sms_url[0] ? cfg->sms_token_file : "", "sms token", err);
    c->smtp_password = read_secret(cfg->smtp_url[0] && cfg->smtp_user[0] ? cfg->smtp_password_file : "",
                                   "smtp password", err);
    const char *at = strrchr(cfg->smtp_from, '@');
    snprintf(c->mail_domain, sizeof c->mail_domain, "%s", at && at[1] ? at + 1 : "motcua");
    c->mail_domain[strcspn(c->mail_domain, "> \t")] = '\0';
    if (!c->sms_token || !c->smtp_password) {
        notify_channels_destroy(&c);
        return NULL;
    }
    if (!cfg->spool_dir[0])
        return c; /* the spool channel is off: SMS and e-mail only */
    if (mkdir(cfg->spool_dir, 0750) != 0 && errno != EEXIST) {
        mc_err_add(err, "%s: cannot create spool directory: %s", cfg->spool_dir, strerror(errno));
        notify_channels_destroy(&c);
        return NULL;
    }
    if (access(cfg->spool_dir, W_OK | X_OK) != 0) {
        mc_err_add(err, "%s: spool directory not writable: %s", cfg->spool_dir, strerror(errno));
        notify_channels_destroy(&c);
        return NULL;
    }
    return c;
}

/* notify_channels_destroy - wipe secrets, free, NULL */
void notify_channels_destroy(notify_channels_t **channels)
{
    if (!channels || !*channels)
        return;
    wipe_free((*channels)->sms_token);
    wipe_free((*channels)->smtp_password);
    free(*channels);
    *channels = NULL;
}

/* notify_spool_enabled - spool_dir configured (not "") */
bool notify_spool_enabled(const notify_channels_t *channels)
{
    return channels->cfg->spool_dir[0] != '\0';
}

/* notify_sms_enabled - sms_url configured */
bool notify_sms_enabled(const notify_channels_t *channels)
{
    return channels->cfg->sms_url[0] != '\0';
}

/* notify_email_enabled - smtp_url configured */
bool notify_email_enabled(const notify_channels_t *channels)
{
    return channels->cfg->smtp_url[0] != '\0';
}

/* write_all - the whole buffer or -1 */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* one_line - a header value: CR and LF become spaces */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

/* spool_names - the temporary and final names of item's file, into tmp and final
 * (size n each); the temporary name is per process, so two instances never share one */
static void spool_names(const char *dir, int64_t id, char *tmp, char *final, size_t n)
{
    snprintf(tmp, n, "%s/.%" PRId64 ".%ld.tmp", dir, id, (long)getpid());
    snprintf(final, n, "%s/%" PRId64 ".txt", dir, id);
}

/* spool_fill - create item's temporary file and write its text, not yet
 * synced; the open descriptor, or -1 with item->error set (nothing left behind) */
static int spool_fill(const char *tmp, notify_spool_item_t *item)
{
    char *sms = strdup(item->msg->sms), *subject = strdup(item->msg->subject);
    int fd = -1;
    if (!sms || !subject) {
        snprintf(item->error, item->size, "out of memory");
        goto out;
    }
    one_line(sms);
    one_line(subject);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(item->error, item->size, "spool: open: %s", strerror(errno));
        goto out;
    }
    const notify_recipient_t *to = item->to;
    char head[512];
    int hn = snprintf(head, sizeof head, "Notification: %" PRId64 "\nKind: %s\nDossier: %s\n",
                      item->id, item->kind, item->code);
    if (hn < 0 || (size_t)hn >= sizeof head)
        hn = (int)strlen(head);
    if (write_all(fd, head, (size_t)hn) < 0 ||
        write_all(fd, "To: ", 4) < 0 || write_all(fd, to->email, strlen(to->email)) < 0 ||
        write_all(fd, "\nPhone: ", 8) < 0 || write_all(fd, to->phone, strlen(to->phone)) < 0 ||
        write_all(fd, "\nSubject: ", 10) < 0 || write_all(fd, subject, strlen(subject)) < 0 ||
        write_all(fd, "\nSMS: ", 6) < 0 || write_all(fd, sms, strlen(sms)) < 0 ||
        write_all(fd, "\n\n", 2) < 0 ||
        write_all(fd, item->msg->body, strlen(item->msg->body)) < 0) {
        snprintf(item->error, item->size, "spool: write: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        fd = -1;
    }
out:
    free(sms);
    free(subject);
    return fd;
}

/* notify_spool_write_batch - write every file, fsync each, rename each, fsync the directory once */
int notify_spool_write_batch(notify_channels_t *channels, notify_spool_item_t *items, size_t n)
{
    const char *dir = channels->cfg->spool_dir;
    size_t len = strlen(dir) + 64;
    char *tmp = malloc(len), *final = malloc(len);
    int *fds = malloc((n ? n : 1) * sizeof *fds);
    int written = 0;
    for (size_t i = 0; i < n; i++)
        items[i].rc = -1;
    if (!tmp || !final || !fds) {
        for (size_t i = 0; i < n; i++)
            snprintf(items[i].error, items[i].size, "out of memory");
        goto out;
    }
    /* all the data first, so the disk sees it together; then each file
     * durable before its rename makes it visible under its final name */
    for (size_t i = 0; i < n; i++) {
        spool_names(dir, items[i].id, tmp, final, len);
        fds[i] = spool_fill(tmp, &items[i]);
    }
    bool renamed = false;
    for (size_t i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        spool_names(dir, items[i].id, tmp, final, len);
        int synced = fsync(fds[i]);
        int e = errno;
        close(fds[i]);
        if (synced != 0) {
            snprintf(items[i].error, items[i].size, "spool: fsync: %s", strerror(e));
            unlink(tmp);
        } else if (rename(tmp, final) != 0) {
            snprintf(items[i].error, items[i].size, "spool: rename: %s", strerror(errno));
            unlink(tmp);
        } else {
            items[i].rc = 0;
            renamed = true;
        }
    }
    /* the renames durable, once for the batch, before any is recorded as sent:
     * the spool is a delivery (a file not kept is sent again, replacing nothing) */
    int dfd = renamed ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (renamed && (dfd < 0 || fsync(dfd) != 0)) {
        int e = errno;
        for (size_t i = 0; i < n; i++)
            if (items[i].rc == 0) {
                items[i].rc = -1;
                snprintf(items[i].error, items[i].size, "spool: fsync of the directory: %s",
                         strerror(e));
            }
    }
    if (dfd >= 0)
        close(dfd);
    for (size_t i = 0; i < n; i++)
        written += items[i].rc == 0;
out:
    free(tmp);
    free(final);
    free(fds);
    return written;
}

/* notify_spool_write - one file: a batch of one */
int notify_spool_write(notify_channels_t *channels, int64_t id, const char *kind,
                       const char *code, const notify_recipient_t *to,
                       const notify_message_t *msg, char *error, size_t size)
{
    notify_spool_item_t item = {id, kind, code, to, msg, error, size, -1};
    notify_spool_write_batch(channels, &item, 1);
    return item.rc;
}

/* notify_message_ref - "motcua-<id>" */
const char *notify_message_ref(int64_t id, char *buf, size_t size)
{
    snprintf(buf, size, "motcua-%" PRId64, id);
    return buf;
}

/* set_timeouts - bound one transfer by timeout_ms (capped), connecting included */
static void set_timeouts(CURL *curl, int timeout_ms)
{
    long total = timeout_ms < NOTIFY_TRANSFER_MAX_MS ? timeout_ms : NOTIFY_TRANSFER_MAX_MS;
    if (total < 1)
        total = 1;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, total < CONNECT_TIMEOUT_MS ? total : CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total);
}

/* discard - ignore a response body */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* notify_sms_send - one POST to the gateway */
int notify_sms_send(notify_channels_t *channels, int64_t id, const notify_recipient_t *to,
                    const notify_message_t *msg, int timeout_ms, char *error, size_t size)
{
    char ref[NOTIFY_REF_MAX], idem[NOTIFY_REF_MAX + 32];
    notify_message_ref(id, ref, sizeof ref);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", ref);
    /* worst case every byte becomes \u00XX (6 bytes) */
    size_t cap = 64 + MC_JSON_STRING_MAX(sizeof ref) +
                 MC_JSON_STRING_MAX(strlen(to->phone)) + MC_JSON_STRING_MAX(strlen(msg->sms));
    char *body = malloc(cap);
    char *auth = malloc(strlen(channels->sms_token) + 32);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    int rc = -1;
    if (!body || !auth || !curl) {
        snprintf(error, size, "out of memory");
        goto out;
    }
    size_t n = (size_t)sprintf(body, "{\"to\":");
    n += mc_json_string(body + n, cap - n, to->phone, NULL);
    n += (size_t)sprintf(body + n, ",\"text\":");
    n += mc_json_string(body + n, cap - n, msg->sms, NULL);
    n += (size_t)sprintf(body + n, ",\"ref\":");
    n += mc_json_string(body + n, cap - n, ref, NULL);
    n += (size_t)sprintf(body + n, "}");
    headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
    struct curl_slist *h1 = headers ? curl_slist_append(headers, idem) : NULL;
    if (!h1) {
        snprintf(error, size, "out of memory");
        goto out;
    }
    headers = h1;
    if (channels->sms_token[0]) {
        sprintf(auth, "Authorization: Bearer %s", channels->sms_token);
        struct curl_slist *h2 = curl_slist_append(headers, auth);
        if (h2)
            headers = h2;
    }
    curl_easy_setopt(curl, CURLOPT_URL, channels->cfg->sms_url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)n);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    set_timeouts(curl, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        snprintf(error, size, "sms: %s", curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(error, size, "sms: http %ld", status);
        goto out;
    }
    rc = 0;
out:
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    free(body);
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    return rc;
}

/* notify_mime_subject - encoded words of at most 45 bytes of text each (60
 * base64 characters, under RFC 2047's 75; base64 by libsodium), never
 * splitting a UTF-8 character, folded onto continuation lines */
char *notify_mime_subject(const char *subject)
{
    size_t len = strlen(subject);
    size_t cap = len * 2 + 64 + (len / 45 + 1) * 16;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)subject;
    size_t i = 0;
    do {
        size_t take = len - i > 45 ? 45 : len - i;
        while (take > 0 && i + take < len && (s[i + take] & 0xC0) == 0x80)
            take--; /* back off to the start of a character */
        o += (size_t)snprintf(out + o, cap - o, "%s=?UTF-8?B?", o ? "\r\n " : "");
        sodium_bin2base64(out + o, cap - o, s + i, take, sodium_base64_VARIANT_ORIGINAL);
        o += strlen(out + o);
        o += (size_t)snprintf(out + o, cap - o, "?=");
        i += take;
    } while (i < len);
    return out;
}

/* add_header - append one "Name: value" line to *list; -1 without memory */
static int add_header(struct curl_slist **list, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_header(struct curl_slist **list, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *line = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!line)
        return -1;
    va_start(ap, fmt);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    va_end(ap);
    struct curl_slist *grown = curl_slist_append(*list, line);
    free(line);
    if (!grown)
        return -1;
    *list = grown;
    return 0;
}

/* mail_headers - the message's own headers (curl_mime adds the body's); NULL without memory */
static struct curl_slist *mail_headers(const notify_channels_t *c, int64_t id,
                                       const notify_recipient_t *to, const notify_message_t *msg)
{
    char *subject_line = strdup(msg->subject);
    if (!subject_line)
        return NULL;
    one_line(subject_line);
    char *subject = notify_mime_subject(subject_line);
    free(subject_line);
    if (!subject)
        return NULL;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char ref[NOTIFY_REF_MAX];
    struct curl_slist *h = NULL;
    int bad = add_header(&h, "Date: %s", date) | add_header(&h, "From: <%s>", c->cfg->smtp_from) |
              add_header(&h, "To: <%s>", to->email) | add_header(&h, "Subject: %s", subject) |
              add_header(&h, "Message-ID: <%s@%s>", notify_message_ref(id, ref, sizeof ref),
                         c->mail_domain) |
              add_header(&h, "MIME-Version: 1.0");
    free(subject);
    if (bad) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

/* mail_body - the text in canonical form (CRLF line ends, RFC 2049) as the one part of
 * mime: UTF-8 text/plain, base64 by curl; -1 without memory */
static int mail_body(curl_mime *mime, const char *body)
{
    size_t blen = strlen(body), cl = 0;
    char *crlf = malloc(blen * 2 + 1);
    curl_mimepart *part = curl_mime_addpart(mime);
    if (!crlf || !part) {
        free(crlf);
        return -1;
    }
    for (size_t i = 0; i < blen; i++) {
        if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
            crlf[cl++] = '\r';
        crlf[cl++] = body[i];
    }
    CURLcode cc = curl_mime_data(part, crlf, cl); /* curl copies the bytes */
    free(crlf);
    if (cc != CURLE_OK || curl_mime_type(part, "text/plain; charset=UTF-8") != CURLE_OK ||
        curl_mime_encoder(part, "base64") != CURLE_OK)
        return -1;
    return 0;
}

/* notify_email_send - SMTP through libcurl, the message assembled by curl_mime */
int notify_email_send(notify_channels_t *channels, int64_t id, const notify_recipient_t *to,
                      const notify_message_t *msg, int timeout_ms, char *error, size_t size)
{
    const mc_cfg_notify_t *cfg = channels->cfg;
    size_t alen = strlen(to->email) + strlen(cfg->smtp_from) + 8;
    char *rcpt = malloc(alen), *from = malloc(alen);
    CURL *curl = curl_easy_init();
    curl_mime *mime = curl ? curl_mime_init(curl) : NULL;
    struct curl_slist *headers = mail_headers(channels, id, to, msg);
    struct curl_slist *rcpts = NULL;
    int rc = -1;
    if (!rcpt || !from || !mime || !headers || mail_body(mime, msg->body) != 0) {
        snprintf(error, size, "out of memory");
        goto out;
    }
    snprintf(rcpt, alen, "<%s>", to->email);
    snprintf(from, alen, "<%s>", cfg->smtp_from);
    rcpts = curl_slist_append(NULL, rcpt);
    if (!rcpts) {
        snprintf(error, size, "out of memory");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    set_timeouts(curl, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (cfg->smtp_user[0]) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, channels->smtp_password);
        /* a password never crosses the network in clear */
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    } else {
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    }
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        snprintf(error, size, "email: %s (smtp %ld)", curl_easy_strerror(cc), status);
        goto out;
    }
    rc = 0;
out:
    free(rcpt);
    free(from);
    curl_slist_free_all(rcpts);
    curl_slist_free_all(headers);
    curl_mime_free(mime);
    if (curl)
        curl_easy_cleanup(curl);
    return rc;
}
