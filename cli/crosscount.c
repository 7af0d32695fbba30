/*
 * crosscount: the analysts' command-line client (docs/api.md).
 *
 *   crosscount [--aggregator URL] [--token T] [--ca FILE] query submit FILE.json [--wait]
 *   crosscount ... query status ID
 *   crosscount ... query result ID [--csv]
 *   crosscount ... query list
 *
 * Defaults come from CROSSCOUNT_AGGREGATOR, CROSSCOUNT_TOKEN, CROSSCOUNT_CA.
 * Exit status: 0 done, 1 the query failed, was refused or could not be
 * reached (reason on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "protocol/client.h"
#include "protocol/error.h"
#include "protocol/hex.h"
#include "protocol/limits.h"
#include "protocol/query.h"

#define EXIT_DONE 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define CLI_TIMEOUT 60L
#define CLI_POLL_SECONDS 1
#define CLI_RESULT_CSV_MAX (16u << 20)

static const char usage_text[] =
"usage: crosscount [--aggregator URL] [--token TOKEN] [--ca FILE] COMMAND\n"
"\n"
"Commands:\n"
"  query submit FILE.json [--wait]  submit a query; with --wait, show progress\n"
"                                   and print the released table as JSON\n"
"  query status ID                  print a query's status and progress (JSON)\n"
"  query result ID [--csv]          print a released table (JSON, or CSV)\n"
"  query list                       list your queries (JSON)\n"
"\n"
"Options (or environment):\n"
"  --aggregator URL  the aggregator, https://host:port (CROSSCOUNT_AGGREGATOR)\n"
"  --token TOKEN     your API token (CROSSCOUNT_TOKEN)\n"
"  --ca FILE         the CA certificate that signed the aggregator's (CROSSCOUNT_CA)\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 done, 1 the query failed or was refused (reason on stderr),\n"
"2 usage.\n";

struct cli {
	struct cc_client *client;
};

static int
cli_usage(const char *problem)
{
	if (problem != NULL)
		fprintf(stderr, "crosscount: %s\n", problem);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static void
cli_fail(const char *what, int r, const struct cc_diag *diag)
{
	if (diag != NULL && diag->text[0] != '\0')
		fprintf(stderr, "crosscount: %s: %s\n", what, diag->text);
	else
		fprintf(stderr, "crosscount: %s: %s\n", what, cc_strerror(r));
}

/* Query ids are 32 lowercase hex characters (docs/api.md). */
static bool
cli_query_id_valid(const char *id)
{
	return cc_hex_valid(id, 32);
}

static void
cli_print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text != NULL) {
		puts(text);
		free(text);
	}
	fflush(stdout);
}

/*
 * A JSON call whose answer must be 2xx. Returns the process exit status
 * to use on failure (EXIT_FAILED), or EXIT_DONE with *ret_json set.
 */
static int
cli_call(struct cli *cli, const char *method, const char *path,
    const json_t *body, const char *what, json_t **ret_json)
{
	struct cc_diag diag = { "" };
	long status = 0;
	json_t *answer = NULL;
	int r;

	*ret_json = NULL;
	r = cc_client_json(cli->client, method, path, body, CLI_TIMEOUT,
	    &status, &answer, &diag);
	if (r != 0) {
		cli_fail(what, r, &diag);
		return EXIT_FAILED;
	}
	if (status < 200 || status > 299) {
		cli_fail(what, CC_ERR_NETWORK, &diag);
		json_decref(answer);
		return EXIT_FAILED;
	}
	*ret_json = answer;
	return EXIT_DONE;
}

static int
cli_read_file(const char *path, char **ret_text, size_t *ret_len)
{
	FILE *f;
	char *text = NULL;
	size_t n;
	int r = EXIT_FAILED;

	*ret_text = NULL;
	*ret_len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "crosscount: %s: %s\n", path, strerror(errno));
		return EXIT_FAILED;
	}
	if ((text = malloc(CC_LIMIT_QUERY_JSON + 1)) == NULL)
		goto out;
	n = fread(text, 1, CC_LIMIT_QUERY_JSON + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "crosscount: %s: cannot read\n", path);
		goto out;
	}
	if (n > CC_LIMIT_QUERY_JSON) {
		fprintf(stderr, "crosscount: %s: a query may be at most %d bytes\n",
		    path, CC_LIMIT_QUERY_JSON);
		goto out;
	}
	text[n] = '\0';
	*ret_text = text;
	*ret_len = n;
	text = NULL;
	r = EXIT_DONE;
out:
	free(text);
	fclose(f);
	return r;
}

