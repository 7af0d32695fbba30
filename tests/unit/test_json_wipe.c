/*
 * Unit tests for protocol/json_wipe.c: once installed, Jansson frees
 * through the wiping function, and values of every kind are built,
 * copied, parsed, dumped and freed with it (the sanitizer build checks
 * every wipe stays inside its block), and json_dumps' text is still
 * released with free().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "protocol/json_wipe.h"

static void
test_installed(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;
	char *p;

	(void)state;
	cc_json_wipe_on_free();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, malloc);
	assert_non_null(f);
	assert_ptr_not_equal(f, free);
	/* Any malloc block, and NULL, may be freed through it. */
	assert_non_null(p = malloc(100));
	memset(p, 0xa5, 100);
	f(p);
	f(NULL);
}

static void
test_values_round_trip(void **state)
{
	json_t *o, *copy, *back;
	json_error_t err;
	char *text;
	int i;

	(void)state;
	cc_json_wipe_on_free();
	o = json_pack("{s:s, s:i, s:[s,f,b,n], s:{s:s}}", "username", "anna",
	    "n", 42, "list", "x", 1.5, 1, "nested", "password",
	    "correct horse battery staple");
	assert_non_null(o);
	for (i = 0; i < 100; i++)
		assert_int_equal(json_array_append_new(json_object_get(o, "list"),
		    json_integer(i)), 0);
	assert_non_null(copy = json_deep_copy(o));
	assert_non_null(text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS));
	assert_non_null(back = json_loads(text, 0, &err));
	assert_true(json_equal(o, back));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    back, "nested"), "password")), "correct horse battery staple");
	/* json_dumps' text is released with free(), as Jansson says. */
	free(text);
	json_decref(o);
	json_decref(copy);
	json_decref(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_values_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
