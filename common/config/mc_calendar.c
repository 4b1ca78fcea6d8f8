/*
 * mc_calendar - working days, working hours and due dates (see mc_calendar.h
 * for the rule, docs/rules.md "Due dates" for its legal basis).
 *
 * Contract: dates are turned into day numbers (days since 1970-01-01) with
 * the days-from-civil algorithm, so nothing here depends on the process's
 * time zone, on timegm() or on localtime(): Vietnam time is UTC+07:00 with
 * no daylight saving, a fixed offset. A loaded calendar is immutable and
 * may be read from any thread. calendar.yaml keys (all others are refused):
 *
 *     timezone:            "+07:00"                 optional, the only value accepted
 *     working_hours:       [["08:00","12:00"], ...] optional, 1..4 ordered sessions
 *     late_cutoff:         "17:00"                  optional, default end of last session
 *     years:               [2025, 2026]             required, the years described
 *     holidays:            [{date, name} | {from, to, name}]   required (may be [])
 *     makeup_working_days: [{date, name}]           optional, Saturdays/Sundays only
 */
#include "mc_calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MC_CAL_MAX_SESSIONS 4    /* working sessions in a day */
#define MC_CAL_MAX_YEARS    50   /* years one file may describe */
#define MC_CAL_MAX_ENTRIES  1000 /* holiday or make-up entries */
#define MC_CAL_MAX_SPAN     31   /* days in one holiday range */
#define MC_CAL_MAX_AMOUNT   10000 /* largest processing time accepted by mc_calendar_due */
#define MC_CAL_NAME_MAX     300  /* bytes in a holiday name */

struct mc_calendar {
    int      session_start[MC_CAL_MAX_SESSIONS]; /* minutes after midnight */
    int      session_end[MC_CAL_MAX_SESSIONS];   /* minutes after midnight, > start */
    int      n_sessions;                         /* sessions in a working day */
    int      cutoff;                             /* default late cut-off, minutes */
    int      years[MC_CAL_MAX_YEARS];            /* years covered, sorted */
    int      n_years;                            /* entries in years */
    int64_t *holidays;                           /* day numbers, sorted, unique */
    size_t   n_holidays;                         /* entries in holidays */
    int64_t *makeup;                             /* day numbers of make-up days, sorted */
    size_t   n_makeup;                           /* entries in makeup */
};

/* days_from_civil - day number of a proleptic Gregorian date (H. Hinnant) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* civil_from_days - the inverse of days_from_civil */
static mc_date_t civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    mc_date_t out = {(int)(y + (m <= 2)), m, d};
    return out;
}

/* day_of - a date's day number */
static int64_t day_of(mc_date_t date)
{
    return days_from_civil(date.year, date.month, date.day);
}

/* floor_div - division rounding down, for instants before the epoch */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* mc_date_of - local date and minute-of-day of an instant */
mc_date_t mc_date_of(int64_t instant, int *minute_of_day)
{
    int64_t local = instant + MC_TZ_OFFSET_SECONDS;
    int64_t days = floor_div(local, 86400);
    if (minute_of_day)
        *minute_of_day = (int)((local - days * 86400) / 60);
    return civil_from_days(days);
}

/* mc_instant_of - instant of a local date at a minute of the day */
int64_t mc_instant_of(mc_date_t date, int minute_of_day)
{
    return day_of(date) * 86400 + (int64_t)minute_of_day * 60 - MC_TZ_OFFSET_SECONDS;
}

/* days_in_month - with the Gregorian leap-year rule */
static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* digits - n ASCII digits at s as a number, -1 if any is not a digit */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* mc_date_parse - "YYYY-MM-DD", a date that exists */
int mc_date_parse(const char *text, mc_date_t *date)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    int y = digits(text, 4), m = digits(text + 5, 2), d = digits(text + 8, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    date->year = y;
    date->month = m;
    date->day = d;
    return 0;
}

