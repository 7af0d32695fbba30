/* Unit tests: the aggregator's event log never carries a personnummer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aggregator/log.h"

static void
scrub(const char *in, const char *want)
{
	char line[256];

	strcpy(line, in);
	cc_agg_log_scrub(line);
	assert_string_equal(line, want);
}

static void
digit_runs_are_masked_query_ids_kept(void **state)
{
	(void)state;
	scrub("GET /api/v1/queries/191212121212 from 127.0.0.1:5: 404 x",
	    "GET /api/v1/queries/############ from 127.0.0.1:5: 404 x");
	scrub("no such endpoint: /x/19121212-1212",
	    "no such endpoint: /x/########-1212");
	scrub("/x/121212+1212", "/x/######+1212");
	scrub("query c304fc9237722fa13152b357d591e3a4 released",
	    "query c304fc9237722fa13152b357d591e3a4 released");
	/* 33 hex characters is not a query id. */
	scrub("c304fc9237722fa13152b357d591e3a41234567",
	    "c304fc#######fa13152b357d591e3a########");
	scrub("port 8443, 5 steps, 2025-12", "port 8443, 5 steps, 2025-12");
	scrub("", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digit_runs_are_masked_query_ids_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
