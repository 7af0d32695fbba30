/*
 * crosscount-node: the agency's node program.
 *
 *   crosscount-node COMMAND [--dir DIR] [options]
 *
 * Every command works on a node directory: --dir, else $CROSSCOUNT_NODE_DIR,
 * else /var/lib/crosscount-node. It holds node.conf, the at-rest key (key),
 * the store (node.db) and imports/ (the import log and reject reports).
 *
 * Exit codes: 0 success; 1 failed or refused (nothing changed); 2 usage;
 * 3 imported, but some rows were rejected.
 *
 * This is the edge: the one place that prints and logs. Nothing printed
 * here contains an identity (library diagnostics never do; rejected rows
 * are shown masked).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>

#include <jansson.h>
#include <sodium.h>

#include "node/config.h"
#include "node/import.h"
#include "node/keys.h"
#include "node/policy.h"
#include "node/querykey.h"
#include "node/querylog.h"
#include "node/store.h"
#include "node/worker.h"
#include "protocol/client.h"
#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/query.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_REJECTS 3

#define DEFAULT_DIR "/var/lib/crosscount-node"
#define CONFIG_FILE "node.conf"
#define IMPORTS_DIR "imports"
#define IMPORT_LOG "imports.log"
#define PATH_BUF 4096
#define RECENT_IMPORTS 5

static const char *progname = "crosscount-node";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;     /* the options after the command name */
	const char *help;      /* what it does, for --help */
};

/* An open node directory. */
struct node {
	char dir[PATH_BUF];
	char conf_path[PATH_BUF];
	char db_path[PATH_BUF];
	struct cc_node_config *cfg;
	struct cc_store *st;
	struct cc_key *key;
};

static void
errx_diag(const char *cmd, int r, const struct cc_diag *d)
{
	if (d != NULL && d->text[0] != '\0')
		fprintf(stderr, "%s %s: %s: %s\n", progname, cmd, cc_strerror(r),
		    d->text);
	else
		fprintf(stderr, "%s %s: %s\n", progname, cmd, cc_strerror(r));
}

static int
join(char *out, size_t outsz, const char *dir, const char *name)
{
	return snprintf(out, outsz, "%s/%s", dir, name) < (int)outsz ? 0 :
	    CC_ERR_LIMIT;
}