/* One line of progress, for a person watching a terminal. */
static void
cli_show_progress(const json_t *st, bool tty)
{
	const char *status = json_string_value(json_object_get(st, "status"));
	json_t *nodes = json_object_get(st, "nodes"), *n;
	size_t i, approved = 0, steps = 0, total = 0;

	if (!tty || status == NULL)
		return;
	json_array_foreach(nodes, i, n) {
		const char *a = json_string_value(json_object_get(n, "approval"));

		if (a != NULL && strcmp(a, "approved") == 0)
			approved++;
		steps += (size_t)json_integer_value(json_object_get(n, "steps_done"));
		total += (size_t)json_integer_value(json_object_get(n, "steps_total"));
	}
	if (strcmp(status, "awaiting_approval") == 0)
		fprintf(stderr, "\r\033[Kwaiting for approval: %zu of %zu nodes approved",
		    approved, json_array_size(nodes));
	else if (strcmp(status, "running") == 0)
		fprintf(stderr, "\r\033[Krunning: %zu of %zu steps done", steps, total);
	else
		fprintf(stderr, "\r\033[K%s", status);
	fflush(stderr);
}

static int
cli_print_result(struct cli *cli, const char *id, bool csv)
{
	struct cc_diag diag = { "" };
	char path[128];
	char *text = NULL;
	size_t len;
	long status;
	json_t *answer = NULL;
	int r, rc;

	if (!csv) {
		snprintf(path, sizeof(path), "/api/v1/queries/%s/result", id);
		rc = cli_call(cli, "GET", path, NULL, "result", &answer);
		if (rc == EXIT_DONE)
			cli_print_json(answer);
		json_decref(answer);
		return rc;
	}
	snprintf(path, sizeof(path), "/api/v1/queries/%s/result.csv", id);
	r = cc_client_get_text(cli->client, path, CLI_RESULT_CSV_MAX, CLI_TIMEOUT,
	    &status, &text, &len, &diag);
	if (r != 0 || status < 200 || status > 299) {
		cli_fail("result", r != 0 ? r : CC_ERR_NETWORK, &diag);
		free(text);
		return EXIT_FAILED;
	}
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	free(text);
	return EXIT_DONE;
}

/* Poll until the query ends; released prints the table. */
static int
cli_wait(struct cli *cli, const char *id)
{
	char path[128];
	json_t *st = NULL;
	const char *status;
	bool tty = isatty(STDERR_FILENO);
	int rc;

	snprintf(path, sizeof(path), "/api/v1/queries/%s", id);
	for (;;) {
		if ((rc = cli_call(cli, "GET", path, NULL, "status", &st)) != EXIT_DONE)
			return rc;
		cli_show_progress(st, tty);
		status = json_string_value(json_object_get(st, "status"));
		if (status == NULL) {
			fprintf(stderr, "crosscount: the aggregator's status has no \"status\"\n");
			json_decref(st);
			return EXIT_FAILED;
		}
		if (strcmp(status, "released") == 0) {
			if (tty)
				fputc('\n', stderr);
			json_decref(st);
			return cli_print_result(cli, id, false);
		}
		if (strcmp(status, "failed") == 0 || strcmp(status, "rejected") == 0) {
			const char *why = json_string_value(json_object_get(st, "reason"));

			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "crosscount: query %s %s: %s\n", id, status,
			    why != NULL ? why : "no reason given");
			json_decref(st);
			return EXIT_FAILED;
		}
		json_decref(st);
		st = NULL;
		sleep(CLI_POLL_SECONDS);
	}
}

