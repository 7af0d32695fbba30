/*
 * crosscount-aggregator: the federation's aggregator program.
 *
 *   crosscount-aggregator COMMAND [ARGS] [--dir DIR] [options]
 *
 * Every command works on an aggregator directory: --dir, else
 * $CROSSCOUNT_AGGREGATOR_DIR, else /var/lib/crosscount-aggregator. It
 * holds aggregator.conf, aggregator.db (the store), attribute.key (the
 * ElGamal scalar y, 0600) and batches/. The management commands (node,
 * user, token, audit) may run while `serve` runs: the store is SQLite in
 * WAL mode with a busy timeout.
 *
 * Exit codes: 0 success; 1 failed or refused (nothing changed); 2 usage.
 *
 * This is the edge: the one place that prints and logs. Logs go to
 * stderr, one line per event, and never hold a secret (password, session,
 * token, key) or an identity.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "aggregator/app.h"
#include "aggregator/attrkey.h"
#include "aggregator/audit.h"
#include "aggregator/auth.h"
#include "aggregator/config.h"
#include "aggregator/log.h"
#include "aggregator/coordinator.h"
#include "aggregator/login.h"
#include "aggregator/server.h"
#include "aggregator/store.h"
#include "protocol/error.h"
#include "protocol/ini.h"
#include "protocol/json_wipe.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define DEFAULT_DIR "/var/lib/crosscount-aggregator"
#define CONF_FILE "aggregator.conf"
#define DB_FILE "aggregator.db"
#define BATCHES_DIR "batches"
#define PATH_BUF CC_AGG_PATH_MAX
#define DEFAULT_PORT 8443

static const char *progname = "crosscount-aggregator";

/* ---- small helpers -------------------------------------------------------- */

static void
fail_diag(const char *cmd, int r, const struct cc_diag *d)
{
	if (d != NULL && d->text[0] != '\0')
		fprintf(stderr, "%s %s: %s: %s\n", progname, cmd, cc_strerror(r),
		    d->text);
	else
		fprintf(stderr, "%s %s: %s\n", progname, cmd, cc_strerror(r));
}

