/*
 * test_report_svg - the report chart (mc_report_svg): what it writes, that
 * it is well-formed XML with finite numbers, and that rsvg-convert really
 * renders it (the PNG is read back with png_check: its size, the bars'
 * colours, not blank, never transparent); and the engine's buffer and
 * period helpers (mc_report_render, mc_report_period).
 *
 * Contract: rsvg-convert (Debian's librsvg2-bin, installed by
 * deploy/install-deps.sh) must be on PATH: without it the rendering tests
 * FAIL, they do not skip. Files go to a temp directory, removed at the end
 * unless MOTCUA_KEEP_TEST_DIR is set.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mc_report.h"
#include "mc_test.h"
#include "png_check.h"

static char test_dir[256]; /* temp directory for this run */

/* ---------------------------------------------------------------------- */
/* reports                                                                 */
/* ---------------------------------------------------------------------- */

/* a report with room for its months */
typedef struct test_report {
    mc_report_t       report;
    mc_report_month_t months[130];
} test_report_t;

/* set_month - one month's figures */
static void set_month(mc_report_month_t *m, int year, int month, long direct, long online,
                      long postal, long in_time, long late)
{
    m->year = year;
    m->month = month;
    m->received_direct = direct;
    m->received_online = online;
    m->received_postal = postal;
    m->resolved_in_time = in_time;
    m->resolved_late = late;
}

/* quarter_report - Q3 2025: 1.640 direct + 5.753 online + 6 postal = 7.399 received;
 * 6.300 on time (4.100 early + 2.200 on the day) and 900 late: 87,5% on time */
static void quarter_report(test_report_t *t)
{
    memset(t, 0, sizeof *t);
    t->report.months = t->months;
    t->report.n_months = 3;
    set_month(&t->months[0], 2025, 7, 520, 1890, 2, 1900, 250);
    set_month(&t->months[1], 2025, 8, 560, 1913, 1, 2100, 350);
    set_month(&t->months[2], 2025, 9, 560, 1950, 3, 2300, 300);
    mc_report_counts_t *c = &t->report.total;
    c->carried_over = 412;
    c->received_direct = 1640;
    c->received_online = 5753;
    c->received_postal = 6;
    c->received_new = 7399;
    c->received_total = 7811;
    c->resolved_early = 4100;
    c->resolved_on_time = 2200;
    c->resolved_late = 900;
    c->resolved_total = 7200;
}

/* zero_report - n_months months from 1/2025, every figure 0 */
static void zero_report(test_report_t *t, size_t n_months)
{
    memset(t, 0, sizeof *t);
    t->report.months = t->months;
    t->report.n_months = n_months;
    for (size_t i = 0; i < n_months; i++)
        set_month(&t->months[i], 2025 + (int)(i / 12), (int)(i % 12) + 1, 0, 0, 0, 0, 0);
}

/* decade_report - 120 months, 1/2016 to 12/2025, figures varying month to month */
static void decade_report(test_report_t *t)
{
    memset(t, 0, sizeof *t);
    t->report.months = t->months;
    t->report.n_months = 120;
    for (long i = 0; i < 120; i++) {
        long direct = 300 + (i * 37) % 200, online = 900 + (i * 53) % 700, postal = i % 4;
        long late = 20 + (i * 11) % 90, in_time = direct + online - late - 40;
        set_month(&t->months[i], 2016 + (int)(i / 12), (int)(i % 12) + 1, direct, online,
                  postal, in_time, late);
        t->report.total.received_direct += direct;
        t->report.total.received_online += online;
        t->report.total.received_postal += postal;
        t->report.total.resolved_on_time += in_time;
        t->report.total.resolved_late += late;
    }
    mc_report_counts_t *c = &t->report.total;
    c->received_new = c->received_direct + c->received_online + c->received_postal;
    c->received_total = c->received_new;
    c->resolved_total = c->resolved_on_time + c->resolved_late;
}

/* ---------------------------------------------------------------------- */
/* files and programs                                                      */
/* ---------------------------------------------------------------------- */

/* path_in - a file name in the test directory */
static const char *path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", test_dir, name);
    return buf;
}

/* render - mc_report_svg into the file at path; its return value, or -2 if the file failed */
static int render(const char *path, const mc_report_t *report, const char *title)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -2;
    int rc = mc_report_svg(f, report, title);
    if (fclose(f) != 0)
        return -2;
    return rc;
}

