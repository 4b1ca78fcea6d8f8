/*
 * test_calendar - mc_calendar: date arithmetic, the real config/calendar.yaml
 * (2025 and 2026 holidays and make-up days) and the due-date rule.
 *
 * Contract: run from the repository root. Each due date below was worked
 * out by hand from the rule in mc_calendar.h and the calendar file.
 */
#include <stdlib.h>
#include <unistd.h>

#include "mc_test.h"
#include "mc_calendar.h"

static mc_calendar_t *cal; /* config/calendar.yaml, loaded once by main */

/* D - a date literal */
static mc_date_t D(int y, int m, int d)
{
    mc_date_t date = {y, m, d};
    return date;
}

/* at - a local instant */
static int64_t at(int y, int m, int d, int hh, int mm)
{
    return mc_instant_of(D(y, m, d), hh * 60 + mm);
}

/* iso - an instant as text, for readable comparisons */
static const char *iso(int64_t t, char *buf)
{
    return mc_format_iso(t, buf, 40);
}

/* due_iso - the due date of a receipt as ISO text ("FAIL" on error) */
static const char *due_iso(int64_t received, int amount, mc_time_unit_t unit, int cutoff,
                           char *buf, int64_t *from)
{
    mc_err_t err;
    mc_err_clear(&err);
    int64_t f = 0, due = 0;
    if (mc_calendar_due(cal, received, amount, unit, cutoff, &f, &due, &err) < 0) {
        snprintf(buf, 40, "FAIL");
        return buf;
    }
    if (from)
        *from = f;
    return iso(due, buf);
}

MC_TEST(test_dates)
{
    mc_date_t d;
    CHECK(mc_date_parse("2025-01-24", &d) == 0);
    CHECK_INT(d.year, 2025);
    CHECK_INT(d.month, 1);
    CHECK_INT(d.day, 24);
    CHECK(mc_date_parse("2024-02-29", &d) == 0);
    CHECK(mc_date_parse("2025-02-29", &d) == -1);
    CHECK(mc_date_parse("1900-02-29", &d) == -1);
    CHECK(mc_date_parse("2000-02-29", &d) == 0);
    CHECK(mc_date_parse("2025-04-31", &d) == -1);
    CHECK(mc_date_parse("2025-13-01", &d) == -1);
    CHECK(mc_date_parse("2025-1-01", &d) == -1);
    CHECK(mc_date_parse("2025-01-01x", &d) == -1);
    CHECK(mc_date_parse("25-01-2025", &d) == -1);
    CHECK(mc_date_parse("", &d) == -1);

    CHECK_INT(mc_date_weekday(D(2025, 1, 24)), 5);  /* Friday */
    CHECK_INT(mc_date_weekday(D(2025, 4, 26)), 6);  /* Saturday */
    CHECK_INT(mc_date_weekday(D(2026, 9, 2)), 3);   /* Wednesday */
    CHECK_INT(mc_date_weekday(D(1970, 1, 1)), 4);   /* Thursday */
    CHECK_INT(mc_date_weekday(D(1969, 12, 28)), 0); /* Sunday, before the epoch */

    mc_date_t n = mc_date_add_days(D(2025, 12, 31), 1);
    CHECK(n.year == 2026 && n.month == 1 && n.day == 1);
    n = mc_date_add_days(D(2024, 2, 28), 1);
    CHECK(n.month == 2 && n.day == 29);
    n = mc_date_add_days(D(2025, 3, 1), -1);
    CHECK(n.month == 2 && n.day == 28);
    n = mc_date_add_days(D(2025, 1, 1), 365);
    CHECK(n.year == 2026 && n.month == 1 && n.day == 1);
}