/* --dir, else $CROSSCOUNT_NODE_DIR, else the system default. */
static const char *
node_dir(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("CROSSCOUNT_NODE_DIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return DEFAULT_DIR;
}

static void
node_close(struct node *n)
{
	cc_keys_free(n->key);
	cc_store_close(n->st);
	free(n->cfg);
	memset(n, 0, sizeof(*n));
}

/*
 * Open the node in dir: its configuration, its store and its key. Opening
 * finishes or undoes an interrupted key rotation (keys.h) and reports it.
 */
static int
node_open(struct node *n, const char *cmd, const char *dir)
{
	struct cc_diag d = { "" };
	char fp[CC_STORE_FP_MAX];
	int r, recovered = 0;

	memset(n, 0, sizeof(*n));
	if (strlen(dir) >= sizeof(n->dir) ||
	    join(n->conf_path, sizeof(n->conf_path), dir, CONFIG_FILE) != 0 ||
	    join(n->db_path, sizeof(n->db_path), dir, CC_STORE_FILE) != 0) {
		fprintf(stderr, "%s %s: node directory path is too long\n",
		    progname, cmd);
		return CC_ERR_LIMIT;
	}
	memcpy(n->dir, dir, strlen(dir) + 1);
	if ((n->cfg = malloc(sizeof(*n->cfg))) == NULL) {
		r = CC_ERR_ALLOC;
		goto fail;
	}
	if ((r = cc_node_config_load(n->cfg, n->conf_path, &d)) != 0) {
		if (r == CC_ERR_NOT_FOUND || r == CC_ERR_IO)
			fprintf(stderr, "%s %s: %s: no node here (run `%s init` "
			    "first?): %s\n", progname, cmd, dir, progname, d.text);
		else
			fprintf(stderr, "%s %s: %s\n", progname, cmd,
			    d.text[0] ? d.text : cc_strerror(r));
		goto done;
	}
	if ((r = cc_store_open(&n->st, n->db_path, &d)) != 0)
		goto fail;
	if ((r = cc_store_key_fingerprint(n->st, fp, &d)) != 0)
		goto fail;
	if ((r = cc_keys_open(&n->key, dir, fp, &recovered, &d)) != 0)
		goto fail;
	if (recovered > 0)
		fprintf(stderr, "%s %s: finished an interrupted key rotation "
		    "(key fingerprint %s)\n", progname, cmd, n->key->fingerprint);
	else if (recovered < 0)
		fprintf(stderr, "%s %s: undid an interrupted key rotation that "
		    "had not committed; the key is unchanged\n", progname, cmd);
	return 0;
fail:
	errx_diag(cmd, r, &d);
done:
	node_close(n);
	return r;
}

/* ---- usage ---- */

static int cmd_init(int, char **);
static int cmd_import(int, char **);
static int cmd_status(int, char **);
static int cmd_catalogue(int, char **);
static int cmd_rotate_key(int, char **);
static int cmd_policy(int, char **);
static int cmd_run(int, char **);
static int cmd_queries(int, char **);
static int cmd_approve(int, char **);
static int cmd_reject(int, char **);

/*
 * The command table; `run`, `queries`, `approve` and `reject` are the
 * query side (worker.h).
 */
static const struct command commands[] = {
	{ "init", cmd_init, "create a new node directory",
	  "[--dir DIR] --id ID --sector school|social|health|other "
	  "[--aggregator URL]",
	  "Creates DIR (mode 0700) with a commented node.conf, a new random\n"
	  "at-rest key (DIR/key, mode 0600) and an empty store. Refuses to\n"
	  "touch an existing node. ID is 1-32 characters from a-z, 0-9, '-'.\n" },
	{ "import", cmd_import, "import a CSV export of episodes",
	  "[--dir DIR] [--snapshot|--append] [--on YYYY-MM-DD] "
	  "[--encoding ENC] [--max-reject-rate R] FILE.csv",
	  "Imports one row per episode: personnummer, category, start_date,\n"
	  "optional end_date (empty = ongoing) and unit; node.conf [import]\n"
	  "maps other header names. --snapshot (default) replaces all data\n"
	  "atomically, --append adds episodes. --on is the date the export\n"
	  "describes (default today; it decides the century of 10-digit\n"
	  "personnummer). --encoding auto|utf-8|windows-1252. Bad rows are\n"
	  "listed (identities masked) in DIR/imports/<time>-rejects.csv; if\n"
	  "more than R of the rows are bad (a fraction such as 0.01 or a\n"
	  "percentage such as 1%; default from node.conf) nothing is imported.\n"
	  "Exit 0: all rows imported; 3: imported with rejected rows;\n"
	  "1: refused, nothing changed; 2: usage.\n" },
	{ "status", cmd_status, "show what the node holds",
	  "[--dir DIR] [--json]",
	  "Shows the node id and sector, the key fingerprint, persons and\n"
	  "episodes per category, the period covered, the last imports and\n"
	  "the aggregator settings.\n" },
	{ "catalogue", cmd_catalogue, "show the categories and period the node can answer for",
	  "[--dir DIR] [--json]",
	  "Lists the categories this node may answer queries about (those in\n"
	  "its data that the policy allows) and the months covered. No counts.\n" },
	{ "rotate-key", cmd_rotate_key, "replace the at-rest key",
	  "[--dir DIR]",
	  "Draws a new at-rest key and re-blinds every stored pseudonym with\n"
	  "it in one transaction; the old key is destroyed only after the\n"
	  "commit. Safe to interrupt: the next command finishes or undoes it.\n" },
	{ "policy", cmd_policy, "show the effective approval policy",
	  "[--dir DIR] [--json]",
	  "Shows which nodes this node runs queries with, which categories\n"
	  "may be used, the lowest min_cell it accepts, the most queries per\n"
	  "day, the largest peer batch it relays and whether approval is\n"
	  "automatic or manual (node.conf [policy]).\n" },
	{ "run", cmd_run, "work on queries from the aggregator (the daemon)",
	  "[--dir DIR]",
	  "Connects out to the aggregator (node.conf [aggregator]: url, ca,\n"
	  "cert, key, poll_seconds), publishes the catalogue (again after\n"
	  "every import), long-polls for work, decides approvals by the\n"
	  "policy (approved, rejected naming the rule, or held for\n"
	  "`approve`/`reject`), runs this node's batch steps and records\n"
	  "every query in DIR/queries.log. Logs one line per event on\n"
	  "stderr. SIGTERM or SIGINT stops it cleanly (exit 0).\n" },
	{ "queries", cmd_queries, "list the queries this node took part in",
	  "[--dir DIR] [--json]",
	  "Shows every query offered to this node, newest first: title,\n"
	  "owner, the node's decision (by whom, why), the steps it ran, and\n"
	  "how the query ended with the released table's digest.\n" },
	{ "approve", cmd_approve, "approve a query the policy held",
	  "[--dir DIR] [--by NAME] ID",
	  "Approves query ID (see `queries`), which the policy allowed but\n"
	  "held for a person (approval = manual). The rules are checked\n"
	  "again; the decision goes to the aggregator with this node's\n"
	  "certificate and is recorded in the query log as made by NAME\n"
	  "(at most 40 bytes, no personnummer) and the account running the\n"
	  "command, or by the account alone without --by.\n" },
	{ "reject", cmd_reject, "reject a query the policy held",
	  "[--dir DIR] [--by NAME] [--why TEXT] ID",
	  "Rejects query ID; the aggregator fails it naming this node and\n"
	  "TEXT (at most 200 bytes, no personnummer) as the reason. --by as\n"
	  "for approve.\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage_all(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s COMMAND [options]\n\ncommands:\n", progname);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nThe node directory is --dir DIR, else $CROSSCOUNT_NODE_DIR, "
	    "else %s.\n`%s COMMAND --help` describes a command.\n", DEFAULT_DIR,
	    progname);
}