/* read_all - the file's content, NUL-terminated (free it); NULL on error */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap + 1);
    while (text) {
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len == cap) {
            char *grown = realloc(text, cap * 2 + 1);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    if (text && ferror(f)) {
        free(text);
        text = NULL;
    }
    fclose(f);
    if (text)
        text[len] = '\0';
    return text;
}

/* rsvg - rsvg-convert [-b white] -o png svg; its exit status (127: could not be run) */
static int rsvg(const char *svg, const char *png, bool white_background)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = {"rsvg-convert", "-b", "white", "-o", (char *)png, (char *)svg, NULL};
        char *argv_plain[] = {"rsvg-convert", "-o", (char *)png, (char *)svg, NULL};
        execvp("rsvg-convert", white_background ? argv : argv_plain);
        _exit(127); /* the child must not run the parent's atexit handlers or flush its buffers */
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc == 127)
        printf("  rsvg-convert could not be run: install librsvg2-bin (sh deploy/install-deps.sh)\n");
    else if (rc != 0)
        printf("  rsvg-convert %s failed with status %d\n", svg, rc);
    return rc;
}

/* render_png - convert svg to png (white background or none) and read it into *img; false
 * (with the reason printed) when any step fails */
static bool render_png(const char *svg, const char *png, bool white_background, png_image_t *img)
{
    memset(img, 0, sizeof *img);
    if (rsvg(svg, png, white_background) != 0)
        return false;
    char why[512] = "";
    if (png_check_read(png, img, why, sizeof why) != 0) {
        printf("  png_check: %s\n", why);
        return false;
    }
    return true;
}

/* count - occurrences of needle in haystack */
static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* drawn_title_count - occurrences of needle in the drawn title (the first <text> after <title>) */
static size_t drawn_title_count(const char *svg, const char *needle)
{
    const char *start = strstr(svg, "</title>");
    start = start ? strstr(start, "<text") : NULL;
    const char *end = start ? strstr(start, "</text>") : NULL;
    if (!end)
        return 0;
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(start, needle); p && p < end; p = strstr(p + len, needle))
        n++;
    return n;
}

/* ---------------------------------------------------------------------- */
/* a small XML well-formedness check                                       */
/* ---------------------------------------------------------------------- */

/* attributes whose value must be one finite number */
static const char *const numeric_attributes[] = {
    "x", "y", "width", "height", "x1", "y1", "x2", "y2", "font-size", "stroke-width",
};

/* valid_utf8 - is text valid UTF-8 without characters XML 1.0 forbids? */
static bool valid_utf8(const char *text, char *why, size_t why_size)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; s[i];) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                   : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                len = 0;
                break;
            }
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (len == 0 || cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
            (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
            cp == 0xFFFF) {
            snprintf(why, why_size, "byte %zu: invalid UTF-8 or a character XML forbids", i);
            return false;
        }
        i += len;
    }
    return true;
}

/* skip_reference - at '&': the length of a valid entity or character reference, 0 if none */
static size_t skip_reference(const char *p)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(p, entities[i], strlen(entities[i])) == 0)
            return strlen(entities[i]);
    if (p[1] == '#') {
        size_t i = 2;
        bool hex = p[2] == 'x';
        i += hex;
        size_t digits = strspn(p + i, hex ? "0123456789abcdefABCDEF" : "0123456789");
        if (digits > 0 && digits < 8 && p[i + digits] == ';')
            return i + digits + 1;
    }
    return 0;
}

/* name_length - the length of an XML name (ASCII subset) at p */
static size_t name_length(const char *p)
{
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' || *p == ':'))
        return 0;
    return 1 + strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");
}

/* check_attribute_value - a numeric attribute must hold one finite number */
static bool check_attribute_value(const char *name, size_t name_len, const char *value,
                                  size_t value_len, char *why, size_t why_size)
{
    for (size_t i = 0; i < sizeof numeric_attributes / sizeof numeric_attributes[0]; i++) {
        if (strlen(numeric_attributes[i]) != name_len ||
            strncmp(numeric_attributes[i], name, name_len) != 0)
            continue;
        char buf[64];
        if (value_len == 0 || value_len >= sizeof buf) {
            snprintf(why, why_size, "%.*s=\"%.*s\" is not a number", (int)name_len, name,
                     (int)(value_len < 40 ? value_len : 40), value);
            return false;
        }
        memcpy(buf, value, value_len);
        buf[value_len] = '\0';
        char *end = NULL;
        double v = strtod(buf, &end);
        if (*end != '\0' || !isfinite(v) || strspn(buf, "-0123456789.") != value_len) {
            snprintf(why, why_size, "%.*s=\"%s\" is not a finite number", (int)name_len, name,
                     buf);
            return false;
        }
    }
    return true;
}