static void
fail_msg(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fail_msg(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One log line of `serve`: time, program, event. */
static int
join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < cap ? 0 : CC_ERR_LIMIT;
}

/* --dir, else $CROSSCOUNT_AGGREGATOR_DIR, else the system default. */
static const char *
agg_dir(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("CROSSCOUNT_AGGREGATOR_DIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return DEFAULT_DIR;
}

/* Open the store of an existing aggregator directory. */
static int
open_store(const char *cmd, const char *dir, struct cc_agg_store **ret_store)
{
	struct cc_diag d = { "" };
	char path[PATH_BUF];
	int r;

	*ret_store = NULL;
	if (join(path, sizeof(path), dir, DB_FILE) != 0) {
		fail_msg(cmd, "the directory path is too long");
		return CC_ERR_LIMIT;
	}
	if ((r = cc_agg_store_open(ret_store, path, false, &d)) != 0) {
		if (r == CC_ERR_NOT_FOUND)
			fail_msg(cmd, "%s: no aggregator here (run `%s init --dir "
			    "%s` first)", dir, progname, dir);
		else
			fail_diag(cmd, r, &d);
	}
	return r;
}

/*
 * The arguments of a command: its positional arguments and its options
 * ("--name value", "--name=value" or a bare "--flag"), --dir and --help
 * for every command. Options and arguments may come in any order; "--"
 * ends the options.
 */
struct opt {
	const char *name;
	bool has_value;
};

#define MAX_OPTS 6
#define MAX_POS 2

struct args {
	const char *dir;
	const char *value[MAX_OPTS];    /* by index into the command's opts */
	bool given[MAX_OPTS];
	const char *pos[MAX_POS];
};

struct command {
	const char *name;               /* "init", "node add", ... */
	int (*run)(const struct command *c, struct args *a);
	int npos;                       /* positional arguments */
	struct opt opts[MAX_OPTS];      /* ends at a NULL name */
	const char *usage;              /* the arguments after the name */
	const char *help;               /* what it does, for --help */
};

static void
usage_line(FILE *f, const struct command *c)
{
	fprintf(f, "usage: %s %s %s\n", progname, c->name, c->usage);
}

/* "PROGRAM COMMAND: MESSAGE[ ARG]" and the usage line; EXIT_USAGE. */
static int
usage_error(const struct command *c, const char *msg, const char *arg)
{
	fprintf(stderr, "%s %s: %s%s%s\n", progname, c->name, msg,
	    arg != NULL ? " " : "", arg != NULL ? arg : "");
	usage_line(stderr, c);
	return EXIT_USAGE;
}

/* 0, EXIT_USAGE after saying why, or -1 after printing the help. */
static int
parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
	const char *arg, *eq, *value;
	size_t namelen;
	bool opts_done = false;
	int i, k, npos = 0;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (opts_done || strncmp(arg, "--", 2) != 0) {
			if (!opts_done && arg[0] == '-' && arg[1] != '\0')
				return usage_error(c, "unknown option", arg);
			if (npos == c->npos)
				return usage_error(c, "unexpected argument", arg);
			a->pos[npos++] = arg;
			continue;
		}
		if (arg[2] == '\0') {
			opts_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0) {
			usage_line(stdout, c);
			printf("\n%s", c->help);
			return -1;
		}
		eq = strchr(arg, '=');
		namelen = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		value = eq != NULL ? eq + 1 : NULL;
		if (namelen == 3 && strncmp(arg + 2, "dir", 3) == 0) {
			if (value == NULL && (value = i + 1 < argc ? argv[++i] : NULL) == NULL)
				return usage_error(c, "a value is needed after", arg);
			a->dir = value;
			continue;
		}
		for (k = 0; k < MAX_OPTS && c->opts[k].name != NULL; k++)
			if (strlen(c->opts[k].name) == namelen &&
			    strncmp(arg + 2, c->opts[k].name, namelen) == 0)
				break;
		if (k == MAX_OPTS || c->opts[k].name == NULL)
			return usage_error(c, "unknown option", arg);
		if (c->opts[k].has_value) {
			if (value == NULL && (value = i + 1 < argc ? argv[++i] : NULL) == NULL)
				return usage_error(c, "a value is needed after", arg);
			a->value[k] = value;
		} else if (value != NULL) {
			return usage_error(c, "no value is taken by", arg);
		}
		if (a->given[k])
			return usage_error(c, "given twice:", arg);
		a->given[k] = true;
	}
	if (npos < c->npos)
		return usage_error(c, "missing argument", NULL);
	return 0;
}

/* ---- passwords ------------------------------------------------------------ */

/*
 * One line of at most CC_LIMIT_PASSWORD bytes from f into out (without
 * its LF or CRLF). false if there is none or it is too long.
 */
static bool
read_line(FILE *f, char *out, size_t cap)
{
	size_t n;

	if (fgets(out, (int)cap, f) == NULL)
		return false;
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (!feof(f))
		return false;            /* longer than the buffer */
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	return true;
}

static bool
prompt_hidden(const char *prompt, char *out, size_t cap)
{
	struct termios old, quiet;
	bool ok;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		return false;
	ok = read_line(stdin, out, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return ok;
}

/*
 * The new password for user: the first line of file, else typed twice
 * without echo on a terminal, else one line of stdin. out holds
 * CC_LIMIT_PASSWORD + 3 bytes; the caller wipes it.
 */
static int
read_password(const char *cmd, const char *file, const char *user, char *out,
    size_t cap)
{
	char again[CC_LIMIT_PASSWORD + 3], prompt[128];
	struct stat st;
	FILE *f;
	bool ok;

	out[0] = '\0';
	if (file != NULL) {
		if ((f = fopen(file, "re")) == NULL) {
			fail_msg(cmd, "%s: %s", file, strerror(errno));
			return CC_ERR_IO;
		}
		if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
			fprintf(stderr, "%s %s: warning: %s is readable by others\n",
			    progname, cmd, file);
		ok = read_line(f, out, cap);
		fclose(f);
		if (!ok) {
			fail_msg(cmd, "%s: no password line, or one over %d bytes",
			    file, CC_LIMIT_PASSWORD);
			return CC_ERR_FORMAT;
		}
		return 0;
	}
	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "New password for %s: ", user);
		ok = prompt_hidden(prompt, out, cap) &&
		    prompt_hidden("The same again: ", again, sizeof(again));
		if (ok && strcmp(out, again) != 0) {
			sodium_memzero(again, sizeof(again));
			fail_msg(cmd, "the two passwords differ");
			return CC_ERR_FORMAT;
		}
		sodium_memzero(again, sizeof(again));
	} else {
		ok = read_line(stdin, out, cap);
	}
	if (!ok) {
		fail_msg(cmd, "no password given on standard input (or one over "
		    "%d bytes)", CC_LIMIT_PASSWORD);
		return CC_ERR_FORMAT;
	}
	return 0;
}

