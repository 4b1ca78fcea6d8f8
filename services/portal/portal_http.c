/*
 * portal_http - one HTTP POST per outbox event, through libcurl.
 *
 * Contract (portal.h): the body is sent as stored; the Idempotency-Key
 * header carries the event id; the bearer token is read once at start from
 * a file only the daemon may read (mc_cfg_open_secret) and never logged.
 * Errors name the transport failure or the HTTP status, never the body.
 */
#include "portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define TOKEN_MAX 4096          /* bytes in the token file's first line */
#define CONNECT_MAX_MS 5000     /* connecting never takes more of a push's time */
#define TRANSFER_MAX_MS 30000   /* one push, whatever the lease leaves */

struct portal_http {
    const mc_cfg_portal_t *cfg;
    CURL                  *curl;             /* reused: keeps the connection alive */
    char                   token[TOKEN_MAX]; /* "" = no Authorization header (a secret) */
};

/* load_token - the token file's first line into http->token */
static int load_token(portal_http_t *http, mc_err_t *err)
{
    const char *path = http->cfg->token_file;
    if (!path[0])
        return 0;
    FILE *f = mc_cfg_open_secret(path, "portal token", err);
    if (!f)
        return -1;
    bool got = fgets(http->token, sizeof http->token, f) != NULL;
    fclose(f);
    http->token[strcspn(http->token, "\r\n")] = '\0';
    if (got && http->token[0])
        return 0;
    mc_err_add(err, "%s: portal token file is empty", path);
    return -1;
}

/* portal_http_new - token and handle */
portal_http_t *portal_http_new(const mc_cfg_portal_t *cfg, mc_err_t *err)
{
    portal_http_t *http = calloc(1, sizeof *http);
    if (!http) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    http->cfg = cfg;
    if (load_token(http, err) != 0) {
        portal_http_destroy(&http);
        return NULL;
    }
    http->curl = curl_easy_init();
    if (!http->curl) {
        mc_err_add(err, "curl: cannot make a handle");
        portal_http_destroy(&http);
        return NULL;
    }
    return http;
}

/* portal_http_destroy - wipe, free, NULL */
void portal_http_destroy(portal_http_t **http)
{
    if (!http || !*http)
        return;
    volatile char *v = (*http)->token;
    for (size_t i = 0; i < sizeof (*http)->token; i++)
        v[i] = '\0';
    if ((*http)->curl)
        curl_easy_cleanup((*http)->curl);
    free(*http);
    *http = NULL;
}

/* ignore_body - the portal's answer body is not needed: the status says it all */
static size_t ignore_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* header_list - Content-Type, Idempotency-Key and Authorization; NULL on out of memory */
static struct curl_slist *header_list(const portal_http_t *http, const mc_portal_event_t *event)
{
    char key[sizeof event->event_id + 32];
    snprintf(key, sizeof key, "Idempotency-Key: %s", event->event_id);
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    struct curl_slist *more = list ? curl_slist_append(list, key) : NULL;
    if (more && http->token[0]) {
        size_t n = strlen(http->token) + 32;
        char *auth = malloc(n);
        more = auth ? more : NULL;
        if (auth) {
            snprintf(auth, n, "Authorization: Bearer %s", http->token);
            more = curl_slist_append(list, auth);
            memset(auth, 0, n);
            free(auth);
        }
    }
    if (!more) {
        curl_slist_free_all(list);
        return NULL;
    }
    return list;
}

/* portal_http_push - one POST */
int portal_http_push(portal_http_t *http, const mc_portal_event_t *event, int timeout_ms,
                     int *status, char *error, size_t size)
{
    *status = 0;
    struct curl_slist *headers = header_list(http, event);
    if (!headers) {
        snprintf(error, size, "out of memory");
        return -1;
    }
    long total = timeout_ms < TRANSFER_MAX_MS ? timeout_ms : TRANSFER_MAX_MS;
    if (total < 1)
        total = 1;
    CURL *c = http->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, http->cfg->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, total < CONNECT_MAX_MS ? total : CONNECT_MAX_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, event->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(event->body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore_body);
    CURLcode cc = curl_easy_perform(c);
    /* the option points at headers: drop it before they go */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        snprintf(error, size, "%s", curl_easy_strerror(cc));
        return -1;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (code < 200 || code > 299) {
        snprintf(error, size, "http %ld", code);
        return -1;
    }
    return 0;
}
