/*
 * mc_calendar - working days, working hours and due dates.
 *
 * Contract: a calendar holds the working week (Monday to Friday), the
 * working hours of a day (two sessions, default 08:00-12:00 and
 * 13:00-17:00), public holidays (non-working) and make-up days (ngày làm bù:
 * a Saturday or Sunday declared a working day), loaded from calendar.yaml.
 * All times are Vietnam time, UTC+07:00, which has no daylight saving; an
 * instant is int64 seconds since the Unix epoch.
 *
 * The due-date rule (docs/rules.md cites the sources):
 *   1. The receipt is "deemed" on the day it arrives when that day is a
 *      working day and it arrives before the cut-off (calendar late_cutoff,
 *      or the procedure's own); otherwise it is deemed received at the start
 *      of the next working day.
 *   2. Working days: the day of receipt is not counted (Civil Code 2015,
 *      art. 147); the result is due at the end of the working hours of the
 *      N-th working day after the deemed day. N = 0 means the same day.
 *   3. Working hours: N working hours are added from the deemed moment,
 *      walking only through working sessions of working days.
 * The calendar covers a bounded range of years (those listed in the file);
 * computing a due date beyond it fails instead of guessing.
 */
#ifndef MC_CALENDAR_H
#define MC_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_yaml.h"

#define MC_TZ_OFFSET_SECONDS (7 * 3600) /* Asia/Ho_Chi_Minh, no DST */

typedef struct mc_date {
    int year;  /* e.g. 2025 */
    int month; /* 1..12 */
    int day;   /* 1..31 */
} mc_date_t;

typedef enum mc_time_unit {
    MC_TIME_WORKING_DAYS  = 0,
    MC_TIME_WORKING_HOURS = 1,
} mc_time_unit_t;

typedef struct mc_calendar mc_calendar_t;

/* mc_calendar_load - read calendar.yaml; unknown keys and bad dates fail */
int mc_calendar_load(const char *path, mc_calendar_t **cal, mc_err_t *err);

/* mc_calendar_from_yaml - build from an already-parsed document root */
int mc_calendar_from_yaml(const mc_yaml_node_t *root, mc_calendar_t **cal, mc_err_t *err);

/* mc_calendar_destroy - free and NULL the caller's pointer */
void mc_calendar_destroy(mc_calendar_t **cal);

/* mc_calendar_is_working_day - weekday not a holiday, or a make-up day */
bool mc_calendar_is_working_day(const mc_calendar_t *cal, mc_date_t date);

/* mc_calendar_covers - is the date's year described by the calendar? */
bool mc_calendar_covers(const mc_calendar_t *cal, mc_date_t date);

/* mc_calendar_cutoff_minutes - the default late cut-off, minutes after midnight */
int mc_calendar_cutoff_minutes(const mc_calendar_t *cal);

/*
 * mc_calendar_due - apply the due-date rule above.
 * cutoff_minutes < 0 means the calendar's default. On success fills
 * *counted_from (the deemed moment the time starts to run) and *due_at.
 * Fails when the dates fall outside the calendar's years.
 */
int mc_calendar_due(const mc_calendar_t *cal, int64_t received_at, int amount,
                    mc_time_unit_t unit, int cutoff_minutes,
                    int64_t *counted_from, int64_t *due_at, mc_err_t *err);

/* mc_date_of - the local (UTC+7) date and minute-of-day of an instant */
mc_date_t mc_date_of(int64_t instant, int *minute_of_day);

/* mc_instant_of - the instant of a local date at minute-of-day */
int64_t mc_instant_of(mc_date_t date, int minute_of_day);

/* mc_date_parse - "YYYY-MM-DD" (a real date) to mc_date_t; -1 if invalid */
int mc_date_parse(const char *text, mc_date_t *date);

/* mc_date_weekday - 0 = Sunday .. 6 = Saturday */
int mc_date_weekday(mc_date_t date);

/* mc_date_add_days - date plus n days (n may be negative) */
mc_date_t mc_date_add_days(mc_date_t date, int n);

/* mc_format_local - "HH giờ MM phút, ngày DD/MM/YYYY" for receipts */
const char *mc_format_local(int64_t instant, char *buf, unsigned size);

/* mc_format_iso - "YYYY-MM-DDTHH:MM:SS+07:00" */
const char *mc_format_iso(int64_t instant, char *buf, unsigned size);

#endif