/* well_formed - is xml one well-formed document (declaration, one root element, tags
 * balanced, attributes quoted and unique, references valid, no '<' in values, no "]]>" in
 * text), valid UTF-8, with a finite number in every coordinate attribute? */
static bool well_formed(const char *xml, char *why, size_t why_size)
{
    if (!valid_utf8(xml, why, why_size))
        return false;
    if (strncmp(xml, "<?xml ", 6) != 0) {
        snprintf(why, why_size, "no XML declaration first");
        return false;
    }
    const char *p = strstr(xml, "?>");
    if (!p) {
        snprintf(why, why_size, "unterminated XML declaration");
        return false;
    }
    p += 2;
    char stack[32][64];
    int depth = 0, roots = 0;
    while (*p) {
        size_t at = (size_t)(p - xml);
        if (*p != '<') {
            if (*p == '&') {
                size_t ref = skip_reference(p);
                if (!ref) {
                    snprintf(why, why_size, "byte %zu: bare '&'", at);
                    return false;
                }
                p += ref;
                continue;
            }
            if (strncmp(p, "]]>", 3) == 0) {
                snprintf(why, why_size, "byte %zu: \"]]>\" in text", at);
                return false;
            }
            if (depth == 0 && !strchr(" \t\r\n", *p)) {
                snprintf(why, why_size, "byte %zu: text outside the root element", at);
                return false;
            }
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *end = strstr(p + 4, "-->");
            if (!end) {
                snprintf(why, why_size, "byte %zu: unterminated comment", at);
                return false;
            }
            p = end + 3;
            continue;
        }
        if (p[1] == '/') {
            size_t len = name_length(p + 2);
            if (depth == 0 || len == 0 || strlen(stack[depth - 1]) != len ||
                strncmp(stack[depth - 1], p + 2, len) != 0 || p[2 + len] != '>') {
                snprintf(why, why_size, "byte %zu: end tag %.20s does not match <%s>", at, p,
                         depth ? stack[depth - 1] : "");
                return false;
            }
            depth--;
            p += 3 + len;
            continue;
        }
        size_t len = name_length(p + 1);
        if (len == 0 || len >= sizeof stack[0]) {
            snprintf(why, why_size, "byte %zu: bad tag %.20s", at, p);
            return false;
        }
        if (depth == 0 && roots++ > 0) {
            snprintf(why, why_size, "byte %zu: a second root element", at);
            return false;
        }
        const char *tag = p + 1;
        p += 1 + len;
        const char *seen[64];
        size_t seen_len[64], n_seen = 0;
        for (;;) {
            size_t space = strspn(p, " \t\r\n");
            p += space;
            if (strncmp(p, "/>", 2) == 0 || *p == '>')
                break;
            size_t alen = name_length(p);
            if (space == 0 || alen == 0 || p[alen] != '=' ||
                (p[alen + 1] != '"' && p[alen + 1] != '\'')) {
                snprintf(why, why_size, "byte %zu: bad attribute in <%.*s>", (size_t)(p - xml),
                         (int)len, tag);
                return false;
            }
            for (size_t i = 0; i < n_seen; i++)
                if (seen_len[i] == alen && strncmp(seen[i], p, alen) == 0) {
                    snprintf(why, why_size, "byte %zu: attribute %.*s repeated",
                             (size_t)(p - xml), (int)alen, p);
                    return false;
                }
            if (n_seen < 64) {
                seen[n_seen] = p;
                seen_len[n_seen++] = alen;
            }
            char quote = p[alen + 1];
            const char *value = p + alen + 2;
            const char *end = strchr(value, quote);
            if (!end) {
                snprintf(why, why_size, "byte %zu: unterminated attribute", (size_t)(p - xml));
                return false;
            }
            for (const char *v = value; v < end; v++) {
                if (*v == '<' || (*v == '&' && skip_reference(v) == 0)) {
                    snprintf(why, why_size, "byte %zu: '<' or bare '&' in an attribute",
                             (size_t)(v - xml));
                    return false;
                }
            }
            if (!check_attribute_value(p, alen, value, (size_t)(end - value), why, why_size))
                return false;
            p = end + 1;
        }
        if (*p == '>') {
            if (depth == (int)(sizeof stack / sizeof stack[0])) {
                snprintf(why, why_size, "nested too deep");
                return false;
            }
            memcpy(stack[depth], tag, len);
            stack[depth++][len] = '\0';
            p += 1;
        } else {
            p += 2;
        }
    }
    if (depth != 0 || roots != 1) {
        snprintf(why, why_size, "%d element(s) left open, %d root element(s)", depth, roots);
        return false;
    }
    return true;
}