/* mc_date_weekday - 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday) */
int mc_date_weekday(mc_date_t date)
{
    int64_t w = (day_of(date) + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* mc_date_add_days - date plus n days */
mc_date_t mc_date_add_days(mc_date_t date, int n)
{
    return civil_from_days(day_of(date) + n);
}

/* mc_format_local - "HH giờ MM phút, ngày DD/MM/YYYY" */
const char *mc_format_local(int64_t instant, char *buf, unsigned size)
{
    int minute;
    mc_date_t d = mc_date_of(instant, &minute);
    if (size)
        snprintf(buf, size, "%02d giờ %02d phút, ngày %02d/%02d/%04d", minute / 60,
                 minute % 60, d.day, d.month, d.year);
    return buf;
}

/* mc_format_iso - "YYYY-MM-DDTHH:MM:SS+07:00" */
const char *mc_format_iso(int64_t instant, char *buf, unsigned size)
{
    int minute;
    mc_date_t d = mc_date_of(instant, &minute);
    int64_t local = instant + MC_TZ_OFFSET_SECONDS;
    int second = (int)(local - floor_div(local, 60) * 60);
    if (size)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", d.year, d.month, d.day,
                 minute / 60, minute % 60, second);
    return buf;
}

/* parse_hhmm - "HH:MM" to minutes after midnight; -1 if malformed */
static int parse_hhmm(const char *text)
{
    if (!text || strlen(text) != 5 || text[2] != ':')
        return -1;
    int h = digits(text, 2), m = digits(text + 3, 2);
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    return h * 60 + m;
}

/* cmp_i64 - qsort/bsearch order for day numbers */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* has_day - is a day number in a sorted list? */
static bool has_day(const int64_t *list, size_t n, int64_t day)
{
    return n && bsearch(&day, list, n, sizeof *list, cmp_i64) != NULL;
}

/* push_day - append a day number to a growing list */
static int push_day(int64_t **list, size_t *n, size_t *cap, int64_t day)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        int64_t *grown = realloc(*list, ncap * sizeof *grown);
        if (!grown)
            return -1;
        *list = grown;
        *cap = ncap;
    }
    (*list)[(*n)++] = day;
    return 0;
}

/* covers_year - is the year listed? */
static bool covers_year(const mc_calendar_t *cal, int year)
{
    for (int i = 0; i < cal->n_years; i++)
        if (cal->years[i] == year)
            return true;
    return false;
}

/* get_time - an optional "HH:MM" key; *minutes untouched when absent */
static int get_time(const mc_yaml_node_t *map, const char *key, int *minutes, mc_err_t *err)
{
    char *text = NULL;
    if (mc_yaml_get_string(map, key, false, 16, &text, err) < 0)
        return -1;
    if (!text)
        return 0;
    int v = parse_hhmm(text);
    free(text);
    if (v < 0) {
        char where[512];
        mc_err_add(err, "%s: key '%s': expected a time \"HH:MM\" (00:00..23:59)",
                   mc_yaml_where(mc_yaml_get(map, key), where, sizeof where), key);
        return -1;
    }
    *minutes = v;
    return 0;
}

/* get_date - a required "YYYY-MM-DD" key inside the calendar's years */
static int get_date(const mc_calendar_t *cal, const mc_yaml_node_t *map, const char *key,
                    int64_t *day, mc_err_t *err)
{
    char *text = NULL;
    if (mc_yaml_get_string(map, key, true, 16, &text, err) < 0)
        return -1;
    char where[512];
    mc_yaml_where(mc_yaml_get(map, key), where, sizeof where);
    mc_date_t d;
    int rc = mc_date_parse(text, &d);
    free(text);
    if (rc < 0) {
        mc_err_add(err, "%s: key '%s': expected a real date \"YYYY-MM-DD\"", where, key);
        return -1;
    }
    if (!covers_year(cal, d.year)) {
        mc_err_add(err, "%s: key '%s': %04d is not one of the calendar's years", where, key,
                   d.year);
        return -1;
    }
    *day = day_of(d);
    return 0;
}

