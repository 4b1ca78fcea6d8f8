/*
 * it_web - the citizen's pages and the ward's dashboard (issue 15 parts 2-4)
 * in a real browser: Debian's headless Chromium driven over WebDriver
 * (tests/harness/webdriver), a phone-sized window (390x844), against the
 * real motcua-gateway in front of the real pipeline (a throwaway
 * PostgreSQL, intake, router, lienthong, notify, the TU_PHAP desk approving
 * everything; DIA_CHINH is never started, so a land dossier stays open).
 *
 * Checks: the lookup page shows a real dossier's state and due date and,
 * without the secret, no history and nothing personal; with it, the
 * timeline. The rating page (notify.rating_url points at it: the result
 * notice's link is checked) records the rating in the store exactly once
 * and a second submission says "đã đánh giá". The dashboard after a staff
 * login shows the numbers of `motcua report --format json` for the same
 * ward and period; another ward is 403. Every screenshot is saved in the
 * test directory and checked not blank (png_check). Outside the browser,
 * with libcurl: a rating without the CSRF token or from another origin is
 * 403 and stores nothing; repeated failed logins are 429 with Retry-After.
 *
 * Without chromium or chromedriver (deploy/install-deps.sh installs them)
 * the test says so and fails: make check must not pass untested.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "mc_calendar.h"
#include "mc_states.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "png_check.h"
#include "webdriver.h"

#define MAX_AGENCIES 32
#define STAFF_USER   "canbo.kimlien"
#define STAFF_PASS   "Mat-khau-thu-nghiem-2025"
#define WARD         "00229"
#define COMMENT      "Cán bộ hướng dẫn tận tình (ý-kiến-web-5531)"

static harness_t   H;
static webdriver_t WD;
static pid_t       router_pid, hub_pid, notify_pid, gateway_pid;
static int         n_agencies, port;
static char        agency_code[MAX_AGENCIES][64];
static pid_t       agency_pid[MAX_AGENCIES];
static char        base[64];                 /* http://127.0.0.1:PORT */
static char        ready_code[64], secret[64]; /* a dossier with its result, and its secret */
static char        ready2_code[64];          /* another with its result, never rated */
static char        open_code[64];            /* a dossier still open */

/* --- helpers ---------------------------------------------------------------- */

/* shot - a screenshot into DIR/name, checked: a PNG of the window's size, not one colour */
static int shot(const char *name)
{
    char path[600], why[256];
    snprintf(path, sizeof path, "%s/%s", H.dir, name);
    if (webdriver_screenshot(&WD, path) != 0) {
        printf("  screenshot %s: %s\n", name, WD.why);
        return -1;
    }
    png_image_t img;
    if (png_check_read(path, &img, why, sizeof why) != 0) {
        printf("  screenshot %s: %s\n", name, why);
        return -1;
    }
    /* not blank: many pixels differ from the page's white, in more than a few colours */
    size_t ink = png_check_count_other(&img, 255, 255, 255, 8);
    size_t colours = png_check_distinct_colors(&img);
    bool ok = img.width >= 300 && img.height >= 500 && ink > (size_t)img.width * 20 && colours > 16;
    if (!ok)
        printf("  screenshot %s: %ux%u, %zu non-white pixels, %zu colours\n", name, img.width,
               img.height, ink, colours);
    png_check_free(&img);
    return ok ? 0 : -1;
}

/* page_text - the visible text of css into buf (waiting for it to be non-empty) */
static int page_text(const char *css, char *buf, size_t size)
{
    int rc = webdriver_wait_text(&WD, css, "", buf, size);
    if (rc != 0)
        printf("  %s\n", WD.why);
    return rc;
}

/* wait_text - wait until css shows want */
static int wait_text(const char *css, const char *want)
{
    char buf[4096];
    int rc = webdriver_wait_text(&WD, css, want, buf, sizeof buf);
    if (rc != 0)
        printf("  %s\n", WD.why);
    return rc;
}

/* an HTTP answer read with libcurl */
typedef struct answer {
    long   status;    /* HTTP status, -1 if none */
    char   body[65536]; /* the body (cut) */
    size_t len;       /* bytes in body */
    char   retry_after[32]; /* the Retry-After header, "" if none */
} answer_t;

