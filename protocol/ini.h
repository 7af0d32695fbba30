/*
 * crosscount: the INI dialect of node.conf and aggregator.conf, read
 * strictly, one line at a time.
 *
 * A file in UTF-8 (a BOM on the first line is skipped; LF or CRLF):
 * "[section]" headers alone on their line, "key = value" lines, '#' or
 * ';' comments on their own lines (never after a value), spaces and tabs
 * around names and values trimmed. Names are matched exactly (the schema
 * spells them in lower case).
 *
 * The reader knows the file's schema (its sections and keys) and refuses,
 * with a diag naming the file and line ("node.conf:12: [policy] min_cell:
 * ..."): a line over CC_LIMIT_CONFIG_LINE bytes, more than
 * CC_LIMIT_CONFIG_LINES lines, a NUL byte, a malformed or unknown or
 * repeated section header, a key before any section, a line without
 * '=', an unknown key (the diag lists the section's keys), a key given
 * twice (unless the schema marks it repeatable) and an empty value.
 * Everything about the value itself is the caller's: it parses the value
 * and reports a problem with cc_ini_value_error(), which words it the
 * same way.
 *
 * Nothing read is ever printed whole: diags quote at most 40 bytes of a
 * name and never a value.
 */
#ifndef CC_INI_H
#define CC_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "protocol/error.h"
#include "protocol/limits.h"

struct cc_ini_key {
	size_t section;         /* index into cc_ini_schema.sections */
	const char *name;
	bool repeatable;        /* may be given on several lines (e.g. grid) */
};

struct cc_ini_schema {
	const char *const *sections;
	size_t nsections;
	const struct cc_ini_key *keys;
	size_t nkeys;
};

/* One "key = value" line, as cc_ini_next() hands it out. */
struct cc_ini_entry {
	unsigned long line;     /* 1-based line number */
	size_t section;         /* index into the schema's sections */
	size_t key;             /* index into the schema's keys */
	/*
	 * The trimmed value, never empty. It points into the reader's line
	 * buffer: the caller may modify it in place (e.g. split a list) and
	 * it is valid until the next cc_ini_next() or cc_ini_free().
	 */
	char *value;
	/* The value holds '#' or ';' (probably a comment after it). */
	bool comment_char;
};

struct cc_ini;

/*
 * A reader of f (the caller's; read to its end, never closed here).
 * name is used in messages only: a long path is shortened to its last
 * component. schema is borrowed and must outlive the reader.
 */
int cc_ini_new(struct cc_ini **ret_ini, FILE *f, const char *name,
    const struct cc_ini_schema *schema, struct cc_diag *diag);
/* Wipes the line buffer (values may be secrets' paths) and frees. */
void cc_ini_free(struct cc_ini *ini);

/*
 * The next entry: 1 and *ret_entry filled, 0 at the end of the file, or
 * CC_ERR_CONFIG (the file is wrong) / CC_ERR_IO (it cannot be read) with
 * the diag set. After an error the reader must not be used again.
 */
int cc_ini_next(struct cc_ini *ini, struct cc_ini_entry *ret_entry,
    struct cc_diag *diag);

/*
 * Report a bad value of entry e: diag becomes
 * "FILE:LINE: [section] key: MESSAGE" plus " (comments go on their own
 * line)" when the value holds a comment character. Returns CC_ERR_CONFIG.
 */
int cc_ini_value_error(const struct cc_ini *ini, const struct cc_ini_entry *e,
    struct cc_diag *diag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The line a key was (last) given on, 0 if it was not given. */
unsigned long cc_ini_key_line(const struct cc_ini *ini, size_t key);
/* The file name as messages show it. */
const char *cc_ini_name(const struct cc_ini *ini);

/*
 * A name short enough to leave room for a message: name itself if it is
 * at most 96 bytes, else its last path component.
 */
const char *cc_ini_short_name(const char *name);

/*
 * A whole number of plain ASCII digits (no sign, no space, no "0x"), in
 * [min, max]. Overflow is checked before it can happen. CC_ERR_FORMAT
 * otherwise (*ret_v is then 0).
 */
int cc_ini_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *ret_v);

/*
 * Split a comma-separated list in place into at most max trimmed items.
 * *ret_over is set if there were more, *ret_empty_item if an item was
 * empty (e.g. "a,,b" or "a,"). Returns the number of items stored.
 */
size_t cc_ini_split_list(char *s, char **items, size_t max, bool *ret_over,
    bool *ret_empty_item);

/* true if s holds no control character other than tab (and no DEL). */
bool cc_ini_no_controls(const char *s);

/*
 * The text of a generated configuration file (node.conf, aggregator.conf),
 * built in a fixed buffer: set ok = true first; an addition that does not
 * fit turns ok false and every later one is ignored, so the caller checks
 * ok once at the end.
 */
#define CC_INI_TEXT_MAX 16384
struct cc_ini_text {
	char buf[CC_INI_TEXT_MAX];
	size_t len;
	bool ok;
};

void cc_ini_text_add(struct cc_ini_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