/* load_hours - working_hours: ordered, non-overlapping [start, end] sessions */
static int load_hours(mc_calendar_t *cal, const mc_yaml_node_t *seq, mc_err_t *err)
{
    char where[512];
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "working_hours", err) < 0)
        return -1;
    if (seq->count < 1 || seq->count > MC_CAL_MAX_SESSIONS) {
        mc_err_add(err, "%s: key 'working_hours': expected 1..%d sessions, found %zu",
                   mc_yaml_where(seq, where, sizeof where), MC_CAL_MAX_SESSIONS, seq->count);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *pair = seq->items[i];
        mc_yaml_where(pair, where, sizeof where);
        if (pair->kind != MC_YAML_SEQUENCE || pair->count != 2) {
            mc_err_add(err, "%s: working_hours[%zu]: expected [\"HH:MM\", \"HH:MM\"]", where, i);
            rc = -1;
            continue;
        }
        int t[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            char *text = NULL, what[64];
            snprintf(what, sizeof what, "working_hours[%zu][%d]", i, k);
            if (mc_yaml_scalar_string(pair->items[k], what, 16, &text, err) < 0) {
                rc = -1;
                continue;
            }
            t[k] = parse_hhmm(text);
            free(text);
            if (t[k] < 0) {
                char w2[512];
                mc_err_add(err, "%s: %s: expected a time \"HH:MM\" (00:00..23:59)",
                           mc_yaml_where(pair->items[k], w2, sizeof w2), what);
                rc = -1;
            }
        }
        if (t[0] < 0 || t[1] < 0)
            continue;
        if (t[0] >= t[1]) {
            mc_err_add(err, "%s: working_hours[%zu]: a session must start before it ends",
                       where, i);
            rc = -1;
            continue;
        }
        if (i > 0 && rc == 0 && t[0] < cal->session_end[i - 1]) {
            mc_err_add(err, "%s: working_hours[%zu]: sessions must be in order and not overlap",
                       where, i);
            rc = -1;
        }
        cal->session_start[i] = t[0];
        cal->session_end[i] = t[1];
    }
    cal->n_sessions = (int)seq->count;
    return rc;
}

/* load_years - years: unique integers, kept sorted */
static int load_years(mc_calendar_t *cal, const mc_yaml_node_t *seq, mc_err_t *err)
{
    char where[512];
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "years", err) < 0)
        return -1;
    if (seq->count < 1 || seq->count > MC_CAL_MAX_YEARS) {
        mc_err_add(err, "%s: key 'years': expected 1..%d years, found %zu",
                   mc_yaml_where(seq, where, sizeof where), MC_CAL_MAX_YEARS, seq->count);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        int64_t y;
        char what[32];
        snprintf(what, sizeof what, "years[%zu]", i);
        if (mc_yaml_scalar_int(seq->items[i], what, 2000, 2100, &y, err) < 0) {
            rc = -1;
            continue;
        }
        if (covers_year(cal, (int)y)) {
            mc_err_add(err, "%s: %s: year %d listed twice",
                       mc_yaml_where(seq->items[i], where, sizeof where), what, (int)y);
            rc = -1;
            continue;
        }
        int k = cal->n_years++;
        while (k > 0 && cal->years[k - 1] > y) {
            cal->years[k] = cal->years[k - 1];
            k--;
        }
        cal->years[k] = (int)y;
    }
    return rc;
}

/* check_name - every holiday/make-up entry carries a human name */
static int check_name(const mc_yaml_node_t *entry, mc_err_t *err)
{
    char *name = NULL;
    if (mc_yaml_get_string(entry, "name", true, MC_CAL_NAME_MAX, &name, err) < 0)
        return -1;
    bool empty = name[0] == '\0';
    free(name);
    if (empty) {
        char where[512];
        mc_err_add(err, "%s: key 'name': must not be empty",
                   mc_yaml_where(mc_yaml_get(entry, "name"), where, sizeof where));
        return -1;
    }
    return 0;
}