/* on_body - append to the answer, cut at its size */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    answer_t *a = ctx;
    size_t add = size * n, room = sizeof a->body - 1 - a->len;
    memcpy(a->body + a->len, p, add < room ? add : room);
    a->len += add < room ? add : room;
    a->body[a->len] = '\0';
    return size * n;
}

/* on_header - keep Retry-After */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    answer_t *a = ctx;
    if (size * n > 13 && strncasecmp(p, "Retry-After:", 12) == 0)
        sscanf(p + 12, " %31[0-9]", a->retry_after);
    return size * n;
}

/* http - GET (body NULL) or POST body to path with the extra headers (NULL-terminated);
 * the answer in *a */
static void http(const char *path, const char *const *headers, const char *body, answer_t *a)
{
    memset(a, 0, sizeof *a);
    a->status = -1;
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    if (!c)
        return;
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* rating_count - ratings stored for code */
static long rating_count(const char *code)
{
    return harness_count(&H, "SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id "
                             "WHERE d.code = $1", code);
}

/* json_after - the integer after "key": at or after from (keys in the report's order), -1 if none */
static long json_after(const char **from, const char *key)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\":", key);
    const char *p = *from ? strstr(*from, quoted) : NULL;
    if (!p)
        return -1;
    *from = p + strlen(quoted);
    return strtol(*from, NULL, 10);
}

/* number_text - n as the page writes it (vi-VN: 1.234) */
static const char *number_text(long n, char *buf, size_t size)
{
    if (n >= 1000)
        snprintf(buf, size, "%ld.%03ld", n / 1000, n % 1000);
    else
        snprintf(buf, size, "%ld", n);
    return buf;
}

/* check_cell - the cell css shows exactly want */
static bool check_cell(const char *css, const char *want)
{
    char got[256];
    if (page_text(css, got, sizeof got) != 0 || strcmp(got, want) != 0) {
        printf("  %s shows \"%s\", motcua report says \"%s\"\n", css, got, want);
        return false;
    }
    return true;
}

/* period - the report's period: 60 days back to tomorrow, local dates */
static void period(char *from, char *to, size_t size)
{
    int64_t now = (int64_t)time(NULL);
    mc_date_t a = mc_date_of(now - 60 * 86400, NULL), b = mc_date_of(now + 86400, NULL);
    snprintf(from, size, "%04d-%02d-%02d", a.year, a.month, a.day);
    snprintf(to, size, "%04d-%02d-%02d", b.year, b.month, b.day);
}

/* usable - the page now: lang="vi", every field labelled, no sideways scrolling at
 * the window's width; prints what is wrong */
static bool usable(const char *page)
{
    static const struct { const char *script, *want, *what; } checks[] = {
        {"return document.documentElement.lang", "\"vi\"", "lang"},
        {"return Array.from(document.querySelectorAll('input, textarea, select'))"
         ".filter(function (e) { return !e.labels || e.labels.length === 0; }).length",
         "0", "fields without a label"},
        {"return document.documentElement.scrollWidth <= window.innerWidth", "true",
         "no sideways scrolling"},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        char got[256];
        if (webdriver_script(&WD, checks[i].script, got, sizeof got) != 0 ||
            strcmp(got, checks[i].want) != 0) {
            printf("  %s: %s: %s, not %s\n", page, checks[i].what, got, checks[i].want);
            ok = false;
        }
    }
    return ok;
}

/* rate_with_wrong_token - the rating page of code with a made-up token, "rất hài
 * lòng" sent; 0 once the page shows its refusal */
static int rate_with_wrong_token(const char *code)
{
    char link[300];
    snprintf(link, sizeof link, "%s/danh-gia?ma=%s&t=11111111-0000-4000-8000-000000000000", base,
             code);
    if (webdriver_get(&WD, link) != 0 || webdriver_click(&WD, "#muc-rat-hai-long") != 0 ||
        webdriver_click(&WD, "#nut-gui") != 0)
        return -1;
    return wait_text("#thong-bao .error", "");
}

/* --- tests ------------------------------------------------------------------- */