/* ---- init ----------------------------------------------------------------- */

/* An absolute, resolved path for the configuration. */
static int
resolve(const char *cmd, const char *what, const char *path, char *out)
{
	if (realpath(path, out) == NULL) {
		fail_msg(cmd, "--%s %s: %s", what, path, strerror(errno));
		return CC_ERR_IO;
	}
	return 0;
}

static void
unlink_db(const char *db_path)
{
	char side[PATH_BUF + 8];

	unlink(db_path);
	snprintf(side, sizeof(side), "%s-wal", db_path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db_path);
	unlink(side);
}

static int
cmd_init(const struct command *c, struct args *a)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	struct cc_seal_key *key = NULL;
	char cert[PATH_MAX], tkey[PATH_MAX], ca[PATH_MAX];
	char conf_path[PATH_BUF], db_path[PATH_BUF], key_path[PATH_BUF];
	char batches[PATH_BUF];
	uint8_t y_pub[CC_ELEMENT_BYTES];
	char y_hex[2 * CC_ELEMENT_BYTES + 1];
	unsigned long port = DEFAULT_PORT;
	bool made_conf = false, made_db = false, made_key = false;
	bool made_dir = false, made_batches = false, tls;
	const char *dir;
	struct stat st;
	int r, ntls;

	ntls = a->given[0] + a->given[1] + a->given[2];
	if (ntls != 0 && ntls != 3)
		return usage_error(c, "--cert, --key and --ca go together "
		    "(all three or none)", NULL);
	tls = ntls == 3;
	if (a->given[3] && cc_ini_parse_uint(a->value[3], 0, 65535, &port) != 0)
		return usage_error(c, "--port must be a whole number from 0 "
		    "to 65535", NULL);
	dir = agg_dir(a->dir);
	if (tls && (resolve(c->name, "cert", a->value[0], cert) != 0 ||
	    resolve(c->name, "key", a->value[1], tkey) != 0 ||
	    resolve(c->name, "ca", a->value[2], ca) != 0))
		return EXIT_FAIL;
	if (join(conf_path, sizeof(conf_path), dir, CONF_FILE) != 0 ||
	    join(db_path, sizeof(db_path), dir, DB_FILE) != 0 ||
	    join(key_path, sizeof(key_path), dir, CC_ATTRKEY_FILE) != 0 ||
	    join(batches, sizeof(batches), dir, BATCHES_DIR) != 0) {
		fail_msg(c->name, "the directory path is too long");
		return EXIT_FAIL;
	}
	if (mkdir(dir, 0700) == 0) {
		made_dir = true;
	} else if (errno != EEXIST) {
		fail_msg(c->name, "cannot create %s: %s", dir, strerror(errno));
		return EXIT_FAIL;
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fail_msg(c->name, "%s exists and is not a directory", dir);
		return EXIT_FAIL;
	}
	if (lstat(conf_path, &st) == 0 || lstat(db_path, &st) == 0 ||
	    lstat(key_path, &st) == 0) {
		fail_msg(c->name, "%s already holds an aggregator (refusing to "
		    "overwrite it)", dir);
		return EXIT_FAIL;
	}
	/* The directory holds the attribute key: nobody else may look in. */
	if (chmod(dir, 0700) != 0) {
		fail_msg(c->name, "chmod %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((r = cc_agg_config_write_new(dir, tls ? cert : NULL,
	    tls ? tkey : NULL, tls ? ca : NULL, (uint16_t)port, &d)) != 0)
		goto fail_d;
	made_conf = true;
	if ((r = cc_agg_store_open(&store, db_path, true, &d)) != 0)
		goto fail_d;
	made_db = true;
	cc_agg_store_close(store);
	store = NULL;
	if ((r = cc_seal_key_generate(&key)) != 0)
		goto fail_d;
	if ((r = cc_attrkey_write_new(key, key_path, &d)) != 0)
		goto fail_d;
	made_key = true;
	if (mkdir(batches, 0700) != 0) {
		fail_msg(c->name, "cannot create %s: %s", batches, strerror(errno));
		goto fail;
	}
	made_batches = true;
	cc_seal_key_public(key, y_pub);
	sodium_bin2hex(y_hex, sizeof(y_hex), y_pub, sizeof(y_pub));
	cc_seal_key_free(key);
	printf("%s: new aggregator in %s\n", progname, dir);
	printf("  attribute key Y = %s\n", y_hex);
	if (!tls)
		printf("  before `serve`, set cert, key and ca in %s\n", conf_path);
	printf("  next: %s node add ID --sector S --dir %s\n", progname, dir);
	printf("        %s user add NAME --role admin --dir %s\n", progname, dir);
	return EXIT_OK;
