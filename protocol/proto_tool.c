/*
 * crosscount-proto: the reviewers' tool. Lets anyone check the protocol's
 * building blocks against the spec without running a node:
 *
 *   normalize  the canonical form of an identity (SPEC.md 4.2)
 *   token      H(id) and multi-key tokens (SPEC 5.3, 8.3-8.4)
 *   selftest   every known-answer test (SPEC 16)
 *   vectors    crosscount's own vectors, = protocol/vectors/v1.json
 *   inspect    a batch file's header and signer (SPEC 8.1, 8.6)
 *
 * Exit status: 0 success, 1 invalid input or a failed check, 2 usage.
 * Messages never repeat an identity; an identity can be given as "-" to
 * read it from standard input, which keeps it out of the process list.
 */
#include "protocol/batch.h"
#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/identity.h"
#include "protocol/kat.h"
#include "protocol/limits.h"
#include "protocol/seal.h"
#include "protocol/sign.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "crosscount-proto"

#define EXIT_OK 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2

/* One key per node of a query is the most a real token ever sees. */
#define TOOL_MAX_KEYS CC_LIMIT_QUERY_NODES

enum {
	OPT_ON = 1 << 0,
	OPT_KEY = 1 << 1,
	OPT_CA = 1 << 2,
};

struct tool_opts {
	bool help;
	const char *on;
	const char *ca;
	const char *keys[TOOL_MAX_KEYS];
	size_t nkeys;
	const char *args[2];
	size_t nargs;
};

static const char usage_main[] =
    "usage: " PROG " COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Check crosscount's protocol building blocks (protocol/SPEC.md).\n"
    "\n"
    "commands:\n"
    "  normalize [--on YYYY-MM-DD] ID        the canonical 12 digits of ID\n"
    "  token [--on DATE] [--key HEX]... ID   the token (k1*k2*...)*H(ID), hex\n"
    "  selftest                              run every known-answer test\n"
    "  vectors                               print crosscount's test vectors\n"
    "  inspect [--ca FILE] BATCH             a batch file's header and signer\n"
    "\n"
    "ID may be \"-\" to read it from standard input.\n"
    "Run '" PROG " COMMAND --help' for the details of a command.\n"
    "Exit status: 0 success, 1 invalid input or failed check, 2 usage error.\n";

static const char usage_normalize[] =
    "usage: " PROG " normalize [--on YYYY-MM-DD] ID\n"
    "\n"
    "Print the canonical form (12 digits YYYYMMDDNNNC, SPEC.md 4.2) of a\n"
    "personnummer or samordningsnummer written as YYYYMMDDNNNC,\n"
    "YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDD+NNNC or YYMMDDNNNC.\n"
    "\n"
    "  --on DATE   reference date for the century of a 10-digit form\n"
    "              (default: today, UTC)\n"
    "  ID          the identity, or \"-\" to read one line from stdin\n"
    "\n"
    "Exit status: 0 valid, 1 invalid (the reason goes to stderr and never\n"
    "repeats the identity), 2 usage error.\n";

static const char usage_token[] =
    "usage: " PROG " token [--on YYYY-MM-DD] [--key HEX]... ID\n"
    "\n"
    "Print, as 64 hex digits, the ristretto255 element\n"
    "    (k1 * k2 * ...) * H(canonical(ID))\n"
    "with H the hash to group of SPEC.md 5.3 (DST " CC_HASH_TO_GROUP_DST ").\n"
    "Without --key this is H(ID) itself. The keys are applied in the order\n"
    "given; the result does not depend on that order.\n"
    "\n"
    "  --key HEX   a scalar: 32 bytes little-endian as 64 hex digits,\n"
    "              canonical (below the group order L) and not zero;\n"
    "              repeat for several keys (at most 32)\n"
    "  --on DATE   reference date for a 10-digit ID (default: today, UTC)\n"
    "  ID          the identity, or \"-\" to read one line from stdin\n"
    "\n"
    "Exit status: 0 success, 1 invalid ID, 2 usage error (including a bad key).\n";

static const char usage_selftest[] =
    "usage: " PROG " selftest\n"
    "\n"
    "Run every known-answer test (RFC 9380 K.3 expand_message_xmd SHA-512,\n"
    "RFC 9496 A.1-A.3 ristretto255, RFC 9497 A.1.1 OPRF(ristretto255,\n"
    "SHA-512), and crosscount's own vectors) and print one line per test,\n"
    "PASS or FAIL and its name, then a count.\n"
    "\n"
    "Exit status: 0 if every test passed, 1 otherwise.\n";

