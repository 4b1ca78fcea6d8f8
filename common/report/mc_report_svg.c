/*
 * mc_report_svg - the report engine's chart (`motcua-report --format svg`): the period's figures as one
 * chart a ward leader can paste into a slide. Two panels, one above the
 * other, sharing the month axis:
 *   1. "Hồ sơ tiếp nhận theo kênh": per month a stacked bar of Trực tiếp /
 *      Trực tuyến / Bưu chính, the month's total above it and each part
 *      written inside it where it fits; the period's totals (with "Kỳ trước
 *      chuyển qua") in a line of text.
 *   2. "Kết quả giải quyết theo tháng": per month a pair of bars, "Đúng hạn
 *      (gồm trước hạn)" and "Quá hạn", each number above its bar; the
 *      period's results and on-time rate in a line of text.
 *
 * Contract:
 *   * The output is one standalone SVG 1.1 document, UTF-8, 960 x 600 px
 *     (width, height and viewBox), on a white rectangle so it never renders
 *     transparent. It is always well-formed XML: the title is escaped,
 *     invalid UTF-8 in it becomes U+FFFD and characters XML forbids are
 *     dropped.
 *   * Every number written is finite: scales never divide by zero (an
 *     all-zero report gets the scale 0..1) and coordinates are written in
 *     fixed point by hand, so neither NaN nor the C locale's decimal comma
 *     can reach the file.
 *   * Counts are written the Vietnamese way, "." between thousands (7.399);
 *     percentages with a decimal comma (87,5%).
 *   * Scales step 1-2-5 (at most 5 steps up to the largest bar). Up to the
 *     longest period a report may cover (MC_REPORT_MAX_DAYS, ~121 months)
 *     the bars stay apart and the month labels ("T7/2025") do not collide:
 *     when they would, only every k-th month is labelled, k in 1, 2, 3, 4,
 *     6, 12, 24, ... aligned on the calendar (quarters, years). Numbers on
 *     bars are written only when they fit at 8 px or more.
 *   * Styling is presentation attributes only (no CSS, no scripts, no
 *     external references): slide programs import those faithfully.
 *   * The on-time rate is rounded by mc_report_rate_text (inline in
 *     mc_store_report.h: half away from zero, exactly), so the renderer
 *     depends on nothing but the struct and that header.
 *
 * Colours (fixed, so every report looks alike and tests can find them):
 *   Trực tiếp   #4e79a7 blue        Đúng hạn (gồm trước hạn)  #2e7d32 green
 *   Trực tuyến  #f28e2b orange      Quá hạn                   #c62828 red
 *   Bưu chính   #59a14f light green
 *   text #222222, secondary text #444444, grid #e0e0e0, axis #555555,
 *   numbers inside bars #ffffff, background #ffffff.
 */
#include <limits.h>
#include <math.h> /* isfinite: a macro, no libm needed */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mc_report.h"

#define COLOUR_DIRECT  "#4e79a7"
#define COLOUR_ONLINE  "#f28e2b"
#define COLOUR_POSTAL  "#59a14f"
#define COLOUR_IN_TIME "#2e7d32"
#define COLOUR_LATE    "#c62828"
#define COLOUR_TEXT    "#222222"
#define COLOUR_MUTED   "#444444"
#define COLOUR_GRID    "#e0e0e0"
#define COLOUR_AXIS    "#555555"

#define FONT_FAMILY "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"

/* layout, in px of the 960 x 600 canvas */
#define MARGIN        24.0  /* left and right edge of text */
#define PLOT_LEFT     84.0  /* room for the scale's labels on the left */
#define PLOT_RIGHT    936.0
#define PANEL_1_TOP   52.0  /* below the title */
#define PANEL_2_TOP   322.0
#define HEADING_DY    18.0  /* panel top -> heading baseline */
#define SUMMARY_DY    40.0  /* panel top -> totals line baseline */
#define PLOT_TOP_DY   64.0  /* panel top -> top of the scale (room above for numbers on bars) */
#define PLOT_HEIGHT   174.0 /* top of the scale -> zero line */
#define MONTH_DY      16.0  /* zero line -> month label baseline */
#define MAX_BAR_WIDTH 60.0  /* a bar of a 1-month report stays a bar, not a wall */
#define NUMBER_FONT_MAX 12.0
#define NUMBER_FONT_MIN 8.0 /* below this numbers on bars are left out: unreadable on a slide */