static int
help(const char *name)
{
	const struct command *c = find_command(name);

	if (c == NULL)
		return EXIT_USAGE;
	printf("usage: %s %s %s\n\n%s", progname, c->name, c->usage, c->help);
	return EXIT_OK;
}

static int
usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
usage_error(const char *name, const char *fmt, ...)
{
	const struct command *c = find_command(name);
	va_list ap;

	fprintf(stderr, "%s %s: ", progname, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c != NULL)
		fprintf(stderr, "\nusage: %s %s %s\n", progname, c->name,
		    c->usage);
	return EXIT_USAGE;
}

/*
 * Parse the options every command shares plus its own. Returns -1 to go
 * on, or an exit code (help printed, or a usage error).
 */
struct common {
	const char *dir;
	bool json;
};

/* ---- init ---- */

static int
dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'i' },
		{ "sector", required_argument, NULL, 's' },
		{ "aggregator", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_diag d = { "" };
	struct cc_key *key = NULL;
	const char *dir_opt = NULL, *id = NULL, *sector_name = NULL, *url = NULL;
	const char *dir;
	char conf[PATH_BUF], keyp[PATH_BUF], db[PATH_BUF], imp[PATH_BUF];
	enum cc_sector sector;
	bool made_dir = false, made_key = false, made_db = false, made_imp = false;
	int ch, r, rc = EXIT_FAIL;
	struct stat sb;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir_opt = optarg; break;
		case 'i': id = optarg; break;
		case 's': sector_name = optarg; break;
		case 'a': url = optarg; break;
		case 'h': return help("init");
		default: return usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("init", "unexpected argument %s", argv[optind]);
	if (id == NULL || sector_name == NULL)
		return usage_error("init", "--id and --sector are required");
	if (!cc_query_node_id_valid(id, strlen(id)))
		return usage_error("init", "node id \"%s\" must be 1 to 32 "
		    "characters from a-z, 0-9 and '-'", id);
	if (cc_sector_parse(&sector, sector_name) != 0)
		return usage_error("init", "sector \"%s\" is not one of school, "
		    "social, health, other", sector_name);
	dir = node_dir(dir_opt);
	if (join(conf, sizeof(conf), dir, CONFIG_FILE) != 0 ||
	    join(keyp, sizeof(keyp), dir, CC_KEY_FILE) != 0 ||
	    join(db, sizeof(db), dir, CC_STORE_FILE) != 0 ||
	    join(imp, sizeof(imp), dir, IMPORTS_DIR) != 0) {
		fprintf(stderr, "%s init: the directory path is too long\n",
		    progname);
		return EXIT_FAIL;
	}
	/* An existing empty directory (e.g. made by systemd) is fine. */
	if (mkdir(dir, 0700) == 0) {
		made_dir = true;
	} else if (errno != EEXIST || stat(dir, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "%s init: %s: %s\n", progname, dir,
		    errno == EEXIST ? "exists and is not a directory" :
		    strerror(errno));
		return EXIT_FAIL;
	} else if (dir_is_empty(dir) != 1) {
		fprintf(stderr, "%s init: %s is not empty%s; refusing to "
		    "overwrite it\n", progname, dir,
		    access(conf, F_OK) == 0 ? " (a node is already there)" : "");
		return EXIT_FAIL;
	} else if (chmod(dir, 0700) != 0) {
		fprintf(stderr, "%s init: %s: %s\n", progname, dir,
		    strerror(errno));
		return EXIT_FAIL;
	}
	if (mkdir(imp, 0700) != 0) {
		fprintf(stderr, "%s init: %s: %s\n", progname, imp, strerror(errno));
		goto out;
	}
	made_imp = true;
	if ((r = cc_keys_generate(&key)) != 0 ||
	    (r = cc_keys_write(key, keyp, false, &d)) != 0) {
		errx_diag("init", r, &d);
		goto out;
	}
	made_key = true;
	if ((r = cc_store_create(db, key->fingerprint, &d)) != 0) {
		errx_diag("init", r, &d);
		goto out;
	}
	made_db = true;
	if ((r = cc_node_config_write_new(conf, id, sector, url, &d)) != 0) {
		errx_diag("init", r, &d);
		goto out;
	}
	printf("initialised node %s (%s) in %s\nkey fingerprint %s\n"
	    "edit %s to set the aggregator, the import columns and the policy\n",
	    id, cc_sector_name(sector), dir, key->fingerprint, conf);
	rc = EXIT_OK;
out:
	if (rc != EXIT_OK) {
		/* Leave no half-made node behind. */
		if (made_db) {
			char side[PATH_BUF + 8];

			unlink(db);
			snprintf(side, sizeof(side), "%s-wal", db);
			unlink(side);
			snprintf(side, sizeof(side), "%s-shm", db);
			unlink(side);
		}
		if (made_key)
			unlink(keyp);
		if (made_imp)
			rmdir(imp);
		if (made_dir)
			rmdir(dir);
	}
	cc_keys_free(key);
	return rc;
}