static const char usage_vectors[] =
    "usage: " PROG " vectors\n"
    "\n"
    "Print crosscount's own test vectors as JSON, computed by this build:\n"
    "expand_message_xmd with our DSTs, H(id), tokens under one, two and\n"
    "three keys, attribute message elements M_v and padded batch sizes.\n"
    "The output is byte for byte protocol/vectors/v1.json.\n";

static const char usage_inspect[] =
    "usage: " PROG " inspect [--ca FILE] BATCH\n"
    "\n"
    "Show a batch file's header (SPEC.md 8.1), record count, reference\n"
    "values, digest and signer, and check the signature under the signer\n"
    "certificate's key. Needs no key and prints no token.\n"
    "\n"
    "  --ca FILE   the federation CA (PEM): also check that the signer's\n"
    "              certificate chains to this CA (without it the\n"
    "              certificate itself is NOT checked)\n"
    "\n"
    "Exit status: 0 the batch is well formed and its signature verifies\n"
    "(with --ca, also the certificate chain), 1 it does not, 2 usage error.\n";

static void
print_error(const char *what, int r, const struct cc_diag *diag)
{
	if (diag != NULL && diag->text[0] != '\0')
		fprintf(stderr, PROG ": %s: %s: %s\n", what, cc_strerror(r),
		    diag->text);
	else
		fprintf(stderr, PROG ": %s: %s\n", what, cc_strerror(r));
}

static int
usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", usage);
	return EXIT_USAGE;
}

/*
 * An argument is repeated in a message only if it looks like an option
 * name: anything else might be an identity typed in the wrong place.
 */
static const char *
safe_name(const char *a)
{
	size_t i, n = strlen(a);

	if (n > 24)
		return "(not shown)";
	for (i = 0; i < n && a[i] != '='; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') || a[i] == '-'))
			return "(not shown)";
	return a;
}

/*
 * Options of one command: "--opt VALUE" or "--opt=VALUE", "--help", "--"
 * ends the options, "-" is an argument. Returns EXIT_OK or EXIT_USAGE
 * (after printing why).
 */
static int
parse_opts(struct tool_opts *o, int argc, char **argv, unsigned allowed,
    size_t max_args, const char *usage)
{
	bool only_args = false;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *value = NULL, *eq;
		size_t name_len;
		unsigned which = 0;

		if (only_args || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->nargs >= max_args)
				return usage_error(usage, "too many arguments");
			o->args[o->nargs++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
			continue;
		}
		eq = strchr(a, '=');
		name_len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if (name_len == 4 && strncmp(a, "--on", 4) == 0)
			which = OPT_ON;
		else if (name_len == 5 && strncmp(a, "--key", 5) == 0)
			which = OPT_KEY;
		else if (name_len == 4 && strncmp(a, "--ca", 4) == 0)
			which = OPT_CA;
		if ((which & allowed) == 0)
			return usage_error(usage, "unknown option %.*s",
			    (int)name_len, safe_name(a));
		if (eq != NULL) {
			value = eq + 1;
		} else {
			if (i + 1 >= argc)
				return usage_error(usage, "option %s needs a value",
				    a);
			value = argv[++i];
		}
		switch (which) {
		case OPT_ON:
			if (o->on != NULL)
				return usage_error(usage, "%s given twice", "--on");
			o->on = value;
			break;
		case OPT_CA:
			if (o->ca != NULL)
				return usage_error(usage, "%s given twice", "--ca");
			o->ca = value;
			break;
		case OPT_KEY:
			if (o->nkeys >= TOOL_MAX_KEYS)
				return usage_error(usage, "%s: too many keys",
				    "--key");
			o->keys[o->nkeys++] = value;
			break;
		default:
			return usage_error(usage, "unknown option");
		}
	}
	return EXIT_OK;
}

