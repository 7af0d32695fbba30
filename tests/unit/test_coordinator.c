/*
 * Unit tests: the query state machine (aggregator/coordinator.c) without
 * HTTP: submission checks, approvals, rejection, chain scheduling, the
 * commit checks of SPEC 8.6, node failure, deadlines, restart, and that
 * nothing stays on disk after a query ends. Batches are real: origin and
 * relay steps of the protocol library, signed with certificates of a
 * throwaway PKI (testpki).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "aggregator/app.h"
#include "aggregator/coordinator.h"
#include "protocol/batch.h"
#include "protocol/batch_file.h"
#include "protocol/group.h"
#include "protocol/sign.h"
#include "testpki.h"

#define NNODES 3
#define NPERSONS 80

static const char *const node_ids[NNODES] = { "bup", "skola", "soc" };

struct fixture {
	char dir[64];
	char path[160];
	struct cc_app app;
	struct testpki_ca *ca;
	struct cc_signer *signer[NNODES];
	struct cc_signer *outsider;          /* "bup" from another CA */
	uint8_t s[NNODES][CC_SCALAR_BYTES];  /* at-rest keys */
	uint8_t r[NNODES][CC_SCALAR_BYTES];  /* per-query scalars */
	uint8_t persons[NPERSONS][CC_ELEMENT_BYTES];  /* H(id) stand-ins */
};

static struct fixture *F;

/* ---- helpers ---- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
sql(const char *text)
{
	char *err = NULL;

	if (sqlite3_exec(cc_agg_store_db(F->app.store), text, NULL, NULL, &err) !=
	    SQLITE_OK) {
		fail_msg("sql: %s: %s", text, err != NULL ? err : "?");
	}
}

static int64_t
sql_int(const char *text, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(F->app.store), text, -1,
	    &st, NULL), SQLITE_OK);
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A column of the query row as a new string ("" for NULL). */
static char *
query_text(const char *id, const char *column)
{
	char q[128];
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	snprintf(q, sizeof(q), "SELECT %s FROM queries WHERE id = ?", column);
	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(F->app.store), q, -1,
	    &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		v = strdup(t != NULL ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	assert_non_null(v);
	return v;
}

static void
assert_status(const char *id, const char *want)
{
	char *s = query_text(id, "status");

	if (strcmp(s, want) != 0)
		fail_msg("status %s, expected %s", s, want);
	free(s);
}

static bool
audited(const char *event, const char *id)
{
	char like[64];
	sqlite3_stmt *st = NULL;
	bool found = false;

	snprintf(like, sizeof(like), "%%%s%%", id != NULL ? id : "");
	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(F->app.store),
	    "SELECT 1 FROM audit WHERE event = ? AND detail LIKE ?", -1, &st,
	    NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, event, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, like, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static bool
batch_dir_exists(const char *id)
{
	char p[256];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/batches/%s", F->dir, id);
	return stat(p, &sb) == 0;
}

static void
set_catalogue(const char *node, const char *json)
{
	struct cc_diag d = { "" };
	json_t *j = json_loads(json, 0, NULL);

	assert_non_null(j);
	if (cc_coord_set_catalogue(F->app.coord, node, j, &d) != 0)
		fail_msg("catalogue %s: %s", node, d.text);
	json_decref(j);
}

static int
submit(const char *json, char id[CC_COORD_ID_HEX + 1], struct cc_diag *d)
{
	json_t *j = json_loads(json, 0, NULL);
	int r;

	assert_non_null(j);
	r = cc_coord_submit(F->app.coord, "anna", j, id, d);
	json_decref(j);
	return r;
}

static const char *const query3 =
    "{\"title\": \"tre\", \"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
    " \"sets\": [{\"label\": \"bup\", \"nodes\": [\"bup\"]},"
    "  {\"label\": \"skola\", \"nodes\": [\"skola\"], \"categories\": [\"inskriven\"]},"
    "  {\"label\": \"soc\", \"nodes\": [\"soc\"]}]}";

static void
submit_ok(char id[CC_COORD_ID_HEX + 1])
{
	struct cc_diag d = { "" };

	if (submit(query3, id, &d) != 0)
		fail_msg("submit: %s", d.text);
	assert_true(cc_coord_id_valid(id));
}

static void
approve_all(const char *id)
{
	struct cc_diag d = { "" };
	size_t i;

	for (i = 0; i < NNODES; i++) {
		if (cc_coord_decide(F->app.coord, node_ids[i], id, true, NULL,
		    &d) != 0)
			fail_msg("approve %s: %s", node_ids[i], d.text);
	}
	assert_status(id, "running");
}

/* The tasks of a node, as a new array. */
/* The node's tasks at a given time. */
static json_t *
tasks_at(const char *node, time_t now)
{
	struct cc_diag d = { "" };
	json_t *t = NULL;

	assert_int_equal(cc_coord_tasks(F->app.coord, node, now, &t, &d), 0);
	assert_true(json_is_array(t));
	return t;
}

static json_t *
tasks_of(const char *node)
{
	return tasks_at(node, time(NULL));
}

static size_t
count_kind(const json_t *tasks, const char *kind)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(tasks); i++) {
		if (strcmp(json_string_value(json_object_get(json_array_get(tasks,
		    i), "kind")), kind) == 0)
			n++;
	}
	return n;
}

/* Persons of node i: bup 0..39, skola 20..79, soc 10..59. */
static void
person_range(size_t node, size_t *ret_lo, size_t *ret_hi)
{
	static const size_t lo[NNODES] = { 0, 20, 10 }, hi[NNODES] = { 40, 80, 60 };

	*ret_lo = lo[node];
	*ret_hi = hi[node];
}

