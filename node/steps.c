/* crosscount-node: origin and relay steps (steps.h; SPEC.md 8.3, 8.4, 8.6). */
#include "node/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "protocol/file.h"

#define PATH_MAX_API 256

void
cc_steps_shape(struct cc_attr_shape *ret_shape, const struct cc_query *q)
{
	memset(ret_shape, 0, sizeof(*ret_shape));
	if (q == NULL)
		return;
	ret_shape->age_bands = q->by_age_band ? (uint8_t)q->nbands : 0;
	ret_shape->sex = q->by_sex;
}

/*
 * The attribute value of a stored person for query q (SPEC 7.3, 4.3):
 * false when the person is outside every age band (not counted at all).
 */
static bool
person_attr(struct cc_attr *ret_a, const struct cc_query *q, int birth_year,
    int birth_month, enum cc_sex sex)
{
	int band;

	memset(ret_a, 0, sizeof(*ret_a));
	/* SPEC 4.3: the day is not stored; age counts from the 1st. */
	band = cc_query_age_band_of(q, birth_year, birth_month, 0);
	if (band < 0)
		return false;
	ret_a->dummy = false;
	ret_a->age_band = (uint8_t)band;  /* CC_QUERY_BAND_NONE = CC_ATTR_AGE_NONE */
	ret_a->sex = q->by_sex ? (sex == CC_SEX_FEMALE ? CC_ATTR_SEX_FEMALE :
	    CC_ATTR_SEX_MALE) : CC_ATTR_SEX_NONE;
	return true;
}

/* The persons of the node's set of q, the period's first and last day. */
static int
select_args(const char *cats[CC_LIMIT_CATEGORIES_PER_SET], size_t *ret_ncats,
    struct cc_date *ret_first, struct cc_date *ret_last,
    const struct cc_query *q, const char *node_id, struct cc_diag *diag)
{
	const struct cc_query_set *set;
	size_t i;
	int si;

	*ret_ncats = 0;
	if ((si = cc_query_set_of_node(q, node_id)) < 0) {
		cc_diag_set(diag, "node %s is in no set of the query", node_id);
		return CC_ERR_INVALID_ARGUMENT;
	}
	set = &q->sets[si];
	for (i = 0; i < set->ncategories; i++)
		cats[i] = set->categories[i];
	*ret_ncats = set->ncategories;
	cc_query_period_first_day(q, ret_first);
	cc_query_period_last_day(q, ret_last);
	return 0;
}

/* What cc_steps_each_person passes on, after the age-band filter. */
struct each_ctx {
	const struct cc_query *q;
	int (*on_count)(void *ctx, uint64_t n);
	cc_steps_person_fn on_person;
	void *ctx;
};

static int
each_count(void *ctx, uint64_t n)
{
	struct each_ctx *e = ctx;

	return e->on_count != NULL ? e->on_count(e->ctx, n) : 0;
}

static int
each_person(void *ctx, const uint8_t p[CC_ELEMENT_BYTES], int birth_year,
    int birth_month, enum cc_sex sex)
{
	struct each_ctx *e = ctx;
	struct cc_attr a;

	if (!person_attr(&a, e->q, birth_year, birth_month, sex))
		return 0;
	return e->on_person(e->ctx, p, &a);
}

int
cc_steps_each_person(struct cc_store *st, const char *key_fp,
    const struct cc_query *q, const char *node_id,
    int (*on_count)(void *ctx, uint64_t n), cc_steps_person_fn on_person,
    void *ctx, struct cc_diag *diag)
{
	const char *cats[CC_LIMIT_CATEGORIES_PER_SET];
	struct each_ctx e;
	struct cc_date first, last;
	size_t ncats;
	int r;

	if (st == NULL || key_fp == NULL || q == NULL || node_id == NULL ||
	    on_person == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = select_args(cats, &ncats, &first, &last, q, node_id,
	    diag)) != 0)
		return r;
	e.q = q;
	e.on_count = on_count;
	e.on_person = on_person;
	e.ctx = ctx;
	return cc_store_select_persons(st, key_fp, cats, ncats, &first, &last,
	    each_count, each_person, &e, diag);
}

struct origin_ctx {
	const struct cc_query *q;
	const uint8_t *query_id;
	uint16_t chain;
	const struct cc_attr_shape *shape;
	struct cc_batch_origin *o;
	struct cc_diag *diag;
};

