/*
 * crosscount-aggregator: aggregator.conf, read and written (config.h).
 *
 * Lines, sections and keys are read by the shared strict INI reader
 * (protocol/ini.h); every value is parsed here exactly, and every error
 * names the file, the line and the key. The federation policy it holds is
 * SPEC 7.2.
 */
#include "aggregator/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/file.h"
#include "protocol/ini.h"

#define AGG_CONF_FILE "aggregator.conf"
#define AGG_DEADLINE_MAX 10080      /* a week, in minutes */
#define AGG_SESSION_HOURS_MAX 168   /* a week */
#define AGG_PEER_BATCH_MIN 64       /* SPEC 8.5: no batch is smaller */

enum { SEC_SERVER, SEC_POLICY, SEC_COUNT_ };

static const char *const section_names[SEC_COUNT_] = { "server", "policy" };

enum agg_key {
	K_LISTEN, K_PORT, K_CERT, K_KEY, K_CA, K_WEB_ROOT,
	K_MIN_CELL_FLOOR, K_DEADLINE, K_MAX_PERIOD, K_ALIGN, K_ALLOW_SEX,
	K_GRID, K_SESSION_HOURS, K_MAX_BATCH,
	K_COUNT_,
};

static const struct cc_ini_key keys[K_COUNT_] = {
	[K_LISTEN] = { SEC_SERVER, "listen", false },
	[K_PORT] = { SEC_SERVER, "port", false },
	[K_CERT] = { SEC_SERVER, "cert", false },
	[K_KEY] = { SEC_SERVER, "key", false },
	[K_CA] = { SEC_SERVER, "ca", false },
	[K_WEB_ROOT] = { SEC_SERVER, "web_root", false },
	[K_MIN_CELL_FLOOR] = { SEC_POLICY, "min_cell_floor", false },
	[K_DEADLINE] = { SEC_POLICY, "deadline_minutes", false },
	[K_MAX_PERIOD] = { SEC_POLICY, "max_period_months", false },
	[K_ALIGN] = { SEC_POLICY, "period_align_months", false },
	[K_ALLOW_SEX] = { SEC_POLICY, "allow_sex", false },
	[K_GRID] = { SEC_POLICY, "grid", true },
	[K_SESSION_HOURS] = { SEC_POLICY, "session_hours", false },
	[K_MAX_BATCH] = { SEC_POLICY, "max_peer_batch", false },
};

static const struct cc_ini_schema schema = {
	section_names, SEC_COUNT_, keys, K_COUNT_,
};

/* A numeric key: its range, for parsing and for the message. */
static int
set_uint(const struct cc_ini *ini, const struct cc_ini_entry *e,
    unsigned long min, unsigned long max, unsigned long *ret_v,
    struct cc_diag *diag)
{
	if (cc_ini_parse_uint(e->value, min, max, ret_v) != 0)
		return cc_ini_value_error(ini, e, diag, "must be a whole number "
		    "from %lu to %lu", min, max);
	return 0;
}

/*
 * A path, relative to the aggregator directory unless absolute; stored
 * resolved so that nobody has to remember what it was relative to.
 */
static int
set_path(char *dst, size_t cap, const char *dir, const struct cc_ini *ini,
    const struct cc_ini_entry *e, struct cc_diag *diag)
{
	int n;

	if (!cc_ini_no_controls(e->value))
		return cc_ini_value_error(ini, e, diag, "must not contain control "
		    "characters");
	if (e->value[0] == '/')
		n = snprintf(dst, cap, "%s", e->value);
	else
		n = snprintf(dst, cap, "%s/%s", dir, e->value);
	if (n < 0 || (size_t)n >= cap) {
		dst[0] = '\0';
		return cc_ini_value_error(ini, e, diag, "the path is longer than "
		    "%zu bytes", cap - 1);
	}
	return 0;
}

/* An IPv4 or IPv6 address literal: no name lookups at start-up. */
static int
set_listen(struct cc_agg_config *cfg, const struct cc_ini *ini,
    const struct cc_ini_entry *e, struct cc_diag *diag)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (strlen(e->value) >= sizeof(cfg->listen) ||
	    (inet_pton(AF_INET, e->value, addr) != 1 &&
	    inet_pton(AF_INET6, e->value, addr) != 1))
		return cc_ini_value_error(ini, e, diag, "must be an IPv4 or IPv6 "
		    "address such as 127.0.0.1, 0.0.0.0 or ::1");
	memcpy(cfg->listen, e->value, strlen(e->value) + 1);
	return 0;
}