/* load_holidays - single days and from..to ranges, all inside the years */
static int load_holidays(mc_calendar_t *cal, const mc_yaml_node_t *seq, mc_err_t *err)
{
    static const char *const allowed[] = {"date", "from", "to", "name", NULL};
    static const char *const required[] = {"name", NULL};
    char where[512];
    if (mc_yaml_expect_list(seq, "holidays", MC_CAL_MAX_ENTRIES, "entries", err) < 0)
        return -1;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *e = seq->items[i];
        if (mc_yaml_check_keys(e, "holiday", allowed, required, err) < 0) {
            rc = -1;
            continue;
        }
        mc_yaml_where(e, where, sizeof where);
        if (check_name(e, err) < 0)
            rc = -1;
        bool has_date = mc_yaml_get(e, "date") != NULL;
        bool has_from = mc_yaml_get(e, "from") != NULL, has_to = mc_yaml_get(e, "to") != NULL;
        int64_t from, to;
        if (has_date && !has_from && !has_to) {
            if (get_date(cal, e, "date", &from, err) < 0) {
                rc = -1;
                continue;
            }
            to = from;
        } else if (!has_date && has_from && has_to) {
            int a = get_date(cal, e, "from", &from, err);
            int b = get_date(cal, e, "to", &to, err);
            if (a < 0 || b < 0) {
                rc = -1;
                continue;
            }
            if (from > to) {
                mc_err_add(err, "%s: holiday: 'from' is after 'to'", where);
                rc = -1;
                continue;
            }
            if (to - from >= MC_CAL_MAX_SPAN) {
                mc_err_add(err, "%s: holiday: a range may span at most %d days", where,
                           MC_CAL_MAX_SPAN);
                rc = -1;
                continue;
            }
        } else {
            mc_err_add(err, "%s: holiday: give either 'date', or both 'from' and 'to'", where);
            rc = -1;
            continue;
        }
        for (int64_t d = from; d <= to; d++) {
            if (push_day(&cal->holidays, &cal->n_holidays, &cap, d) < 0) {
                mc_err_add(err, "%s: out of memory", where);
                return -1;
            }
        }
    }
    if (cal->n_holidays) {
        /* overlapping ranges (e.g. a holiday inside Tết) are harmless: dedupe */
        qsort(cal->holidays, cal->n_holidays, sizeof *cal->holidays, cmp_i64);
        size_t o = 1;
        for (size_t i = 1; i < cal->n_holidays; i++)
            if (cal->holidays[i] != cal->holidays[o - 1])
                cal->holidays[o++] = cal->holidays[i];
        cal->n_holidays = o;
    }
    return rc;
}

/* load_makeup - make-up days: weekend days turned into working days */
static int load_makeup(mc_calendar_t *cal, const mc_yaml_node_t *seq, mc_err_t *err)
{
    static const char *const allowed[] = {"date", "name", NULL};
    static const char *const required[] = {"date", "name", NULL};
    char where[512];
    if (mc_yaml_expect_list(seq, "makeup_working_days", MC_CAL_MAX_ENTRIES, "entries",
                            err) < 0)
        return -1;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *e = seq->items[i];
        if (mc_yaml_check_keys(e, "make-up day", allowed, required, err) < 0) {
            rc = -1;
            continue;
        }
        if (check_name(e, err) < 0)
            rc = -1;
        int64_t day;
        if (get_date(cal, e, "date", &day, err) < 0) {
            rc = -1;
            continue;
        }
        mc_yaml_where(mc_yaml_get(e, "date"), where, sizeof where);
        int wd = mc_date_weekday(civil_from_days(day));
        if (wd != 0 && wd != 6) {
            mc_err_add(err, "%s: key 'date': a make-up working day must be a Saturday or Sunday",
                       where);
            rc = -1;
            continue;
        }
        if (has_day(cal->holidays, cal->n_holidays, day)) {
            mc_err_add(err, "%s: key 'date': is also listed as a holiday", where);
            rc = -1;
            continue;
        }
        for (size_t k = 0; k < cal->n_makeup; k++)
            if (cal->makeup[k] == day) {
                mc_err_add(err, "%s: key 'date': make-up day listed twice", where);
                rc = -1;
                day = INT64_MIN;
                break;
            }
        if (day == INT64_MIN)
            continue;
        if (push_day(&cal->makeup, &cal->n_makeup, &cap, day) < 0) {
            mc_err_add(err, "%s: out of memory", where);
            return -1;
        }
    }
    if (cal->n_makeup)
        qsort(cal->makeup, cal->n_makeup, sizeof *cal->makeup, cmp_i64);
    return rc;
}

