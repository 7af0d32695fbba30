/* Unit tests: the parallel for-loop (protocol/parallel.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "protocol/error.h"
#include "protocol/parallel.h"

struct mark_ctx {
	unsigned char *seen;
	size_t fail_at;
};

static int
mark(void *ctx, size_t begin, size_t end)
{
	struct mark_ctx *m = ctx;
	size_t i;

	for (i = begin; i < end; i++) {
		if (i == m->fail_at)
			return CC_ERR_CRYPTO;
		m->seen[i]++;
	}
	return 0;
}

static void
every_index_visited_exactly_once(void **state)
{
	const size_t sizes[] = { 1, 2, 7, 64, 1000, 100003 };
	const unsigned threads[] = { 0, 1, 2, 3, 17 };
	struct mark_ctx m;
	size_t s, t, i;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
			assert_non_null(m.seen = calloc(sizes[s], 1));
			m.fail_at = SIZE_MAX;
			assert_int_equal(cc_parallel_for(sizes[s], threads[t],
			    mark, &m), 0);
			for (i = 0; i < sizes[s]; i++)
				assert_int_equal(m.seen[i], 1);
			free(m.seen);
		}
	}
}

static void
first_error_is_returned(void **state)
{
	struct mark_ctx m;

	(void)state;
	assert_non_null(m.seen = calloc(5000, 1));
	m.fail_at = 4321;
	assert_int_equal(cc_parallel_for(5000, 0, mark, &m), CC_ERR_CRYPTO);
	assert_int_equal(m.seen[4321], 0);
	free(m.seen);
}

static void
empty_range_does_nothing(void **state)
{
	(void)state;
	assert_int_equal(cc_parallel_for(0, 0, mark, NULL), 0);
	assert_true(cc_parallel_cores() >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_index_visited_exactly_once),
		cmocka_unit_test(first_error_is_returned),
		cmocka_unit_test(empty_range_does_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