fail_d:
	fail_diag(c->name, r, &d);
fail:
	cc_seal_key_free(key);
	cc_agg_store_close(store);
	/* Leave nothing half made, or a second init would refuse. */
	if (made_batches)
		rmdir(batches);
	if (made_key)
		unlink(key_path);
	if (made_db)
		unlink_db(db_path);
	if (made_conf)
		unlink(conf_path);
	if (made_dir)
		rmdir(dir);
	return EXIT_FAIL;
}

/* ---- serve ---------------------------------------------------------------- */

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cc_app *app = arg;

	(void)what;
	cc_agg_log("serve: %s received, shutting down",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(app->base, NULL);
}

/* The user, query, node and audit routes in one table (docs/api.md). */
static struct cc_route *
all_routes(size_t *ret_n)
{
	const struct {
		const struct cc_route *routes;
		size_t n;
	} tables[] = {
		{ cc_api_user_routes, cc_api_user_nroutes },
		{ cc_api_query_routes, cc_api_query_nroutes },
		{ cc_api_node_routes, cc_api_node_nroutes },
		{ cc_api_audit_routes, cc_api_audit_nroutes },
	};
	struct cc_route *all;
	size_t i, n = 0, off = 0;

	*ret_n = 0;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		n += tables[i].n;
	if ((all = calloc(n, sizeof(*all))) == NULL)
		return NULL;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		memcpy(all + off, tables[i].routes, tables[i].n * sizeof(*all));
		off += tables[i].n;
	}
	*ret_n = n;
	return all;
}