/* average advance of a character in DejaVu Sans, in em; a slight over-estimate
 * (digits are 0.636 em), so that text sized by it fits */
#define EM_REGULAR 0.60
#define EM_BOLD    0.66

/* ---------------------------------------------------------------------- */
/* numbers as text                                                         */
/* ---------------------------------------------------------------------- */

/* a number formatted for the file; returned by value so several fit in one fprintf */
typedef struct num {
    char s[56]; /* a rate (mc_report_rate_text: at most 42) and its % sign fit */
} num_t;

/* px - a coordinate or length with at most one decimal and '.', whatever the locale; never NaN */
static num_t px(double v)
{
    num_t n;
    if (!isfinite(v))
        v = 0.0;
    if (v > 100000.0) /* far outside the canvas either way; keeps the long below from overflowing */
        v = 100000.0;
    if (v < -100000.0)
        v = -100000.0;
    long tenths = (long)(v * 10.0 + (v < 0 ? -0.5 : 0.5));
    unsigned long mag = tenths < 0 ? (unsigned long)-tenths : (unsigned long)tenths;
    const char *sign = tenths < 0 ? "-" : "";
    if (mag % 10 == 0)
        snprintf(n.s, sizeof n.s, "%s%lu", sign, mag / 10);
    else
        snprintf(n.s, sizeof n.s, "%s%lu.%lu", sign, mag / 10, mag % 10);
    return n;
}

/* group_digits - "7399" -> "7.399", with a leading '-' when negative */
static num_t group_digits(const char *digits, bool negative)
{
    num_t n;
    size_t len = strlen(digits), o = 0;
    if (negative)
        n.s[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < sizeof n.s; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            n.s[o++] = '.';
        n.s[o++] = digits[i];
    }
    n.s[o] = '\0';
    return n;
}

/* count_text - a count with Vietnamese thousands separators: 7.399, 1.234.567 */
static num_t count_text(long value)
{
    char digits[32];
    unsigned long mag = value < 0 ? 0UL - (unsigned long)value : (unsigned long)value;
    snprintf(digits, sizeof digits, "%lu", mag);
    return group_digits(digits, value < 0);
}

/* tick_text - a scale value (a whole number >= 0, possibly beyond long) with separators */
static num_t tick_text(double value)
{
    char digits[40];
    if (!isfinite(value) || value < 0)
        value = 0.0;
    snprintf(digits, sizeof digits, "%.0f", value); /* no decimal point: the locale cannot interfere */
    return group_digits(digits, false);
}

/* percent_text - the on-time rate with one decimal and a decimal comma (87,5%), rounded
 * half away from zero like every rate of the report; 0,0% when there is nothing to divide by */
static num_t percent_text(long part, long whole)
{
    num_t n;
    char digits[48]; /* mc_report_rate_text writes at most 42 */
    if (!mc_report_rate_text(part, whole, 1, ',', digits, sizeof digits))
        snprintf(digits, sizeof digits, "0,0");
    snprintf(n.s, sizeof n.s, "%s%%", digits);
    return n;
}

/* ---------------------------------------------------------------------- */
/* text                                                                    */
/* ---------------------------------------------------------------------- */

/* utf8_decode - the valid UTF-8 sequence at s: its length and code point; 0 if invalid.
 * Reads a byte only after the previous one was a continuation byte, so the terminating
 * NUL stops it: it never reads past the string */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0; /* overlong, beyond Unicode, or a surrogate */
    *cp = v;
    return len;
}

/* next_char - the next character of s at *pos as XML may hold it: invalid UTF-8 and
 * U+FFFE/U+FFFF become U+FFFD, tabs and line breaks a space, other control characters
 * are skipped (XML 1.0 forbids them); false at the end */
static bool next_char(const char *s, size_t *pos, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    while (u[*pos]) {
        uint32_t c = 0;
        size_t len = utf8_decode(u + *pos, &c);
        if (len == 0) {
            *pos += 1;
            *cp = 0xFFFD;
            return true;
        }
        *pos += len;
        if (c == '\t' || c == '\n' || c == '\r')
            c = ' ';
        else if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
            continue;
        else if (c == 0xFFFE || c == 0xFFFF)
            c = 0xFFFD;
        *cp = c;
        return true;
    }
    return false;
}