/* The signed origin batch of chain c (node c), as bytes (free()). */
static uint8_t *
make_origin(const char *id, unsigned chain, size_t extra,
    const struct cc_signer *signer, size_t *ret_len)
{
	struct cc_diag d = { "" };
	struct cc_attr_shape shape = { 0, false };
	struct cc_batch *b = NULL;
	uint8_t qid[16], y[CC_ELEMENT_BYTES];
	uint8_t *points, *out;
	struct cc_attr *attrs;
	const uint8_t *data;
	size_t lo, hi, n, i, len = 0;

	person_range(chain, &lo, &hi);
	n = hi - lo + extra;
	points = calloc(n, CC_ELEMENT_BYTES);
	attrs = calloc(n, sizeof(*attrs));
	assert_non_null(points);
	assert_non_null(attrs);
	for (i = 0; i < n; i++) {
		if (lo + i < hi) {
			assert_int_equal(cc_group_mult(points + i * CC_ELEMENT_BYTES,
			    F->s[chain], F->persons[lo + i]), 0);
		} else {
			cc_group_element_random(points + i * CC_ELEMENT_BYTES);
		}
		attrs[i].dummy = false;
		attrs[i].age_band = CC_ATTR_AGE_NONE;
		attrs[i].sex = CC_ATTR_SEX_NONE;
	}
	assert_int_equal(sodium_hex2bin(qid, 16, id, 32, NULL, NULL, NULL), 0);
	cc_seal_key_public(F->app.attr_key, y);
	if (cc_batch_new_origin(&b, qid, (uint16_t)chain, NNODES, &shape, points,
	    attrs, n, F->s[chain], F->r[chain], y, &d) != 0)
		fail_msg("origin: %s", d.text);
	assert_int_equal(cc_sign_batch(b, signer, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &data, &len), 0);
	out = malloc(len);
	assert_non_null(out);
	memcpy(out, data, len);
	*ret_len = len;
	cc_batch_free(b);
	free(points);
	free(attrs);
	return out;
}

/* The relay of the accepted input of (chain, hop) by node `by`. */
static uint8_t *
make_relay(const char *node, const char *id, unsigned chain, unsigned hop,
    size_t by, const struct cc_signer *signer, size_t *ret_len)
{
	struct cc_diag d = { "" };
	char path[CC_AGG_PATH_MAX];
	struct cc_batch *b = NULL;
	const uint8_t *data;
	uint8_t *out;
	size_t len = 0;

	if (cc_coord_input(F->app.coord, node, id, chain, hop, path, &d) != 0)
		fail_msg("input %s %u/%u: %s", node, chain, hop, d.text);
	assert_int_equal(cc_batch_read_file(&b, path, 4096, &d), 0);
	assert_int_equal(cc_batch_relay(b, F->r[by], &d), 0);
	assert_int_equal(cc_sign_batch(b, signer, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &data, &len), 0);
	out = malloc(len);
	assert_non_null(out);
	memcpy(out, data, len);
	*ret_len = len;
	cc_batch_free(b);
	return out;
}

/* Upload in parts of 1000 bytes and commit; returns the commit's result. */
static int
upload_commit(const char *node, const char *id, unsigned chain, unsigned hop,
    const uint8_t *data, size_t len, struct cc_diag *d)
{
	uint8_t digest[32];
	char hex[65];
	size_t off, n;
	int r;

	for (off = 0; off < len; off += n) {
		n = len - off < 1000 ? len - off : 1000;
		if ((r = cc_coord_upload(F->app.coord, node, id, chain, hop, off,
		    data + off, n, d)) != 0)
			return r;
	}
	crypto_hash_sha256(digest, data, len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	return cc_coord_commit(F->app.coord, node, id, chain, hop, len, hex, d);
}

/* Run step (chain, hop) correctly at the node due. */
static void
run_step(const char *id, unsigned chain, unsigned hop)
{
	struct cc_diag d = { "" };
	size_t by = (chain + hop) % NNODES, len = 0;
	uint8_t *data;

	data = hop == 0 ? make_origin(id, chain, 0, F->signer[chain], &len) :
	    make_relay(node_ids[by], id, chain, hop, by, F->signer[by], &len);
	if (upload_commit(node_ids[by], id, chain, hop, data, len, &d) != 0)
		fail_msg("step %u/%u at %s: %s", chain, hop, node_ids[by], d.text);
	free(data);
}

/* Run the event loop until the query leaves `counting` (or 30 s). */
static void
wait_counted(const char *id)
{
	int i;
	char *s;

	for (i = 0; i < 3000; i++) {
		s = query_text(id, "status");
		if (strcmp(s, "counting") != 0) {
			free(s);
			return;
		}
		free(s);
		event_base_loop(F->app.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	fail_msg("counting did not end");
}

static size_t
files_in_batches(void)
{
	char p[128];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/batches", F->dir);
	assert_non_null(d = opendir(p));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct cc_diag d = { "" };
	struct testpki_ca *other;
	char *ca_pem, *cert = NULL, *key = NULL;
	size_t i;

	(void)state;
	assert_true(sodium_init() >= 0);
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->dir, sizeof(F->dir), "/tmp/cc-coord-XXXXXX");
	assert_non_null(mkdtemp(F->dir));
	snprintf(F->path, sizeof(F->path), "%s/aggregator.db", F->dir);
	assert_int_equal(cc_agg_store_open(&F->app.store, F->path, true, &d), 0);
	/* The federation CA and a certificate per node. */
	assert_non_null(F->ca = testpki_ca_new("test federation", TESTPKI_ED25519));
	assert_non_null(ca_pem = testpki_ca_pem(F->ca));
	snprintf(F->app.cfg.dir, sizeof(F->app.cfg.dir), "%s", F->dir);
	snprintf(F->app.cfg.ca_file, sizeof(F->app.cfg.ca_file), "%s/ca.pem",
	    F->dir);
	write_file(F->app.cfg.ca_file, ca_pem);
	free(ca_pem);
	for (i = 0; i < NNODES; i++) {
		assert_int_equal(testpki_issue(F->ca, node_ids[i],
		    i == 1 ? TESTPKI_P256 : TESTPKI_ED25519, 0, &cert, &key), 0);
		assert_int_equal(cc_signer_from_pem(&F->signer[i], cert,
		    strlen(cert), key, strlen(key), &d), 0);
		free(cert);
		free(key);
		cc_group_scalar_random(F->s[i]);
		cc_group_scalar_random(F->r[i]);
	}
	assert_non_null(other = testpki_ca_new("elsewhere", TESTPKI_ED25519));
	assert_int_equal(testpki_issue(other, "bup", TESTPKI_ED25519, 0, &cert,
	    &key), 0);
	assert_int_equal(cc_signer_from_pem(&F->outsider, cert, strlen(cert),
	    key, strlen(key), &d), 0);
	free(cert);
	free(key);
	testpki_ca_free(other);
	for (i = 0; i < NPERSONS; i++)
		cc_group_element_random(F->persons[i]);
	/* The policy and the application context. */
	cc_federation_policy_defaults(&F->app.cfg.policy);
	F->app.cfg.deadline_minutes = 60;
	F->app.cfg.max_batch = 4096;
	assert_int_equal(cc_seal_key_generate(&F->app.attr_key), 0);
	assert_non_null(F->app.base = event_base_new());
	sql("INSERT INTO users (name, role, pwhash, created) VALUES "
	    "('anna', 'analyst', 'x', 0), ('bo', 'analyst', 'x', 0);"
	    "INSERT INTO nodes (id, sector, added) VALUES ('bup', 'health', 0),"
	    " ('skola', 'school', 0), ('soc', 'social', 0), ('gone', 'other', 0),"
	    " ('quiet', 'other', 0);"
	    "UPDATE nodes SET enabled = 0 WHERE id = 'gone';");
	if (cc_coordinator_new(&F->app.coord, &F->app, &d) != 0)
		fail_msg("coordinator: %s", d.text);
	set_catalogue("bup", "{\"sector\": \"health\", \"categories\": "
	    "[\"besök\"], \"period\": {\"from\": \"2020-01\", \"to\": \"2026-06\"}}");
	set_catalogue("skola", "{\"sector\": \"school\", \"categories\": "
	    "[\"inskriven\", \"frånvaro\"], \"period\": {\"from\": \"2024-01\", "
	    "\"to\": \"2025-12\"}}");
	set_catalogue("soc", "{\"sector\": \"social\", \"categories\": [], "
	    "\"period\": {\"from\": \"2019-01\", \"to\": \"2026-01\"}}");
	set_catalogue("gone", "{\"sector\": \"other\", \"categories\": [], "
	    "\"period\": {\"from\": \"2019-01\", \"to\": \"2026-01\"}}");
	return 0;
}

static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		remove_tree(p);
	}
	closedir(d);
	rmdir(path);
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	cc_coordinator_free(F->app.coord);
	cc_agg_store_close(F->app.store);
	cc_seal_key_free(F->app.attr_key);
	event_base_free(F->app.base);
	for (i = 0; i < NNODES; i++)
		cc_signer_free(F->signer[i]);
	cc_signer_free(F->outsider);
	testpki_ca_free(F->ca);
	remove_tree(F->dir);
	free(F);
	F = NULL;
	return 0;
}