/* The number of candidates, before any row: room for all of them. */
static int
origin_count(void *ctx, uint64_t n)
{
	struct origin_ctx *c = ctx;

	if (n > CC_LIMIT_BATCH_ELEMENTS) {
		cc_diag_set(c->diag, "more than %u persons selected",
		    (unsigned)CC_LIMIT_BATCH_ELEMENTS);
		return CC_ERR_LIMIT;
	}
	return cc_batch_origin_new(&c->o, c->query_id, c->chain,
	    (uint16_t)c->q->nnodes, c->shape, (size_t)n, c->diag);
}

/* One selected person: a record (SPEC 7.3). */
static int
origin_person(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    const struct cc_attr *a)
{
	struct origin_ctx *c = ctx;

	return cc_batch_origin_add(c->o, p, a, c->diag);
}

int
cc_steps_origin(const char *out_path, struct cc_steps_output *ret_out,
    size_t *ret_selected, struct cc_store *st, const struct cc_key *key,
    const struct cc_signer *signer, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const uint8_t r[CC_SCALAR_BYTES], const uint8_t y_pub[CC_ELEMENT_BYTES],
    struct cc_diag *diag)
{
	struct origin_ctx ctx = { 0 };
	struct cc_steps_output out;
	struct cc_attr_shape shape;
	const char *me;
	size_t selected;
	int chain, rc;

	if (ret_selected != NULL)
		*ret_selected = 0;
	if (ret_out == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_out, 0, sizeof(*ret_out));
	memset(&out, 0, sizeof(out));
	if (out_path == NULL || st == NULL || key == NULL || signer == NULL ||
	    q == NULL || query_id == NULL || r == NULL || y_pub == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	me = cc_signer_node_id(signer);
	if ((chain = cc_query_node_index(q, me)) < 0) {
		cc_diag_set(diag, "node %s is not in the query", me);
		return CC_ERR_INVALID_ARGUMENT;
	}
	cc_steps_shape(&shape, q);
	/*
	 * 8.3 step 1: the persons and their attribute values, straight into
	 * the builder (P and a value index, 33 bytes each): the store counts
	 * the candidates first (the room), then each selected person is
	 * added.
	 */
	ctx.q = q;
	ctx.query_id = query_id;
	ctx.chain = (uint16_t)chain;
	ctx.shape = &shape;
	ctx.diag = diag;
	if ((rc = cc_steps_each_person(st, key->fingerprint, q, me,
	    origin_count, origin_person, &ctx, diag)) != 0)
		goto out;
	if (ctx.o == NULL) {
		rc = CC_ERR_INTERNAL;
		goto out;
	}
	selected = cc_batch_origin_count(ctx.o);
	/* 8.3 steps 2-8: tokens, references, blocks, dummies, shuffle and
	 * signature, a chunk of records at a time into out_path. */
	if ((rc = cc_batch_file_origin(out_path, ctx.o, key->s, r, y_pub,
	    signer, &out.count, out.d, diag)) != 0)
		goto out;
	if (ret_selected != NULL)
		*ret_selected = selected;
	*ret_out = out;
	rc = 0;
out:
	cc_batch_origin_free(ctx.o);
	return rc;
}

/* Errors that are the node's own trouble, not the input's. */
static bool
local_error(int r)
{
	return r == CC_ERR_ALLOC || r == CC_ERR_IO || r == CC_ERR_INTERNAL ||
	    r == CC_ERR_INVALID_ARGUMENT || r == CC_ERR_CRYPTO;
}

int
cc_steps_relay(const char *out_path, struct cc_steps_output *ret_out,
    bool *ret_input_bad, const char *input_path, uint32_t max_count,
    const struct cc_trust *trust, const struct cc_signer *signer,
    const struct cc_query *q, const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    uint16_t chain, uint16_t hop, const uint8_t r[CC_SCALAR_BYTES],
    struct cc_diag *diag)
{
	struct cc_batch_file_info *in = NULL;
	struct cc_steps_output out;
	struct cc_attr_shape shape;
	const char *producer;
	uint16_t k;
	int rc;

	if (ret_input_bad != NULL)
		*ret_input_bad = false;
	if (ret_out == NULL || ret_input_bad == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_out, 0, sizeof(*ret_out));
	memset(&out, 0, sizeof(out));
	if (out_path == NULL || input_path == NULL || trust == NULL ||
	    signer == NULL || q == NULL || query_id == NULL || r == NULL ||
	    q->nnodes < 2 || hop == 0 || hop >= q->nnodes ||
	    chain >= q->nnodes)
		return CC_ERR_INVALID_ARGUMENT;
	k = (uint16_t)q->nnodes;
	/* SPEC 8.2: hop h - 1 was produced by n_{(c + h - 1) mod k}. */
	producer = q->nodes[cc_batch_hop_node(chain, (uint16_t)(hop - 1), k)];
	cc_steps_shape(&shape, q);
	if ((in = malloc(sizeof(*in))) == NULL)
		return CC_ERR_ALLOC;