MC_TEST(lookup_shows_state_without_personal_data_and_timeline_with_secret)
{
    char url[256], text[8192], typed[128];
    REQUIRE(webdriver_window(&WD, 360, 740) == 0); /* the narrowest phone the pages are made for */
    snprintf(url, sizeof url, "%s/tra-cuu", base);
    REQUIRE(webdriver_get(&WD, url) == 0);
    CHECK(usable("tra-cuu"));
    /* with the keyboard alone: the code, then Enter (WebDriver's U+E007) */
    snprintf(typed, sizeof typed, "%s\xee\x80\x87", ready_code);
    REQUIRE(webdriver_type(&WD, "#ma", typed) == 0);
    CHECK(wait_text("#kq-trang-thai", "Đã có kết quả") == 0);
    CHECK(usable("tra-cuu (kết quả)"));
    CHECK(page_text("#kq-hen-tra", text, sizeof text) == 0 && strchr(text, '/') != NULL);
    CHECK(page_text("#kq-ma", text, sizeof text) == 0 && strcmp(text, ready_code) == 0);
    CHECK(!webdriver_displayed(&WD, "#kq-qua-trinh")); /* no history without the secret */
    CHECK(webdriver_displayed(&WD, "#kq-can-bi-mat"));
    REQUIRE(webdriver_text(&WD, "body", text, sizeof text) == 0);
    CHECK(strstr(text, "Trần Văn Minh") == NULL);  /* the applicant of harness_dossier_init */
    CHECK(strstr(text, "001085012345") == NULL);   /* the citizen ID */
    CHECK(strstr(text, "0912345678") == NULL);     /* the phone */
    CHECK(shot("tra-cuu.png") == 0);

    /* a code never issued: a clear message, no result */
    REQUIRE(webdriver_type(&WD, "#ma", "000.22.29.H26-990101-9999") == 0);
    REQUIRE(webdriver_click(&WD, "#nut-tra-cuu") == 0);
    CHECK(wait_text("#thong-bao .error", "") == 0);
    CHECK(!webdriver_displayed(&WD, "#ket-qua"));

    /* with the secret: the timeline */
    REQUIRE(webdriver_type(&WD, "#ma", ready_code) == 0);
    REQUIRE(webdriver_type(&WD, "#bi-mat", secret) == 0);
    REQUIRE(webdriver_click(&WD, "#nut-tra-cuu") == 0);
    CHECK(wait_text("#kq-dong-thoi-gian", "Đã có kết quả") == 0);
    CHECK(wait_text("#kq-dong-thoi-gian", "Đã tiếp nhận") == 0);
    CHECK(webdriver_displayed(&WD, "#kq-qua-trinh"));
    REQUIRE(webdriver_text(&WD, "body", text, sizeof text) == 0);
    CHECK(strstr(text, "Trần Văn Minh") == NULL && strstr(text, "001085012345") == NULL);
    CHECK(shot("tra-cuu-bi-mat.png") == 0);
    CHECK(webdriver_window(&WD, 390, 844) == 0);
}

MC_TEST(rating_page_records_the_rating_once)
{
    /* the result notice's link points at this page */
    char link[300];
    snprintf(link, sizeof link, "%s/danh-gia?ma=%s&t=%s", base, ready_code, secret);
    CHECK(harness_run("grep -rqF '%s' %s/spool", link, H.dir) == 0);

    CHECK_INT(rating_count(ready_code), 0);
    REQUIRE(webdriver_get(&WD, link) == 0);
    CHECK(wait_text("#dg-ma", ready_code) == 0);
    CHECK(usable("danh-gia"));
    REQUIRE(webdriver_click(&WD, "#muc-hai-long") == 0);
    REQUIRE(webdriver_type(&WD, "#gop-y", COMMENT) == 0);
    REQUIRE(webdriver_click(&WD, "#nut-gui") == 0);
    CHECK(wait_text("#thong-bao", "Cảm ơn") == 0);
    CHECK(!webdriver_displayed(&WD, "#form-danh-gia"));
    CHECK(shot("danh-gia.png") == 0);
    CHECK_INT(rating_count(ready_code), 1);
    CHECK_INT(harness_count(&H, "SELECT r.level FROM rating r JOIN dossier d ON d.id = r.dossier_id "
                                "WHERE d.code = $1", ready_code), 2); /* hài lòng */

    /* the same link again, another choice: refused, still one rating */
    REQUIRE(webdriver_get(&WD, link) == 0);
    REQUIRE(webdriver_click(&WD, "#muc-khong-hai-long") == 0);
    REQUIRE(webdriver_click(&WD, "#nut-gui") == 0);
    CHECK(wait_text("#thong-bao", "đã đánh giá") == 0);
    CHECK(shot("danh-gia-lan-hai.png") == 0);
    CHECK_INT(rating_count(ready_code), 1);
    CHECK_INT(harness_count(&H, "SELECT r.level FROM rating r JOIN dossier d ON d.id = r.dossier_id "
                                "WHERE d.code = $1", ready_code), 2);

    /* a link with a wrong token: refused, nothing stored, the form stays */
    CHECK(rate_with_wrong_token(ready2_code) == 0);
    CHECK(webdriver_displayed(&WD, "#form-danh-gia"));
    CHECK_INT(rating_count(ready2_code), 0);
    /* a dossier without its result yet cannot be rated */
    CHECK(rate_with_wrong_token(open_code) == 0);
    CHECK_INT(rating_count(open_code), 0);
}