/* text_chars - how many characters put_text would write for s */
static size_t text_chars(const char *s)
{
    size_t pos = 0, n = 0;
    uint32_t cp;
    while (next_char(s, &pos, &cp))
        n++;
    return n;
}

/* put_char - one character as XML text or attribute content (UTF-8, markup escaped) */
static void put_char(FILE *out, uint32_t cp)
{
    switch (cp) {
    case '&': fputs("&amp;", out); return;
    case '<': fputs("&lt;", out); return;
    case '>': fputs("&gt;", out); return; /* "]]>" must not appear in text */
    case '"': fputs("&quot;", out); return;
    case '\'': fputs("&apos;", out); return;
    default: break;
    }
    if (cp < 0x80) {
        fputc((int)cp, out);
    } else if (cp < 0x800) {
        fputc((int)(0xC0 | cp >> 6), out);
        fputc((int)(0x80 | (cp & 0x3F)), out);
    } else if (cp < 0x10000) {
        fputc((int)(0xE0 | cp >> 12), out);
        fputc((int)(0x80 | (cp >> 6 & 0x3F)), out);
        fputc((int)(0x80 | (cp & 0x3F)), out);
    } else {
        fputc((int)(0xF0 | cp >> 18), out);
        fputc((int)(0x80 | (cp >> 12 & 0x3F)), out);
        fputc((int)(0x80 | (cp >> 6 & 0x3F)), out);
        fputc((int)(0x80 | (cp & 0x3F)), out);
    }
}

/* put_text - s escaped for XML; past max_chars characters it is cut and ends with "…" */
static void put_text(FILE *out, const char *s, size_t max_chars)
{
    size_t total = text_chars(s), pos = 0, written = 0;
    size_t keep = total > max_chars ? (max_chars > 0 ? max_chars - 1 : 0) : total;
    uint32_t cp;
    while (written < keep && next_char(s, &pos, &cp)) {
        put_char(out, cp);
        written++;
    }
    if (total > max_chars)
        put_char(out, 0x2026);
}

/* text_width - the estimated width in px of s at font size */
static double text_width(const char *s, double size, bool bold)
{
    return (double)text_chars(s) * size * (bold ? EM_BOLD : EM_REGULAR);
}

/* fitted_size - the font size for s to fit room: preferred, or smaller down to smallest */
static double fitted_size(const char *s, double room, double preferred, double smallest,
                          bool bold)
{
    double width = text_width(s, preferred, bold);
    if (width <= room)
        return preferred;
    double size = preferred * room / width;
    return size < smallest ? smallest : size;
}

/* put_label - a line of text at (x, y); anchor "start", "middle" or "end" */
static void put_label(FILE *out, double x, double y, const char *anchor, double size,
                      bool bold, const char *colour, const char *text)
{
    fprintf(out, "<text x=\"%s\" y=\"%s\" text-anchor=\"%s\" font-size=\"%s\"%s fill=\"%s\">",
            px(x).s, px(y).s, anchor, px(size).s, bold ? " font-weight=\"bold\"" : "", colour);
    put_text(out, text, SIZE_MAX);
    fputs("</text>\n", out);
}

/* ---------------------------------------------------------------------- */
/* scales and axes                                                         */
/* ---------------------------------------------------------------------- */

/* a value axis from 0 to steps * step */
typedef struct scale {
    double step;  /* 1, 2, 5, 10, 20, ... */
    int    steps; /* 1..5 */
    double top;   /* steps * step, > 0: the divisor of every bar height */
} scale_t;

/* nice_scale - the smallest 1-2-5 step that reaches max in at most 5 steps; 0..1 for max <= 0 */
static scale_t nice_scale(double max)
{
    scale_t scale = {1.0, 1, 1.0};
    if (!isfinite(max) || max <= 0)
        return scale;
    static const double multiples[] = {1.0, 2.0, 5.0};
    double step = 1.0;
    bool found = false;
    for (double decade = 1.0; !found && decade < 1e20; decade *= 10.0) {
        for (size_t i = 0; i < 3 && !found; i++) {
            step = multiples[i] * decade;
            found = max / step <= 5.0;
        }
    }
    scale.step = step;
    scale.steps = 1;
    while ((double)scale.steps * step < max && scale.steps < 5)
        scale.steps++;
    scale.top = (double)scale.steps * step;
    return scale;
}