/* mc_calendar_from_yaml - build and check a calendar from a parsed root */
int mc_calendar_from_yaml(const mc_yaml_node_t *root, mc_calendar_t **cal, mc_err_t *err)
{
    static const char *const allowed[] = {"timezone",    "working_hours", "late_cutoff",
                                          "years",       "holidays",      "makeup_working_days",
                                          NULL};
    static const char *const required[] = {"years", "holidays", NULL};
    *cal = NULL;
    /* an unknown key is reported, then the rest is still checked */
    int rc = mc_yaml_check_keys(root, "calendar", allowed, required, err);
    if (!root || root->kind != MC_YAML_MAPPING)
        return -1;

    mc_calendar_t *c = calloc(1, sizeof *c);
    if (!c) {
        mc_err_add(err, "calendar: out of memory");
        return -1;
    }
    char where[512];

    char *tz = NULL;
    if (mc_yaml_get_string(root, "timezone", false, 16, &tz, err) < 0)
        rc = -1;
    if (tz && strcmp(tz, "+07:00") != 0) {
        mc_err_add(err, "%s: key 'timezone': only \"+07:00\" (Vietnam time) is supported",
                   mc_yaml_where(mc_yaml_get(root, "timezone"), where, sizeof where));
        rc = -1;
    }
    free(tz);

    const mc_yaml_node_t *hours = mc_yaml_get(root, "working_hours");
    int hours_rc = 0;
    if (hours) {
        hours_rc = load_hours(c, hours, err);
        if (hours_rc < 0)
            rc = -1;
    } else {
        c->session_start[0] = 8 * 60;
        c->session_end[0] = 12 * 60;
        c->session_start[1] = 13 * 60;
        c->session_end[1] = 17 * 60;
        c->n_sessions = 2;
    }

    c->cutoff = c->n_sessions ? c->session_end[c->n_sessions - 1] : 17 * 60;
    if (get_time(root, "late_cutoff", &c->cutoff, err) < 0)
        rc = -1;
    else if (hours_rc == 0 &&
             (c->cutoff <= c->session_start[0] || c->cutoff > c->session_end[c->n_sessions - 1])) {
        mc_err_add(err, "%s: key 'late_cutoff': must fall after the first session starts and "
                        "no later than the last one ends",
                   mc_yaml_where(mc_yaml_get(root, "late_cutoff"), where, sizeof where));
        rc = -1;
    }

    const mc_yaml_node_t *years = mc_yaml_get(root, "years");
    if (years && load_years(c, years, err) < 0)
        rc = -1;
    const mc_yaml_node_t *hol = mc_yaml_get(root, "holidays");
    if (hol && load_holidays(c, hol, err) < 0)
        rc = -1;
    const mc_yaml_node_t *mk = mc_yaml_get(root, "makeup_working_days");
    if (mk && load_makeup(c, mk, err) < 0)
        rc = -1;

    if (rc < 0) {
        mc_calendar_destroy(&c);
        return -1;
    }
    *cal = c;
    return 0;
}

/* mc_calendar_load - read and check calendar.yaml */
int mc_calendar_load(const char *path, mc_calendar_t **cal, mc_err_t *err)
{
    mc_yaml_doc_t *doc = NULL;
    *cal = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    int rc = mc_calendar_from_yaml(mc_yaml_root(doc), cal, err);
    mc_yaml_destroy(&doc);
    return rc;
}

/* mc_calendar_destroy - free and NULL the caller's pointer */
void mc_calendar_destroy(mc_calendar_t **cal)
{
    if (!cal || !*cal)
        return;
    free((*cal)->holidays);
    free((*cal)->makeup);
    free(*cal);
    *cal = NULL;
}

/* is_working - the day-number form of mc_calendar_is_working_day */
static bool is_working(const mc_calendar_t *cal, int64_t day)
{
    if (has_day(cal->makeup, cal->n_makeup, day))
        return true;
    if (has_day(cal->holidays, cal->n_holidays, day))
        return false;
    int wd = mc_date_weekday(civil_from_days(day));
    return wd >= 1 && wd <= 5;
}

/* mc_calendar_is_working_day - weekday not a holiday, or a make-up day */
bool mc_calendar_is_working_day(const mc_calendar_t *cal, mc_date_t date)
{
    return is_working(cal, day_of(date));
}

/* mc_calendar_covers - is the date's year described? */
bool mc_calendar_covers(const mc_calendar_t *cal, mc_date_t date)
{
    return covers_year(cal, date.year);
}