/* check_svg - render report into name.svg, read it back; NULL (reasons printed) on failure */
static char *check_svg(const char *name, const mc_report_t *report, const char *title)
{
    char path[512], file[64];
    snprintf(file, sizeof file, "%s.svg", name);
    path_in(path, sizeof path, file);
    int rc = render(path, report, title);
    if (rc != 0) {
        printf("  mc_report_svg(%s) returned %d\n", name, rc);
        return NULL;
    }
    char *svg = read_all(path);
    char why[256] = "";
    if (svg && !well_formed(svg, why, sizeof why)) {
        printf("  %s is not well-formed: %s\n", path, why);
        free(svg);
        return NULL;
    }
    return svg;
}

/* ---------------------------------------------------------------------- */
/* tests                                                                   */
/* ---------------------------------------------------------------------- */

MC_TEST(test_well_formed_checker_catches_mistakes)
{
    /* the checker below is what guards the renderer's escaping: it must be able to fail */
    char why[256];
    CHECK(well_formed("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g x=\"2.5\">&amp;&#xE0;</g></svg>\n",
                      why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg><g></svg></g>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg>A & B</svg>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg>a <b</svg>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg t=\"a\"b\"/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg t=\"1\" t=\"2\"/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg x=\"nan\"/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg width=\"inf\"/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg y=\"1,5\"/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg/><svg/>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg>\xff</svg>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg>\x01</svg>", why, sizeof why));
    CHECK(!well_formed("<?xml version=\"1.0\"?><svg>]]></svg>", why, sizeof why));
}

