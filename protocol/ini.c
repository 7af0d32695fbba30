/*
 * crosscount: the strict INI reader of node.conf and aggregator.conf
 * (see ini.h).
 *
 * One line at a time into a buffer of CC_LIMIT_CONFIG_LINE bytes, at most
 * CC_LIMIT_CONFIG_LINES lines. A line over the limit is consumed whole and
 * its first bytes kept, so that the error can still name its key. Every
 * error says file, line and key, because an administrator edits these
 * files by hand and must find the mistake without reading our source.
 */
#include "protocol/ini.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define INI_LIST_MAX 200        /* the "known: ..." list in a diag */
#define INI_MSG_MAX 200         /* a caller's value message */
#define INI_SHORT_NAME 96

struct cc_ini {
	FILE *f;
	const char *name;               /* for messages */
	const struct cc_ini_schema *schema;
	unsigned long line;
	size_t section;                 /* current section; nsections = none */
	bool failed;
	bool nul;                       /* the line held a NUL byte */
	bool too_long;                  /* the line was cut at the limit */
	unsigned long *sec_line;        /* per section: its header line */
	unsigned long *key_line;        /* per key: first line given */
	char buf[CC_LIMIT_CONFIG_LINE + 1];
};

const char *
cc_ini_short_name(const char *name)
{
	const char *slash;

	if (name == NULL)
		return "";
	if (strlen(name) <= INI_SHORT_NAME)
		return name;
	slash = strrchr(name, '/');
	return slash != NULL ? slash + 1 : name;
}

int
cc_ini_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *ret_v)
{
	unsigned long v = 0;
	unsigned d;

	*ret_v = 0;
	if (s == NULL || *s == '\0')
		return CC_ERR_FORMAT;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return CC_ERR_FORMAT;
		d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return CC_ERR_FORMAT;
		v = v * 10 + d;
	}
	if (v < min)
		return CC_ERR_FORMAT;
	*ret_v = v;
	return 0;
}

size_t
cc_ini_split_list(char *s, char **items, size_t max, bool *ret_over,
    bool *ret_empty_item)
{
	size_t n = 0, len;
	char *item, *comma;

	*ret_over = false;
	*ret_empty_item = false;
	for (item = s;; item = comma + 1) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma = '\0';
		while (*item == ' ' || *item == '\t')
			item++;
		len = strlen(item);
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			item[--len] = '\0';
		if (len == 0)
			*ret_empty_item = true;
		else if (n >= max)
			*ret_over = true;
		else
			items[n++] = item;
		if (comma == NULL)
			break;
	}
	return n;
}

bool
cc_ini_no_controls(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
			return false;
	return true;
}

