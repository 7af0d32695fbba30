/*
 * crosscount: calendar dates and months (proleptic Gregorian, no time zone).
 *
 * Months are also handled as a month index, year * 12 + (month - 1), so
 * that periods and ages are plain integer arithmetic.
 */
#ifndef CC_DATE_H
#define CC_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"

struct cc_date {
	int year;   /* 1000..9999 */
	int month;  /* 1..12 */
	int day;    /* 1..days in that month */
};

bool cc_date_is_leap(int year);
/* 0 for a month outside 1..12. */
int cc_date_days_in_month(int year, int month);
/* True if year 1000..9999, month 1..12, day within the month. */
bool cc_date_valid(int year, int month, int day);

/*
 * Parse "YYYY-MM-DD" or "YYYYMMDD" (exactly; nothing before or after).
 * Returns 0 or CC_ERR_FORMAT, with a reason in diag.
 */
int cc_date_parse(struct cc_date *ret_date, const char *text, size_t len,
    struct cc_diag *diag);

/* Today's date in UTC. 0, or CC_ERR_INTERNAL if the clock is unusable. */
int cc_date_today(struct cc_date *ret_date);

/* "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC): 20 characters and NUL. */
#define CC_DATE_TIME_TEXT 21

/*
 * Write t (seconds since the epoch) as a UTC time stamp, the one form
 * logs, the audit trail and the API use. 0, or CC_ERR_FORMAT (out is then
 * "") for a time outside the years 0000..9999.
 */
int cc_date_time_text(char out[CC_DATE_TIME_TEXT], int64_t t);

/* <0, 0, >0 like strcmp. */
int cc_date_cmp(const struct cc_date *a, const struct cc_date *b);

/* year * 12 + month - 1 */
int cc_date_month_index(const struct cc_date *d);

/* Parse "YYYY-MM" into a month index. 0 or CC_ERR_FORMAT. */
int cc_month_parse(int *ret_month_index, const char *text, size_t len,
    struct cc_diag *diag);

/*
 * Write "YYYY-MM" (8 bytes with NUL) for a month index; an index outside
 * 1000-01..9999-12 is written "0000-00".
 */
void cc_month_format(char out[8], int month_index);

/* Write "YYYY-MM-DD" (11 bytes with NUL); "0000-00-00" if not valid. */
void cc_date_format(char out[11], const struct cc_date *d);

/*
 * Completed years on date `on` for someone born in birth year/month/day.
 * With day 0 (birth day unknown) the person is taken to turn a year older
 * on the first of the birth month. A birthday missing from the year of
 * `on` (29 February) falls on the last day of that month, as in lag
 * (1930:173) om beräkning av lagstadgad tid. Negative when `on` is before
 * the birth date (or NULL).
 */
int cc_date_age(int birth_year, int birth_month, int birth_day,
    const struct cc_date *on);

#endif
