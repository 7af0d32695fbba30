/* Unit tests: the bounded reader and the capped writer (protocol/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/buf.h"
#include "protocol/error.h"

static void
reader_reads_big_endian_and_checks_end(void **state)
{
	const uint8_t msg[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct cc_reader r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	cc_reader_init(&r, msg, sizeof(msg));
	assert_int_equal(cc_reader_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(cc_reader_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(cc_reader_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(cc_reader_done(&r), CC_ERR_TRAILING_DATA);
	assert_int_equal(cc_reader_u64(&r, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0fULL);
	assert_int_equal(cc_reader_done(&r), 0);
}

static void
reader_refuses_truncated_reads_without_moving(void **state)
{
	const uint8_t msg[] = { 0xaa, 0xbb, 0xcc };
	struct cc_reader r;
	uint32_t u32 = 7;
	uint8_t out[4];
	const uint8_t *p = msg;

	(void)state;
	cc_reader_init(&r, msg, sizeof(msg));
	assert_int_equal(cc_reader_u32(&r, &u32), CC_ERR_TRUNCATED);
	assert_int_equal(u32, 0);
	assert_int_equal(cc_reader_remaining(&r), 3);
	assert_int_equal(cc_reader_bytes(&r, out, 4), CC_ERR_TRUNCATED);
	assert_int_equal(cc_reader_ptr(&r, SIZE_MAX, &p), CC_ERR_TRUNCATED);
	assert_null(p);
	assert_int_equal(cc_reader_skip(&r, 3), 0);
	assert_int_equal(cc_reader_skip(&r, 1), CC_ERR_TRUNCATED);
	assert_int_equal(cc_reader_done(&r), 0);
}

static void
reader_empty_and_null(void **state)
{
	struct cc_reader r;
	uint8_t v;

	(void)state;
	cc_reader_init(&r, NULL, 99);
	assert_int_equal(cc_reader_remaining(&r), 0);
	assert_int_equal(cc_reader_u8(&r, &v), CC_ERR_TRUNCATED);
	assert_int_equal(cc_reader_done(&r), 0);
}

static void
string16_checks_length_cap_and_nul(void **state)
{
	const uint8_t ok[] = { 0x00, 0x03, 'a', 'b', 'c' };
	const uint8_t nul[] = { 0x00, 0x03, 'a', 0x00, 'c' };
	const uint8_t longer[] = { 0x00, 0x05, 'a', 'b' };
	const uint8_t *p;
	size_t n;
	struct cc_reader r;

	(void)state;
	cc_reader_init(&r, ok, sizeof(ok));
	assert_int_equal(cc_reader_string16(&r, 3, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(cc_reader_done(&r), 0);

	cc_reader_init(&r, ok, sizeof(ok));
	assert_int_equal(cc_reader_string16(&r, 2, &p, &n), CC_ERR_LIMIT);
	assert_int_equal(cc_reader_remaining(&r), sizeof(ok));

	cc_reader_init(&r, nul, sizeof(nul));
	assert_int_equal(cc_reader_string16(&r, 16, &p, &n), CC_ERR_FORMAT);
	assert_int_equal(cc_reader_remaining(&r), sizeof(nul));

	cc_reader_init(&r, longer, sizeof(longer));
	assert_int_equal(cc_reader_string16(&r, 16, &p, &n), CC_ERR_TRUNCATED);
	assert_int_equal(cc_reader_remaining(&r), sizeof(longer));
	assert_null(p);
	assert_int_equal(n, 0);
}

static void
writer_round_trips_and_respects_cap(void **state)
{
	struct cc_buf *b;
	struct cc_reader r;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	const uint8_t *p;
	size_t n;
	uint8_t *slot;

	(void)state;
	assert_non_null(b = cc_buf_new(2 + 4 + 8 + 2 + 5));
	assert_int_equal(cc_buf_put_u16(b, 0xbeef), 0);
	assert_int_equal(cc_buf_put_u32(b, 0xdeadbeef), 0);
	assert_int_equal(cc_buf_put_u64(b, 0x0102030405060708ULL), 0);
	assert_int_equal(cc_buf_put_string16(b, "hello", 5), 0);
	assert_int_equal(cc_buf_len(b), 21);
	assert_int_equal(cc_buf_put_u8(b, 1), CC_ERR_LIMIT);
	assert_int_equal(cc_buf_reserve(b, 1, &slot), CC_ERR_LIMIT);
	assert_null(slot);
	assert_int_equal(cc_buf_len(b), 21);

	cc_reader_init(&r, cc_buf_data(b), cc_buf_len(b));
	assert_int_equal(cc_reader_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(cc_reader_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(cc_reader_u64(&r, &u64), 0);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(cc_reader_string16(&r, 5, &p, &n), 0);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(cc_reader_done(&r), 0);

	cc_buf_reset(b);
	assert_int_equal(cc_buf_len(b), 0);
	assert_int_equal(cc_buf_put_string16(b, "a\0b", 3), CC_ERR_INVALID_ARGUMENT);
	cc_buf_free(b);
	cc_buf_free(NULL);
}

static void
writer_grows_across_many_reallocations(void **state)
{
	struct cc_buf *b;
	uint32_t i;

	(void)state;
	assert_non_null(b = cc_buf_new(1u << 20));
	for (i = 0; i < (1u << 18); i++)
		assert_int_equal(cc_buf_put_u32(b, i), 0);
	assert_int_equal(cc_buf_len(b), 1u << 20);
	assert_int_equal(cc_buf_load_u32(cc_buf_data(b) + 4 * 12345), 12345);
	assert_int_equal(cc_buf_put_u8(b, 0), CC_ERR_LIMIT);
	cc_buf_free(b);
}

static void
writer_rejects_overflowing_sizes(void **state)
{
	struct cc_buf *b;
	uint8_t *slot;

	(void)state;
	assert_non_null(b = cc_buf_new(SIZE_MAX));
	assert_int_equal(cc_buf_put_u8(b, 1), 0);
	assert_int_equal(cc_buf_reserve(b, SIZE_MAX, &slot), CC_ERR_LIMIT);
	assert_int_equal(cc_buf_len(b), 1);
	cc_buf_free(b);
}

static void
strerror_covers_every_code(void **state)
{
	int r;

	(void)state;
	for (r = 0; r > CC_ERR_LAST_; r--)
		assert_string_not_equal(cc_strerror(r), "unknown error");
	assert_string_equal(cc_strerror(CC_ERR_LAST_), "unknown error");
	assert_string_equal(cc_strerror(5), "unknown error");
}

static void
diag_formats_prefixes_and_tolerates_null(void **state)
{
	struct cc_diag d;
	char big[400];

	(void)state;
	cc_diag_set(&d, "bad %s", "date");
	cc_diag_prefix(&d, "line %d: ", 42);
	assert_string_equal(d.text, "line 42: bad date");
	cc_diag_set(NULL, "x");
	cc_diag_prefix(NULL, "y");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cc_diag_set(&d, "%s", big);
	assert_int_equal(strlen(d.text), CC_DIAG_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_reads_big_endian_and_checks_end),
		cmocka_unit_test(reader_refuses_truncated_reads_without_moving),
		cmocka_unit_test(reader_empty_and_null),
		cmocka_unit_test(string16_checks_length_cap_and_nul),
		cmocka_unit_test(writer_round_trips_and_respects_cap),
		cmocka_unit_test(writer_grows_across_many_reallocations),
		cmocka_unit_test(writer_rejects_overflowing_sizes),
		cmocka_unit_test(strerror_covers_every_code),
		cmocka_unit_test(diag_formats_prefixes_and_tolerates_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