/* ---- tests ---- */

static void
submit_refusals(void **state)
{
	static const struct {
		const char *json;
		int r;
		const char *diag;
	} cases[] = {
		{ "{\"title\": \"x\"}", CC_ERR_QUERY, "period" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"bup\"]}],"
		  " \"min_cell\": 3}", CC_ERR_POLICY, "min_cell" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"nobody\"]}]}",
		  CC_ERR_POLICY, "\"nobody\" is not enrolled" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"gone\"]}]}",
		  CC_ERR_POLICY, "\"gone\" is disabled" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"quiet\"]}]}",
		  CC_ERR_POLICY, "catalogue" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"skola\"],"
		  " \"categories\": [\"besök\"]}]}", CC_ERR_POLICY,
		  "sets[0].categories[0]: node \"skola\"" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2023-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"skola\"]}]}",
		  CC_ERR_POLICY, "2024-01 to 2025-12" },
		{ "{\"title\": \"x\", \"period\": {\"from\": \"2025-01\", \"to\": "
		  "\"2025-12\"}, \"sets\": [{\"label\": \"a\", \"nodes\": [\"bup\"]}],"
		  " \"breakdown\": [\"age_band\"], \"age_bands\": [[0, 4]]}",
		  CC_ERR_POLICY, "age_bands" },
	};
	char id[CC_COORD_ID_HEX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cc_diag d = { "" };
		int r = submit(cases[i].json, id, &d);

		if (r != cases[i].r || strstr(d.text, cases[i].diag) == NULL)
			fail_msg("case %zu: %d %s", i, r, d.text);
		assert_string_equal(id, "");
	}
	/* No query was stored; every attempt was audited. */
	assert_int_equal(sql_int("SELECT COUNT(*) FROM queries", NULL), 0);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM audit WHERE event = "
	    "'query.refused'", NULL), (int64_t)(sizeof(cases) / sizeof(cases[0])));
}

static void
catalogue_validation(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"sector\": \"school\", \"categories\": []}",
		"{\"sector\": \"army\", \"categories\": [], \"period\": null}",
		"{\"sector\": \"school\", \"categories\": [\"a\", \"a\"], \"period\": null}",
		"{\"sector\": \"school\", \"categories\": [\"a,b\"], \"period\": null}",
		"{\"sector\": \"school\", \"categories\": [1], \"period\": null}",
		"{\"sector\": \"school\", \"categories\": [], \"period\": null, \"x\": 1}",
		"{\"sector\": \"school\", \"categories\": [], \"period\": "
		    "{\"from\": \"2025-02\", \"to\": \"2025-01\"}}",
		"{\"sector\": \"school\", \"categories\": [], \"period\": "
		    "{\"from\": \"2025-13\", \"to\": \"2026-01\"}}",
		"{\"sector\": \"school\", \"categories\": [], \"period\": "
		    "{\"from\": \"2025-01\", \"to\": \"2026-01\", \"x\": 1}}",
	};
	struct cc_diag d = { "" };
	json_t *j, *cats;
	size_t i;
	char name[16];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(j = json_loads(bad[i], 0, NULL));
		if (cc_coord_set_catalogue(F->app.coord, "quiet", j, &d) == 0)
			fail_msg("accepted %s", bad[i]);
		json_decref(j);
	}
	/* At most CC_LIMIT_NODE_CATEGORIES categories. */
	assert_non_null(cats = json_array());
	for (i = 0; i <= CC_LIMIT_NODE_CATEGORIES; i++) {
		snprintf(name, sizeof(name), "c%zu", i);
		json_array_append_new(cats, json_string(name));
	}
	j = json_pack("{s:s, s:o, s:n}", "sector", "other", "categories", cats,
	    "period");
	assert_int_equal(cc_coord_set_catalogue(F->app.coord, "quiet", j, &d),
	    CC_ERR_LIMIT);
	json_array_remove(cats, 0);
	assert_int_equal(cc_coord_set_catalogue(F->app.coord, "quiet", j, &d), 0);
	json_decref(j);
	/* A node with no records (period null) cannot take part. */
	{
		char id[CC_COORD_ID_HEX + 1];

		assert_int_equal(submit("{\"title\": \"x\", \"period\": {\"from\": "
		    "\"2025-01\", \"to\": \"2025-12\"}, \"sets\": [{\"label\": "
		    "\"a\", \"nodes\": [\"quiet\"]}]}", id, &d), CC_ERR_POLICY);
		assert_non_null(strstr(d.text, "no records"));
	}
	assert_int_equal(sql_int("SELECT COUNT(*) FROM nodes WHERE id = 'quiet' "
	    "AND last_seen IS NOT NULL", NULL), 1);
}