/* bar_height - the height in px of value on scale (>= 1 px for any value > 0, so it shows) */
static double bar_height(double value, const scale_t *scale)
{
    if (!(value > 0))
        return 0.0;
    double h = value / scale->top * PLOT_HEIGHT;
    if (h > PLOT_HEIGHT)
        h = PLOT_HEIGHT;
    return h < 1.0 ? 1.0 : h;
}

/* add_count - sum + value for a month's total: negative counts ignored, saturating at LONG_MAX
 * (only absurd counts get there; overflowing a long would be undefined) */
static long add_count(long sum, long value)
{
    if (value <= 0)
        return sum;
    return value > LONG_MAX - sum ? LONG_MAX : sum + value;
}

/* non_negative - a count as a bar length (a negative count would be a store bug; draw nothing) */
static double non_negative(long value)
{
    return value > 0 ? (double)value : 0.0;
}

/* draw_scale - grid lines and their values, and the zero line */
static void draw_scale(FILE *out, const scale_t *scale, double plot_top, double baseline)
{
    for (int i = 1; i <= scale->steps; i++) {
        double y = baseline - (baseline - plot_top) * i / scale->steps;
        fprintf(out, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                     "stroke-width=\"1\"/>\n",
                px(PLOT_LEFT).s, px(y).s, px(PLOT_RIGHT).s, px(y).s, COLOUR_GRID);
    }
    /* the top value is the longest: size every value so that it fits left of the plot */
    double size = fitted_size(tick_text(scale->top).s, PLOT_LEFT - 8 - MARGIN / 2, 11, 6, false);
    for (int i = 0; i <= scale->steps; i++) {
        double y = baseline - (baseline - plot_top) * i / scale->steps;
        put_label(out, PLOT_LEFT - 8, y + 4, "end", size, false, COLOUR_MUTED,
                  tick_text(scale->step * i).s);
    }
    fprintf(out, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" "
                 "stroke-width=\"1.5\"/>\n",
            px(PLOT_LEFT).s, px(baseline).s, px(PLOT_RIGHT).s, px(baseline).s, COLOUR_AXIS);
}

/* label_every - label every k-th month, k from 1, 2, 3, 4, 6, 12, 24, ..., the least for which
 * "T12/2025" labels a slot apart each do not touch */
static int label_every(size_t n_months, double slot)
{
    static const int divisors_of_a_year[] = {1, 2, 3, 4, 6, 12};
    double room = text_width("T12/2025", 11, false) + 10;
    for (size_t i = 0; i < sizeof divisors_of_a_year / sizeof divisors_of_a_year[0]; i++)
        if (divisors_of_a_year[i] * slot >= room)
            return divisors_of_a_year[i];
    int k = 24;
    while (k * slot < room && (size_t)k < n_months)
        k += 12;
    return k;
}

/* draw_months - the month labels under the zero line, every k-th one */
static void draw_months(FILE *out, const mc_report_t *report, double baseline)
{
    double slot = (PLOT_RIGHT - PLOT_LEFT) / (double)report->n_months;
    int every = label_every(report->n_months, slot);
    for (size_t i = 0; i < report->n_months; i++) {
        const mc_report_month_t *m = &report->months[i];
        /* align on the calendar (k divides 12, or is a multiple of it): quarters, years */
        long long index = (long long)m->year * 12 + (m->month - 1);
        if (((index % every) + every) % every != 0)
            continue;
        double x = PLOT_LEFT + slot * ((double)i + 0.5);
        if (every > 1)
            fprintf(out, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\"/>\n",
                    px(x).s, px(baseline).s, px(x).s, px(baseline + 4).s, COLOUR_AXIS);
        char label[32];
        snprintf(label, sizeof label, "T%d/%d", m->month, m->year);
        fprintf(out, "<text class=\"month\" x=\"%s\" y=\"%s\" text-anchor=\"middle\" "
                     "font-size=\"11\" fill=\"%s\">%s</text>\n",
                px(x).s, px(baseline + MONTH_DY).s, COLOUR_MUTED, label);
    }
}