/*
 * One age-band grid, "lo-hi,lo-hi,...", with the rules of a query's
 * age_bands (SPEC 7.2): 1..CC_LIMIT_AGE_BANDS bands, 0 <= lo <= hi <=
 * CC_LIMIT_AGE, each lo above the previous hi. Parsed into *ret_grid; msg
 * says what is wrong.
 */
static int
parse_grid(struct cc_query_grid *ret_grid, char *value, char *msg,
    size_t msglen)
{
	char *items[CC_LIMIT_AGE_BANDS];
	unsigned long lo, hi;
	bool over, empty;
	char *dash;
	size_t n, i;

	memset(ret_grid, 0, sizeof(*ret_grid));
	n = cc_ini_split_list(value, items, CC_LIMIT_AGE_BANDS, &over, &empty);
	if (over) {
		snprintf(msg, msglen, "at most %d age bands", CC_LIMIT_AGE_BANDS);
		return CC_ERR_FORMAT;
	}
	if (empty || n == 0) {
		snprintf(msg, msglen, "must be age bands LO-HI separated by commas, "
		    "e.g. 0-5,6-12,13-17, with none empty");
		return CC_ERR_FORMAT;
	}
	for (i = 0; i < n; i++) {
		if ((dash = strchr(items[i], '-')) == NULL) {
			snprintf(msg, msglen, "band %zu: write LO-HI, e.g. 6-12", i + 1);
			return CC_ERR_FORMAT;
		}
		*dash = '\0';
		if (cc_ini_parse_uint(items[i], 0, CC_LIMIT_AGE, &lo) != 0 ||
		    cc_ini_parse_uint(dash + 1, 0, CC_LIMIT_AGE, &hi) != 0) {
			snprintf(msg, msglen, "band %zu: ages are whole numbers from 0 "
			    "to %d", i + 1, CC_LIMIT_AGE);
			return CC_ERR_FORMAT;
		}
		if (lo > hi) {
			snprintf(msg, msglen, "band %zu: %lu-%lu is empty (LO must not "
			    "exceed HI)", i + 1, lo, hi);
			return CC_ERR_FORMAT;
		}
		if (i > 0 && (int)lo <= ret_grid->bands[i - 1].hi) {
			snprintf(msg, msglen, "band %zu: must start above the previous "
			    "band's %d", i + 1, ret_grid->bands[i - 1].hi);
			return CC_ERR_FORMAT;
		}
		ret_grid->bands[i].lo = (int)lo;
		ret_grid->bands[i].hi = (int)hi;
	}
	ret_grid->nbands = n;
	return 0;
}

static bool
grid_equal(const struct cc_query_grid *a, const struct cc_query_grid *b)
{
	size_t i;

	if (a->nbands != b->nbands)
		return false;
	for (i = 0; i < a->nbands; i++)
		if (a->bands[i].lo != b->bands[i].lo || a->bands[i].hi != b->bands[i].hi)
			return false;
	return true;
}

/* grid = none: no query may break down by age (only on its own). */
static int
set_grid(struct cc_agg_config *cfg, bool *none, const struct cc_ini *ini,
    const struct cc_ini_entry *e, struct cc_diag *diag)
{
	struct cc_query_grid g;
	char msg[160];
	size_t i;

	if (strcmp(e->value, "none") == 0 || *none) {
		if (cfg->ngrids > 0 || *none)
			return cc_ini_value_error(ini, e, diag, "\"none\" (no breakdown "
			    "by age) cannot be combined with other grid lines");
		*none = true;
		return 0;
	}
	if (cfg->ngrids == CC_AGG_MAX_GRIDS)
		return cc_ini_value_error(ini, e, diag, "at most %d grid lines",
		    CC_AGG_MAX_GRIDS);
	if (parse_grid(&g, e->value, msg, sizeof(msg)) != 0)
		return cc_ini_value_error(ini, e, diag, "%s", msg);
	for (i = 0; i < cfg->ngrids; i++)
		if (grid_equal(&g, &cfg->grids[i]))
			return cc_ini_value_error(ini, e, diag, "the same grid is "
			    "already given on an earlier line");
	cfg->grids[cfg->ngrids++] = g;
	return 0;
}