static int
cmd_serve(const struct command *c, struct args *a)
{
	struct cc_diag d = { "" };
	struct cc_app app;
	struct cc_server_options opt = { 0 };
	struct cc_route *routes = NULL;
	struct event *ev_term = NULL, *ev_int = NULL;
	char key_path[PATH_BUF];
	const char *dir, *missing = NULL;
	size_t nroutes;
	int r, status = EXIT_FAIL;
	bool v6;

	memset(&app, 0, sizeof(app));
	dir = agg_dir(a->dir);
	if ((r = cc_agg_config_load(&app.cfg, dir, &d)) != 0) {
		if (r == CC_ERR_NOT_FOUND)
			fail_msg(c->name, "%s: no aggregator here (run `%s init --dir "
			    "%s` first)", dir, progname, dir);
		else
			fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	if (app.cfg.cert_file[0] == '\0')
		missing = "cert";
	else if (app.cfg.key_file[0] == '\0')
		missing = "key";
	else if (app.cfg.ca_file[0] == '\0')
		missing = "ca";
	if (missing != NULL) {
		fail_msg(c->name, "%s/%s: [server] %s: not set (needed to serve)",
		    dir, CONF_FILE, missing);
		return EXIT_FAIL;
	}
	if (join(key_path, sizeof(key_path), dir, CC_ATTRKEY_FILE) != 0) {
		fail_msg(c->name, "the directory path is too long");
		return EXIT_FAIL;
	}
	if (open_store(c->name, dir, &app.store) != 0)
		goto out;
	if ((r = cc_attrkey_load(&app.attr_key, key_path, &d)) != 0) {
		fail_diag(c->name, r, &d);
		goto out;
	}
	/* A peer closing its socket must not kill us; HUP means nothing yet. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if ((app.base = event_base_new()) == NULL ||
	    (routes = all_routes(&nroutes)) == NULL) {
		fail_msg(c->name, "out of memory");
		goto out;
	}
	opt.listen_address = app.cfg.listen;
	opt.port = app.cfg.port;
	opt.cert_file = app.cfg.cert_file;
	opt.key_file = app.cfg.key_file;
	opt.ca_file = app.cfg.ca_file;
	opt.web_root = app.cfg.web_root[0] != '\0' ? app.cfg.web_root : NULL;
	if ((r = cc_server_new(&app.server, app.base, &opt, routes, nroutes,
	    cc_auth_authorize, &app, &d)) != 0) {
		fail_diag(c->name, r, &d);
		goto out;
	}
	if ((r = cc_coordinator_new(&app.coord, &app, &d)) != 0 ||
	    (r = cc_login_new(&app.login, &app, &d)) != 0) {
		fail_diag(c->name, r, &d);
		goto out;
	}
	if ((ev_term = evsignal_new(app.base, SIGTERM, on_stop_signal, &app)) == NULL ||
	    (ev_int = evsignal_new(app.base, SIGINT, on_stop_signal, &app)) == NULL ||
	    evsignal_add(ev_term, NULL) != 0 || evsignal_add(ev_int, NULL) != 0) {
		fail_msg(c->name, "cannot install the signal handlers");
		goto out;
	}
	v6 = strchr(app.cfg.listen, ':') != NULL;
	printf("%s: listening on https://%s%s%s:%u\n", progname, v6 ? "[" : "",
	    app.cfg.listen, v6 ? "]" : "", (unsigned)cc_server_port(app.server));
	fflush(stdout);
	cc_agg_log("serve: started (%s, port %u)", dir,
	    (unsigned)cc_server_port(app.server));
	if (event_base_dispatch(app.base) < 0) {
		cc_agg_log("serve: the event loop failed");
		goto out;
	}
	status = EXIT_OK;
out:
	/*
	 * The coordinator answers its held polls and waits for a running
	 * count before the server (and its connections) go away; the store
	 * closes last.
	 */
	cc_login_free(app.login);
	app.login = NULL;
	cc_coordinator_free(app.coord);
	app.coord = NULL;
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	cc_server_free(app.server);
	free(routes);
	cc_seal_key_free(app.attr_key);
	cc_agg_store_close(app.store);
	if (app.base != NULL)
		event_base_free(app.base);
	if (status == EXIT_OK)
		cc_agg_log("serve: stopped");
	return status;
}

/* ---- nodes ---------------------------------------------------------------- */

static int
cmd_node_add(const struct command *c, struct args *a)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (!a->given[0])
		return usage_error(c, "--sector is required", NULL);
	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_auth_node_add(store, a->pos[0], a->value[0], time(NULL), &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("node %s added (sector %s, enabled)\n", a->pos[0], a->value[0]);
	return EXIT_OK;
}

static int
node_set_enabled(const struct command *c, struct args *a, bool enabled)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_auth_node_set_enabled(store, a->pos[0], enabled, &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("node %s %s\n", a->pos[0], enabled ? "enabled" : "disabled");
	return EXIT_OK;
}

static int
cmd_node_disable(const struct command *c, struct args *a)
{
	return node_set_enabled(c, a, false);
}

static int
cmd_node_enable(const struct command *c, struct args *a)
{
	return node_set_enabled(c, a, true);
}

/* A JSON value as one table cell ("-" for null). */
static const char *
cell(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	return "-";
}

static int
print_list(json_t *list, bool as_json, const char *const *cols, size_t ncols)
{
	json_t *row;
	size_t i, j;

	if (as_json) {
		if (json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			return EXIT_FAIL;
		putchar('\n');
		return EXIT_OK;
	}
	for (j = 0; j < ncols; j++)
		printf("%-*s", j + 1 < ncols ? 22 : 0, cols[j]);
	putchar('\n');
	json_array_foreach(list, i, row) {
		for (j = 0; j < ncols; j++) {
			if (strcmp(cols[j], "tokens") == 0)
				printf("%" JSON_INTEGER_FORMAT, json_integer_value(
				    json_object_get(row, "tokens")));
			else
				printf("%-*s", j + 1 < ncols ? 22 : 0, cell(row, cols[j]));
		}
		putchar('\n');
	}
	return EXIT_OK;
}

/*
 * Open the store, list its nodes or users and print them (--json: the
 * array as the API returns it).
 */
/* What a list command lists: arg is its NAME argument, if it has one. */
typedef int (*lister_fn)(struct cc_agg_store *s, const char *arg,
    json_t **ret_list, struct cc_diag *diag);

static int
list_users(struct cc_agg_store *s, const char *arg, json_t **ret_list,
    struct cc_diag *diag)
{
	(void)arg;
	return cc_auth_user_list(s, ret_list, diag);
}

static int
list_nodes(struct cc_agg_store *s, const char *arg, json_t **ret_list,
    struct cc_diag *diag)
{
	(void)arg;
	return cc_auth_node_list(s, false, ret_list, diag);
}

static int
list_tokens(struct cc_agg_store *s, const char *arg, json_t **ret_list,
    struct cc_diag *diag)
{
	return cc_auth_token_list(s, arg, ret_list, diag);
}

static int
list_command(const struct command *c, struct args *a, lister_fn lister,
    const char *const *cols, size_t ncols)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	json_t *list = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = lister(store, c->npos > 0 ? a->pos[0] : NULL, &list, &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	r = print_list(list, a->given[0], cols, ncols);
	json_decref(list);
	return r;
}

static int
cmd_node_list(const struct command *c, struct args *a)
{
	static const char *const cols[] = { "id", "sector", "enabled",
	    "last_seen" };

	return list_command(c, a, list_nodes, cols,
	    sizeof(cols) / sizeof(cols[0]));
}

/* ---- users and tokens ------------------------------------------------------ */

static int
cmd_user_add(const struct command *c, struct args *a)
{
	char pw[CC_LIMIT_PASSWORD + 3];
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	enum cc_role role;
	int r;

	if (!a->given[0] || cc_auth_role_parse(&role, a->value[0]) != 0)
		return usage_error(c, "--role analyst|auditor|admin is required", NULL);
	if (cc_auth_username_check(a->pos[0]) != 0) {
		fail_msg(c->name, "a user name is 1 to %d characters from a-z, "
		    "0-9, '.', '_', '@' and '-', starting with a letter or digit",
		    CC_LIMIT_USERNAME);
		return EXIT_FAIL;
	}
	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	if (read_password(c->name, a->value[1], a->pos[0], pw, sizeof(pw)) != 0) {
		cc_agg_store_close(store);
		return EXIT_FAIL;
	}
	r = cc_auth_user_add(store, a->pos[0], role, pw, time(NULL), &d);
	sodium_memzero(pw, sizeof(pw));
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("user %s added (%s)\n", a->pos[0], cc_auth_role_name(role));
	return EXIT_OK;
}

static int
cmd_user_passwd(const struct command *c, struct args *a)
{
	char pw[CC_LIMIT_PASSWORD + 3];
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	if (read_password(c->name, a->value[0], a->pos[0], pw, sizeof(pw)) != 0) {
		cc_agg_store_close(store);
		return EXIT_FAIL;
	}
	r = cc_auth_user_passwd(store, a->pos[0], pw, &d);
	sodium_memzero(pw, sizeof(pw));
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("password of %s changed; its sessions are ended\n", a->pos[0]);
	return EXIT_OK;
}

static int
user_set_enabled(const struct command *c, struct args *a, bool enabled)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_auth_user_set_enabled(store, a->pos[0], enabled, &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("user %s %s\n", a->pos[0], enabled ? "enabled" :
	    "disabled; its sessions are ended and its tokens refused");
	return EXIT_OK;
}

static int
cmd_user_disable(const struct command *c, struct args *a)
{
	return user_set_enabled(c, a, false);
}

static int
cmd_user_enable(const struct command *c, struct args *a)
{
	return user_set_enabled(c, a, true);
}

static int
cmd_user_list(const struct command *c, struct args *a)
{
	static const char *const cols[] = { "name", "role", "enabled", "created",
	    "tokens" };

	return list_command(c, a, list_users, cols,
	    sizeof(cols) / sizeof(cols[0]));
}

static int
cmd_token_create(const struct command *c, struct args *a)
{
	char token[CC_AUTH_TOKEN_LEN + 1];
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_auth_token_create(store, a->pos[0], a->value[0], time(NULL), token,
	    &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	/* Shown once: only its hash is kept. */
	printf("%s\n", token);
	fflush(stdout);
	sodium_memzero(token, sizeof(token));
	fprintf(stderr, "%s %s: a new API token for %s (shown only now; keep it "
	    "secret)\n", progname, c->name, a->pos[0]);
	return EXIT_OK;
}

static int
cmd_token_list(const struct command *c, struct args *a)
{
	static const char *const cols[] = { "id", "label", "created" };

	return list_command(c, a, list_tokens, cols,
	    sizeof(cols) / sizeof(cols[0]));
}

static int
cmd_token_revoke(const struct command *c, struct args *a)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_auth_token_revoke(store, a->pos[0], a->pos[1], &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	printf("token %s of %s revoked\n", a->pos[1], a->pos[0]);
	return EXIT_OK;
}

/* ---- audit ---------------------------------------------------------------- */

static int
cmd_audit_verify(const struct command *c, struct args *a)
{
	struct cc_diag d = { "" };
	struct cc_agg_store *store = NULL;
	char head[CC_AUDIT_HASH_HEX];
	int64_t count = 0, bad = 0, seq = 0;
	int r;

	if (open_store(c->name, agg_dir(a->dir), &store) != 0)
		return EXIT_FAIL;
	r = cc_audit_verify(store, &count, &bad, &d);
	if (r == 0 && bad == 0)
		r = cc_audit_head(store, &seq, head, &d);
	cc_agg_store_close(store);
	if (r != 0) {
		fail_diag(c->name, r, &d);
		return EXIT_FAIL;
	}
	if (bad != 0) {
		fprintf(stderr, "%s %s: the audit log is broken at entry %" PRId64
		    ": %s\n", progname, c->name, bad, d.text);
		return EXIT_FAIL;
	}
	printf("audit log intact: %" PRId64 " entries, head %s\n", count, head);
	return EXIT_OK;
}

/* ---- dispatch --------------------------------------------------------------- */

static const struct command commands[] = {
	{ "init", cmd_init, 0,
	  { { "cert", true }, { "key", true }, { "ca", true }, { "port", true } },
	  "--dir DIR [--cert FILE --key FILE --ca FILE] [--port N]",
	  "Creates a new aggregator in DIR (mode 0700): a commented\n"
	  "aggregator.conf, the store aggregator.db, the attribute key\n"
	  "attribute.key (the ElGamal scalar y, mode 0600) and batches/.\n"
	  "--cert, --key and --ca (all three or none) name the aggregator's TLS\n"
	  "certificate and key and the federation CA (see deploy/pki); --port\n"
	  "is the HTTPS port (default 8443, 0 = any free port). Refuses a\n"
	  "directory that already holds an aggregator.\n" },
	{ "serve", cmd_serve, 0, { { NULL, false } },
	  "[--dir DIR]",
	  "Runs the aggregator: HTTPS on the address and port of\n"
	  "aggregator.conf with the API of docs/api.md, and the query\n"
	  "coordinator. Prints `crosscount-aggregator: listening on\n"
	  "https://ADDRESS:PORT` on standard output when ready; logs go to\n"
	  "standard error. SIGTERM or SIGINT stops it cleanly (exit 0); SIGHUP\n"
	  "is ignored.\n" },
	{ "node add", cmd_node_add, 1, { { "sector", true } },
	  "ID --sector school|social|health|other [--dir DIR]",
	  "Registers node ID (the CN of its certificate from the federation CA),\n"
	  "enabled. Its catalogue arrives when the node first connects.\n" },
	{ "node disable", cmd_node_disable, 1, { { NULL, false } },
	  "ID [--dir DIR]",
	  "Refuses node ID from now on (403 on every request); its registry\n"
	  "entry stays. Running `serve` sees the change at once.\n" },
	{ "node enable", cmd_node_enable, 1, { { NULL, false } },
	  "ID [--dir DIR]", "Accepts a disabled node ID again.\n" },
	{ "node list", cmd_node_list, 0, { { "json", false } },
	  "[--json] [--dir DIR]",
	  "Lists the registered nodes (id, sector, enabled, last seen); --json\n"
	  "adds each node's catalogue.\n" },
	{ "user add", cmd_user_add, 1,
	  { { "role", true }, { "password-file", true } },
	  "NAME --role analyst|auditor|admin [--password-file FILE] [--dir DIR]",
	  "Adds a user. The password (10 to 256 bytes) is the first line of\n"
	  "FILE, else typed twice without echo on a terminal, else one line of\n"
	  "standard input. Only its argon2id hash is stored.\n" },
	{ "user passwd", cmd_user_passwd, 1, { { "password-file", true } },
	  "NAME [--password-file FILE] [--dir DIR]",
	  "Sets a new password (read as for `user add`) and ends the user's\n"
	  "sessions.\n" },
	{ "user disable", cmd_user_disable, 1, { { NULL, false } },
	  "NAME [--dir DIR]",
	  "Disables a user: sessions end, sign-ins and API tokens are refused.\n" },
	{ "user enable", cmd_user_enable, 1, { { NULL, false } },
	  "NAME [--dir DIR]", "Enables a disabled user again.\n" },
	{ "user list", cmd_user_list, 0, { { "json", false } },
	  "[--json] [--dir DIR]",
	  "Lists the users (name, role, enabled, created, number of tokens).\n" },
	{ "token create", cmd_token_create, 1, { { "label", true } },
	  "NAME [--label TEXT] [--dir DIR]",
	  "Creates an API token for user NAME (for the crosscount CLI:\n"
	  "Authorization: Bearer TOKEN) and prints it once on standard output;\n"
	  "only its SHA-256 is kept. The token acts with the user's role.\n" },
	{ "token list", cmd_token_list, 1, { { "json", false } },
	  "NAME [--json] [--dir DIR]",
	  "Lists user NAME's API tokens: id (the first 12 hex digits of the\n"
	  "token's SHA-256, which names it without revealing it), label,\n"
	  "created.\n" },
	{ "token revoke", cmd_token_revoke, 2, { { NULL, false } },
	  "NAME ID [--dir DIR]",
	  "Revokes user NAME's token ID (as `token list` shows it): requests\n"
	  "with it are refused from then on. Audited.\n" },
	{ "audit verify", cmd_audit_verify, 0, { { NULL, false } },
	  "[--dir DIR]",
	  "Recomputes the hash chain of the audit log (SPEC 13) and prints the\n"
	  "number of entries and the head hash, or the first broken entry\n"
	  "(exit 1).\n" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [ARGS] [--dir DIR]\n\ncommands:\n", progname);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].usage);
	fprintf(f, "\nDIR defaults to $CROSSCOUNT_AGGREGATOR_DIR, then %s.\n"
	    "`%s COMMAND --help` explains a command. Exit status: 0 done,\n"
	    "1 failed or refused, 2 bad usage.\n", DEFAULT_DIR, progname);
}

int
main(int argc, char **argv)
{
	const struct command *c = NULL;
	struct args a;
	size_t i, len;
	int words = 0, r;

	/* Before any JSON exists: passwords and secrets pass through it. */
	cc_json_wipe_on_free();
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", progname);
		return EXIT_FAIL;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		len = strcspn(commands[i].name, " ");
		if (strlen(argv[1]) != len ||
		    strncmp(argv[1], commands[i].name, len) != 0)
			continue;
		if (commands[i].name[len] == '\0') {
			c = &commands[i];
			words = 1;
			break;
		}
		if (argc >= 3 && strcmp(argv[2], commands[i].name + len + 1) == 0) {
			c = &commands[i];
			words = 2;
			break;
		}
		words = -1;     /* a known group, an unknown or missing verb */
	}
	if (c == NULL) {
		if (words == -1)
			fprintf(stderr, "%s %s: unknown or missing subcommand%s%s\n",
			    progname, argv[1], argc >= 3 ? " " : "",
			    argc >= 3 ? argv[2] : "");
		else
			fprintf(stderr, "%s: unknown command %s\n", progname, argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((r = parse_args(c, argc - 1 - words, argv + 1 + words, &a)) != 0)
		return r < 0 ? EXIT_OK : r;
	return c->run(c, &a);
}