/* ---------------------------------------------------------------------- */
/* panels                                                                  */
/* ---------------------------------------------------------------------- */

/* one kind of bar: its legend label, colour and value in a month */
typedef struct series {
    const char *label;
    const char *colour;
    long (*value)(const mc_report_month_t *m);
} series_t;

/* month_direct / _online / _postal / _in_time / _late - the value a series draws */
static long month_direct(const mc_report_month_t *m) { return m->received_direct; }
static long month_online(const mc_report_month_t *m) { return m->received_online; }
static long month_postal(const mc_report_month_t *m) { return m->received_postal; }
static long month_in_time(const mc_report_month_t *m) { return m->resolved_in_time; }
static long month_late(const mc_report_month_t *m) { return m->resolved_late; }

static const series_t channel_series[] = {
    {"Trực tiếp", COLOUR_DIRECT, month_direct},
    {"Trực tuyến", COLOUR_ONLINE, month_online},
    {"Bưu chính", COLOUR_POSTAL, month_postal},
};
static const series_t result_series[] = {
    {"Đúng hạn (gồm trước hạn)", COLOUR_IN_TIME, month_in_time},
    {"Quá hạn", COLOUR_LATE, month_late},
};
#define N_CHANNELS (sizeof channel_series / sizeof channel_series[0])
#define N_RESULTS  (sizeof result_series / sizeof result_series[0])

/* draw_heading - the panel's heading on the left and its legend on the right */
static void draw_heading(FILE *out, double top, const char *heading, const series_t *series,
                         size_t n_series)
{
    put_label(out, MARGIN, top + HEADING_DY, "start", 17, true, COLOUR_TEXT, heading);
    double width = 0;
    for (size_t i = 0; i < n_series; i++)
        width += (i ? 18 : 0) + 12 + 6 + text_width(series[i].label, 13, false);
    double x = PLOT_RIGHT - width;
    for (size_t i = 0; i < n_series; i++) {
        fprintf(out, "<rect x=\"%s\" y=\"%s\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
                px(x).s, px(top + HEADING_DY - 11).s, series[i].colour);
        put_label(out, x + 18, top + HEADING_DY, "start", 13, false, COLOUR_TEXT,
                  series[i].label);
        x += 12 + 6 + text_width(series[i].label, 13, false) + 18;
    }
}

/* number_font - the font size for numbers of up to chars characters in room px; 0: leave them out */
static double number_font(size_t chars, double room, bool bold)
{
    if (chars == 0 || !(room > 0))
        return 0;
    double size = room / ((double)chars * (bold ? EM_BOLD : EM_REGULAR));
    if (size > NUMBER_FONT_MAX)
        size = NUMBER_FONT_MAX;
    return size >= NUMBER_FONT_MIN ? size : 0;
}

/* put_rect - a filled bar; crisp edges so its inside is exactly its colour */
static void put_rect(FILE *out, double x, double y, double w, double h, const char *colour)
{
    fprintf(out, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" "
                 "shape-rendering=\"crispEdges\"/>\n",
            px(x).s, px(y).s, px(w).s, px(h).s, colour);
}

/* widest - the larger of chars and the width, in characters, of value as shown */
static size_t widest(size_t chars, long value)
{
    size_t n = strlen(count_text(value).s);
    return n > chars ? n : chars;
}

/* draw_frame - the scale up to max; returns the width of one month's slot,
 * or 0, with a "no data" label in the plot, when there is no month to draw */
static double draw_frame(FILE *out, const mc_report_t *report, double max, double plot_top,
                         double baseline, scale_t *scale)
{
    *scale = nice_scale(max);
    draw_scale(out, scale, plot_top, baseline);
    if (report->n_months == 0) {
        put_label(out, (PLOT_LEFT + PLOT_RIGHT) / 2, (plot_top + baseline) / 2, "middle", 14,
                  false, COLOUR_MUTED, "Không có số liệu theo tháng");
        return 0;
    }
    return (PLOT_RIGHT - PLOT_LEFT) / (double)report->n_months;
}

/* draw_stacked - one bar per month made of the series on top of each other, the month's
 * total above it, each part's number inside it where it fits */