static void
submit_stores_chains(void **state)
{
	char id[CC_COORD_ID_HEX + 1];
	json_t *doc = NULL, *t;
	struct cc_diag d = { "" };
	size_t c, h;
	char q[200];

	(void)state;
	submit_ok(id);
	assert_status(id, "awaiting_approval");
	assert_true(audited("query.submitted", id));
	/* SPEC 8.2: hop h of chain c is due at n_{(c+h) mod k}. */
	for (c = 0; c < NNODES; c++) {
		for (h = 0; h < NNODES; h++) {
			snprintf(q, sizeof(q), "SELECT COUNT(*) FROM steps WHERE query "
			    "= ? AND chain = %zu AND hop = %zu AND node = '%s' AND "
			    "status = 'waiting'", c, h, node_ids[(c + h) % NNODES]);
			assert_int_equal(sql_int(q, id), 1);
		}
	}
	/* Deadline = submission + 60 minutes. */
	assert_int_equal(sql_int("SELECT deadline - submitted FROM queries "
	    "WHERE id = ?", id), 3600);
	/* The status document. */
	assert_int_equal(cc_coord_describe(F->app.coord, id, &doc, &d), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "owner")),
	    "anna");
	assert_string_equal(json_string_value(json_object_get(doc, "status")),
	    "awaiting_approval");
	assert_true(json_is_null(json_object_get(doc, "reason")));
	assert_int_equal(json_array_size(json_object_get(doc, "nodes")), NNODES);
	t = json_array_get(json_object_get(doc, "chains"), 1);
	assert_string_equal(json_string_value(json_object_get(t, "origin")), "skola");
	assert_int_equal(json_integer_value(json_object_get(t, "hops_total")), 3);
	json_decref(doc);
	assert_int_equal(cc_coord_describe(F->app.coord,
	    "00000000000000000000000000000000", &doc, &d), CC_ERR_NOT_FOUND);
	assert_int_equal(cc_coord_describe(F->app.coord, "../../etc", &doc, &d),
	    CC_ERR_NOT_FOUND);
}

static void
approvals_then_rejection(void **state)
{
	char id[CC_COORD_ID_HEX + 1], sql[160];
	struct cc_diag d = { "" };
	json_t *t, *task;
	char *reason;
	time_t later;
	size_t i;
	unsigned j;

	(void)state;
	submit_ok(id);
	/* Every node gets its approve task once (re-offered after 30 s). */
	for (i = 0; i < NNODES; i++) {
		t = tasks_of(node_ids[i]);
		assert_int_equal(json_array_size(t), 1);
		task = json_array_get(t, 0);
		assert_string_equal(json_string_value(json_object_get(task, "kind")),
		    "approve");
		assert_string_equal(json_string_value(json_object_get(task,
		    "query_id")), id);
		assert_string_equal(json_string_value(json_object_get(task,
		    "owner")), "anna");
		assert_int_equal(json_array_size(json_object_get(task, "nodes")), 3);
		assert_int_equal(strlen(json_string_value(json_object_get(task,
		    "attribute_key"))), 64);
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(task, "query"), "title")), "tre");
		json_decref(t);
		t = tasks_of(node_ids[i]);
		assert_int_equal(json_array_size(t), 0);
		json_decref(t);
	}
	assert_int_equal(cc_coord_decide(F->app.coord, "bup", id, true, NULL, &d), 0);
	assert_true(audited("query.approved", id));
	/* The same decision again is taken (idempotent), once audited;
	 * the other one is refused. */
	assert_int_equal(cc_coord_decide(F->app.coord, "bup", id, true, NULL, &d),
	    0);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM audit WHERE event = "
	    "'query.approved' AND detail LIKE '%\"bup\"%'", NULL), 1);
	assert_int_equal(cc_coord_decide(F->app.coord, "bup", id, false, "no",
	    &d), CC_ERR_STATE);
	assert_non_null(strstr(d.text, "already decided"));
	assert_int_equal(cc_coord_decide(F->app.coord, "gone", id, true, NULL, &d),
	    CC_ERR_NOT_FOUND);
	/* Reasons: bounded, no control characters, no run of six digits. */
	assert_int_equal(cc_coord_decide(F->app.coord, "soc", id, false,
	    "person 191212121212 is protected", &d), CC_ERR_FORMAT);
	assert_int_equal(cc_coord_decide(F->app.coord, "soc", id, false,
	    "line\nbreak", &d), CC_ERR_FORMAT);
	assert_int_equal(cc_coord_decide(F->app.coord, "soc", id, false, "", &d),
	    CC_ERR_FORMAT);
	assert_status(id, "awaiting_approval");
	assert_int_equal(cc_coord_decide(F->app.coord, "soc", id, false,
	    "not our kind of question", &d), 0);
	assert_status(id, "rejected");
	reason = query_text(id, "reason");
	assert_non_null(strstr(reason, "\"soc\""));
	assert_non_null(strstr(reason, "not our kind of question"));
	free(reason);
	assert_true(audited("query.rejected", id));
	assert_int_equal(cc_coord_decide(F->app.coord, "skola", id, true, NULL, &d),
	    CC_ERR_STATE);
	/* soc's rejection again: taken (it ended the query). */
	assert_int_equal(cc_coord_decide(F->app.coord, "soc", id, false,
	    "not our kind of question", &d), 0);
	/* forget to every node, not again within the re-offer time. */
	for (i = 0; i < NNODES; i++) {
		t = tasks_of(node_ids[i]);
		assert_int_equal(json_array_size(t), 1);
		task = json_array_get(t, 0);
		assert_string_equal(json_string_value(json_object_get(task, "kind")),
		    "forget");
		assert_string_equal(json_string_value(json_object_get(task,
		    "status")), "rejected");
		assert_true(json_is_null(json_object_get(task, "result_digest")));
		json_decref(t);
		t = tasks_of(node_ids[i]);
		assert_int_equal(json_array_size(t), 0);
		json_decref(t);
	}
	/* Not answered: offered again after CC_COORD_REOFFER_SECONDS, at
	 * most CC_COORD_FORGET_OFFERS times (then it counts as done). */
	later = time(NULL);
	for (j = 1; j < CC_COORD_FORGET_OFFERS; j++) {
		later += CC_COORD_REOFFER_SECONDS;
		t = tasks_at("soc", later);
		assert_int_equal(count_kind(t, "forget"), 1);
		json_decref(t);
		t = tasks_at("soc", later + 1);
		assert_int_equal(count_kind(t, "forget"), 0);
		json_decref(t);
	}
	t = tasks_at("soc", later + CC_COORD_REOFFER_SECONDS);
	assert_int_equal(count_kind(t, "forget"), 0);
	json_decref(t);
	assert_int_equal(sql_int("SELECT forgotten FROM query_nodes WHERE "
	    "query = ? AND node = 'soc'", id), 1);
	snprintf(sql, sizeof(sql), "UPDATE query_nodes SET forgotten = 0 "
	    "WHERE query = '%s' AND node = 'soc'", id);
	assert_int_equal(sqlite3_exec(cc_agg_store_db(F->app.store), sql, NULL,
	    NULL, NULL), SQLITE_OK);
	/* bup says it forgot; skola and soc do not (their answer is lost):
	 * after a restart (or CC_COORD_REOFFER_SECONDS) only they get the
	 * forget again. */
	assert_int_equal(cc_coord_forgotten(F->app.coord, "bup", id, &d), 0);
	assert_int_equal(cc_coord_forgotten(F->app.coord, "bup", id, &d), 0);
	assert_int_equal(cc_coord_forgotten(F->app.coord, "nowhere", id, &d),
	    CC_ERR_NOT_FOUND);
	cc_coordinator_free(F->app.coord);
	F->app.coord = NULL;
	assert_int_equal(cc_coordinator_new(&F->app.coord, &F->app, &d), 0);
	for (i = 0; i < NNODES; i++) {
		t = tasks_of(node_ids[i]);
		assert_int_equal(count_kind(t, "forget"),
		    strcmp(node_ids[i], "bup") == 0 ? 0 : 1);
		json_decref(t);
		if (strcmp(node_ids[i], "bup") != 0)
			assert_int_equal(cc_coord_forgotten(F->app.coord,
			    node_ids[i], id, &d), 0);
	}
	assert_int_equal(sql_int("SELECT COUNT(*) FROM query_nodes WHERE "
	    "query = ? AND forgotten = 1", id), NNODES);
	assert_false(batch_dir_exists(id));
}