MC_TEST(test_quarter_content)
{
    test_report_t t;
    quarter_report(&t);
    const char *title = "UBND phường Kim Liên & Văn Miếu · 01/07/2025 – 30/09/2025";
    char *svg = check_svg("quarter", &t.report, title);
    REQUIRE(svg);
    CHECK(strstr(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>") == svg);
    CHECK(strstr(svg, "width=\"960\" height=\"600\" viewBox=\"0 0 960 600\"") != NULL);
    CHECK(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
    CHECK(strstr(svg, "version=\"1.1\"") != NULL);
    CHECK(strstr(svg, "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif") != NULL);
    /* the title, escaped, as the document's <title> and drawn on top */
    CHECK_INT(count(svg, "UBND phường Kim Liên &amp; Văn Miếu · 01/07/2025 – 30/09/2025"), 2);
    CHECK(strstr(svg, "Liên & Văn") == NULL);
    /* the white background comes first, over the whole canvas */
    CHECK(strstr(svg, "<rect x=\"0\" y=\"0\" width=\"960\" height=\"600\" fill=\"#ffffff\"/>") !=
          NULL);
    const char *labels[] = {
        "Hồ sơ tiếp nhận theo kênh", "Kết quả giải quyết theo tháng", "Trực tiếp", "Trực tuyến",
        "Bưu chính", "Đúng hạn (gồm trước hạn)", "Quá hạn", "Kỳ trước chuyển qua",
        ">T7/2025<", ">T8/2025<", ">T9/2025<",
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        if (!strstr(svg, labels[i]))
            printf("  missing label %s\n", labels[i]);
        CHECK(strstr(svg, labels[i]) != NULL);
    }
    /* the period's figures with Vietnamese separators, and the rate with a decimal comma */
    CHECK(strstr(svg, "Kỳ trước chuyển qua: 412") != NULL);
    CHECK(strstr(svg, "Mới tiếp nhận: 7.399") != NULL);
    CHECK(strstr(svg, "trực tiếp 1.640") != NULL);
    CHECK(strstr(svg, "trực tuyến 5.753") != NULL);
    CHECK(strstr(svg, "bưu chính 6)") != NULL);
    CHECK(strstr(svg, "Tổng nhận giải quyết: 7.811") != NULL);
    CHECK(strstr(svg, "Đã giải quyết: 7.200") != NULL);
    CHECK(strstr(svg, "Đúng hạn (gồm trước hạn): 6.300") != NULL);
    CHECK(strstr(svg, "Quá hạn: 900") != NULL);
    CHECK(strstr(svg, "Tỷ lệ đúng hạn: 87,5%") != NULL);
    /* the months' numbers on the bars: July's total and parts, each month's results */
    const char *numbers[] = {">2.412<", ">1.890<", ">520<", ">2.474<", ">2.513<",
                             ">1.900<", ">250<",   ">2.100<", ">350<", ">2.300<", ">300<"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (!strstr(svg, numbers[i]))
            printf("  missing number %s\n", numbers[i]);
        CHECK(strstr(svg, numbers[i]) != NULL);
    }
    /* nice scales: channels up to 2.513 -> steps of 1.000 to 3.000; results up to 2.300 ->
     * steps of 500 to 2.500 */
    CHECK(strstr(svg, ">3.000<") != NULL);
    CHECK(strstr(svg, ">2.500<") != NULL);
    CHECK(strstr(svg, ">4.000<") == NULL);
    /* every colour in use */
    const char *colours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#2e7d32", "#c62828"};
    for (size_t i = 0; i < 5; i++)
        CHECK(strstr(svg, colours[i]) != NULL);
    CHECK(strstr(svg, "NaN") == NULL && strstr(svg, "nan\"") == NULL &&
          strstr(svg, "inf\"") == NULL);
    free(svg);
}

MC_TEST(test_quarter_renders)
{
    test_report_t t;
    quarter_report(&t);
    char *svg = check_svg("quarter_png", &t.report, "UBND phường Kim Liên · Quý III/2025");
    REQUIRE(svg);
    free(svg);
    char svg_path[512], png_path[512];
    path_in(svg_path, sizeof svg_path, "quarter_png.svg");
    path_in(png_path, sizeof png_path, "quarter.png");
    png_image_t img;
    REQUIRE(render_png(svg_path, png_path, true, &img));
    CHECK_INT(img.width, MC_REPORT_SVG_WIDTH);
    CHECK_INT(img.height, MC_REPORT_SVG_HEIGHT);
    size_t pixels = (size_t)img.width * img.height;
    size_t direct = png_check_count_color(&img, 0x4e, 0x79, 0xa7, 2);
    size_t online = png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 2);
    size_t in_time = png_check_count_color(&img, 0x2e, 0x7d, 0x32, 2);
    size_t late = png_check_count_color(&img, 0xc6, 0x28, 0x28, 2);
    size_t ink = png_check_count_other(&img, 255, 255, 255, 8);
    printf("  # direct %zu, online %zu, in time %zu, late %zu, non-white %zu of %zu px, "
           "%zu colours\n", direct, online, in_time, late, ink, pixels,
           png_check_distinct_colors(&img));
    /* 3 online bars ~60 px wide and ~110 px high, white numbers inside taken off */
    CHECK(online >= 15000);
    CHECK(direct >= 3000);
    /* late bars: 250..350 of 2.500 on 174 px, 60 px wide: ~1.500 px each */
    CHECK(late >= 3000);
    CHECK(in_time >= 15000);
    CHECK(ink >= pixels / 10);
    CHECK(png_check_distinct_colors(&img) >= 20); /* text is anti-aliased: many shades */
    png_check_free(&img);

    /* without -b white the picture must still be opaque: its own background */
    REQUIRE(render_png(svg_path, png_path, false, &img));
    CHECK_INT(png_check_count_transparent(&img), 0);
    png_check_free(&img);
}

MC_TEST(test_all_zero_report)
{
    test_report_t t;
    zero_report(&t, 3);
    char *svg = check_svg("zero", &t.report, "Không có hồ sơ");
    REQUIRE(svg);
    CHECK(strstr(svg, "Tỷ lệ đúng hạn: 0,0%") != NULL);
    CHECK(strstr(svg, "Mới tiếp nhận: 0 ") != NULL);
    CHECK(strstr(svg, ">T1/2025<") != NULL && strstr(svg, ">T3/2025<") != NULL);
    CHECK(strstr(svg, ">1<") != NULL); /* the scale 0..1 */
    free(svg);
    char svg_path[512], png_path[512];
    path_in(svg_path, sizeof svg_path, "zero.svg");
    path_in(png_path, sizeof png_path, "zero.png");
    png_image_t img;
    REQUIRE(render_png(svg_path, png_path, true, &img));
    CHECK_INT(img.width, MC_REPORT_SVG_WIDTH);
    CHECK_INT(img.height, MC_REPORT_SVG_HEIGHT);
    /* no bars: each colour only in its 12 x 12 legend swatch */
    CHECK(png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 2) <= 144);
    CHECK(png_check_count_color(&img, 0xc6, 0x28, 0x28, 2) <= 144);
    CHECK(png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 2) >= 100);
    CHECK(png_check_count_other(&img, 255, 255, 255, 8) >= 5000); /* text, axes */
    png_check_free(&img);

    /* no month at all */
    zero_report(&t, 0);
    svg = check_svg("no_months", &t.report, "");
    REQUIRE(svg);
    CHECK_INT(count(svg, "Không có số liệu theo tháng"), 2);
    free(svg);
    path_in(svg_path, sizeof svg_path, "no_months.svg");
    path_in(png_path, sizeof png_path, "no_months.png");
    REQUIRE(render_png(svg_path, png_path, true, &img));
    CHECK_INT(img.width, MC_REPORT_SVG_WIDTH);
    png_check_free(&img);
}