MC_TEST(test_instants)
{
    /* 2025-01-24 10:00 +07:00 is 03:00 UTC */
    CHECK(at(2025, 1, 24, 10, 0) == 1737687600);
    int minute = -1;
    mc_date_t d = mc_date_of(1737687600, &minute);
    CHECK(d.year == 2025 && d.month == 1 && d.day == 24);
    CHECK_INT(minute, 600);
    /* 17:30 UTC on the 23rd is already 00:30 on the 24th in Vietnam */
    d = mc_date_of(1737687600 - 9 * 3600 - 30 * 60, &minute);
    CHECK(d.day == 24);
    CHECK_INT(minute, 30);
    d = mc_date_of(-28800, &minute); /* 1969-12-31 23:00 local */
    CHECK(d.year == 1969 && d.month == 12 && d.day == 31);
    CHECK_INT(minute, 23 * 60);

    char buf[64];
    CHECK_STR(mc_format_iso(1737687600 + 5, buf, sizeof buf), "2025-01-24T10:00:05+07:00");
    CHECK_STR(mc_format_local(at(2025, 2, 3, 17, 0), buf, sizeof buf),
              "17 giờ 00 phút, ngày 03/02/2025");
}

MC_TEST(test_real_calendar_days)
{
    REQUIRE(cal);
    CHECK_INT(mc_calendar_cutoff_minutes(cal), 17 * 60);
    CHECK(mc_calendar_covers(cal, D(2025, 6, 1)));
    CHECK(mc_calendar_covers(cal, D(2026, 12, 31)));
    CHECK(!mc_calendar_covers(cal, D(2024, 12, 31)));
    CHECK(mc_calendar_covers(cal, D(2027, 1, 1)));  /* provisional year */
    CHECK(!mc_calendar_covers(cal, D(2028, 1, 1)));

    CHECK(mc_calendar_is_working_day(cal, D(2025, 3, 3)));   /* Monday */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 3, 1)));  /* Saturday */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 3, 2)));  /* Sunday */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 1, 1)));
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 1, 27))); /* Tết Ất Tỵ */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 1, 31)));
    CHECK(mc_calendar_is_working_day(cal, D(2025, 2, 3)));
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 4, 7)));  /* Giỗ Tổ */
    CHECK(mc_calendar_is_working_day(cal, D(2025, 4, 26)));  /* make-up Saturday */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 5, 2)));  /* swapped Friday */
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 9, 1)));
    CHECK(!mc_calendar_is_working_day(cal, D(2025, 9, 2)));
    CHECK(mc_calendar_is_working_day(cal, D(2025, 9, 3)));
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 1, 2)));
    CHECK(mc_calendar_is_working_day(cal, D(2026, 1, 10)));  /* make-up Saturday */
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 1, 11)));
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 2, 16))); /* Tết Bính Ngọ */
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 2, 20)));
    CHECK(mc_calendar_is_working_day(cal, D(2026, 2, 23)));
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 4, 27))); /* nghỉ bù Giỗ Tổ */
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 4, 30)));
    CHECK(!mc_calendar_is_working_day(cal, D(2026, 9, 1)));
}