static void
commit_refusals(void **state)
{
	char id[CC_COORD_ID_HEX + 1];
	char path[CC_AGG_PATH_MAX], hex[65];
	struct cc_diag d = { "" };
	uint8_t *data, *other, digest[32];
	size_t len, olen;
	json_t *t;
	char *q;

	(void)state;
	submit_ok(id);
	/* Nothing can be uploaded before every node approved. */
	data = make_origin(id, 0, 0, F->signer[0], &len);
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 0, data,
	    100, &d), CC_ERR_STATE);
	approve_all(id);
	/* Hop 0 of every chain is offered at once, to its origin. */
	t = tasks_of("skola");
	assert_int_equal(count_kind(t, "step"), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0),
	    "chain")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0),
	    "input_size")), 0);
	json_decref(t);
	/* Only the node due may upload, fetch or commit. */
	assert_int_equal(cc_coord_upload(F->app.coord, "skola", id, 0, 0, 0, data,
	    100, &d), CC_ERR_AUTH);
	assert_int_equal(cc_coord_input(F->app.coord, "skola", id, 0, 2, path,
	    &d), CC_ERR_AUTH);
	assert_int_equal(cc_coord_input(F->app.coord, "gone", id, 0, 1, path,
	    &d), CC_ERR_NOT_FOUND);
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 3, 0, data,
	    100, &d), CC_ERR_NOT_FOUND);
	/* A hop whose input is not accepted yet is not ready. */
	assert_int_equal(cc_coord_input(F->app.coord, "soc", id, 0, 2, path, &d),
	    CC_ERR_STATE);
	assert_int_equal(cc_coord_input(F->app.coord, "bup", id, 0, 0, path, &d),
	    CC_ERR_STATE);
	/* Offsets: must equal the bytes received; 0 restarts. */
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 0, data,
	    100, &d), 0);
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 50,
	    data + 50, 10, &d), CC_ERR_STATE);
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 200,
	    data, 10, &d), CC_ERR_STATE);
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 100,
	    data + 100, 10, &d), 0);
	assert_int_equal(sql_int("SELECT uploaded FROM steps WHERE query = ? AND "
	    "chain = 0 AND hop = 0", id), 110);
	/* Beyond the largest batch of max_batch records. */
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 110,
	    data, CC_LIMIT_UPLOAD_PART + 1, &d), CC_ERR_LIMIT);
	/* Size mismatch. */
	crypto_hash_sha256(digest, data, len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	assert_int_equal(cc_coord_commit(F->app.coord, "bup", id, 0, 0, len, hex,
	    &d), CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "size"));
	assert_true(audited("batch.refused", id));
	/* The part was discarded: the upload starts again at 0. */
	assert_int_equal(sql_int("SELECT uploaded FROM steps WHERE query = ? AND "
	    "chain = 0 AND hop = 0", id), 0);
	snprintf(path, sizeof(path), "%s/batches/%s/0-0.part", F->dir, id);
	assert_int_equal(access(path, F_OK), -1);
	/* The whole batch, in parts, with the right size and digest. */
	assert_int_equal(upload_commit("bup", id, 0, 0, data, len, &d), 0);
	assert_status(id, "running");
	/* Chain 1: a digest that differs (one hex digit), then no hex at all. */
	free(data);
	data = make_origin(id, 1, 0, F->signer[1], &len);
	crypto_hash_sha256(digest, data, len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	hex[0] = hex[0] == '0' ? '1' : '0';
	for (size_t off = 0; off < len; off += 4096)
		assert_int_equal(cc_coord_upload(F->app.coord, "skola", id, 1, 0,
		    off, data + off, len - off < 4096 ? len - off : 4096, &d), 0);
	assert_int_equal(cc_coord_commit(F->app.coord, "skola", id, 1, 0, len, hex,
	    &d), CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "digest"));
	assert_int_equal(cc_coord_commit(F->app.coord, "skola", id, 1, 0, len,
	    "zz", &d), CC_ERR_POLICY);
	/* Signed by another node's certificate. */
	free(data);
	data = make_origin(id, 1, 0, F->signer[2], &len);
	assert_int_equal(upload_commit("skola", id, 1, 0, data, len, &d),
	    CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "soc"));
	/* A certificate from another CA (CN "bup"). */
	free(data);
	data = make_origin(id, 2, 0, F->outsider, &len);
	assert_int_equal(upload_commit("soc", id, 2, 0, data, len, &d),
	    CC_ERR_POLICY);
	/* The wrong chain in the header. */
	free(data);
	data = make_origin(id, 1, 0, F->signer[2], &len);
	assert_int_equal(upload_commit("soc", id, 2, 0, data, len, &d),
	    CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "chain"));
	/* Not a batch at all. */
	memset(data, 'x', 200);
	assert_int_equal(upload_commit("soc", id, 2, 0, data, 200, &d),
	    CC_ERR_POLICY);
	free(data);
	/* A relay that changes the record count: (0, 1) at skola. */
	other = make_origin(id, 0, 60, F->signer[0], &olen);   /* 100 -> 104 */
	{
		struct cc_batch *b = NULL;
		const uint8_t *bytes;
		size_t blen;

		assert_int_equal(cc_batch_parse(&b, other, olen, 4096, &d), 0);
		assert_int_equal(cc_batch_relay(b, F->r[1], &d), 0);
		assert_int_equal(cc_sign_batch(b, F->signer[1], &d), 0);
		assert_int_equal(cc_batch_serialize(b, &bytes, &blen), 0);
		assert_int_equal(upload_commit("skola", id, 0, 1, bytes, blen, &d),
		    CC_ERR_POLICY);
		assert_non_null(strstr(d.text, "count"));
		cc_batch_free(b);
	}
	free(other);
	/* Every refusal left the step ready and nothing behind. */
	assert_int_equal(sql_int("SELECT COUNT(*) FROM steps WHERE query = ? AND "
	    "status = 'done'", id), 1);
	q = query_text(id, "status");
	assert_string_equal(q, "running");
	free(q);
	snprintf(path, sizeof(path), "%s/batches/%s", F->dir, id);
	{
		DIR *dir = opendir(path);
		struct dirent *e;
		size_t n = 0;

		assert_non_null(dir);
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			assert_string_equal(e->d_name, "0-0.batch");
			n++;
		}
		closedir(dir);
		assert_int_equal(n, 1);
	}
	/* Failing the query deletes it all and names the node. */
	assert_int_equal(cc_coord_node_fail(F->app.coord, "soc", id,
	    "input did not verify", &d), 0);
	assert_status(id, "failed");
	q = query_text(id, "reason");
	assert_non_null(strstr(q, "\"soc\""));
	free(q);
	assert_false(batch_dir_exists(id));
	assert_true(audited("query.failed", id));
	assert_int_equal(cc_coord_node_fail(F->app.coord, "soc", id, "again", &d),
	    CC_ERR_STATE);
}

