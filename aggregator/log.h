/*
 * crosscount-aggregator: the event log, one line per event on stderr
 * (journald adds its own fields; the timestamp is for plain files).
 * Never an identity, a token or a secret: callers log ids, counts,
 * digests and reasons only (reasons never quote identities, see error.h).
 */
#ifndef CC_AGG_LOG_H
#define CC_AGG_LOG_H

void cc_agg_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * What cc_agg_log does to every line, in place: a client chooses the path
 * it sends, so any run of six or more decimal digits is masked with '#',
 * except inside a run of exactly 32 hex characters (a query id).
 */
void cc_agg_log_scrub(char *line);

#endif