MC_TEST(test_due_working_days)
{
    REQUIRE(cal);
    char b[40], e[40];
    int64_t from = 0;
    /* Tết 2025: Fri 24/1 10:00, 1 day: 25/1-2/2 are off, due Mon 3/2 */
    CHECK_STR(due_iso(at(2025, 1, 24, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, &from),
              "2025-02-03T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-01-24T10:00:00+07:00");
    /* Tết 2026: Fri 13/2 10:00, 1 day: 14/2-22/2 are off, due Mon 23/2 */
    CHECK_STR(due_iso(at(2026, 2, 13, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-02-23T17:00:00+07:00");
    /* ordinary week: Mon 3/3/2025 + 7 days = Wed 12/3 */
    CHECK_STR(due_iso(at(2025, 3, 3, 9, 0), 7, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-03-12T17:00:00+07:00");
    /* make-up Saturday counts: Fri 25/4/2025 + 1 day = Sat 26/4 */
    CHECK_STR(due_iso(at(2025, 4, 25, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-04-26T17:00:00+07:00");
    /* and a receipt on it is a working-day receipt */
    CHECK_STR(due_iso(at(2025, 4, 26, 10, 0), 0, MC_TIME_WORKING_DAYS, -1, b, &from),
              "2025-04-26T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-04-26T10:00:00+07:00");
    /* 30/4-2/5 off, 3-4/5 weekend: Tue 29/4 + 1 = Mon 5/5 */
    CHECK_STR(due_iso(at(2025, 4, 29, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-05-05T17:00:00+07:00");
    /* year end: Wed 31/12/2025; 1-2/1 off, 3-4/1 weekend */
    CHECK_STR(due_iso(at(2025, 12, 31, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-01-05T17:00:00+07:00");
    /* 5 -> Fri 9/1, 6 -> the make-up Saturday 10/1, 7 -> Mon 12/1 */
    CHECK_STR(due_iso(at(2025, 12, 31, 10, 0), 5, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-01-09T17:00:00+07:00");
    CHECK_STR(due_iso(at(2025, 12, 31, 10, 0), 6, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-01-10T17:00:00+07:00");
    CHECK_STR(due_iso(at(2025, 12, 31, 10, 0), 7, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-01-12T17:00:00+07:00");
    /* Giỗ Tổ 2026 nghỉ bù: Fri 24/4 + 1 = Tue 28/4 */
    CHECK_STR(due_iso(at(2026, 4, 24, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2026-04-28T17:00:00+07:00");
}

MC_TEST(test_due_cutoff_and_weekend_receipt)
{
    REQUIRE(cal);
    char b[40], e[40];
    int64_t from = 0;
    /* 0 days before the procedure's 15:00 cut-off: the same day */
    CHECK_STR(due_iso(at(2025, 3, 3, 14, 59), 0, MC_TIME_WORKING_DAYS, 15 * 60, b, &from),
              "2025-03-03T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-03-03T14:59:00+07:00");
    /* at or after 15:00: counted from the next working day's opening */
    CHECK_STR(due_iso(at(2025, 3, 3, 15, 0), 0, MC_TIME_WORKING_DAYS, 15 * 60, b, &from),
              "2025-03-04T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-03-04T08:00:00+07:00");
    CHECK_STR(due_iso(at(2025, 3, 3, 15, 30), 1, MC_TIME_WORKING_DAYS, 15 * 60, b, NULL),
              "2025-03-05T17:00:00+07:00");
    /* the calendar's own cut-off is 17:00: 16:59 is today, 17:10 is not */
    CHECK_STR(due_iso(at(2025, 3, 3, 16, 59), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-03-04T17:00:00+07:00");
    CHECK_STR(due_iso(at(2025, 3, 3, 17, 10), 1, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-03-05T17:00:00+07:00");
    /* received on a Sunday: deemed Monday 08:00, Monday not counted */
    CHECK_STR(due_iso(at(2025, 3, 2, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, b, &from),
              "2025-03-04T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-03-03T08:00:00+07:00");
    /* received on a Sunday, 0 days: due the Monday */
    CHECK_STR(due_iso(at(2025, 3, 2, 10, 0), 0, MC_TIME_WORKING_DAYS, -1, b, NULL),
              "2025-03-03T17:00:00+07:00");
    /* Friday after the cut-off, before Tết: deemed Mon 3/2/2025 */
    CHECK_STR(due_iso(at(2025, 1, 24, 15, 30), 0, MC_TIME_WORKING_DAYS, 15 * 60, b, &from),
              "2025-02-03T17:00:00+07:00");
    CHECK_STR(iso(from, e), "2025-02-03T08:00:00+07:00");
}

MC_TEST(test_due_working_hours)
{
    REQUIRE(cal);
    char b[40];
    /* crossing lunch: 11:00 + 2h = 12:00 (1h) then 13:00-14:00 */
    CHECK_STR(due_iso(at(2025, 3, 3, 11, 0), 2, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-03T14:00:00+07:00");
    /* received at lunch: time starts at 13:00 */
    CHECK_STR(due_iso(at(2025, 3, 3, 12, 30), 1, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-03T14:00:00+07:00");
    /* ending exactly at the session end stays there */
    CHECK_STR(due_iso(at(2025, 3, 3, 8, 0), 4, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-03T12:00:00+07:00");
    /* overnight: 16:00 + 3h = 1h today, 2h tomorrow morning */
    CHECK_STR(due_iso(at(2025, 3, 3, 16, 0), 3, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-04T10:00:00+07:00");
    /* over the weekend: Fri 7/3 16:30 + 2h = Mon 10/3 09:30 */
    CHECK_STR(due_iso(at(2025, 3, 7, 16, 30), 2, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-10T09:30:00+07:00");
    /* before opening: 06:00 + 1h = 09:00 */
    CHECK_STR(due_iso(at(2025, 3, 3, 6, 0), 1, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-03T09:00:00+07:00");
    /* 8 hours = one full working day */
    CHECK_STR(due_iso(at(2025, 3, 3, 8, 0), 8, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2025-03-03T17:00:00+07:00");
    /* after the 15:00 cut-off: start next morning */
    CHECK_STR(due_iso(at(2025, 3, 3, 15, 30), 2, MC_TIME_WORKING_HOURS, 15 * 60, b, NULL),
              "2025-03-04T10:00:00+07:00");
    /* across Tết 2026: Fri 13/2 16:00 + 2h = Mon 23/2 09:00 */
    CHECK_STR(due_iso(at(2026, 2, 13, 16, 0), 2, MC_TIME_WORKING_HOURS, -1, b, NULL),
              "2026-02-23T09:00:00+07:00");
}

MC_TEST(test_due_outside_years)
{
    REQUIRE(cal);
    mc_err_t err;
    mc_err_clear(&err);
    int64_t from = 0, due = 0;
    /* Fri 31/12/2027 + 1 day lands in 2028, which the file does not describe */
    CHECK(mc_calendar_due(cal, at(2027, 12, 31, 10, 0), 1, MC_TIME_WORKING_DAYS, -1, &from,
                          &due, &err) == -1);
    CHECK(strstr(err.text, "2028-01-01") != NULL);
    CHECK(strstr(err.text, "add year 2028") != NULL);
    /* the same day is fine */
    mc_err_clear(&err);
    CHECK(mc_calendar_due(cal, at(2027, 12, 31, 10, 0), 0, MC_TIME_WORKING_DAYS, -1, &from,
                          &due, &err) == 0);
    /* a receipt before the covered years */
    mc_err_clear(&err);
    CHECK(mc_calendar_due(cal, at(2024, 12, 30, 10, 0), 0, MC_TIME_WORKING_DAYS, -1, &from,
                          &due, &err) == -1);
    CHECK(err.count > 0);
    /* nonsense amounts */
    CHECK(mc_calendar_due(cal, at(2025, 3, 3, 10, 0), -1, MC_TIME_WORKING_DAYS, -1, &from,
                          &due, &err) == -1);
}

/* load_text - write text to a temp file and load it as a calendar */
static int load_text(const char *text, mc_calendar_t **c, mc_err_t *err, char *path)
{
    strcpy(path, "/tmp/test_calendar_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -2;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    if (n != (ssize_t)strlen(text))
        return -2;
    mc_err_clear(err);
    int rc = mc_calendar_load(path, c, err);
    unlink(path);
    return rc;
}

MC_TEST(test_calendar_file_errors)
{
    mc_err_t err;
    mc_calendar_t *c = NULL;
    char path[64], want[160];

    /* a minimal valid file, with defaults */
    REQUIRE(load_text("years: [2030]\nholidays: []\n", &c, &err, path) == 0);
    CHECK_INT(mc_calendar_cutoff_minutes(c), 17 * 60);
    CHECK(mc_calendar_is_working_day(c, D(2030, 1, 1)));
    mc_calendar_destroy(&c);
    CHECK(c == NULL);

    CHECK(load_text("years: [2030]\nholidays: []\nholiday: []\n", &c, &err, path) == -1);
    snprintf(want, sizeof want, "%s:3:1: key 'holiday': unknown key in calendar", path);
    CHECK(strstr(err.text, want) != NULL);
    CHECK(c == NULL);

    CHECK(load_text("years: [2030]\nholidays:\n  - {date: 2030-02-30, name: x}\n"
                    "  - {date: 2031-01-01, name: y}\n"
                    "  - {from: 2030-05-02, to: 2030-05-01, name: z}\n"
                    "  - {date: 2030-01-01}\n"
                    "  - {date: 2030-01-01, from: 2030-01-01, to: 2030-01-02, name: w}\n",
                    &c, &err, path) == -1);
    snprintf(want, sizeof want, "%s:3:12: key 'date': expected a real date", path);
    CHECK(strstr(err.text, want) != NULL);
    CHECK(strstr(err.text, "2031 is not one of the calendar's years") != NULL);
    CHECK(strstr(err.text, "'from' is after 'to'") != NULL);
    CHECK(strstr(err.text, "key 'name': missing") != NULL);
    CHECK(strstr(err.text, "give either 'date'") != NULL);
    CHECK(err.count >= 5);

    CHECK(load_text("years: [2030]\nholidays: []\nworking_hours: [[\"8:00\", \"12:00\"]]\n",
                    &c, &err, path) == -1);
    CHECK(strstr(err.text, "expected a time \"HH:MM\"") != NULL);
    CHECK(load_text("years: [2030]\nholidays: []\n"
                    "working_hours: [[\"13:00\", \"17:00\"], [\"08:00\", \"12:00\"]]\n",
                    &c, &err, path) == -1);
    CHECK(strstr(err.text, "in order") != NULL);
    CHECK(load_text("years: [2030]\nholidays: []\nworking_hours: [[\"12:00\", \"08:00\"]]\n",
                    &c, &err, path) == -1);
    CHECK(load_text("years: [2030]\nholidays: []\ntimezone: \"+08:00\"\n", &c, &err, path) ==
          -1);
    CHECK(strstr(err.text, "+07:00") != NULL);
    CHECK(load_text("years: [2030]\nholidays: []\nlate_cutoff: \"18:00\"\n", &c, &err, path) ==
          -1);
    CHECK(load_text("years: [2030, 2030]\nholidays: []\n", &c, &err, path) == -1);
    CHECK(load_text("years: [\"2030\"]\nholidays: []\n", &c, &err, path) == -1);
    CHECK(load_text("holidays: []\n", &c, &err, path) == -1);
    CHECK(strstr(err.text, "key 'years': missing") != NULL);

    /* make-up days must be weekend days and not holidays */
    CHECK(load_text("years: [2030]\nholidays: [{date: 2030-01-05, name: h}]\n"
                    "makeup_working_days:\n  - {date: 2030-01-07, name: mon}\n"
                    "  - {date: 2030-01-05, name: sat}\n",
                    &c, &err, path) == -1);
    CHECK(strstr(err.text, "must be a Saturday or Sunday") != NULL);
    CHECK(strstr(err.text, "also listed as a holiday") != NULL);

    /* a custom calendar with one session and a make-up Sunday */
    REQUIRE(load_text("years: [2030]\nworking_hours: [[\"07:30\", \"11:30\"]]\n"
                      "late_cutoff: \"11:00\"\n"
                      "holidays: [{from: 2030-01-01, to: 2030-01-02, name: h}]\n"
                      "makeup_working_days: [{date: 2030-01-06, name: m}]\n",
                      &c, &err, path) == 0);
    CHECK(mc_calendar_is_working_day(c, D(2030, 1, 6)));
    CHECK(!mc_calendar_is_working_day(c, D(2030, 1, 2)));
    int64_t from = 0, due = 0;
    char b[40];
    /* Tue 31/12/2029 is outside; Tue 1/1/2030 10:00 is a holiday: deemed Thu 3/1 07:30 */
    REQUIRE(mc_calendar_due(c, at(2030, 1, 1, 10, 0), 2, MC_TIME_WORKING_DAYS, -1, &from, &due,
                            &err) == 0);
    CHECK_STR(iso(from, b), "2030-01-03T07:30:00+07:00");
    CHECK_STR(iso(due, b), "2030-01-06T11:30:00+07:00"); /* Fri 4/1, then Sunday 6/1 */
    mc_calendar_destroy(&c);
}

/* main - load the real calendar once, run every test */
int main(void)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_load("config/calendar.yaml", &cal, &err) < 0)
        printf("config/calendar.yaml: %s", err.text);
    mc_test_run(test_dates);
    mc_test_run(test_instants);
    mc_test_run(test_real_calendar_days);
    mc_test_run(test_due_working_days);
    mc_test_run(test_due_cutoff_and_weekend_receipt);
    mc_test_run(test_due_working_hours);
    mc_test_run(test_due_outside_years);
    mc_test_run(test_calendar_file_errors);
    mc_calendar_destroy(&cal);
    return mc_test_done("test_calendar");
}