static void draw_stacked(FILE *out, const mc_report_t *report, const series_t *series,
                         size_t n_series, double plot_top, double baseline)
{
    double max = 0;
    size_t total_chars = 0;
    for (size_t i = 0; i < report->n_months; i++) {
        double sum = 0;
        long total = 0;
        for (size_t s = 0; s < n_series; s++) {
            long v = series[s].value(&report->months[i]);
            sum += non_negative(v);
            total = add_count(total, v);
        }
        if (sum > max)
            max = sum;
        total_chars = widest(total_chars, total);
    }
    scale_t scale;
    double slot = draw_frame(out, report, max, plot_top, baseline, &scale);
    if (slot <= 0)
        return;
    double bar = slot * 0.7 < MAX_BAR_WIDTH ? slot * 0.7 : MAX_BAR_WIDTH;
    double total_font = number_font(total_chars, slot - 2, true);
    for (size_t i = 0; i < report->n_months; i++) {
        const mc_report_month_t *m = &report->months[i];
        double x = PLOT_LEFT + slot * (double)i + (slot - bar) / 2;
        double y = baseline;
        long total = 0;
        for (size_t s = 0; s < n_series; s++) {
            long v = series[s].value(m);
            double h = bar_height(non_negative(v), &scale);
            if (y - h < plot_top - 4) /* the 1 px minimum of tiny parts must not climb out */
                h = y - (plot_top - 4) > 0 ? y - (plot_top - 4) : 0;
            if (h > 0)
                put_rect(out, x, y - h, bar, h, series[s].colour);
            double inner = number_font(strlen(count_text(v).s), bar - 4, false);
            if (inner > 11)
                inner = 11;
            if (v > 0 && inner > 0 && h >= inner + 4)
                put_label(out, x + bar / 2, y - h / 2 + inner * 0.36, "middle", inner, false,
                          "#ffffff", count_text(v).s);
            y -= h;
            total = add_count(total, v);
        }
        if (total_font > 0)
            put_label(out, x + bar / 2, y - 4, "middle", total_font, true, COLOUR_TEXT,
                      count_text(total).s);
    }
    draw_months(out, report, baseline);
}

/* draw_grouped - per month the series side by side, each number above its bar */
static void draw_grouped(FILE *out, const mc_report_t *report, const series_t *series,
                         size_t n_series, double plot_top, double baseline)
{
    double max = 0;
    size_t chars = 0;
    for (size_t i = 0; i < report->n_months; i++)
        for (size_t s = 0; s < n_series; s++) {
            long v = series[s].value(&report->months[i]);
            if (non_negative(v) > max)
                max = non_negative(v);
            chars = widest(chars, v);
        }
    scale_t scale;
    double slot = draw_frame(out, report, max, plot_top, baseline, &scale);
    if (slot <= 0)
        return;
    double group = slot * 0.86; /* wide bars: room for their numbers; groups still apart */
    if (group > MAX_BAR_WIDTH * (double)n_series)
        group = MAX_BAR_WIDTH * (double)n_series;
    double bar = group / (double)n_series;
    /* neighbouring numbers are a bar's width apart (and may stand at the same height) */
    double font = number_font(chars, bar - 1, false);
    for (size_t i = 0; i < report->n_months; i++) {
        double x0 = PLOT_LEFT + slot * (double)i + (slot - group) / 2;
        for (size_t s = 0; s < n_series; s++) {
            long v = series[s].value(&report->months[i]);
            double x = x0 + bar * (double)s;
            double h = bar_height(non_negative(v), &scale);
            if (h > 0)
                put_rect(out, x, baseline - h, bar, h, series[s].colour);
            if (font > 0)
                put_label(out, x + bar / 2, baseline - h - 3, "middle", font, false,
                          COLOUR_TEXT, count_text(v).s);
        }
    }
    draw_months(out, report, baseline);
}