/* data with record 5's A replaced by a non-element, signed again. */
static uint8_t *
with_bad_element(const uint8_t *data, size_t len,
    const struct cc_signer *signer, size_t *ret_len)
{
	struct cc_diag d = { "" };
	struct cc_batch *b = NULL;
	const uint8_t *wire;
	uint8_t *rec, *out;

	assert_int_equal(cc_batch_parse(&b, data, len, 4096, &d), 0);
	rec = (uint8_t *)(uintptr_t)cc_batch_records(b) +
	    5 * CC_BATCH_RECORD_BYTES;
	memset(rec + CC_BATCH_A_OFFSET, 0xff, CC_ELEMENT_BYTES);
	assert_int_equal(cc_sign_batch(b, signer, &d), 0);
	assert_int_equal(cc_batch_serialize(b, &wire, ret_len), 0);
	assert_non_null(out = malloc(*ret_len));
	memcpy(out, wire, *ret_len);
	cc_batch_free(b);
	return out;
}

/*
 * SPEC 8.6: the aggregator checks the elements of final batches, which it
 * opens; an intermediate batch's are checked by the next node's
 * multiplication.
 */
static void
elements_checked_in_final_batches(void **state)
{
	char id[CC_COORD_ID_HEX + 1], path[CC_AGG_PATH_MAX];
	struct cc_diag d = { "" };
	uint8_t *good, *bad;
	size_t len, blen;

	(void)state;
	submit_ok(id);
	approve_all(id);
	/* Chain 0 hop 0 (bup) with a bad A: accepted as it is. */
	good = make_origin(id, 0, 0, F->signer[0], &len);
	bad = with_bad_element(good, len, F->signer[0], &blen);
	assert_int_equal(upload_commit("bup", id, 0, 0, bad, blen, &d), 0);
	free(good);
	free(bad);
	/* ... and refused by the next node as it multiplies. */
	assert_int_equal(cc_coord_input(F->app.coord, "skola", id, 0, 1, path,
	    &d), 0);
	{
		struct cc_batch_file_info *info = malloc(sizeof(*info));
		char out[CC_AGG_PATH_MAX + 8];
		uint8_t od[CC_SIGN_DIGEST_BYTES];

		assert_non_null(info);
		assert_int_equal(cc_batch_file_scan(info, path, 4096, false, &d),
		    0);
		snprintf(out, sizeof(out), "%s.out", path);
		assert_int_equal(cc_batch_file_relay(out, path, 4096, info->d,
		    F->r[1], F->signer[1], od, &d), CC_ERR_POINT);
		assert_string_equal(d.text, "record 5: invalid element");
		assert_int_equal(access(out, F_OK), -1);
		free(info);
	}
	/* Chain 1's final batch (hop 2, bup) with a bad A: refused. */
	run_step(id, 1, 0);
	run_step(id, 1, 1);
	good = make_relay("bup", id, 1, 2, 0, F->signer[0], &len);
	bad = with_bad_element(good, len, F->signer[0], &blen);
	assert_int_equal(upload_commit("bup", id, 1, 2, bad, blen, &d),
	    CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "record 5: invalid element"));
	assert_true(audited("batch.refused", id));
	assert_int_equal(upload_commit("bup", id, 1, 2, good, len, &d), 0);
	free(good);
	free(bad);
	assert_int_equal(cc_coord_node_fail(F->app.coord, "skola", id,
	    "input did not verify", &d), 0);
	assert_status(id, "failed");
}