/* ---- import ---- */

static void
utc_stamp(char out[32], time_t t, bool compact)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "unknown-time");
		return;
	}
	strftime(out, 32, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One line on stderr and in the import log (imports/imports.log). */
static void
event(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
event(FILE *log, const char *fmt, ...)
{
	char line[1024], stamp[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s import: %s\n", progname, line);
	if (log != NULL) {
		utc_stamp(stamp, time(NULL), false);
		fprintf(log, "%s %s\n", stamp, line);
		fflush(log);
	}
}

static FILE *
open_import_log(const char *dir)
{
	char path[PATH_BUF];
	int fd;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s/%s", dir, IMPORTS_DIR,
	    IMPORT_LOG) >= (int)sizeof(path))
		return NULL;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return NULL;
	if ((f = fdopen(fd, "a")) == NULL)
		close(fd);
	return f;
}

static int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "snapshot", no_argument, NULL, 'S' },
		{ "append", no_argument, NULL, 'A' },
		{ "on", required_argument, NULL, 'o' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "max-reject-rate", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_import_options opt;
	struct cc_import_result res;
	struct cc_store_stats *stats = NULL;
	struct cc_diag d = { "" };
	struct node n;
	const char *dir_opt = NULL, *on = NULL, *enc = NULL, *rate = NULL;
	const char *file;
	char report[PATH_BUF], stamp[32], ondate[11], imp[PATH_BUF];
	enum cc_csv_encoding encoding = CC_CSV_ENCODING_AUTO;
	double max_rate = 0;
	int mode = 0, ch, r, rc = EXIT_FAIL, i;
	size_t k;
	FILE *log = NULL;
	struct stat sb;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir_opt = optarg; break;
		case 'S':
		case 'A':
			if (mode != 0 && mode != ch)
				return usage_error("import", "--snapshot and "
				    "--append exclude each other");
			mode = ch;
			break;
		case 'o': on = optarg; break;
		case 'e': enc = optarg; break;
		case 'm': rate = optarg; break;
		case 'h': return help("import");
		default: return usage_error("import", "unknown option");
		}
	}
	if (argc - optind != 1)
		return usage_error("import", "expected exactly one FILE.csv");
	file = argv[optind];
	cc_import_options_defaults(&opt);
	opt.mode = mode == 'A' ? CC_STORE_APPEND : CC_STORE_SNAPSHOT;
	if (on != NULL && cc_date_parse(&opt.on, on, strlen(on), NULL) != 0)
		return usage_error("import", "--on %s is not a date "
		    "(YYYY-MM-DD)", on);
	if (enc != NULL && cc_csv_encoding_parse(&encoding, enc) != 0)
		return usage_error("import", "--encoding %s: use auto, utf-8 or "
		    "windows-1252", enc);
	if (rate != NULL && cc_node_config_parse_rate(&max_rate, rate) != 0)
		return usage_error("import", "--max-reject-rate %s: give a "
		    "fraction from 0 to 1 or a percentage such as 1%%", rate);
	if (node_open(&n, "import", node_dir(dir_opt)) != 0)
		return EXIT_FAIL;
	opt.encoding = enc != NULL ? encoding : n.cfg->encoding;
	opt.max_reject_rate = rate != NULL ? max_rate : n.cfg->max_reject_rate;
	opt.column = (const char (*)[CC_LIMIT_CSV_FIELD + 1])n.cfg->column;

	/* imports/ holds the log and the reject reports (0700). */
	if (join(imp, sizeof(imp), n.dir, IMPORTS_DIR) != 0 ||
	    ((mkdir(imp, 0700) != 0 && errno != EEXIST) ||
	    stat(imp, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "%s import: %s/%s: cannot create it\n", progname,
		    n.dir, IMPORTS_DIR);
		goto out;
	}
	log = open_import_log(n.dir);
	utc_stamp(stamp, time(NULL), true);
	/* A fresh name: the report is created with O_EXCL. */
	for (i = 1; i < 100; i++) {
		int len;

		if (i == 1)
			len = snprintf(report, sizeof(report), "%s/%s-rejects.csv",
			    imp, stamp);
		else
			len = snprintf(report, sizeof(report),
			    "%s/%s-%d-rejects.csv", imp, stamp, i);
		if (len < 0 || (size_t)len >= sizeof(report)) {
			fprintf(stderr, "%s import: the node directory path is "
			    "too long\n", progname);
			goto out;
		}
		if (access(report, F_OK) != 0)
			break;
	}
	opt.reject_report = report;
	cc_date_format(ondate, &opt.on);
	event(log, "%s: %s import, data as of %s", file,
	    cc_store_mode_name(opt.mode), ondate);
	r = cc_import_file(n.st, n.key, file, &opt, &res, &d);
	for (k = 0; k < res.nshown; k++)
		event(log, "%s: line %lu%s%s: rejected: %s", file,
		    res.shown[k].line, res.shown[k].column[0] ? ": " : "",
		    res.shown[k].column, res.shown[k].text);
	if (res.rows_rejected > res.nshown)
		event(log, "%s: %" PRIu64 " more rejected rows in the report",
		    file, res.rows_rejected - res.nshown);
	if (res.report_written)
		event(log, "%s: reject report %s%s", file, report,
		    res.report_truncated ? " (truncated)" : "");
	if (r != 0) {
		event(log, "%s: refused, nothing changed: %s%s%s", file,
		    cc_strerror(r), d.text[0] ? ": " : "", d.text);
		goto out;
	}
	event(log, "%s: %" PRIu64 " rows read, %" PRIu64 " imported (%" PRIu64
	    " duplicate episodes stored once), %" PRIu64 " rejected", file,
	    res.rows_read, res.rows_imported, res.duplicates, res.rows_rejected);
	if ((stats = malloc(sizeof(*stats))) != NULL &&
	    cc_store_stats(n.st, stats, NULL) == 0)
		event(log, "%s: committed; the node holds %" PRIu64 " persons, %"
		    PRIu64 " episodes in %zu categories", file, stats->persons,
		    stats->episodes, stats->ncategories);
	rc = res.rows_rejected > 0 ? EXIT_REJECTS : EXIT_OK;
out:
	free(stats);
	if (log != NULL)
		fclose(log);
	node_close(&n);
	return rc;
}