MC_TEST(test_120_months_stay_legible)
{
    test_report_t t;
    decade_report(&t);
    char *svg = check_svg("decade", &t.report, "UBND phường Kim Liên · 2016 – 2025");
    REQUIRE(svg);
    /* month labels: one per year (every 12th month, aligned on January), in each panel */
    CHECK_INT(count(svg, "class=\"month\""), 20);
    CHECK(strstr(svg, ">T1/2016<") != NULL && strstr(svg, ">T1/2025<") != NULL);
    CHECK(strstr(svg, ">T2/2016<") == NULL);
    /* labels at least a label's width apart: parse their x in the first panel */
    double last_x = -1000, least_gap = 1e9;
    int seen = 0;
    for (const char *p = strstr(svg, "class=\"month\" x=\""); p && seen < 10;
         p = strstr(p + 1, "class=\"month\" x=\"")) {
        double x = strtod(p + strlen("class=\"month\" x=\""), NULL);
        if (x - last_x < least_gap)
            least_gap = x - last_x;
        last_x = x;
        seen++;
    }
    CHECK_INT(seen, 10);
    CHECK(least_gap >= 60);
    /* bars too thin for numbers: none written on them (a month's online figure) */
    char online[32];
    long v = t.months[5].received_online; /* 1.165 */
    snprintf(online, sizeof online, ">%ld.%03ld<", v / 1000, v % 1000);
    CHECK(v >= 1000);
    CHECK(strstr(svg, online) == NULL);
    free(svg);

    char svg_path[512], png_path[512];
    path_in(svg_path, sizeof svg_path, "decade.svg");
    path_in(png_path, sizeof png_path, "decade.png");
    png_image_t img;
    REQUIRE(render_png(svg_path, png_path, true, &img));
    CHECK_INT(img.width, MC_REPORT_SVG_WIDTH);
    CHECK_INT(img.height, MC_REPORT_SVG_HEIGHT);
    size_t online_px = png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 2);
    size_t late_px = png_check_count_color(&img, 0xc6, 0x28, 0x28, 2);
    printf("  # 120 months: online %zu px, late %zu px\n", online_px, late_px);
    CHECK(online_px >= 5000);
    CHECK(late_px >= 500);
    png_check_free(&img);
}