static void
full_run_releases(void **state)
{
	char id[CC_COORD_ID_HEX + 1];
	struct cc_diag d = { "" };
	unsigned c, h;
	json_t *t, *result, *totals;
	bool offered[NNODES][NNODES] = { { false } };
	char *text;
	size_t i;

	(void)state;
	submit_ok(id);
	approve_all(id);
	/* Hop by hop across the chains, in an interleaved order. */
	for (h = 0; h < NNODES; h++) {
		for (c = 0; c < NNODES; c++) {
			if (h > 0) {
				/* The next node is offered the step with its input size. */
				size_t by = (c + h) % NNODES;
				json_t *task;

				t = tasks_of(node_ids[by]);
				for (i = 0; i < json_array_size(t); i++) {
					task = json_array_get(t, i);
					assert_string_equal(json_string_value(
					    json_object_get(task, "kind")), "step");
					assert_true(json_integer_value(json_object_get(task,
					    "input_size")) > 0);
					/* Offered once (re-offered only after 30 s). */
					assert_false(offered[json_integer_value(
					    json_object_get(task, "chain"))][
					    json_integer_value(json_object_get(task, "hop"))]);
					offered[json_integer_value(json_object_get(task,
					    "chain"))][json_integer_value(json_object_get(
					    task, "hop"))] = true;
				}
				assert_true(offered[c][h]);
				json_decref(t);
			}
			run_step(id, c, h);
			if (h > 0) {
				/* The input is gone once the step is accepted. */
				char p[256];

				snprintf(p, sizeof(p), "%s/batches/%s/%u-%u.batch",
				    F->dir, id, c, h - 1);
				assert_int_equal(access(p, F_OK), -1);
			}
		}
	}
	assert_int_equal(sql_int("SELECT COUNT(*) FROM audit WHERE event = "
	    "'batch.accepted' AND detail LIKE '%' || ? || '%'", id), 9);
	assert_int_equal(sql_int("SELECT SUM(steps_done) FROM query_nodes WHERE "
	    "query = ?", id), 9);
	wait_counted(id);
	assert_status(id, "released");
	assert_true(audited("query.released", id));
	assert_true(audited("query.deleted-intermediates", id));
	assert_false(batch_dir_exists(id));
	assert_int_equal(files_in_batches(), 0);
	/* The released table: bup 40, skola 60, soc 50 persons. */
	text = query_text(id, "result");
	assert_non_null(result = json_loads(text, 0, NULL));
	free(text);
	text = query_text(id, "result_digest");
	assert_string_equal(json_string_value(json_object_get(result, "digest")),
	    text);
	free(text);
	totals = json_object_get(result, "set_totals");
	assert_int_equal(json_array_size(totals), 3);
	for (i = 0; i < 3; i++) {
		static const json_int_t want[3] = { 40, 60, 50 };
		json_t *e = json_array_get(totals, i);

		assert_false(json_is_true(json_object_get(e, "suppressed")));
		assert_int_equal(json_integer_value(json_object_get(e, "count")),
		    want[i]);
	}
	json_decref(result);
	/* forget with the digest, once, to every node. */
	for (i = 0; i < NNODES; i++) {
		t = tasks_of(node_ids[i]);
		assert_int_equal(count_kind(t, "forget"), 1);
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(t, 0), "status")), "released");
		assert_int_equal(strlen(json_string_value(json_object_get(
		    json_array_get(t, 0), "result_digest"))), 64);
		json_decref(t);
	}
	/* Nothing more can be uploaded or failed. */
	assert_int_equal(cc_coord_node_fail(F->app.coord, "bup", id, "late", &d),
	    CC_ERR_STATE);
}

/* Commits over HTTP are checked on a worker thread (the loop goes on). */
static void
commit_on_worker_thread(void **state)
{
	char id[CC_COORD_ID_HEX + 1], hex[65];
	struct cc_diag d = { "" };
	uint8_t *good, *bad, digest[32];
	size_t glen, blen;
	int i;

	(void)state;
	submit_ok(id);
	approve_all(id);
	good = make_origin(id, 0, 0, F->signer[0], &glen);
	bad = make_origin(id, 1, 0, F->signer[2], &blen);  /* soc signs skola's */
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 0, good,
	    glen, &d), 0);
	assert_int_equal(cc_coord_upload(F->app.coord, "skola", id, 1, 0, 0, bad,
	    blen, &d), 0);
	crypto_hash_sha256(digest, good, glen);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	cc_coord_commit_request(F->app.coord, NULL, "bup", id, 0, 0, glen, hex);
	/* While it is queued or checked, the step takes nothing else. */
	assert_int_equal(cc_coord_upload(F->app.coord, "bup", id, 0, 0, 0, good,
	    10, &d), CC_ERR_STATE);
	assert_int_equal(cc_coord_commit(F->app.coord, "bup", id, 0, 0, glen, hex,
	    &d), CC_ERR_STATE);
	crypto_hash_sha256(digest, bad, blen);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	cc_coord_commit_request(F->app.coord, NULL, "skola", id, 1, 0, blen, hex);
	/* A request for a step that is not due answers at once (nothing held). */
	cc_coord_commit_request(F->app.coord, NULL, "soc", id, 0, 0, glen, hex);
	for (i = 0; i < 3000; i++) {
		if (sql_int("SELECT COUNT(*) FROM audit WHERE event IN "
		    "('batch.accepted', 'batch.refused')", NULL) == 2)
			break;
		event_base_loop(F->app.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	assert_int_equal(sql_int("SELECT COUNT(*) FROM steps WHERE query = ? AND "
	    "chain = 0 AND hop = 0 AND status = 'done'", id), 1);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM steps WHERE query = ? AND "
	    "chain = 1 AND hop = 0 AND status = 'ready' AND uploaded = 0", id), 1);
	assert_true(audited("batch.refused", id));
	/* (0, 1) is ready for skola now. */
	assert_int_equal(sql_int("SELECT COUNT(*) FROM steps WHERE query = ? AND "
	    "chain = 0 AND hop = 1 AND status = 'ready'", id), 1);
	free(good);
	free(bad);
}