/* ---- status, catalogue ---- */

static void
date_or_dash(char out[11], bool have, const struct cc_date *d)
{
	if (have)
		cc_date_format(out, d);
	else
		snprintf(out, 11, "-");
}

static json_t *
json_str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static int
print_status_json(const struct node *n, const struct cc_store_stats *s,
    const struct cc_store_import_record *rec, size_t nrec)
{
	json_t *o = json_object(), *cats = json_array(), *imps = json_array();
	json_t *agg = json_object(), *c, *x;
	char first[11], last[11], asof[11], t1[32], t2[32];
	size_t i;
	int r = EXIT_FAIL;

	if (o == NULL || cats == NULL || imps == NULL || agg == NULL)
		goto out;
	date_or_dash(first, s->have_period, &s->first);
	date_or_dash(last, s->have_period, &s->last);
	date_or_dash(asof, s->have_as_of, &s->as_of);
	for (i = 0; i < s->ncategories; i++) {
		c = json_pack("{s:s, s:I, s:I}", "name", s->category[i].name,
		    "persons", (json_int_t)s->category[i].persons,
		    "episodes", (json_int_t)s->category[i].episodes);
		if (c == NULL || json_array_append_new(cats, c) != 0)
			goto out;
	}
	for (i = 0; i < nrec; i++) {
		utc_stamp(t1, (time_t)rec[i].started_at, false);
		utc_stamp(t2, (time_t)rec[i].finished_at, false);
		x = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I,"
		    " s:s, s:s, s:o}", "id", (json_int_t)rec[i].id,
		    "started", t1, "finished", t2, "file", rec[i].file_name,
		    "mode", rec[i].mode, "on", rec[i].on,
		    "rows_read", (json_int_t)rec[i].rows_read,
		    "rows_imported", (json_int_t)rec[i].rows_imported,
		    "rows_rejected", (json_int_t)rec[i].rows_rejected,
		    "duplicates", (json_int_t)rec[i].duplicates,
		    "outcome", rec[i].outcome, "detail", rec[i].detail,
		    "reject_report", json_str_or_null(rec[i].reject_report));
		if (x == NULL || json_array_append_new(imps, x) != 0)
			goto out;
	}
	if (json_object_set_new(agg, "url", json_str_or_null(n->cfg->aggregator_url)) ||
	    json_object_set_new(agg, "ca", json_str_or_null(n->cfg->ca_file)) ||
	    json_object_set_new(agg, "cert", json_str_or_null(n->cfg->cert_file)) ||
	    json_object_set_new(agg, "key", json_str_or_null(n->cfg->key_file)) ||
	    json_object_set_new(agg, "poll_seconds", json_integer(n->cfg->poll_seconds)))
		goto out;
	if (json_object_set_new(o, "node", json_string(n->cfg->id)) ||
	    json_object_set_new(o, "sector", json_string(cc_sector_name(n->cfg->sector))) ||
	    json_object_set_new(o, "key_fingerprint", json_string(n->key->fingerprint)) ||
	    json_object_set_new(o, "persons", json_integer((json_int_t)s->persons)) ||
	    json_object_set_new(o, "episodes", json_integer((json_int_t)s->episodes)) ||
	    json_object_set_new(o, "ongoing_episodes", json_integer((json_int_t)s->ongoing)) ||
	    json_object_set_new(o, "period", s->have_period ?
	    json_pack("{s:s, s:s}", "from", first, "to", last) : json_null()) ||
	    json_object_set_new(o, "as_of", s->have_as_of ? json_string(asof) : json_null()) ||
	    json_object_set(o, "categories", cats) ||
	    json_object_set(o, "imports", imps) ||
	    json_object_set(o, "aggregator", agg))
		goto out;
	if (json_dumpf(o, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF)
		goto out;
	r = EXIT_OK;
out:
	json_decref(cats);
	json_decref(imps);
	json_decref(agg);
	json_decref(o);
	return r;
}