static void
config_defaults(struct cc_agg_config *cfg, const char *dir)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->dir, sizeof(cfg->dir), "%s", dir);
	memcpy(cfg->listen, "127.0.0.1", sizeof("127.0.0.1"));
	cfg->port = 8443;
	cc_federation_policy_defaults(&cfg->policy);
	cfg->ngrids = 0;
	cfg->deadline_minutes = 60;
	cfg->session_hours = 8;
	cfg->max_batch = CC_LIMIT_BATCH_ELEMENTS;
}

static int
config_set(struct cc_agg_config *cfg, bool *grid_none,
    const struct cc_ini *ini, const struct cc_ini_entry *e,
    struct cc_diag *diag)
{
	unsigned long v;
	int r;

	switch ((enum agg_key)e->key) {
	case K_LISTEN:
		return set_listen(cfg, ini, e, diag);
	case K_PORT:
		if ((r = set_uint(ini, e, 0, 65535, &v, diag)) == 0)
			cfg->port = (uint16_t)v;
		return r;
	case K_CERT:
		return set_path(cfg->cert_file, sizeof(cfg->cert_file), cfg->dir,
		    ini, e, diag);
	case K_KEY:
		return set_path(cfg->key_file, sizeof(cfg->key_file), cfg->dir,
		    ini, e, diag);
	case K_CA:
		return set_path(cfg->ca_file, sizeof(cfg->ca_file), cfg->dir,
		    ini, e, diag);
	case K_WEB_ROOT:
		return set_path(cfg->web_root, sizeof(cfg->web_root), cfg->dir,
		    ini, e, diag);
	case K_MIN_CELL_FLOOR:
		if ((r = set_uint(ini, e, 1, CC_LIMIT_MIN_CELL, &v, diag)) == 0)
			cfg->policy.min_cell_floor = (uint32_t)v;
		return r;
	case K_DEADLINE:
		if ((r = set_uint(ini, e, 1, AGG_DEADLINE_MAX, &v, diag)) == 0)
			cfg->deadline_minutes = (int)v;
		return r;
	case K_MAX_PERIOD:
		if ((r = set_uint(ini, e, 1, CC_LIMIT_PERIOD_MONTHS, &v, diag)) == 0)
			cfg->policy.max_period_months = (unsigned)v;
		return r;
	case K_ALIGN:
		if (cc_ini_parse_uint(e->value, 1, 12, &v) != 0 || 12 % v != 0)
			return cc_ini_value_error(ini, e, diag, "must be 1, 2, 3, 4, "
			    "6 or 12 (a whole number of blocks per year)");
		cfg->policy.period_align_months = (unsigned)v;
		return 0;
	case K_ALLOW_SEX:
		if (strcasecmp(e->value, "yes") == 0 ||
		    strcasecmp(e->value, "true") == 0)
			cfg->policy.allow_sex = true;
		else if (strcasecmp(e->value, "no") == 0 ||
		    strcasecmp(e->value, "false") == 0)
			cfg->policy.allow_sex = false;
		else
			return cc_ini_value_error(ini, e, diag, "must be yes or no");
		return 0;
	case K_GRID:
		return set_grid(cfg, grid_none, ini, e, diag);
	case K_SESSION_HOURS:
		if ((r = set_uint(ini, e, 1, AGG_SESSION_HOURS_MAX, &v, diag)) == 0)
			cfg->session_hours = (int)v;
		return r;
	case K_MAX_BATCH:
		if ((r = set_uint(ini, e, AGG_PEER_BATCH_MIN,
		    CC_LIMIT_BATCH_ELEMENTS, &v, diag)) == 0)
			cfg->max_batch = (uint32_t)v;
		return r;
	case K_COUNT_:
		break;
	}
	cc_diag_set(diag, "internal: unknown key");
	return CC_ERR_INTERNAL;
}