MC_TEST(test_hostile_title)
{
    test_report_t t;
    quarter_report(&t);
    const char *title = "&<>\"' A&B <script>alert(1)</script> ]]> &amp; \xff\xfe bad\x01\x1f "
                        "tab\there \xe0\x80\x80 overlong \xed\xa0\x80 surrogate \xef\xbf\xbe";
    char *svg = check_svg("hostile", &t.report, title);
    REQUIRE(svg);
    CHECK(strstr(svg, "&amp;&lt;&gt;&quot;&apos; A&amp;B &lt;script&gt;alert(1)&lt;/script&gt; "
                      "]]&gt; &amp;amp; \xef\xbf\xbd\xef\xbf\xbd bad tab here") != NULL);
    CHECK(strstr(svg, "<script") == NULL);
    free(svg);
    char svg_path[512], png_path[512];
    path_in(svg_path, sizeof svg_path, "hostile.svg");
    path_in(png_path, sizeof png_path, "hostile.png");
    png_image_t img;
    REQUIRE(render_png(svg_path, png_path, true, &img));
    CHECK_INT(img.height, MC_REPORT_SVG_HEIGHT);
    png_check_free(&img);

    /* a title far too long for the width: shrunk, then cut with an ellipsis */
    char long_title[2048] = "";
    for (int i = 0; i < 60; i++)
        strcat(long_title, "Phường & xã ");
    svg = check_svg("long_title", &t.report, long_title);
    REQUIRE(svg);
    CHECK(strstr(svg, "…</text>") != NULL);
    CHECK_INT(count(svg, "Phường &amp; xã"), 60 + drawn_title_count(svg, "Phường &amp; xã"));
    /* at 12 px about 115 characters fit in 912 px: 9 of the 12-character repetitions */
    CHECK(drawn_title_count(svg, "Phường &amp; xã") >= 5);
    CHECK(drawn_title_count(svg, "Phường &amp; xã") <= 12);
    free(svg);
    path_in(svg_path, sizeof svg_path, "long_title.svg");
    path_in(png_path, sizeof png_path, "long_title.png");
    REQUIRE(render_png(svg_path, png_path, true, &img));
    png_check_free(&img);

    /* NULL title: no title, still a document */
    svg = check_svg("null_title", &t.report, NULL);
    CHECK(svg && strstr(svg, "<title></title>") != NULL);
    free(svg);
}

/* rate_shown - with early of total resolved, does the chart's summary show the on-time rate want? */
static bool rate_shown(test_report_t *t, long early, long total, const char *name, const char *want)
{
    t->report.total.resolved_early = early;
    t->report.total.resolved_on_time = 0;
    t->report.total.resolved_total = total;
    char *svg = check_svg(name, &t->report, "số");
    char line[96];
    snprintf(line, sizeof line, "Tỷ lệ đúng hạn: %s", want);
    bool shown = svg && strstr(svg, line) != NULL;
    free(svg);
    return shown;
}

MC_TEST(test_number_formats)
{
    test_report_t t;
    quarter_report(&t);
    t.months[0].received_direct = 1234567;
    t.report.total.received_direct = 1234567;
    t.report.total.resolved_early = 1;
    t.report.total.resolved_on_time = 0;
    t.report.total.resolved_total = 3;
    char *svg = check_svg("numbers", &t.report, "số");
    REQUIRE(svg);
    CHECK(strstr(svg, "trực tiếp 1.234.567") != NULL);
    CHECK(strstr(svg, "Tỷ lệ đúng hạn: 33,3%") != NULL);
    /* July's stacked bar 1.236.459: steps of 200.000 would take 7, so 3 steps of 500.000 */
    CHECK(strstr(svg, ">1.500.000<") != NULL);
    CHECK(strstr(svg, ">1.236.459<") != NULL);
    free(svg);

    CHECK(rate_shown(&t, 2, 3, "two_thirds", "66,7%"));
    /* a tie rounds half away from zero (docs/reports.md, "Rates"): 1 / 16 = 6.25 % is 6,3%,
     * where printf("%.1f") would print 6.2 */
    CHECK(rate_shown(&t, 1, 16, "tie", "6,3%"));
    CHECK(rate_shown(&t, 3, 3, "all", "100,0%"));

    /* absurd counts (a store bug): still finite numbers, still a picture */
    t.months[1].received_online = LONG_MAX;
    t.months[1].received_direct = LONG_MAX;
    t.months[2].resolved_late = LONG_MAX;
    t.months[2].received_postal = -5;
    t.report.total.received_online = LONG_MAX;
    t.report.total.resolved_total = LONG_MAX;
    t.report.total.carried_over = LONG_MIN;
    svg = check_svg("absurd", &t.report, "số");
    REQUIRE(svg);
    CHECK(strstr(svg, "9.223.372.036.854.775.807") != NULL);
    CHECK(strstr(svg, "-9.223.372.036.854.775.808") != NULL);
    free(svg);
    char svg_path[512], png_path[512];
    path_in(svg_path, sizeof svg_path, "absurd.svg");
    path_in(png_path, sizeof png_path, "absurd.png");
    png_image_t img;
    REQUIRE(render_png(svg_path, png_path, true, &img));
    png_check_free(&img);
}