static void
print_status_text(const struct node *n, const struct cc_store_stats *s,
    const struct cc_store_import_record *rec, size_t nrec)
{
	char first[11], last[11], asof[11], t[32];
	size_t i;

	date_or_dash(first, s->have_period, &s->first);
	date_or_dash(last, s->have_period, &s->last);
	date_or_dash(asof, s->have_as_of, &s->as_of);
	printf("node             %s (%s)\n", n->cfg->id,
	    cc_sector_name(n->cfg->sector));
	printf("directory        %s\n", n->dir);
	printf("key fingerprint  %s\n", n->key->fingerprint);
	printf("data as of       %s\n", asof);
	if (s->have_period)
		printf("period           %s to %s\n", first, last);
	else
		printf("period           - (no data)\n");
	printf("persons          %" PRIu64 "\n", s->persons);
	printf("episodes         %" PRIu64 " (%" PRIu64 " ongoing)\n",
	    s->episodes, s->ongoing);
	printf("categories       %zu\n", s->ncategories);
	for (i = 0; i < s->ncategories; i++)
		printf("  %-32s %10" PRIu64 " persons %10" PRIu64 " episodes\n",
		    s->category[i].name, s->category[i].persons,
		    s->category[i].episodes);
	printf("last imports     %s\n", nrec ? "" : "none");
	for (i = 0; i < nrec; i++) {
		utc_stamp(t, (time_t)rec[i].finished_at, false);
		printf("  %s %-8s %-13s read %" PRIu64 ", imported %" PRIu64
		    ", rejected %" PRIu64 "  %s  (%s)\n", t, rec[i].mode,
		    rec[i].outcome, rec[i].rows_read, rec[i].rows_imported,
		    rec[i].rows_rejected, rec[i].file_name, rec[i].detail);
	}
	printf("aggregator       %s\n", n->cfg->aggregator_url[0] ?
	    n->cfg->aggregator_url : "(not set)");
	printf("  ca             %s\n", n->cfg->ca_file[0] ? n->cfg->ca_file : "(not set)");
	printf("  cert           %s\n", n->cfg->cert_file[0] ? n->cfg->cert_file : "(not set)");
	printf("  key            %s\n", n->cfg->key_file[0] ? n->cfg->key_file : "(not set)");
	printf("  poll           %d s\n", n->cfg->poll_seconds);
}

/* Options of status, catalogue, policy: --dir and --json. */
static int
parse_dir_json(const char *name, int argc, char **argv, struct common *c,
    bool allow_json)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof(*c));
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': c->dir = optarg; break;
		case 'j':
			if (!allow_json)
				return usage_error(name, "unknown option --json");
			c->json = true;
			break;
		case 'h': return help(name);
		default: return usage_error(name, "unknown option");
		}
	}
	if (optind != argc)
		return usage_error(name, "unexpected argument %s", argv[optind]);
	return -1;
}