int
cc_agg_config_parse_file(struct cc_agg_config *ret_cfg, FILE *f,
    const char *dir, const char *name, struct cc_diag *diag)
{
	struct cc_agg_config *cfg = NULL;
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	const struct cc_query_grid *def;
	bool grid_none = false;
	size_t ndef;
	int r = CC_ERR_INTERNAL, nr;

	if (ret_cfg == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_cfg, 0, sizeof(*ret_cfg));
	if (f == NULL || dir == NULL) {
		cc_diag_set(diag, "no file or no directory");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (strlen(dir) >= sizeof(cfg->dir)) {
		cc_diag_set(diag, "the directory path is longer than %d bytes",
		    CC_AGG_PATH_MAX - 1);
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		cc_diag_set(diag, "out of memory");
		return CC_ERR_ALLOC;
	}
	config_defaults(cfg, dir);
	if ((r = cc_ini_new(&ini, f, name != NULL ? name : AGG_CONF_FILE,
	    &schema, diag)) != 0)
		goto out;
	while ((nr = cc_ini_next(ini, &e, diag)) == 1)
		if ((r = config_set(cfg, &grid_none, ini, &e, diag)) != 0)
			goto out;
	if (nr < 0) {
		r = nr;
		goto out;
	}
	if (cfg->ngrids == 0 && !grid_none) {
		/* SPEC 7.2: the default grids when the operator names none. */
		def = cc_query_default_grids(&ndef);
		if (ndef > CC_AGG_MAX_GRIDS)
			ndef = CC_AGG_MAX_GRIDS;
		memcpy(cfg->grids, def, ndef * sizeof(*def));
		cfg->ngrids = ndef;
	}
	memcpy(ret_cfg, cfg, sizeof(*cfg));
	/* The policy points into the caller's copy, not ours. */
	ret_cfg->policy.grids = ret_cfg->grids;
	ret_cfg->policy.ngrids = ret_cfg->ngrids;
	r = 0;
out:
	cc_ini_free(ini);
	free(cfg);
	return r;
}

int
cc_agg_config_load(struct cc_agg_config *ret_cfg, const char *dir,
    struct cc_diag *diag)
{
	char path[CC_AGG_PATH_MAX];
	FILE *f;
	int r, n;

	if (ret_cfg == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_cfg, 0, sizeof(*ret_cfg));
	if (dir == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	n = snprintf(path, sizeof(path), "%s/%s", dir, AGG_CONF_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		cc_diag_set(diag, "the directory path is too long");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((f = fopen(path, "re")) == NULL) {
		r = errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
		cc_diag_set(diag, "%s: %s", cc_ini_short_name(path), strerror(errno));
		return r;
	}
	r = cc_agg_config_parse_file(ret_cfg, f, dir, path, diag);
	fclose(f);
	return r;
}

/* ---- the generated file ------------------------------------------------- */

static void
config_text(struct cc_ini_text *t, const char *cert, const char *key,
    const char *ca, uint16_t port)
{
	cc_ini_text_add(t,
"# crosscount aggregator configuration (aggregator.conf)\n"
"#\n"
"# Written by `crosscount-aggregator init`; edit it by hand and restart\n"
"# `crosscount-aggregator serve` after a change.\n"
"#\n"
"#   [section]     starts a section\n"
"#   key = value   sets a key in that section\n"
"#   # or ;        at the start of a line makes the line a comment\n"
"#\n"
"# Comments must be on their own line, never after a value. Each key may\n"
"# be set once (except grid). A misspelt section or key is an error,\n"
"# never silently ignored. A key that is left out (or commented out)\n"
"# takes its default, which is the value written below.\n"
"\n"
"[server]\n"
"# The address to listen on: an IPv4 or IPv6 address, e.g. 127.0.0.1\n"
"# (this machine only, behind a reverse proxy) or 0.0.0.0 (every\n"
"# interface). Default 127.0.0.1.\n"
"listen = 127.0.0.1\n"
"\n"
"# The TCP port for HTTPS: 1 to 65535, or 0 for any free port (tests).\n"
"# Default 8443.\n"
"port = %u\n"
"\n", (unsigned)port);
	cc_ini_text_add(t,
"# TLS files (PEM). Relative paths are relative to this directory.\n"
"#   cert  the aggregator's server certificate (chain), from the\n"
"#         federation PKI (deploy/pki server DIR NAME)\n"
"#   key   its private key (readable by the aggregator only)\n"
"#   ca    the federation CA: node certificates must chain to it\n"
"# All three are required to serve; there are no defaults.\n"
"%scert = %s\n"
"%skey = %s\n"
"%sca = %s\n"
"\n"
"# A directory of static files for the analysts' web UI, served at /.\n"
"# Default: no web UI.\n"
"# web_root = web\n"
"\n",
	    cert != NULL ? "" : "# ", cert != NULL ? cert : "server.crt",
	    key != NULL ? "" : "# ", key != NULL ? key : "server.key",
	    ca != NULL ? "" : "# ", ca != NULL ? ca : "ca.crt");
	cc_ini_text_add(t,
"[policy]\n"
"# The federation policy (SPEC 7.2): what a query may ask for.\n"
"#\n"
"# The lowest min_cell a query may use: counts below it are suppressed in\n"
"# every released table. 1 to 1000. Default 5.\n"
"min_cell_floor = 5\n"
"\n"
"# How long a query may take, from submission to release, in minutes:\n"
"# nodes that have not approved or done their steps by then fail it.\n"
"# 1 to 10080. Default 60.\n"
"deadline_minutes = 60\n"
"\n"
"# The longest period a query may cover, in months: 1 to 120.\n"
"# Default 120.\n"
"max_period_months = 120\n"
"\n"
"# Periods must consist of whole blocks of this many months counted from\n"
"# January (1 any months, 3 quarters, 12 calendar years): fixed period\n"
"# grids limit differencing between queries. 1, 2, 3, 4, 6 or 12.\n"
"# Default 1.\n"
"period_align_months = 1\n"
"\n"
"# Whether a query may break its counts down by sex: yes or no.\n"
"# Default yes.\n"
"allow_sex = yes\n"
"\n"
"# The age-band grids a query broken down by age may use, one per line,\n"
"# bands LO-HI (ages in completed years) separated by commas, e.g.\n"
"#   grid = 0-5,6-12,13-17\n"
"#   grid = 0-17\n"
"# A query must use one of them exactly: fixed grids keep queries from\n"
"# being differenced into small counts. Write grid = none to allow no\n"
"# breakdown by age. At most %d lines. Default (no grid line): the\n"
"# grids 0-5,6-12,13-17 / 0-2,3-5,6-9,10-12,13-15,16-17 / 0-17 /\n"
"# 6-9,10-12,13-15 / 6-15 / 0-17,18-24 / 13-17,18-20,21-24.\n"
"# grid = 0-5,6-12,13-17\n"
"\n"
"# How long a web session lasts after signing in, in hours: 1 to 168.\n"
"# Default 8.\n"
"session_hours = 8\n"
"\n"
"# The largest batch, in records including padding, accepted from a\n"
"# node: 64 to %u. Default %u.\n"
"max_peer_batch = %u\n",
	    CC_AGG_MAX_GRIDS, (unsigned)CC_LIMIT_BATCH_ELEMENTS,
	    (unsigned)CC_LIMIT_BATCH_ELEMENTS, (unsigned)CC_LIMIT_BATCH_ELEMENTS);
}

/* A path goes into the file as one value: it must read back the same. */
static bool
path_writable(const char *p)
{
	size_t n;

	if (p == NULL)
		return true;
	n = strlen(p);
	return n > 0 && n < CC_AGG_PATH_MAX && cc_ini_no_controls(p) &&
	    p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t';
}

int
cc_agg_config_write_new(const char *dir, const char *cert, const char *key,
    const char *ca, uint16_t port, struct cc_diag *diag)
{
	struct cc_ini_text *t = NULL;
	char path[CC_AGG_PATH_MAX];
	int r = CC_ERR_INTERNAL, n;

	if (dir == NULL || !path_writable(cert) || !path_writable(key) ||
	    !path_writable(ca)) {
		cc_diag_set(diag, "a TLS file path is empty, too long, or has "
		    "control characters or surrounding spaces");
		return CC_ERR_INVALID_ARGUMENT;
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir, AGG_CONF_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		cc_diag_set(diag, "the directory path is too long");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		cc_diag_set(diag, "out of memory");
		return CC_ERR_ALLOC;
	}
	t->ok = true;
	config_text(t, cert, key, ca, port);
	if (!t->ok) {
		cc_diag_set(diag, "the configuration text does not fit");
		goto out;
	}
	/* Written whole or not at all, never over an existing file. */
	r = cc_file_write(path, t->buf, t->len, 0640, 0, diag);
out:
	free(t);
	return r;
}