MC_TEST(dashboard_shows_the_numbers_of_motcua_report)
{
    char from[16], to[16], url[256], args[256];
    period(from, to, sizeof from);
    snprintf(url, sizeof url, "%s/phuong?from=%s&to=%s", base, from, to);
    REQUIRE(webdriver_get(&WD, url) == 0);
    REQUIRE(webdriver_type(&WD, "#ten", STAFF_USER) == 0);
    REQUIRE(webdriver_type(&WD, "#mat-khau", "sai-mat-khau") == 0);
    REQUIRE(webdriver_click(&WD, "#nut-dang-nhap") == 0);
    CHECK(wait_text("#thong-bao", "không đúng") == 0);
    REQUIRE(webdriver_type(&WD, "#mat-khau", STAFF_PASS) == 0);
    REQUIRE(webdriver_click(&WD, "#nut-dang-nhap") == 0);
    CHECK(wait_text("#thong-bao", "Đã tải báo cáo") == 0);
    CHECK(wait_text("#db-phuong", "Kim Liên") == 0);
    CHECK(usable("phuong"));

    /* the same period from the command line */
    snprintf(args, sizeof args, "report --format json --ward " WARD " --from %s --to %s", from, to);
    REQUIRE(harness_motcua(&H, args) == 0);
    char path[600], json[65536] = "";
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    size_t n = fread(json, 1, sizeof json - 1, f);
    fclose(f);
    json[n] = '\0';
    const char *p = strstr(json, "\"total\":{");
    REQUIRE(p != NULL);
    long carried = json_after(&p, "carried_over"), direct = json_after(&p, "direct"),
         online = json_after(&p, "online"), postal = json_after(&p, "postal"),
         fresh = json_after(&p, "new"), early = json_after(&p, "early"),
         on_time = json_after(&p, "on_time"), late = json_after(&p, "late"),
         resolved = json_after(&p, "total"), in_time = json_after(&p, "in_time"),
         overdue = json_after(&p, "overdue");
    REQUIRE(overdue >= 0);
    CHECK(direct >= 3 && early + on_time + late >= 2); /* the figures this test made are there */
    char a[32], b[32], c[32], want[128];
    CHECK(check_cell("#tong-truc-tiep", number_text(direct, a, sizeof a)));
    CHECK(check_cell("#tong-truc-tuyen", number_text(online, a, sizeof a)));
    CHECK(check_cell("#tong-buu-chinh", number_text(postal, a, sizeof a)));
    CHECK(check_cell("#tong-dung-han", number_text(early + on_time, a, sizeof a)));
    CHECK(check_cell("#tong-tre-han", number_text(late, a, sizeof a)));
    CHECK(check_cell("#th-chuyen-qua", number_text(carried, a, sizeof a)));
    CHECK(check_cell("#th-moi", number_text(fresh, a, sizeof a)));
    CHECK(check_cell("#th-da-giai-quyet", number_text(resolved, a, sizeof a)));
    snprintf(want, sizeof want, "%s / %s / %s", number_text(early, a, sizeof a),
             number_text(on_time, b, sizeof b), number_text(late, c, sizeof c));
    CHECK(check_cell("#th-ket-qua", want));
    snprintf(want, sizeof want, "%s / %s", number_text(in_time, a, sizeof a),
             number_text(overdue, b, sizeof b));
    CHECK(check_cell("#th-dang", want));
    /* the backlog holds the open land dossier's desk; the chart and the CSV link are there */
    CHECK(wait_text("#bang-ton", "DIA_CHINH") == 0);
    CHECK(webdriver_displayed(&WD, "#bieu-do"));
    CHECK(shot("phuong.png") == 0);

    /* another ward's figures: 403 */
    snprintf(url, sizeof url, "%s/v1/staff/report?ward=00220&from=%s&to=%s", base, from, to);
    REQUIRE(webdriver_get(&WD, url) == 0);
    CHECK(wait_text("body", "chỉ xem được số liệu của phường mình") == 0);
    /* the chart */
    snprintf(url, sizeof url, "%s/v1/staff/report.svg?from=%s&to=%s", base, from, to);
    REQUIRE(webdriver_get(&WD, url) == 0);
    CHECK(shot("bieu-do.png") == 0);

    /* the CSV download, with the browser's session: motcua report's CSV byte for byte */
    char session[128], cookie[160], csv_path[160];
    REQUIRE(webdriver_cookie(&WD, "mc_session", session, sizeof session) == 0);
    snprintf(cookie, sizeof cookie, "Cookie: mc_session=%s", session);
    const char *with_session[] = {cookie, NULL};
    snprintf(csv_path, sizeof csv_path, "/v1/staff/report.csv?from=%s&to=%s", from, to);
    answer_t csv;
    http(csv_path, with_session, NULL, &csv);
    CHECK_INT(csv.status, 200);
    snprintf(args, sizeof args, "report --format csv --ward " WARD " --from %s --to %s", from, to);
    REQUIRE(harness_motcua(&H, args) == 0);
    f = fopen(path, "r");
    REQUIRE(f != NULL);
    n = fread(json, 1, sizeof json - 1, f);
    fclose(f);
    CHECK(n > 100 && csv.len == n && memcmp(csv.body, json, n) == 0);

    /* logging out from the page ends the session on the server */
    snprintf(url, sizeof url, "%s/phuong", base);
    REQUIRE(webdriver_get(&WD, url) == 0);
    /* as a person would: once the page has shown the report (the page also
     * drops a load overtaken by the logout: phuong.js "generation") */
    CHECK(wait_text("#thong-bao", "Đã tải báo cáo") == 0);
    REQUIRE(webdriver_click(&WD, "#nut-dang-xuat") == 0);
    CHECK(wait_text("#thong-bao", "Đã đăng xuất") == 0);
    CHECK(webdriver_displayed(&WD, "#form-dang-nhap"));
    http("/v1/staff/me", with_session, NULL, &csv);
    CHECK_INT(csv.status, 401);
}