static int
cmd_status(int argc, char **argv)
{
	struct cc_store_import_record rec[RECENT_IMPORTS];
	struct cc_store_stats *s = NULL;
	struct cc_diag d = { "" };
	struct common c;
	struct node n;
	size_t nrec = 0;
	int r, rc = EXIT_FAIL;

	if ((rc = parse_dir_json("status", argc, argv, &c, true)) >= 0)
		return rc;
	rc = EXIT_FAIL;
	if (node_open(&n, "status", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	if ((s = malloc(sizeof(*s))) == NULL) {
		errx_diag("status", CC_ERR_ALLOC, NULL);
		goto out;
	}
	if ((r = cc_store_stats(n.st, s, &d)) != 0 ||
	    (r = cc_store_recent_imports(n.st, rec, RECENT_IMPORTS, &nrec,
	    &d)) != 0) {
		errx_diag("status", r, &d);
		goto out;
	}
	if (c.json)
		rc = print_status_json(&n, s, rec, nrec);
	else {
		print_status_text(&n, s, rec, nrec);
		rc = EXIT_OK;
	}
out:
	free(s);
	node_close(&n);
	return rc;
}

static int
cmd_catalogue(int argc, char **argv)
{
	struct cc_store_stats *s = NULL;
	struct cc_diag d = { "" };
	struct common c;
	struct node n;
	json_t *o = NULL, *cats = NULL;
	char from[8] = "-", to[8] = "-";
	size_t i;
	int r, rc;

	if ((rc = parse_dir_json("catalogue", argc, argv, &c, true)) >= 0)
		return rc;
	rc = EXIT_FAIL;
	if (node_open(&n, "catalogue", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	if ((s = malloc(sizeof(*s))) == NULL) {
		errx_diag("catalogue", CC_ERR_ALLOC, NULL);
		goto out;
	}
	if ((r = cc_store_stats(n.st, s, &d)) != 0) {
		errx_diag("catalogue", r, &d);
		goto out;
	}
	/* Queries run over whole months (SPEC.md 7.1). */
	if (s->have_period) {
		cc_month_format(from, cc_date_month_index(&s->first));
		cc_month_format(to, cc_date_month_index(&s->last));
	}
	if (c.json) {
		if ((o = json_object()) == NULL || (cats = json_array()) == NULL)
			goto out;
		for (i = 0; i < s->ncategories; i++)
			if (cc_node_policy_allows_category(&n.cfg->policy,
			    s->category[i].name) &&
			    json_array_append_new(cats,
			    json_string(s->category[i].name)) != 0)
				goto out;
		if (json_object_set_new(o, "node", json_string(n.cfg->id)) ||
		    json_object_set_new(o, "sector",
		    json_string(cc_sector_name(n.cfg->sector))) ||
		    json_object_set(o, "categories", cats) ||
		    json_object_set_new(o, "period", s->have_period ?
		    json_pack("{s:s, s:s}", "from", from, "to", to) : json_null()))
			goto out;
		if (json_dumpf(o, stdout, JSON_INDENT(2)) != 0 ||
		    putchar('\n') == EOF)
			goto out;
	} else {
		printf("node        %s (%s)\n", n.cfg->id,
		    cc_sector_name(n.cfg->sector));
		printf("period      %s to %s\n", from, to);
		printf("categories\n");
		for (i = 0; i < s->ncategories; i++)
			if (cc_node_policy_allows_category(&n.cfg->policy,
			    s->category[i].name))
				printf("  %s\n", s->category[i].name);
	}
	rc = EXIT_OK;
out:
	json_decref(cats);
	json_decref(o);
	free(s);
	node_close(&n);
	return rc;
}

/* ---- rotate-key, policy ---- */

static int
cmd_rotate_key(int argc, char **argv)
{
	struct cc_diag d = { "" };
	struct common c;
	struct node n;
	char old[CC_KEY_FINGERPRINT_LEN + 1];
	int r, rc;

	if ((rc = parse_dir_json("rotate-key", argc, argv, &c, false)) >= 0)
		return rc;
	if (node_open(&n, "rotate-key", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	memcpy(old, n.key->fingerprint, sizeof(old));
	if ((r = cc_keys_rotate(n.st, n.dir, &n.key, 0, &d)) != 0) {
		errx_diag("rotate-key", r, &d);
		rc = EXIT_FAIL;
	} else {
		printf("rotated the at-rest key: fingerprint %s -> %s; every "
		    "stored pseudonym re-blinded, the old key destroyed\n",
		    old, n.key->fingerprint);
		rc = EXIT_OK;
	}
	node_close(&n);
	return rc;
}

static int
cmd_policy(int argc, char **argv)
{
	struct common c;
	struct node n;
	int rc;

	if ((rc = parse_dir_json("policy", argc, argv, &c, true)) >= 0)
		return rc;
	if (node_open(&n, "policy", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	rc = cc_policy_print(stdout, n.cfg, n.conf_path, c.json) == 0 ?
	    EXIT_OK : EXIT_FAIL;
	node_close(&n);
	return rc;
}

/* ---- run, queries, approve, reject (the query side) ---- */

static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
cmd_run(int argc, char **argv)
{
	struct cc_worker_options wo;
	struct sigaction sa;
	struct cc_diag d = { "" };
	struct common c;
	struct node n;
	int r, rc;

	if ((rc = parse_dir_json("run", argc, argv, &c, false)) >= 0)
		return rc;
#ifdef M_MMAP_THRESHOLD
	/*
	 * A batch (megabytes) lives for one step: with a fixed threshold
	 * glibc maps each one apart and gives it back when it is freed.
	 * Its default threshold rises to the size of the largest block freed
	 * so far, so the next batches of that size land in the heap, whose
	 * freed top stays resident: a worker's peak grew by a whole batch.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	if (node_open(&n, "run", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	/* No SA_RESTART: a signal ends the worker's naps at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0) {
		fprintf(stderr, "%s run: cannot handle signals: %s\n", progname,
		    strerror(errno));
		node_close(&n);
		return EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cc_client_global_init() != 0) {
		fprintf(stderr, "%s run: libcurl failed to initialise\n",
		    progname);
		node_close(&n);
		return EXIT_FAIL;
	}
	memset(&wo, 0, sizeof(wo));
	wo.dir = n.dir;
	wo.cfg = n.cfg;
	wo.st = n.st;
	wo.key = &n.key;
	wo.stop = &stop_requested;
	wo.log = stderr;
	r = cc_worker_run(&wo, &d);
	if (r != 0)
		errx_diag("run", r, &d);
	cc_client_global_cleanup();
	node_close(&n);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_queries(int argc, char **argv)
{
	struct cc_querylog *log = NULL;
	struct cc_diag d = { "" };
	struct common c;
	struct node n;
	size_t skipped = 0;
	int r, rc;

	if ((rc = parse_dir_json("queries", argc, argv, &c, true)) >= 0)
		return rc;
	if (node_open(&n, "queries", node_dir(c.dir)) != 0)
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if ((r = cc_querylog_read(&log, n.dir, &skipped, &d)) != 0) {
		errx_diag("queries", r, &d);
		goto out;
	}
	if (skipped > 0)
		fprintf(stderr, "%s queries: %zu damaged lines in %s/%s were "
		    "skipped\n", progname, skipped, n.dir, CC_QUERYLOG_FILE);
	if ((r = cc_querylog_print(stdout, log, c.json)) != 0) {
		errx_diag("queries", r, NULL);
		goto out;
	}
	rc = EXIT_OK;
out:
	cc_querylog_free(log);
	node_close(&n);
	return rc;
}

/* The longest --by NAME, so that "NAME (as LOGIN)" fits the query log. */
#define DECIDER_NAME_MAX 40

/*
 * Who decides, for the query log: "NAME (as LOGIN)" with --by NAME, else
 * the login of the effective user. Run through runuser the login is the
 * service account, which names no person: --by does.
 */
static void
deciding_user(char *out, size_t outsz, const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[1024], login[48];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && res->pw_name != NULL && res->pw_name[0] != '\0')
		snprintf(login, sizeof(login), "%.32s", res->pw_name);
	else
		snprintf(login, sizeof(login), "uid %u", (unsigned)geteuid());
	if (name != NULL)
		snprintf(out, outsz, "%s (as %s)", name, login);
	else
		snprintf(out, outsz, "%s", login);
}

static int
decide_held(const char *cmd, bool approve, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "why", required_argument, NULL, 'w' },
		{ "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_diag d = { "" };
	struct node n;
	const char *dir_opt = NULL, *why = NULL, *name = NULL, *id;
	char by[CC_QUERYLOG_BY_MAX + 1];
	bool sent = false;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir_opt = optarg; break;
		case 'w':
			if (approve)
				return usage_error(cmd, "unknown option --why");
			why = optarg;
			break;
		case 'b': name = optarg; break;
		case 'h': return help(cmd);
		default: return usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != 1)
		return usage_error(cmd, "expected exactly one query ID");
	id = argv[optind];
	if (!cc_querykey_id_valid(id))
		return usage_error(cmd, "\"%.40s\" is not a query id (32 "
		    "lowercase hex characters)", id);
	if (name != NULL && (strlen(name) > DECIDER_NAME_MAX ||
	    cc_worker_reason_check(name, &d) != 0))
		return usage_error(cmd, "--by: a name of 1 to %d bytes of "
		    "printable UTF-8 without six digits in a row",
		    DECIDER_NAME_MAX);
	if (!approve) {
		if (why == NULL)
			why = "rejected by the node's administrator";
		if (cc_worker_reason_check(why, &d) != 0)
			return usage_error(cmd, "--why: %s", d.text);
	}
	if (node_open(&n, cmd, node_dir(dir_opt)) != 0)
		return EXIT_FAIL;
	deciding_user(by, sizeof(by), name);
	if (cc_client_global_init() != 0) {
		fprintf(stderr, "%s %s: libcurl failed to initialise\n",
		    progname, cmd);
		node_close(&n);
		return EXIT_FAIL;
	}
	r = cc_worker_decide_held(n.dir, n.cfg, id, approve, why, by, &sent,
	    &d);
	cc_client_global_cleanup();
	node_close(&n);
	if (r != 0) {
		errx_diag(cmd, r, &d);
		return EXIT_FAIL;
	}
	if (sent)
		printf("query %s %s by %s; the aggregator has the decision\n",
		    id, approve ? "approved" : "rejected", by);
	else
		printf("query %s %s by %s; recorded in the node's log, but the "
		    "aggregator could not be reached (%s): the running node "
		    "sends the decision when the query is offered again\n", id,
		    approve ? "approved" : "rejected", by, d.text);
	return EXIT_OK;
}

static int
cmd_approve(int argc, char **argv)
{
	return decide_held("approve", true, argc, argv);
}

static int
cmd_reject(int argc, char **argv)
{
	return decide_held("reject", false, argc, argv);
}

int
main(int argc, char **argv)
{
	const struct command *c;

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", progname);
		return EXIT_FAIL;
	}
	if (argc < 2) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && find_command(argv[2]) != NULL)
			return help(argv[2]);
		usage_all(stdout);
		return EXIT_OK;
	}
	if ((c = find_command(argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command \"%s\"\n", progname, argv[1]);
		usage_all(stderr);
		return EXIT_USAGE;
	}
	/* The command sees argv[0] = its name, as getopt expects. */
	optind = 1;
	return c->run(argc - 1, argv + 1);
}