static int
cli_submit(struct cli *cli, const char *file, bool wait)
{
	struct cc_diag diag = { "" };
	struct cc_query *q = NULL;
	char *text = NULL;
	size_t len;
	json_t *doc = NULL, *answer = NULL;
	json_error_t jerr;
	const char *id;
	int r, rc;

	if ((rc = cli_read_file(file, &text, &len)) != EXIT_DONE)
		return rc;
	/* Check locally first: the same rules the aggregator applies (SPEC 7.2). */
	if ((r = cc_query_parse(&q, text, len, &diag)) != 0) {
		fprintf(stderr, "crosscount: %s: %s\n", file,
		    diag.text[0] != '\0' ? diag.text : cc_strerror(r));
		rc = EXIT_FAILED;
		goto out;
	}
	if ((doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		fprintf(stderr, "crosscount: %s: line %d: %s\n", file, jerr.line, jerr.text);
		rc = EXIT_FAILED;
		goto out;
	}
	if ((rc = cli_call(cli, "POST", "/api/v1/queries", doc, "submit",
	    &answer)) != EXIT_DONE)
		goto out;
	id = json_string_value(json_object_get(answer, "id"));
	if (id == NULL || !cli_query_id_valid(id)) {
		fprintf(stderr, "crosscount: the aggregator returned no query id\n");
		rc = EXIT_FAILED;
		goto out;
	}
	if (!wait) {
		cli_print_json(answer);
		rc = EXIT_DONE;
		goto out;
	}
	fprintf(stderr, "submitted query %s\n", id);
	rc = cli_wait(cli, id);
out:
	json_decref(answer);
	json_decref(doc);
	cc_query_free(q);
	free(text);
	return rc;
}

static int
cli_status(struct cli *cli, const char *id)
{
	char path[128];
	json_t *st = NULL;
	const char *status;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/queries/%s", id);
	if ((rc = cli_call(cli, "GET", path, NULL, "status", &st)) != EXIT_DONE)
		return rc;
	cli_print_json(st);
	status = json_string_value(json_object_get(st, "status"));
	if (status != NULL && (strcmp(status, "failed") == 0 ||
	    strcmp(status, "rejected") == 0))
		rc = EXIT_FAILED;
	json_decref(st);
	return rc;
}

static int
cli_list(struct cli *cli)
{
	json_t *list = NULL;
	int rc;

	if ((rc = cli_call(cli, "GET", "/api/v1/queries", NULL, "list", &list)) ==
	    EXIT_DONE)
		cli_print_json(list);
	json_decref(list);
	return rc;
}

/* The query subcommands; argv starts after "query". */
static int
cli_query(struct cli *cli, int argc, char **argv)
{
	const char *cmd;
	bool flag = false;
	int i;

	if (argc < 1)
		return cli_usage("query needs a subcommand");
	cmd = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return EXIT_DONE;
		}
	}
	if (strcmp(cmd, "list") == 0) {
		if (argc != 1)
			return cli_usage("query list takes no arguments");
		return cli_list(cli);
	}
	if (argc < 2)
		return cli_usage("missing argument");
	if (argc == 3) {
		if ((strcmp(cmd, "submit") == 0 && strcmp(argv[2], "--wait") == 0) ||
		    (strcmp(cmd, "result") == 0 && strcmp(argv[2], "--csv") == 0))
			flag = true;
		else
			return cli_usage("unknown option");
	} else if (argc > 3) {
		return cli_usage("too many arguments");
	}
	if (strcmp(cmd, "submit") == 0)
		return cli_submit(cli, argv[1], flag);
	if (!cli_query_id_valid(argv[1]))
		return cli_usage("a query id is 32 lowercase hex characters");
	if (strcmp(cmd, "status") == 0 && argc == 2)
		return cli_status(cli, argv[1]);
	if (strcmp(cmd, "result") == 0)
		return cli_print_result(cli, argv[1], flag);
	return cli_usage("unknown query command");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "aggregator", required_argument, NULL, 'a' },
		{ "token", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_client_options opt = { 0 };
	struct cc_diag diag = { "" };
	struct cli cli = { NULL };
	int ch, r, rc;

	opt.base_url = getenv("CROSSCOUNT_AGGREGATOR");
	opt.bearer_token = getenv("CROSSCOUNT_TOKEN");
	opt.ca_file = getenv("CROSSCOUNT_CA");
	/* '+': options end at the first command word. */
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': opt.base_url = optarg; break;
		case 't': opt.bearer_token = optarg; break;
		case 'c': opt.ca_file = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_DONE;
		default: return cli_usage(NULL);
		}
	}
	if (optind >= argc)
		return cli_usage("no command given");
	if (strcmp(argv[optind], "query") != 0)
		return cli_usage("unknown command");
	/* Help needs no aggregator: "query submit --help" works anywhere. */
	for (ch = optind + 1; ch < argc; ch++) {
		if (strcmp(argv[ch], "--help") == 0 || strcmp(argv[ch], "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_DONE;
		}
	}
	if (opt.base_url == NULL || opt.base_url[0] == '\0')
		return cli_usage("no aggregator: use --aggregator or CROSSCOUNT_AGGREGATOR");
	if (opt.bearer_token == NULL || opt.bearer_token[0] == '\0')
		return cli_usage("no API token: use --token or CROSSCOUNT_TOKEN");
	if (opt.ca_file == NULL || opt.ca_file[0] == '\0')
		return cli_usage("no CA file: use --ca or CROSSCOUNT_CA");
	if (cc_client_global_init() != 0) {
		fprintf(stderr, "crosscount: cannot initialise libcurl\n");
		return EXIT_FAILED;
	}
	if ((r = cc_client_new(&cli.client, &opt, &diag)) != 0) {
		cli_fail("configuration", r, &diag);
		rc = r == CC_ERR_CONFIG ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	rc = cli_query(&cli, argc - optind - 1, argv + optind + 1);
out:
	cc_client_free(cli.client);
	cc_client_global_cleanup();
	return rc;
}