MC_TEST(state_changes_need_the_csrf_token_and_logins_are_throttled)
{
    char body[512], cookie[160], token_header[160];
    const char *token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    snprintf(body, sizeof body,
             "{\"submissionId\":\"web-csrf-0001\",\"dossierCode\":\"%s\",\"token\":\"%s\","
             "\"level\":\"SATISFACTION_VERY_SATISFIED\"}", open_code, secret);
    snprintf(cookie, sizeof cookie, "Cookie: mc_csrf=%s", token);
    snprintf(token_header, sizeof token_header, "X-CSRF-Token: %s", token);
    answer_t a;
    /* no token at all */
    const char *none[] = {"Content-Type: application/json", NULL};
    http("/v1/public/rating", none, body, &a);
    CHECK_INT(a.status, 403);
    /* a token that is not the cookie's */
    const char *wrong[] = {"Content-Type: application/json", cookie,
                           "X-CSRF-Token: ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL};
    http("/v1/public/rating", wrong, body, &a);
    CHECK_INT(a.status, 403);
    /* the right pair from another site */
    const char *cross[] = {"Content-Type: application/json", cookie, token_header,
                           "Origin: http://ke-gian.example", NULL};
    http("/v1/public/rating", cross, body, &a);
    CHECK_INT(a.status, 403);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM rating", NULL), 1); /* only the page's */
    /* wrong content type */
    const char *text[] = {"Content-Type: text/plain", cookie, token_header, NULL};
    http("/v1/public/rating", text, body, &a);
    CHECK_INT(a.status, 415);

    /* logins: GW_LOGIN_FAILURES failures, then 429 with Retry-After even for the right password */
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", cookie, token_header, NULL};
    http("/v1/staff/login", none, "username=" STAFF_USER "&password=" STAFF_PASS, &a);
    CHECK_INT(a.status, 403); /* without the CSRF pair */
    int refused = 0;
    for (int i = 0; i < 10 && a.status != 429; i++) {
        http("/v1/staff/login", form, "username=" STAFF_USER "&password=sai", &a);
        refused += a.status == 401;
    }
    CHECK(refused >= 3 && refused <= 5); /* the dashboard test made one failure already */
    CHECK_INT(a.status, 429);
    CHECK(atoi(a.retry_after) > 0);
    http("/v1/staff/login", form, "username=" STAFF_USER "&password=" STAFF_PASS, &a);
    CHECK_INT(a.status, 429);
    /* nothing personal or secret in the gateway's log */
    CHECK(harness_run("grep -qF '%s' %s/gateway.log", secret, H.dir) != 0);
    CHECK(harness_run("grep -qF '%s' %s/gateway.log", STAFF_PASS, H.dir) != 0);
    CHECK(harness_run("grep -qF '%s' %s/gateway.log", ready_code, H.dir) != 0);
}

MC_TEST(gateway_stops_cleanly)
{
    webdriver_stop(&WD);
    CHECK_INT(harness_stop_daemon(gateway_pid, SIGTERM), 0); /* (under make asan: no leak) */
    gateway_pid = 0;
}

/* --- setup ---------------------------------------------------------------- */

/* submit - a counter dossier of procedure proc with sid; its code (and secret) */
static int submit(const char *sid, const char *proc, char *code, char *sec)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    if (proc) {
        d.dossier.procedure_code = (char *)proc;
        d.docs[0].document_type = (char *)"DON_DANG_KY";
        d.docs[0].name = (char *)"Đơn đăng ký đất đai, tài sản gắn liền với đất";
        d.docs[1].document_type = (char *)"GIAY_TO_NGUON_GOC_DAT";
        d.docs[1].name = (char *)"Giấy tờ về nguồn gốc đất";
        d.docs[1].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
        d.dossier.n_documents = 2;
    }
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok) {
        snprintf(code, 64, "%s", r->receipt->dossier_code);
        if (sec)
            snprintf(sec, 64, "%s", r->receipt->secret);
    } else {
        printf("  submit %s: %s\n", sid, r->rejection ? r->rejection->message : "?");
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* start_desk - motcua-agency for the desk code with outcomes, waited for until connected */
static int start_desk(const char *code, const char *outcomes)
{
    int i = 0;
    while (i < n_agencies && strcmp(agency_code[i], code) != 0)
        i++;
    if (i == n_agencies)
        return -1;
    char key[500], server[500], log[128], pattern[512];
    snprintf(key, sizeof key, "%s/keys/%s.key", H.dir, code);
    snprintf(server, sizeof server, "%s/keys/lienthong.pub", H.dir);
    snprintf(log, sizeof log, "agency-%s.log", code);
    const char *args[] = {"-c", H.config, "--agency", code, "--key", key, "--server-key", server,
                          "--delay-ms", "2", "--outcomes", outcomes, NULL};
    if ((agency_pid[i] = harness_spawn(&H, "motcua-agency", log, args)) <= 0)
        return -1;
    snprintf(pattern, sizeof pattern, "grep -q event=connected %s/%s", H.dir, log);
    for (int64_t deadline = harness_now_ms() + 10000; harness_now_ms() < deadline;) {
        if (system(pattern) == 0)
            return 0;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* write_staff - DIR/staff.yaml with the test's two accounts, hashed by `motcua staff-passwd` */
static int write_staff(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/staff.yaml", H.dir);
    if (harness_run("printf 'staff:\\n' > %s && "
                    "h=$(echo '%s' | %s/bin/motcua staff-passwd) && "
                    "printf '  - {username: %s, ward: \"" WARD "\", password_hash: \"%%s\"}\\n' \"$h\" >> %s && "
                    "h=$(echo 'khac-phuong' | %s/bin/motcua staff-passwd --sha512) && "
                    "printf '  - {username: canbo.vanmieu, ward: \"00220\", password_hash: \"%%s\"}\\n' \"$h\" >> %s",
                    path, STAFF_PASS, H.build, STAFF_USER, path, H.build, path) != 0)
        return -1;
    return harness_config_copy(&H, H.config, "files:\n", "files:\n  staff: staff.yaml\n");
}

/* setup - the pipeline, the gateway, two dossiers, the browser */
static int setup(void)
{
    if (!webdriver_available()) {
        printf("  chromium/chromedriver missing: run deploy/install-deps.sh\n");
        return -1;
    }
    if (harness_setup(&H, "web", 2) != 0 ||
        harness_pipeline_setup(&H, 300, 16, agency_code, MAX_AGENCIES, &n_agencies) != 0)
        return -1;
    if ((port = harness_free_port(H.pg_port)) < 0)
        return -1;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    char rating[400];
    snprintf(rating, sizeof rating, "  retry_max_ms: 800\n  rating_url: \"%s/danh-gia\"\n", base);
    if (harness_config_copy(&H, H.config, "  retry_max_ms: 800\n", rating) != 0 ||
        write_staff() != 0 ||
        harness_config_append(&H, "gateway:\n  listen: \"127.0.0.1:%d\"\n"
                                  "  key_file: %s/keys/HARNESS_GATEWAY.key\n"
                                  "  public_client: HARNESS_PORTAL\n  web_dir: %s/web\n",
                              port, H.dir, H.repo) != 0)
        return -1;
    if (harness_start_intake(&H) != 0 ||
        (router_pid = harness_start_daemon(&H, "router", NULL, "router.log")) <= 0 ||
        (hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log")) <= 0 ||
        (notify_pid = harness_start_daemon(&H, "notify", NULL, "notify.log")) <= 0 ||
        (gateway_pid = harness_start_daemon(&H, "gateway", NULL, "gateway.log")) <= 0 ||
        start_desk("TU_PHAP", "approved=100") != 0)
        return -1;
    /* three birth registrations to their result, one land dossier left open */
    char code[64];
    if (submit("web-ready-0001", NULL, ready_code, secret) != 0 ||
        submit("web-ready-0002", NULL, ready2_code, NULL) != 0 ||
        submit("web-open-0001", "1.013978", open_code, NULL) != 0 ||
        submit("web-ready-0003", NULL, code, NULL) != 0)
        return -1;
    if (harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE state = $1::int",
                           "5", 3, 30000) != 3 || /* MC_DOSSIER_RESULT_READY */
        harness_wait_count(&H, "SELECT count(*) FROM notification WHERE kind = $1 AND state = 1",
                           "result_ready", 3, 30000) != 3)
        return -1;
    return webdriver_start(&WD, H.dir) == 0 ? 0 : (printf("  webdriver: %s\n", WD.why), -1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long t0 = harness_now_ms();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("tail -n 20 %s/*.log >&2 2>/dev/null", H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(lookup_shows_state_without_personal_data_and_timeline_with_secret);
        mc_test_run(rating_page_records_the_rating_once);
        mc_test_run(dashboard_shows_the_numbers_of_motcua_report);
        mc_test_run(state_changes_need_the_csrf_token_and_logins_are_throttled);
        mc_test_run(gateway_stops_cleanly);
    }
    webdriver_stop(&WD);
    pid_t *pids[] = {&gateway_pid, &notify_pid, &hub_pid, &router_pid};
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0)
            harness_stop_daemon(agency_pid[i], SIGKILL);
    for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
        if (*pids[i] > 0)
            harness_stop_daemon(*pids[i], SIGKILL);
    mc_transport_term();
    if (mc_test_failed)
        harness_run("grep -hE 'level=(err|warning|crit)|<[0-3]>' %s/*.log 2>/dev/null | head -n 20", H.dir);
    harness_teardown(&H);
    curl_global_cleanup();
    printf("  it_web took %.1f s\n", (harness_now_ms() - t0) / 1000.0);
    return mc_test_done("it_web");
}
