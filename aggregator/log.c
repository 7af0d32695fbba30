/* crosscount-aggregator: the event log (see log.h). */
#include "aggregator/log.h"

#include "protocol/date.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool
is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

void
cc_agg_log_scrub(char *line)
{
	size_t i = 0, j, k, digits;

	while (line[i] != '\0') {
		if (!is_hex(line[i])) {
			i++;
			continue;
		}
		for (j = i; is_hex(line[j]); j++)
			;
		/* A query id (32 hex characters) is kept whole. */
		if (j - i != 32) {
			for (k = i; k < j; k = digits > 0 ? k + digits : k + 1) {
				for (digits = 0; k + digits < j &&
				    line[k + digits] >= '0' && line[k + digits] <= '9';
				    digits++)
					;
				if (digits >= 6)
					memset(line + k, '#', digits);
			}
		}
		i = j;
	}
}

void
cc_agg_log(const char *fmt, ...)
{
	char line[1024], stamp[32];
	time_t now = time(NULL);
	va_list ap;

	if (cc_date_time_text(stamp, now) != 0)
		stamp[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cc_agg_log_scrub(line);
	/* One write per line, so concurrent lines never interleave. */
	fprintf(stderr, "%s crosscount-aggregator: %s\n", stamp, line);
}