int
cc_ini_new(struct cc_ini **ret_ini, FILE *f, const char *name,
    const struct cc_ini_schema *schema, struct cc_diag *diag)
{
	struct cc_ini *ini = NULL;
	int r = CC_ERR_ALLOC;

	if (ret_ini == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_ini = NULL;
	if (f == NULL || schema == NULL || schema->nsections == 0 ||
	    schema->sections == NULL || (schema->nkeys > 0 && schema->keys == NULL)) {
		cc_diag_set(diag, "no file or no schema");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((ini = calloc(1, sizeof(*ini))) == NULL ||
	    (ini->sec_line = calloc(schema->nsections, sizeof(*ini->sec_line))) == NULL ||
	    (ini->key_line = calloc(schema->nkeys + 1, sizeof(*ini->key_line))) == NULL) {
		cc_diag_set(diag, "out of memory");
		goto out;
	}
	ini->f = f;
	ini->name = cc_ini_short_name(name != NULL ? name : "config");
	ini->schema = schema;
	ini->section = schema->nsections;
	*ret_ini = ini;
	ini = NULL;
	r = 0;
out:
	cc_ini_free(ini);
	return r;
}

void
cc_ini_free(struct cc_ini *ini)
{
	if (ini == NULL)
		return;
	free(ini->sec_line);
	free(ini->key_line);
	sodium_memzero(ini, sizeof(*ini));
	free(ini);
}

unsigned long
cc_ini_key_line(const struct cc_ini *ini, size_t key)
{
	if (ini == NULL || key >= ini->schema->nkeys)
		return 0;
	return ini->key_line[key];
}

const char *
cc_ini_name(const struct cc_ini *ini)
{
	return ini != NULL ? ini->name : "";
}

/*
 * Read the next line (without its LF or CRLF) into ini->buf. Returns 1 for
 * a line, 0 at end of file, CC_ERR_IO.
 */
static int
ini_read_line(struct cc_ini *ini)
{
	size_t n = 0;
	int ch;

	ini->nul = false;
	ini->too_long = false;
	for (;;) {
		ch = getc(ini->f);
		if (ch == EOF) {
			if (ferror(ini->f))
				return CC_ERR_IO;
			if (n == 0 && !ini->too_long)
				return 0;
			break;
		}
		if (ch == '\n')
			break;
		if (ch == '\0')
			ini->nul = true;
		if (n < CC_LIMIT_CONFIG_LINE)
			ini->buf[n++] = (char)ch;
		else
			ini->too_long = true;
	}
	if (n > 0 && ini->buf[n - 1] == '\r' && !ini->too_long)
		n--;
	ini->buf[n] = '\0';
	ini->line++;
	return 1;
}

static char *
ini_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static size_t
ini_find_key(const struct cc_ini_schema *sc, size_t sec, const char *name)
{
	size_t i;

	for (i = 0; i < sc->nkeys; i++)
		if (sc->keys[i].section == sec && strcmp(sc->keys[i].name, name) == 0)
			return i;
	return sc->nkeys;
}

/* "a, b, c": the section's keys, or the sections when sec is nsections. */
static void
ini_known(const struct cc_ini_schema *sc, size_t sec, char *out, size_t cap)
{
	size_t i, used = 0, count;
	const char *name;
	int n;

	out[0] = '\0';
	count = sec == sc->nsections ? sc->nsections : sc->nkeys;
	for (i = 0; i < count; i++) {
		if (sec == sc->nsections) {
			name = sc->sections[i];
		} else {
			if (sc->keys[i].section != sec)
				continue;
			/* A repeatable key is listed once. */
			if (i > 0 && ini_find_key(sc, sec, sc->keys[i].name) != i)
				continue;
			name = sc->keys[i].name;
		}
		n = snprintf(out + used, cap - used, "%s%s", used > 0 ? ", " : "",
		    name);
		if (n < 0 || (size_t)n >= cap - used)
			return;
		used += (size_t)n;
	}
}

/* A "[name]" line: s is trimmed and starts with '['. */
static int
ini_section(struct cc_ini *ini, char *s, struct cc_diag *diag)
{
	const struct cc_ini_schema *sc = ini->schema;
	char list[INI_LIST_MAX];
	char *close = strchr(s, ']');
	size_t i;

	if (ini->too_long || close == NULL || close[1] != '\0') {
		cc_diag_set(diag, "%s:%lu: a section header is [name] alone on its "
		    "line", ini->name, ini->line);
		return CC_ERR_CONFIG;
	}
	*close = '\0';
	s = ini_trim(s + 1);
	for (i = 0; i < sc->nsections; i++)
		if (strcmp(s, sc->sections[i]) == 0)
			break;
	if (i == sc->nsections) {
		ini_known(sc, sc->nsections, list, sizeof(list));
		cc_diag_set(diag, "%s:%lu: [%.40s]: unknown section (known: %s)",
		    ini->name, ini->line, s, list);
		return CC_ERR_CONFIG;
	}
	if (ini->sec_line[i] != 0) {
		cc_diag_set(diag, "%s:%lu: [%s]: section appears twice (first on "
		    "line %lu)", ini->name, ini->line, sc->sections[i],
		    ini->sec_line[i]);
		return CC_ERR_CONFIG;
	}
	ini->sec_line[i] = ini->line;
	ini->section = i;
	return 0;
}

/* A "key = value" line: 1 and the entry, or an error. */
static int
ini_key(struct cc_ini *ini, char *s, struct cc_ini_entry *e,
    struct cc_diag *diag)
{
	const struct cc_ini_schema *sc = ini->schema;
	char list[INI_LIST_MAX];
	char *eq, *key, *value;
	const char *secname;
	size_t k;

	eq = strchr(s, '=');
	if (eq != NULL)
		*eq = '\0';
	key = ini_trim(s);
	if (ini->too_long) {
		if (eq != NULL && ini->section != sc->nsections)
			cc_diag_set(diag, "%s:%lu: [%s] %.40s: line is longer than "
			    "%d bytes", ini->name, ini->line,
			    sc->sections[ini->section], key, CC_LIMIT_CONFIG_LINE);
		else
			cc_diag_set(diag, "%s:%lu: line is longer than %d bytes",
			    ini->name, ini->line, CC_LIMIT_CONFIG_LINE);
		return CC_ERR_CONFIG;
	}
	if (ini->section == sc->nsections) {
		cc_diag_set(diag, "%s:%lu: %.40s: key before any [section]",
		    ini->name, ini->line, key);
		return CC_ERR_CONFIG;
	}
	secname = sc->sections[ini->section];
	if (eq == NULL) {
		cc_diag_set(diag, "%s:%lu: [%s] %.40s: missing '=' (write key = "
		    "value)", ini->name, ini->line, secname, key);
		return CC_ERR_CONFIG;
	}
	if ((k = ini_find_key(sc, ini->section, key)) == sc->nkeys) {
		ini_known(sc, ini->section, list, sizeof(list));
		cc_diag_set(diag, "%s:%lu: [%s] %.40s: unknown key (known: %s)",
		    ini->name, ini->line, secname, key, list);
		return CC_ERR_CONFIG;
	}
	if (ini->key_line[k] != 0 && !sc->keys[k].repeatable) {
		cc_diag_set(diag, "%s:%lu: [%s] %s: set twice (first on line %lu)",
		    ini->name, ini->line, secname, sc->keys[k].name,
		    ini->key_line[k]);
		return CC_ERR_CONFIG;
	}
	if (ini->key_line[k] == 0)
		ini->key_line[k] = ini->line;
	value = ini_trim(eq + 1);
	e->line = ini->line;
	e->section = ini->section;
	e->key = k;
	e->value = value;
	e->comment_char = strpbrk(value, "#;") != NULL;
	if (value[0] == '\0')
		return cc_ini_value_error(ini, e, diag, "has no value (comment the "
		    "line out with # to use the default)");
	return 1;
}

int
cc_ini_next(struct cc_ini *ini, struct cc_ini_entry *ret_entry,
    struct cc_diag *diag)
{
	struct cc_ini_entry e = { 0 };
	char *s;
	int r, lr;

	if (ret_entry == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_entry, 0, sizeof(*ret_entry));
	if (ini == NULL || ini->failed) {
		cc_diag_set(diag, "the configuration reader already failed");
		return CC_ERR_INVALID_ARGUMENT;
	}
	r = CC_ERR_CONFIG;
	while ((lr = ini_read_line(ini)) == 1) {
		s = ini->buf;
		if (ini->line == 1 && (unsigned char)s[0] == 0xEF &&
		    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
			s += 3;                     /* Notepad's UTF-8 BOM */
		if (ini->line > CC_LIMIT_CONFIG_LINES) {
			cc_diag_set(diag, "%s:%lu: more than %d lines", ini->name,
			    ini->line, CC_LIMIT_CONFIG_LINES);
			goto out;
		}
		if (ini->nul) {
			cc_diag_set(diag, "%s:%lu: NUL byte: this is not a text file",
			    ini->name, ini->line);
			goto out;
		}
		s = ini_trim(s);
		if (s[0] == '\0' || s[0] == '#' || s[0] == ';') {
			if (ini->too_long) {
				cc_diag_set(diag, "%s:%lu: line is longer than %d bytes",
				    ini->name, ini->line, CC_LIMIT_CONFIG_LINE);
				goto out;
			}
			continue;
		}
		if (s[0] == '[') {
			if ((r = ini_section(ini, s, diag)) != 0)
				goto out;
			r = CC_ERR_CONFIG;
			continue;
		}
		if ((r = ini_key(ini, s, &e, diag)) != 1)
			goto out;
		*ret_entry = e;
		return 1;
	}
	if (lr < 0) {
		cc_diag_set(diag, "%s:%lu: read error", ini->name, ini->line + 1);
		r = CC_ERR_IO;
		goto out;
	}
	return 0;
out:
	ini->failed = true;
	return r;
}

int
cc_ini_value_error(const struct cc_ini *ini, const struct cc_ini_entry *e,
    struct cc_diag *diag, const char *fmt, ...)
{
	char msg[INI_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ini == NULL || e == NULL || e->section >= ini->schema->nsections ||
	    e->key >= ini->schema->nkeys) {
		cc_diag_set(diag, "%s", msg);
		return CC_ERR_CONFIG;
	}
	cc_diag_set(diag, "%s:%lu: [%s] %s: %s%s", ini->name, e->line,
	    ini->schema->sections[e->section], ini->schema->keys[e->key].name,
	    msg, e->comment_char ? " (comments go on their own line)" : "");
	return CC_ERR_CONFIG;
}

void
cc_ini_text_add(struct cc_ini_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t == NULL || !t->ok)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len) {
		t->ok = false;
		return;
	}
	t->len += (size_t)n;
}