/* draw_received - panel 1: dossiers received per month by channel, and the period's totals */
static void draw_received(FILE *out, const mc_report_t *report)
{
    const mc_report_counts_t *t = &report->total;
    double top = PANEL_1_TOP;
    fputs("<g id=\"received\">\n", out);
    draw_heading(out, top, "Hồ sơ tiếp nhận theo kênh", channel_series, N_CHANNELS);
    char line[512];
    snprintf(line, sizeof line,
             "Kỳ trước chuyển qua: %s · Mới tiếp nhận: %s (trực tiếp %s · trực tuyến %s · "
             "bưu chính %s) · Tổng nhận giải quyết: %s",
             count_text(t->carried_over).s, count_text(t->received_new).s,
             count_text(t->received_direct).s, count_text(t->received_online).s,
             count_text(t->received_postal).s, count_text(t->received_total).s);
    put_label(out, MARGIN, top + SUMMARY_DY, "start",
              fitted_size(line, PLOT_RIGHT - MARGIN, 13, 8, false), false, COLOUR_MUTED, line);
    draw_stacked(out, report, channel_series, N_CHANNELS, top + PLOT_TOP_DY,
                 top + PLOT_TOP_DY + PLOT_HEIGHT);
    fputs("</g>\n", out);
}

/* draw_results - panel 2: results on time vs late per month, and the period's on-time rate */
static void draw_results(FILE *out, const mc_report_t *report)
{
    const mc_report_counts_t *t = &report->total;
    double top = PANEL_2_TOP;
    fputs("<g id=\"results\">\n", out);
    draw_heading(out, top, "Kết quả giải quyết theo tháng", result_series, N_RESULTS);
    long in_time = add_count(add_count(0, t->resolved_early), t->resolved_on_time);
    char facts[384], rate[96], line[512];
    snprintf(facts, sizeof facts,
             "Đã giải quyết: %s · Đúng hạn (gồm trước hạn): %s · Quá hạn: %s · ",
             count_text(t->resolved_total).s, count_text(in_time).s,
             count_text(t->resolved_late).s);
    snprintf(rate, sizeof rate, "Tỷ lệ đúng hạn: %s",
             percent_text(in_time, t->resolved_total).s);
    snprintf(line, sizeof line, "%s%s", facts, rate);
    double size = fitted_size(line, PLOT_RIGHT - MARGIN, 13, 8, false);
    fprintf(out, "<text x=\"%s\" y=\"%s\" font-size=\"%s\" fill=\"%s\">",
            px(MARGIN).s, px(top + SUMMARY_DY).s, px(size).s, COLOUR_MUTED);
    put_text(out, facts, SIZE_MAX);
    fprintf(out, "<tspan font-weight=\"bold\" fill=\"%s\">", COLOUR_TEXT);
    put_text(out, rate, SIZE_MAX);
    fputs("</tspan></text>\n", out);
    draw_grouped(out, report, result_series, N_RESULTS, top + PLOT_TOP_DY,
                 top + PLOT_TOP_DY + PLOT_HEIGHT);
    fputs("</g>\n", out);
}

/* draw_title - the title centred on top, shrunk (down to 12 px) and then cut to fit */
static void draw_title(FILE *out, const char *title)
{
    double room = MC_REPORT_SVG_WIDTH - 2 * MARGIN;
    double size = fitted_size(title, room, 22, 12, true);
    size_t fits = (size_t)(room / (size * EM_BOLD));
    fprintf(out, "<text x=\"%s\" y=\"34\" text-anchor=\"middle\" font-size=\"%s\" "
                 "font-weight=\"bold\" fill=\"%s\">",
            px(MC_REPORT_SVG_WIDTH / 2.0).s, px(size).s, COLOUR_TEXT);
    put_text(out, title, fits);
    fputs("</text>\n", out);
}

/* mc_report_svg - write report as one standalone SVG 1.1 document (see mc_report.h) */
int mc_report_svg(FILE *out, const mc_report_t *report, const char *title)
{
    if (!out || !report || (report->n_months > 0 && !report->months))
        return -1;
    if (!title)
        title = "";
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" xml:lang=\"vi\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\">\n",
            MC_REPORT_SVG_WIDTH, MC_REPORT_SVG_HEIGHT, MC_REPORT_SVG_WIDTH,
            MC_REPORT_SVG_HEIGHT, FONT_FAMILY);
    fputs("<title>", out);
    put_text(out, title, SIZE_MAX);
    fputs("</title>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
            MC_REPORT_SVG_WIDTH, MC_REPORT_SVG_HEIGHT);
    draw_title(out, title);
    draw_received(out, report);
    draw_results(out, report);
    fputs("</svg>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