static void
deadline_names_nodes(void **state)
{
	char a[CC_COORD_ID_HEX + 1], b[CC_COORD_ID_HEX + 1];
	struct cc_diag d = { "" };
	char *reason;

	(void)state;
	submit_ok(a);
	assert_int_equal(cc_coord_decide(F->app.coord, "skola", a, true, NULL,
	    &d), 0);
	submit_ok(b);
	approve_all(b);
	run_step(b, 0, 0);          /* bup's origin */
	run_step(b, 0, 1);          /* skola relays chain 0 */
	run_step(b, 1, 0);          /* skola's origin */
	assert_true(batch_dir_exists(b));
	/* Before the deadline nothing happens. */
	assert_int_equal(cc_coord_tick(F->app.coord, time(NULL), &d), 0);
	assert_status(a, "awaiting_approval");
	assert_status(b, "running");
	assert_int_equal(cc_coord_tick(F->app.coord, time(NULL) + 3601, &d), 0);
	assert_status(a, "failed");
	reason = query_text(a, "reason");
	assert_non_null(strstr(reason, "no decision from \"bup\", \"soc\""));
	assert_null(strstr(reason, "skola"));
	free(reason);
	assert_status(b, "failed");
	reason = query_text(b, "reason");
	/* Due: (0,2) at soc, (1,1) at soc, (2,0) at soc. */
	assert_non_null(strstr(reason, "\"soc\" (chain 0 hop 2)"));
	assert_non_null(strstr(reason, "\"soc\" (chain 2 hop 0)"));
	assert_null(strstr(reason, "bup"));
	free(reason);
	assert_false(batch_dir_exists(b));
	assert_int_equal(files_in_batches(), 0);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM audit WHERE event = "
	    "'query.failed' AND detail LIKE '%\"soc\"%'", NULL), 2);
}

static void
restart_resumes(void **state)
{
	char id[CC_COORD_ID_HEX + 1], part[256];
	struct cc_diag d = { "" };
	uint8_t *data;
	size_t len;
	unsigned c, h;

	(void)state;
	submit_ok(id);
	approve_all(id);
	run_step(id, 0, 0);
	/* A running query cannot be forgotten. */
	assert_int_equal(cc_coord_forgotten(F->app.coord, "bup", id, &d),
	    CC_ERR_STATE);
	assert_non_null(strstr(d.text, "has not ended"));
	/* A partial upload, then the aggregator stops. */
	data = make_origin(id, 1, 0, F->signer[1], &len);
	assert_int_equal(cc_coord_upload(F->app.coord, "skola", id, 1, 0, 0, data,
	    500, &d), 0);
	snprintf(part, sizeof(part), "%s/batches/%s/1-0.part", F->dir, id);
	assert_int_equal(access(part, F_OK), 0);
	cc_coordinator_free(F->app.coord);
	F->app.coord = NULL;
	assert_int_equal(cc_coordinator_new(&F->app.coord, &F->app, &d), 0);
	/* The part is gone and the step restarts from offset 0. */
	assert_int_equal(access(part, F_OK), -1);
	assert_int_equal(cc_coord_upload(F->app.coord, "skola", id, 1, 0, 500,
	    data + 500, 10, &d), CC_ERR_STATE);
	assert_int_equal(upload_commit("skola", id, 1, 0, data, len, &d), 0);
	free(data);
	/* The accepted batch survived: the relay of chain 0 goes on. */
	for (h = 0; h < NNODES; h++) {
		for (c = 0; c < NNODES; c++) {
			if ((c == 0 || c == 1) && h == 0)
				continue;
			if (c == 2 && h == 2) {
				/* Stop before the last final batch: counting resumes. */
				continue;
			}
			run_step(id, c, h);
		}
	}
	run_step(id, 2, 2);
	assert_status(id, "counting");
	/* Stop while counting: the count is thrown away and redone. */
	cc_coordinator_free(F->app.coord);
	F->app.coord = NULL;
	assert_status(id, "counting");
	assert_true(batch_dir_exists(id));
	assert_int_equal(cc_coordinator_new(&F->app.coord, &F->app, &d), 0);
	wait_counted(id);
	assert_status(id, "released");
	assert_false(batch_dir_exists(id));
}

static void
restart_cleans_ended(void **state)
{
	char id[CC_COORD_ID_HEX + 1], dir[256], stray[300];
	struct cc_diag d = { "" };

	(void)state;
	submit_ok(id);
	approve_all(id);
	run_step(id, 0, 0);
	cc_coordinator_free(F->app.coord);
	F->app.coord = NULL;
	/* A crash between ending the query and deleting its files. */
	sql("UPDATE queries SET status = 'failed', reason = 'x'");
	snprintf(dir, sizeof(dir), "%s/batches/%s", F->dir, id);
	snprintf(stray, sizeof(stray), "%s/batches/0123456789abcdef0123456789abcdef",
	    F->dir);
	assert_int_equal(mkdir(stray, 0700), 0);
	assert_true(batch_dir_exists(id));
	assert_int_equal(cc_coordinator_new(&F->app.coord, &F->app, &d), 0);
	assert_false(batch_dir_exists(id));
	assert_int_equal(access(stray, F_OK), -1);
	assert_int_equal(files_in_batches(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(submit_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(catalogue_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(submit_stores_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(approvals_then_rejection, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(commit_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(elements_checked_in_final_batches,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(full_run_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_on_worker_thread, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(deadline_names_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_cleans_ended, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