/* The reference date: --on, or today. EXIT_USAGE for a bad --on. */
static int
reference_date(struct cc_date *ret_date, const char *on, const char *usage)
{
	struct cc_diag diag = { { 0 } };
	int r;

	if (on == NULL) {
		if ((r = cc_date_today(ret_date)) != 0) {
			print_error("today's date", r, NULL);
			return EXIT_INVALID;
		}
		return EXIT_OK;
	}
	if ((r = cc_date_parse(ret_date, on, strlen(on), &diag)) != 0) {
		fprintf(stderr, PROG ": --on: %s\n\n%s",
		    diag.text[0] != '\0' ? diag.text : cc_strerror(r), usage);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * The identity text: the argument itself, or one line of stdin for "-".
 * buf holds what was read (wiped by the caller). EXIT_INVALID if the line
 * is too long for any written identity.
 */
static int
identity_text(char *buf, size_t buf_size, const char *arg, const char **ret_text,
    size_t *ret_len)
{
	size_t len;

	*ret_text = NULL;
	*ret_len = 0;
	if (strcmp(arg, "-") != 0) {
		*ret_text = arg;
		*ret_len = strlen(arg);
		return EXIT_OK;
	}
	if (fgets(buf, (int)buf_size, stdin) == NULL) {
		fprintf(stderr, PROG ": no identity on standard input\n");
		return EXIT_INVALID;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin)) {
		fprintf(stderr, PROG ": identity: the line is too long\n");
		return EXIT_INVALID;
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	*ret_text = buf;
	*ret_len = len;
	return EXIT_OK;
}

/* Parse the identity argument; EXIT_INVALID with a reason on stderr. */
static int
parse_identity(struct cc_identity *ret_id, const char *arg,
    const struct cc_date *ref)
{
	char buf[CC_LIMIT_IDENTITY_TEXT + 3];
	struct cc_diag diag = { { 0 } };
	const char *text;
	size_t len;
	int ex, r;

	ex = identity_text(buf, sizeof(buf), arg, &text, &len);
	if (ex == EXIT_OK &&
	    (r = cc_identity_parse(ret_id, text, len, ref, &diag)) != 0) {
		print_error("identity", r, &diag);
		ex = EXIT_INVALID;
	}
	sodium_memzero(buf, sizeof(buf));
	return ex;
}

static int
cmd_normalize(int argc, char **argv)
{
	struct tool_opts o;
	struct cc_identity id;
	struct cc_date ref;
	int ex;

	if ((ex = parse_opts(&o, argc, argv, OPT_ON, 1, usage_normalize)) != 0)
		return ex;
	if (o.help) {
		fputs(usage_normalize, stdout);
		return EXIT_OK;
	}
	if (o.nargs != 1)
		return usage_error(usage_normalize, "normalize needs one ID");
	if ((ex = reference_date(&ref, o.on, usage_normalize)) != 0)
		return ex;
	memset(&id, 0, sizeof(id));
	if ((ex = parse_identity(&id, o.args[0], &ref)) == EXIT_OK)
		printf("%s\n", id.canonical);
	cc_identity_wipe(&id);
	return ex;
}

/* A --key value: exactly 64 hex digits, then a canonical non-zero scalar. */
static int
parse_key(uint8_t ret_k[CC_SCALAR_BYTES], const char *hex, size_t index)
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (strlen(hex) != 2 * CC_SCALAR_BYTES ||
	    sodium_hex2bin(ret_k, CC_SCALAR_BYTES, hex, strlen(hex), NULL,
	    &bin_len, &end) != 0 || bin_len != CC_SCALAR_BYTES ||
	    end != hex + strlen(hex)) {
		fprintf(stderr, PROG ": --key %zu: not 64 hex digits (a 32-byte "
		    "little-endian scalar)\n", index);
		sodium_memzero(ret_k, CC_SCALAR_BYTES);
		return EXIT_USAGE;
	}
	if (cc_group_scalar_check(ret_k) != 0) {
		fprintf(stderr, PROG ": --key %zu: not a canonical non-zero "
		    "scalar (it must be below the group order L and not 0)\n",
		    index);
		sodium_memzero(ret_k, CC_SCALAR_BYTES);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
cmd_token(int argc, char **argv)
{
	struct tool_opts o;
	struct cc_identity id;
	struct cc_date ref;
	uint8_t keys[TOOL_MAX_KEYS][CC_SCALAR_BYTES], p[CC_ELEMENT_BYTES];
	char hex[2 * CC_ELEMENT_BYTES + 1];
	size_t i;
	int ex, r;

	memset(&id, 0, sizeof(id));
	memset(keys, 0, sizeof(keys));
	if ((ex = parse_opts(&o, argc, argv, OPT_ON | OPT_KEY, 1,
	    usage_token)) != 0)
		return ex;
	if (o.help) {
		fputs(usage_token, stdout);
		return EXIT_OK;
	}
	if (o.nargs != 1)
		return usage_error(usage_token, "token needs one ID");
	/* Usage errors (keys, date) come before the identity is looked at. */
	for (i = 0; i < o.nkeys; i++)
		if ((ex = parse_key(keys[i], o.keys[i], i + 1)) != 0)
			goto out;
	if ((ex = reference_date(&ref, o.on, usage_token)) != 0)
		goto out;
	if ((ex = parse_identity(&id, o.args[0], &ref)) != 0)
		goto out;
	ex = EXIT_INVALID;
	if ((r = cc_group_hash_identity(p, id.canonical)) != 0) {
		print_error("hash to group", r, NULL);
		goto out;
	}
	for (i = 0; i < o.nkeys; i++) {
		if ((r = cc_group_mult(p, keys[i], p)) != 0) {
			print_error("scalar multiplication", r, NULL);
			goto out;
		}
	}
	sodium_bin2hex(hex, sizeof(hex), p, sizeof(p));
	printf("%s\n", hex);
	ex = EXIT_OK;
out:
	cc_identity_wipe(&id);
	sodium_memzero(keys, sizeof(keys));
	sodium_memzero(p, sizeof(p));
	sodium_memzero(hex, sizeof(hex));
	return ex;
}

static void
selftest_line(void *ctx, const char *name, bool passed)
{
	(void)ctx;
	printf("%s %s\n", passed ? "PASS" : "FAIL", name);
}

static int
cmd_selftest(int argc, char **argv)
{
	struct tool_opts o;
	struct cc_kat_report rep;
	int ex;

	if ((ex = parse_opts(&o, argc, argv, 0, 0, usage_selftest)) != 0)
		return ex;
	if (o.help) {
		fputs(usage_selftest, stdout);
		return EXIT_OK;
	}
	memset(&rep, 0, sizeof(rep));
	rep.on_result = selftest_line;
	ex = cc_kat_run(&rep) == 0 ? EXIT_OK : EXIT_INVALID;
	printf("%zu passed, %zu failed\n", rep.passed, rep.failed);
	return ex;
}

static int
cmd_vectors(int argc, char **argv)
{
	struct tool_opts o;
	char *json = NULL;
	size_t len = 0;
	int ex, r;

	if ((ex = parse_opts(&o, argc, argv, 0, 0, usage_vectors)) != 0)
		return ex;
	if (o.help) {
		fputs(usage_vectors, stdout);
		return EXIT_OK;
	}
	if ((r = cc_kat_vectors_json(&json, &len)) != 0) {
		print_error("vectors", r, NULL);
		return EXIT_INVALID;
	}
	ex = fwrite(json, 1, len, stdout) == len ? EXIT_OK : EXIT_INVALID;
	free(json);
	return ex;
}

static const char *
sex_name(uint8_t sex)
{
	switch (sex) {
	case CC_ATTR_SEX_NONE: return "not broken down";
	case CC_ATTR_SEX_FEMALE: return "female";
	case CC_ATTR_SEX_MALE: return "male";
	}
	return "?";
}

static void
print_refs(const struct cc_batch *b)
{
	const uint8_t *refs = cc_batch_refs(b);
	struct cc_attr a;
	size_t i, n = cc_batch_nrefs(b);

	printf("references:   %zu\n", n);
	for (i = 0; i < n; i++) {
		const uint8_t *v = refs + i * CC_BATCH_REF_BYTES;

		printf("  %02x%02x%02x%02x  ", v[0], v[1], v[2], v[3]);
		if (cc_attr_decode(&a, v) != 0)
			printf("(not a valid value)\n");
		else if (a.dummy)
			printf("dummy\n");
		else if (a.age_band == CC_ATTR_AGE_NONE)
			printf("age: not broken down, sex: %s\n", sex_name(a.sex));
		else
			printf("age band %u, sex: %s\n", (unsigned)a.age_band,
			    sex_name(a.sex));
	}
}

static int
cmd_inspect(int argc, char **argv)
{
	struct tool_opts o;
	struct cc_batch *b = NULL;
	struct cc_trust *trust = NULL;
	struct cc_diag diag = { { 0 } };
	const uint8_t *cert, *sig;
	size_t cert_len, sig_len;
	uint8_t d[32];
	char hex[2 * 32 + 1], cn[CC_LIMIT_NODE_ID + 1];
	bool have_cn;
	int ex, r;

	if ((ex = parse_opts(&o, argc, argv, OPT_CA, 1, usage_inspect)) != 0)
		return ex;
	if (o.help) {
		fputs(usage_inspect, stdout);
		return EXIT_OK;
	}
	if (o.nargs != 1)
		return usage_error(usage_inspect, "inspect needs one BATCH file");
	ex = EXIT_INVALID;
	if (o.ca != NULL && (r = cc_trust_load(&trust, o.ca, &diag)) != 0) {
		print_error("--ca", r, &diag);
		goto out;
	}
	if ((r = cc_batch_read_file(&b, o.args[0], CC_LIMIT_BATCH_ELEMENTS,
	    &diag)) != 0) {
		print_error("batch", r, &diag);  /* diag names the file */
		goto out;
	}

	printf("file:         %s\n", o.args[0]);
	printf("format:       %s version %d, record size %d bytes\n",
	    CC_BATCH_MAGIC, CC_BATCH_VERSION, CC_BATCH_RECORD_BYTES);
	sodium_bin2hex(hex, sizeof(hex), cc_batch_query_id(b),
	    CC_BATCH_QUERY_ID_BYTES);
	printf("query id:     %s\n", hex);
	printf("chain:        %u (origin: node %u of the sorted node list)\n",
	    (unsigned)cc_batch_chain(b), (unsigned)cc_batch_chain(b));
	printf("hop:          %u (of 0..%u%s, produced by node %u)\n",
	    (unsigned)cc_batch_hop(b), (unsigned)cc_batch_nodes(b) - 1,
	    cc_batch_hop(b) + 1 == cc_batch_nodes(b) ? ", final" : "",
	    (unsigned)cc_batch_hop_node(cc_batch_chain(b), cc_batch_hop(b),
	    cc_batch_nodes(b)));
	printf("nodes:        %u\n", (unsigned)cc_batch_nodes(b));
	printf("records:      %lu\n", (unsigned long)cc_batch_count(b));
	print_refs(b);
	cc_batch_digest(b, d);
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	printf("digest:       %s (SHA-256)\n", hex);

	if ((r = cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len)) != 0) {
		printf("signer:       none\n");
		print_error("signature", r, NULL);
		goto out;
	}
	have_cn = cc_sign_cert_cn(cn, cert, cert_len) == 0;
	printf("signer:       %s (certificate %zu bytes)\n",
	    have_cn ? cn : "(certificate has no valid node id)", cert_len);
	printf("signature:    %zu bytes\n", sig_len);
	if (trust == NULL) {
		cc_batch_digest(b, d);
		if ((r = cc_sign_verify_digest_key_only(cert, cert_len, sig,
		    sig_len, d, &diag)) != 0) {
			printf("verified:     FAILED: %s%s%s\n", cc_strerror(r),
			    diag.text[0] != '\0' ? ": " : "", diag.text);
			goto out;
		}
		printf("verified:     signature valid under the embedded "
		    "certificate's key; certificate NOT checked (give --ca FILE "
		    "to check it chains to the federation CA)\n");
		ex = EXIT_OK;
		goto out;
	}
	if (!have_cn) {
		printf("verified:     FAILED: the signer certificate names no "
		    "node\n");
		goto out;
	}
	if ((r = cc_sign_batch_verify(b, trust, cn, &diag)) != 0) {
		printf("verified:     FAILED: %s%s%s\n", cc_strerror(r),
		    diag.text[0] != '\0' ? ": " : "", diag.text);
		goto out;
	}
	printf("verified:     yes, signature valid and certificate chains to "
	    "%s\n", o.ca);
	ex = EXIT_OK;
out:
	cc_batch_free(b);
	cc_trust_free(trust);
	return ex;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{ "normalize", cmd_normalize },
		{ "token", cmd_token },
		{ "selftest", cmd_selftest },
		{ "vectors", cmd_vectors },
		{ "inspect", cmd_inspect },
	};
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium failed to initialise\n");
		return EXIT_INVALID;
	}
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 2, argv + 2);
	fprintf(stderr, PROG ": unknown command %s\n\n%s", safe_name(argv[1]),
	    usage_main);
	return EXIT_USAGE;
}
