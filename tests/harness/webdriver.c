/*
 * webdriver - chromedriver over the W3C WebDriver protocol with libcurl (see
 * webdriver.h). The replies are read with a small extractor that knows just
 * enough JSON for WebDriver's answers (a string or object member named
 * "value", "sessionId", the element reference); a test tool, not a parser
 * for untrusted input.
 */
#include "webdriver.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "harness.h"
#include "mc_json.h"

extern char **environ;

/* the W3C name of an element reference's member */
#define ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"
#define POLL_MS     100 /* between two looks at the page */
#define REPLY_MAX   (32u * 1024u * 1024u) /* a screenshot's base64 is the largest reply */

/* a reply being read */
typedef struct reply {
    char  *data; /* NUL-terminated */
    size_t len;  /* bytes */
} reply_t;

/* on_data - libcurl's write callback: append to the reply, bounded */
static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
    reply_t *r = ctx;
    size_t add = size * n;
    if (r->len + add + 1 > REPLY_MAX)
        return 0;
    char *p = realloc(r->data, r->len + add + 1);
    if (!p)
        return 0;
    memcpy(p + r->len, ptr, add);
    r->data = p;
    r->len += add;
    r->data[r->len] = '\0';
    return add;
}

/* fail - record why and return -1 */
static int fail(webdriver_t *wd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(webdriver_t *wd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wd->why, sizeof wd->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* call - one WebDriver command: method on /path (relative to the session when
 * in_session), JSON body or NULL; the HTTP status, -1 when none; *out the reply (free()) */
static long call(webdriver_t *wd, const char *method, bool in_session, const char *path,
                 const char *body, char **out, int timeout_ms)
{
    char url[512];
    if (in_session)
        snprintf(url, sizeof url, "http://127.0.0.1:%d/session/%s%s", wd->port, wd->session, path);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", wd->port, path);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    reply_t r = {0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (out)
        *out = r.data ? r.data : strdup("");
    else
        free(r.data);
    return status;
}

/* json_string_at - decode the JSON string starting at p (at its opening quote) into buf (UTF-8) */
static int json_string_at(const char *p, char *buf, size_t size)
{
    if (*p != '"' || size == 0)
        return -1;
    size_t o = 0;
    for (p++; *p && *p != '"'; p++) {
        unsigned long cp = (unsigned char)*p;
        bool unicode = false; /* a \\u escape: encode cp as UTF-8; else one byte as is */
        if (*p == '\\') {
            p++;
            switch (*p) {
            case 'n': cp = '\n'; break;
            case 't': cp = '\t'; break;
            case 'r': cp = '\r'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'u': {
                char hex[5] = {0};
                memcpy(hex, p + 1, 4);
                if (strlen(hex) != 4)
                    return -1;
                cp = strtoul(hex, NULL, 16);
                unicode = true;
                p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                    char lo[5] = {0};
                    memcpy(lo, p + 3, 4);
                    unsigned long low = strtoul(lo, NULL, 16);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                }
                break;
            }
            case '\0': return -1;
            default: cp = (unsigned char)*p; break; /* \" \\ \/ */
            }
        }
        char enc[4];
        size_t n = 0;
        if (!unicode || cp < 0x80) {
            enc[n++] = (char)cp; /* a raw byte (UTF-8 passes through) or a simple escape */
        } else if (cp < 0x800) {
            enc[n++] = (char)(0xC0 | (cp >> 6));
            enc[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            enc[n++] = (char)(0xE0 | (cp >> 12));
            enc[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            enc[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            enc[n++] = (char)(0xF0 | (cp >> 18));
            enc[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            enc[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            enc[n++] = (char)(0x80 | (cp & 0x3F));
        }
        if (o + n + 1 > size)
            return -1;
        memcpy(buf + o, enc, n);
        o += n;
    }
    if (*p != '"')
        return -1;
    buf[o] = '\0';
    return 0;
}

/* json_body - {"<key>":<value as a JSON string>} (malloc'd), NULL when out of memory */
static char *json_body(webdriver_t *wd, const char *key, const char *value)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f) {
        fail(wd, "out of memory");
        return NULL;
    }
    fprintf(f, "{\"%s\":", key);
    mc_json_fputs(f, value);
    fputc('}', f);
    if (fclose(f) != 0) {
        free(body);
        fail(wd, "out of memory");
        return NULL;
    }
    return body;
}

/* member - the text after "key": (spaces skipped) in json, NULL if absent */
static const char *member(const char *json, const char *key)
{
    char quoted[96];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(json, quoted);
    if (!p)
        return NULL;
    p += strlen(quoted);
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* member_string - the string member key of json into buf; -1 if absent or not a string */
static int member_string(const char *json, const char *key, char *buf, size_t size)
{
    const char *p = member(json, key);
    return p ? json_string_at(p, buf, size) : -1;
}

bool webdriver_available(void)
{
    return access(WEBDRIVER_CHROMIUM, X_OK) == 0 && access(WEBDRIVER_CHROMEDRIVER, X_OK) == 0;
}

/* spawn_driver - chromedriver --port=P in a process group of its own (webdriver_stop
 * ends it and any browser it left), output to log; the pid or -1 */
static pid_t spawn_driver(int port, const char *log)
{
    char arg[32];
    snprintf(arg, sizeof arg, "--port=%d", port);
    char *const argv[] = {(char *)WEBDRIVER_CHROMEDRIVER, arg, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid = -1;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (posix_spawnattr_init(&attr) == 0) {
        if (posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644) == 0 &&
            posix_spawn_file_actions_adddup2(&fa, 1, 2) == 0 &&
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP) == 0 &&
            posix_spawnattr_setpgroup(&attr, 0) == 0 &&
            posix_spawn(&pid, WEBDRIVER_CHROMEDRIVER, &fa, &attr, argv, environ) != 0)
            pid = -1;
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

int webdriver_start(webdriver_t *wd, const char *dir)
{
    memset(wd, 0, sizeof *wd);
    if (!webdriver_available())
        return fail(wd, "%s or %s missing (deploy/install-deps.sh)", WEBDRIVER_CHROMIUM,
                    WEBDRIVER_CHROMEDRIVER);
    wd->port = harness_free_port(0);
    if (wd->port < 0)
        return fail(wd, "no free port");
    char log[512], profile[512];
    snprintf(log, sizeof log, "%s/chromedriver.log", dir);
    snprintf(profile, sizeof profile, "%s/chromium-profile", dir);
    wd->driver_pid = spawn_driver(wd->port, log);
    if (wd->driver_pid < 0)
        return fail(wd, "cannot start %s", WEBDRIVER_CHROMEDRIVER);
    /* ready when /status says so */
    int64_t deadline = harness_now_ms() + WEBDRIVER_WAIT_MS;
    bool ready = false;
    while (!ready && harness_now_ms() < deadline) {
        char *r = NULL;
        ready = call(wd, "GET", false, "/status", NULL, &r, 1000) == 200 && strstr(r, "\"ready\":true");
        free(r);
        if (!ready) {
            struct timespec ts = {0, POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (!ready)
        return fail(wd, "chromedriver not ready on port %d within %d ms (%s)", wd->port,
                    WEBDRIVER_WAIT_MS, log);
    char body[2048];
    snprintf(body, sizeof body,
             "{\"capabilities\":{\"alwaysMatch\":{\"browserName\":\"chrome\","
             "\"goog:chromeOptions\":{\"binary\":\"%s\",\"args\":[\"--headless\","
             "\"--no-sandbox\",\"--disable-gpu\",\"--disable-quic\",\"--no-first-run\","
             "\"--disable-background-networking\",\"--disable-component-update\","
             "\"--disable-sync\",\"--disable-dev-shm-usage\",\"--lang=vi-VN\","
             "\"--window-size=390,844\",\"--user-data-dir=%s\"]}}}}",
             WEBDRIVER_CHROMIUM, profile);
    char *r = NULL;
    long status = call(wd, "POST", false, "/session", body, &r, 60000);
    int rc = 0;
    if (status != 200 || member_string(r, "sessionId", wd->session, sizeof wd->session) != 0)
        rc = fail(wd, "new session: HTTP %ld: %.300s", status, r ? r : "");
    free(r);
    return rc;
}

void webdriver_stop(webdriver_t *wd)
{
    if (wd->session[0]) {
        char *r = NULL;
        call(wd, "DELETE", true, "", NULL, &r, 20000);
        free(r);
        wd->session[0] = '\0';
    }
    if (wd->driver_pid > 0) {
        kill(-wd->driver_pid, SIGTERM);
        if (harness_wait_exit(&wd->driver_pid, 5000) < 0 && wd->driver_pid > 0) {
            kill(-wd->driver_pid, SIGKILL);
            harness_wait_exit(&wd->driver_pid, 5000);
        }
    }
}

int webdriver_get(webdriver_t *wd, const char *url)
{
    char *body = json_body(wd, "url", url);
    if (!body)
        return -1;
    char *r = NULL;
    long status = call(wd, "POST", true, "/url", body, &r, 60000);
    int rc = status == 200 ? 0 : fail(wd, "navigate %s: HTTP %ld: %.300s", url, status, r);
    free(body);
    free(r);
    return rc;
}

/* find_once - the element matching css now, into id; 0, or -1 (not there yet) */
static int find_once(webdriver_t *wd, const char *css, char *id, size_t size)
{
    char *value = json_body(wd, "value", css);
    if (!value)
        return -1;
    char body[4200];
    snprintf(body, sizeof body, "{\"using\":\"css selector\",%s", value + 1); /* value's "{" dropped */
    free(value);
    char *r = NULL;
    long status = call(wd, "POST", true, "/element", body, &r, 10000);
    int rc = status == 200 && member_string(r, ELEMENT_KEY, id, size) == 0
                 ? 0
                 : fail(wd, "element %s: HTTP %ld: %.200s", css, status, r);
    free(r);
    return rc;
}

/* find - wait (bounded) for the element css; its id into id */
static int find(webdriver_t *wd, const char *css, char *id, size_t size)
{
    int64_t deadline = harness_now_ms() + WEBDRIVER_WAIT_MS;
    for (;;) {
        if (find_once(wd, css, id, size) == 0)
            return 0;
        if (harness_now_ms() >= deadline)
            return -1;
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* element_call - method on /element/<id>/<what> of the element css; the reply in *out */
static int element_call(webdriver_t *wd, const char *css, const char *method, const char *what,
                        const char *body, char **out)
{
    char id[128], path[256];
    if (find(wd, css, id, sizeof id) != 0)
        return -1;
    snprintf(path, sizeof path, "/element/%s/%s", id, what);
    char *r = NULL;
    long status = call(wd, method, true, path, body, &r, 30000);
    if (status != 200) {
        fail(wd, "%s %s: HTTP %ld: %.300s", what, css, status, r);
        free(r);
        return -1;
    }
    if (out)
        *out = r;
    else
        free(r);
    return 0;
}

int webdriver_type(webdriver_t *wd, const char *css, const char *text)
{
    if (element_call(wd, css, "POST", "clear", "{}", NULL) != 0)
        return -1;
    char *body = json_body(wd, "text", text);
    if (!body)
        return -1;
    int rc = element_call(wd, css, "POST", "value", body, NULL);
    free(body);
    return rc;
}

int webdriver_click(webdriver_t *wd, const char *css)
{
    return element_call(wd, css, "POST", "click", "{}", NULL);
}

int webdriver_text(webdriver_t *wd, const char *css, char *buf, size_t size)
{
    char *r = NULL;
    if (element_call(wd, css, "GET", "text", NULL, &r) != 0)
        return -1;
    int rc = member_string(r, "value", buf, size) == 0 ? 0 : fail(wd, "text %s: %.200s", css, r);
    free(r);
    return rc;
}

int webdriver_wait_text(webdriver_t *wd, const char *css, const char *want, char *buf, size_t size)
{
    int64_t deadline = harness_now_ms() + WEBDRIVER_WAIT_MS;
    buf[0] = '\0';
    for (;;) {
        if (webdriver_text(wd, css, buf, size) == 0 && (*want ? strstr(buf, want) != NULL : *buf != '\0'))
            return 0;
        if (harness_now_ms() >= deadline)
            return fail(wd, "%s: text \"%.200s\" never showed \"%s\"", css, buf, want);
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

bool webdriver_displayed(webdriver_t *wd, const char *css)
{
    char id[128], path[256];
    if (find_once(wd, css, id, sizeof id) != 0)
        return false;
    snprintf(path, sizeof path, "/element/%s/displayed", id);
    char *r = NULL;
    long status = call(wd, "GET", true, path, NULL, &r, 10000);
    const char *v = status == 200 ? member(r, "value") : NULL;
    bool shown = v && strncmp(v, "true", 4) == 0;
    free(r);
    return shown;
}

int webdriver_cookie(webdriver_t *wd, const char *name, char *buf, size_t size)
{
    char path[160], *r = NULL;
    snprintf(path, sizeof path, "/cookie/%s", name);
    long status = call(wd, "GET", true, path, NULL, &r, 10000);
    const char *v = status == 200 ? member(r, "value") : NULL;
    int rc = v && *v == '{' && member_string(v, "value", buf, size) == 0
                 ? 0
                 : fail(wd, "cookie %s: HTTP %ld", name, status);
    free(r);
    return rc;
}

int webdriver_script(webdriver_t *wd, const char *script, char *buf, size_t size)
{
    char *body = json_body(wd, "script", script), *r = NULL;
    if (!body)
        return -1;
    char *args = realloc(body, strlen(body) + 16);
    if (!args) {
        free(body);
        return fail(wd, "out of memory");
    }
    strcpy(args + strlen(args) - 1, ",\"args\":[]}"); /* {"script":"...","args":[]} */
    long status = call(wd, "POST", true, "/execute/sync", args, &r, 30000);
    free(args);
    const char *v = status == 200 ? member(r, "value") : NULL;
    int rc = -1;
    if (v) { /* the value's JSON text: up to the reply's closing brace */
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == '}' || v[n - 1] == ' ' || v[n - 1] == '\n'))
            n--;
        snprintf(buf, size, "%.*s", (int)n, v);
        rc = 0;
    } else {
        fail(wd, "script: HTTP %ld: %.200s", status, r ? r : "");
    }
    free(r);
    return rc;
}

int webdriver_window(webdriver_t *wd, int width, int height)
{
    char body[96], *r = NULL;
    snprintf(body, sizeof body, "{\"width\":%d,\"height\":%d}", width, height);
    long status = call(wd, "POST", true, "/window/rect", body, &r, 30000);
    free(r);
    return status == 200 ? 0 : fail(wd, "window %dx%d: HTTP %ld", width, height, status);
}

int webdriver_screenshot(webdriver_t *wd, const char *path)
{
    char *r = NULL;
    long status = call(wd, "GET", true, "/screenshot", NULL, &r, 60000);
    const char *v = status == 200 ? member(r, "value") : NULL;
    if (!v || *v != '"') {
        fail(wd, "screenshot: HTTP %ld", status);
        free(r);
        return -1;
    }
    const char *b64 = v + 1, *end = strchr(b64, '"');
    size_t b64_len = end ? (size_t)(end - b64) : 0;
    size_t max = b64_len / 4 * 3 + 3, bin_len = 0;
    unsigned char *bin = malloc(max);
    int rc = -1;
    if (bin && sodium_base642bin(bin, max, b64, b64_len, "\\n", &bin_len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) == 0) {
        FILE *f = fopen(path, "wb");
        if (f && fwrite(bin, 1, bin_len, f) == bin_len && fclose(f) == 0)
            rc = 0;
        else if (f)
            fclose(f);
    }
    if (rc != 0)
        fail(wd, "screenshot: cannot decode or write %s", path);
    free(bin);
    free(r);
    return rc;
}