	/*
	 * 8.6 item 1: the exact parse, within this node's own limit, in one
	 * pass that also gives D. 5.5 for the records' elements: the
	 * multiplication below checks each one (8.6), so a bad one is the
	 * input's fault there.
	 */
	if ((rc = cc_batch_file_scan(in, input_path, max_count, false,
	    diag)) != 0) {
		if (rc == CC_ERR_LIMIT)
			cc_diag_set(diag, "the input batch is over this node's "
			    "max_peer_batch of %" PRIu32 " records", max_count);
		else
			cc_diag_prefix(diag, "the input batch from %s: ",
			    producer);
		*ret_input_bad = rc != CC_ERR_IO && !local_error(rc);
		goto out;
	}
	/* 8.6 items 2-3: certificate of the expected producer, signature. */
	if ((rc = cc_sign_verify_digest(trust, in->cert, in->cert_len, in->sig,
	    in->sig_len, in->d, producer, diag)) != 0 ||
	    /* 8.6 items 4-5: header and reference table. */
	    (rc = cc_batch_header_expect(&in->h, query_id, chain,
	    (uint16_t)(hop - 1), k, diag)) != 0 ||
	    (rc = cc_attr_refs_check(in->refs, in->h.nrefs, &shape,
	    diag)) != 0) {
		cc_diag_prefix(diag, "the input batch from %s: ", producer);
		*ret_input_bad = !local_error(rc);
		goto out;
	}
	/* 8.4 steps 2-5: multiply by r, shuffle, hop += 1, sign; the input
	 * read again must be what was verified (its D). */
	if ((rc = cc_batch_file_relay(out_path, input_path, max_count, in->d,
	    r, signer, out.d, diag)) != 0) {
		if ((*ret_input_bad = rc == CC_ERR_POINT))
			cc_diag_prefix(diag, "the input batch from %s: ",
			    producer);
		goto out;
	}
	out.count = in->h.count;
	*ret_out = out;
	rc = 0;
out:
	free(in);
	return rc;
}

uint64_t
cc_steps_max_batch_bytes(uint32_t max_count)
{
	return (uint64_t)CC_BATCH_HEADER_BYTES +
	    (uint64_t)CC_BATCH_REF_BYTES * CC_LIMIT_BATCH_REFS +
	    (uint64_t)CC_BATCH_RECORD_BYTES * max_count + CC_BATCH_TRAILER_MAX;
}

int
cc_steps_deliver(struct cc_client *c, const char *query_id, uint16_t chain,
    uint16_t hop, const char *batch_path, long *ret_status,
    struct cc_diag *diag)
{
	uint8_t digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	char path[PATH_MAX_API], commit[PATH_MAX_API];
	json_t *body = NULL;
	uint64_t size = 0;
	int r;

	if (ret_status == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_status = 0;
	if (c == NULL || batch_path == NULL || query_id == NULL ||
	    strlen(query_id) != 32)
		return CC_ERR_INVALID_ARGUMENT;
	if ((size_t)snprintf(path, sizeof(path),
	    "/api/v1/node/queries/%s/batches/%u/%u", query_id,
	    (unsigned)chain, (unsigned)hop) >= sizeof(path) ||
	    (size_t)snprintf(commit, sizeof(commit), "%s/commit", path) >=
	    sizeof(commit))
		return CC_ERR_INTERNAL;
	/* What the commit names: the file as it is now. */
	if ((r = cc_file_sha256(batch_path, false, &size, digest, diag)) != 0)
		return r;
	/* Offset 0 first: it restarts whatever a previous attempt left. */
	if ((r = cc_client_upload_file(c, path, batch_path, CC_LIMIT_UPLOAD_PART,
	    CC_STEPS_PART_TIMEOUT, ret_status, diag)) != 0)
		goto out;
	if (*ret_status < 200 || *ret_status > 299)
		goto out;
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	if ((body = json_pack("{s:I, s:s}", "size", (json_int_t)size,
	    "digest", hex)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	r = cc_client_json(c, "POST", commit, body, CC_STEPS_COMMIT_TIMEOUT,
	    ret_status, NULL, diag);
out:
	json_decref(body);
	return r;
}