MC_TEST(test_errors)
{
    test_report_t t;
    quarter_report(&t);
    /* a stream that cannot be written: -1, not 0 */
    FILE *full = fopen("/dev/full", "w");
    REQUIRE(full);
    CHECK_INT(mc_report_svg(full, &t.report, "x"), -1);
    fclose(full);
    CHECK_INT(mc_report_svg(stdout, NULL, "x"), -1);
    t.report.months = NULL;
    CHECK_INT(mc_report_svg(stdout, &t.report, "x"), -1);
}

MC_TEST(test_engine_buffer_and_period)
{
    /* mc_report_render gives the bytes mc_report_write gives a stream, with
     * the chart's title made from the configuration and the period */
    test_report_t t;
    quarter_report(&t);
    t.report.from = (mc_date_t){2025, 7, 1};
    t.report.to = (mc_date_t){2025, 9, 30};
    static mc_cfg_t cfg; /* no wards: "all wards" */
    char *buf = NULL;
    size_t len = 0;
    REQUIRE(mc_report_render(&buf, &len, MC_REPORT_SVG, &cfg, &t.report) == 0);
    char path[512];
    path_in(path, sizeof path, "engine.svg");
    CHECK_INT(render(path, &t.report, "Tất cả phường, xã · 01/07/2025 – 30/09/2025"), 0);
    char *file = read_all(path);
    CHECK(file && strlen(file) == len && memcmp(file, buf, len) == 0);
    free(file);
    free(buf);
    t.report.months = NULL; /* the chart refuses: no buffer is left behind */
    CHECK_INT(mc_report_render(&buf, &len, MC_REPORT_SVG, &cfg, &t.report), -1);
    CHECK(buf == NULL && len == 0);
    /* formats and periods as the front ends give them */
    mc_report_format_t f = MC_REPORT_TABLE;
    CHECK_INT(mc_report_format_parse("csv", &f), 0);
    CHECK_INT(f, MC_REPORT_CSV);
    CHECK_INT(mc_report_format_parse("pdf", &f), -1);
    mc_date_t a, b;
    mc_err_t err;
    mc_err_clear(&err);
    CHECK_INT(mc_report_period("2025-Q4", NULL, NULL, &a, &b, &err), 0);
    CHECK(a.month == 10 && a.day == 1 && b.month == 12 && b.day == 31);
    CHECK_INT(mc_report_period("2025-Q4", "2025-01-01", NULL, &a, &b, &err), -1);
    CHECK_INT(mc_report_period(NULL, "2025-02-01", "2025-01-01", &a, &b, &err), -1);
    CHECK_INT(mc_report_period(NULL, "2000-01-01", "2025-01-01", &a, &b, &err), -1);
    CHECK_INT(err.count, 3);
}

/* remove_test_dir - delete the files made here and the directory */
static void remove_test_dir(void)
{
    if (getenv("MOTCUA_KEEP_TEST_DIR")) {
        printf("# kept %s\n", test_dir);
        return;
    }
    DIR *dir = opendir(test_dir);
    struct dirent *entry;
    while (dir && (entry = readdir(dir)) != NULL) {
        char path[512];
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            unlink(path_in(path, sizeof path, entry->d_name));
    }
    if (dir)
        closedir(dir);
    if (rmdir(test_dir) != 0)
        printf("# could not remove %s: %s\n", test_dir, strerror(errno));
}

/* main - make the temp directory, run every test, clean up */
int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(test_dir, sizeof test_dir, "%s/test_report_svg.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(test_dir)) {
        printf("mkdtemp %s: %s\n", test_dir, strerror(errno));
        return mc_test_done("test_report_svg");
    }
    mc_test_run(test_well_formed_checker_catches_mistakes);
    mc_test_run(test_quarter_content);
    mc_test_run(test_quarter_renders);
    mc_test_run(test_all_zero_report);
    mc_test_run(test_120_months_stay_legible);
    mc_test_run(test_hostile_title);
    mc_test_run(test_number_formats);
    mc_test_run(test_errors);
    mc_test_run(test_engine_buffer_and_period);
    remove_test_dir();
    return mc_test_done("test_report_svg");
}