/* mc_calendar_cutoff_minutes - the default late cut-off */
int mc_calendar_cutoff_minutes(const mc_calendar_t *cal)
{
    return cal->cutoff;
}

/* covered - fail with a clear message when a day is outside the years */
static int covered(const mc_calendar_t *cal, int64_t day, mc_err_t *err)
{
    mc_date_t d = civil_from_days(day);
    if (covers_year(cal, d.year))
        return 0;
    mc_err_add(err, "calendar: the due-date computation reaches %04d-%02d-%02d, outside the "
                    "years calendar.yaml describes (%d..%d); add year %d to it",
               d.year, d.month, d.day, cal->years[0], cal->years[cal->n_years - 1], d.year);
    return -1;
}

/* next_working - the first working day after day, within the covered years */
static int next_working(const mc_calendar_t *cal, int64_t day, int64_t *out, mc_err_t *err)
{
    do {
        day++;
        if (covered(cal, day, err) < 0)
            return -1;
    } while (!is_working(cal, day));
    *out = day;
    return 0;
}

/* mc_calendar_due - apply the due-date rule (see mc_calendar.h) */
int mc_calendar_due(const mc_calendar_t *cal, int64_t received_at, int amount,
                    mc_time_unit_t unit, int cutoff_minutes,
                    int64_t *counted_from, int64_t *due_at, mc_err_t *err)
{
    if (amount < 0 || amount > MC_CAL_MAX_AMOUNT) {
        mc_err_add(err, "calendar: processing time %d out of range (0..%d)", amount,
                   MC_CAL_MAX_AMOUNT);
        return -1;
    }
    if (unit != MC_TIME_WORKING_DAYS && unit != MC_TIME_WORKING_HOURS) {
        mc_err_add(err, "calendar: unknown time unit %d", (int)unit);
        return -1;
    }
    if (cutoff_minutes < 0)
        cutoff_minutes = cal->cutoff;
    if (cutoff_minutes > 24 * 60) {
        mc_err_add(err, "calendar: cut-off %d minutes is past midnight", cutoff_minutes);
        return -1;
    }

    /* 1. the deemed day: today if working and before the cut-off, else the next one */
    int64_t local = received_at + MC_TZ_OFFSET_SECONDS;
    int64_t day = floor_div(local, 86400);
    int64_t second_of_day = local - day * 86400;
    if (covered(cal, day, err) < 0)
        return -1;
    int64_t from;
    if (is_working(cal, day) && second_of_day < (int64_t)cutoff_minutes * 60) {
        from = received_at;
    } else {
        if (next_working(cal, day, &day, err) < 0)
            return -1;
        from = day * 86400 + (int64_t)cal->session_start[0] * 60 - MC_TZ_OFFSET_SECONDS;
    }

    int64_t due;
    if (unit == MC_TIME_WORKING_DAYS) {
        /* 2. the deemed day itself is not counted; due at the close of day N */
        for (int n = 0; n < amount; n++)
            if (next_working(cal, day, &day, err) < 0)
                return -1;
        due = day * 86400 + (int64_t)cal->session_end[cal->n_sessions - 1] * 60 -
              MC_TZ_OFFSET_SECONDS;
    } else {
        /* 3. walk the working sessions from the deemed moment */
        int64_t left = (int64_t)amount * 3600;
        int64_t t = from;
        due = from;
        while (left > 0) {
            for (int s = 0; s < cal->n_sessions && left > 0; s++) {
                int64_t start = day * 86400 + (int64_t)cal->session_start[s] * 60 -
                                MC_TZ_OFFSET_SECONDS;
                int64_t end = day * 86400 + (int64_t)cal->session_end[s] * 60 -
                              MC_TZ_OFFSET_SECONDS;
                if (t > start)
                    start = t;
                if (start >= end)
                    continue;
                int64_t take = end - start < left ? end - start : left;
                left -= take;
                due = start + take;
            }
            if (left > 0) {
                if (next_working(cal, day, &day, err) < 0)
                    return -1;
                t = day * 86400 - MC_TZ_OFFSET_SECONDS;
            }
        }
    }
    *counted_from = from;
    *due_at = due;
    return 0;
}
