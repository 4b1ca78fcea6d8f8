/*
 * webdriver - a real browser for tests: Debian's chromium driven by
 * chromedriver over the W3C WebDriver protocol (JSON over HTTP, libcurl).
 *
 * Contract: webdriver_start() starts chromedriver on a free 127.0.0.1 port
 * and opens one headless Chromium session with a fresh profile in
 * DIR/chromium-profile, a phone-sized window (390x844) and everything that
 * would reach out to the network on its own switched off; webdriver_stop()
 * ends the session and chromedriver. Every lookup of an element waits for
 * it by bounded polling (never a fixed sleep): WEBDRIVER_WAIT_MS at most.
 * Test code only; errors come back as -1 with a reason in wd->why.
 */
#ifndef WEBDRIVER_H
#define WEBDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define WEBDRIVER_CHROMIUM     "/usr/bin/chromium"
#define WEBDRIVER_CHROMEDRIVER "/usr/bin/chromedriver"
#define WEBDRIVER_WAIT_MS      15000 /* the longest any wait for an element or a text lasts */

typedef struct webdriver {
    pid_t driver_pid;   /* chromedriver */
    int   port;         /* its port */
    char  session[128]; /* WebDriver session id */
    char  why[512];     /* the last error */
} webdriver_t;

/* webdriver_available - are chromium and chromedriver installed? */
bool webdriver_available(void);

/* webdriver_start - chromedriver + one headless session; profile and log under dir. 0 or -1 */
int webdriver_start(webdriver_t *wd, const char *dir);

/* webdriver_stop - close the session, stop chromedriver (safe on a failed start) */
void webdriver_stop(webdriver_t *wd);

/* webdriver_get - navigate to url and wait for the page to load. 0 or -1 */
int webdriver_get(webdriver_t *wd, const char *url);

/* webdriver_type - wait for the element css, clear it, type text. 0 or -1 */
int webdriver_type(webdriver_t *wd, const char *css, const char *text);

/* webdriver_click - wait for the element css, click it. 0 or -1 */
int webdriver_click(webdriver_t *wd, const char *css);

/* webdriver_text - the element's visible text now (waits only for the element). 0 or -1 */
int webdriver_text(webdriver_t *wd, const char *css, char *buf, size_t size);

/*
 * webdriver_wait_text - poll the element's visible text until it contains
 * want (want "" : until it is not empty), WEBDRIVER_WAIT_MS at most; the
 * last text in buf. 0, or -1 when it never did.
 */
int webdriver_wait_text(webdriver_t *wd, const char *css, const char *want, char *buf,
                        size_t size);

/* webdriver_displayed - is the element css there and shown? (no wait) */
bool webdriver_displayed(webdriver_t *wd, const char *css);

/* webdriver_cookie - the value of the browser's cookie name for the current page
 * (HttpOnly ones too) into buf. 0, or -1 when there is none */
int webdriver_cookie(webdriver_t *wd, const char *name, char *buf, size_t size);

/* webdriver_script - run script (a function body without arguments, e.g. "return
 * 1 + 1") in the page; its result as JSON text (true, 0, "text") into buf. 0 or -1 */
int webdriver_script(webdriver_t *wd, const char *script, char *buf, size_t size);

/* webdriver_window - resize the window to width x height (CSS px). 0 or -1 */
int webdriver_window(webdriver_t *wd, int width, int height);

/* webdriver_screenshot - the viewport as a PNG file at path. 0 or -1 */
int webdriver_screenshot(webdriver_t *wd, const char *path);

#endif
