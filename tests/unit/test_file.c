/* Unit tests: atomic, durable, exact files (protocol/file.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "protocol/error.h"
#include "protocol/file.h"

static char dir[64];

static void
path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void
put(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The number of entries in dir other than "." and "..". */
static int
entries(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
empty_dir(void **state)
{
	struct dirent *e;
	char path[512];
	DIR *d = opendir(dir);

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path_of(path, sizeof(path), e->d_name);
		unlink(path);
	}
	closedir(d);
	return 0;
}

static void
write_new_and_replace(void **state)
{
	struct cc_diag d = { "" };
	uint8_t back[8];
	char path[128];
	struct stat st;

	(void)state;
	path_of(path, sizeof(path), "k");
	assert_int_equal(cc_file_write(path, "12345678", 8, 0600,
	    CC_FILE_SECRET, &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(st.st_nlink, 1);       /* the temporary name is gone */
	assert_int_equal(entries(), 1);
	/* Without CC_FILE_REPLACE an existing file is never touched. */
	assert_int_equal(cc_file_write(path, "abcdefgh", 8, 0600, 0, &d),
	    CC_ERR_EXISTS);
	assert_non_null(strstr(d.text, "refusing to overwrite"));
	assert_int_equal(cc_file_read_key(path, back, 8, "key", &d), 0);
	assert_memory_equal(back, "12345678", 8);
	assert_int_equal(entries(), 1);
	/* With it the file is replaced, with the mode asked for. */
	assert_int_equal(cc_file_write(path, "abc", 3, 0640, CC_FILE_REPLACE,
	    &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(entries(), 1);
	/* A dangling symbolic link is a name taken, and is not followed. */
	path_of(path, sizeof(path), "link");
	assert_int_equal(symlink("nowhere", path), 0);
	assert_int_equal(cc_file_write(path, "x", 1, 0600, 0, &d),
	    CC_ERR_EXISTS);
	path_of(path, sizeof(path), "nowhere");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(entries(), 2);
	/* An empty file is a file. */
	path_of(path, sizeof(path), "empty");
	assert_int_equal(cc_file_write(path, NULL, 0, 0600, 0, &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(cc_file_write(path, NULL, 1, 0600, 0, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_file_write(NULL, "x", 1, 0600, 0, &d),
	    CC_ERR_INVALID_ARGUMENT);
}

static void
write_failures_leave_nothing(void **state)
{
	struct cc_diag d = { "" };
	char path[5000];

	(void)state;
	/* No such directory: no file, no temporary file. */
	path_of(path, sizeof(path), "missing/k");
	assert_int_equal(cc_file_write(path, "x", 1, 0600, 0, &d), CC_ERR_IO);
	assert_int_equal(cc_file_write(path, "x", 1, 0600,
	    CC_FILE_HIDDEN_TEMP, &d), CC_ERR_IO);
	assert_int_equal(entries(), 0);
	/* A path longer than any temporary name can be. */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(cc_file_write(path, "x", 1, 0600, 0, &d),
	    CC_ERR_LIMIT);
	/* A directory in the way of a rename. */
	path_of(path, sizeof(path), "sub");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cc_file_write(path, "x", 1, 0600, CC_FILE_REPLACE,
	    &d), CC_ERR_IO);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(entries(), 0);
}

/* The temporary file of CC_FILE_HIDDEN_TEMP is DIR/.NAME.XXXXXX. */
static void
hidden_temporary_file_is_removed(void **state)
{
	struct cc_diag d = { "" };
	char path[128], name[160];
	struct dirent *e;
	DIR *dd;
	int found = 0;

	(void)state;
	/* A name whose temporary file cannot be linked: a directory. */
	path_of(path, sizeof(path), "q");
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(name, sizeof(name), "%s/q/id.r", dir);
	assert_int_equal(mkdir(name, 0700), 0);
	/* The link fails (EEXIST) and the temporary file is removed. */
	assert_int_equal(cc_file_write(name, "s", 1, 0600,
	    CC_FILE_SECRET | CC_FILE_HIDDEN_TEMP, &d), CC_ERR_EXISTS);
	assert_int_equal(rmdir(name), 0);
	assert_int_equal(cc_file_write(name, "s", 1, 0600,
	    CC_FILE_SECRET | CC_FILE_HIDDEN_TEMP, &d), 0);
	assert_non_null(dd = opendir(path));
	while ((e = readdir(dd)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		assert_string_equal(e->d_name, "id.r");
		found++;
	}
	closedir(dd);
	assert_int_equal(found, 1);
	assert_int_equal(unlink(name), 0);
	assert_int_equal(rmdir(path), 0);
}

static void
read_key_is_exact_and_private(void **state)
{
	struct cc_diag d = { "" };
	uint8_t buf[4];
	char path[128];

	(void)state;
	path_of(path, sizeof(path), "k");
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d),
	    CC_ERR_NOT_FOUND);
	put(path, "abcd", 4, 0600);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d), 0);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d), 0);
	/* Group or others may read: refused, and the buffer is wiped. */
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(cc_file_read_key(path, buf, 4, "test key", &d),
	    CC_ERR_AUTH);
	assert_non_null(strstr(d.text, "the test key; it must be 0600"));
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d),
	    CC_ERR_AUTH);
	unlink(path);
	/* One byte short, one byte over. */
	put(path, "abc", 3, 0600);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d),
	    CC_ERR_FORMAT);
	assert_non_null(strstr(d.text, "exactly 4 bytes"));
	unlink(path);
	put(path, "abcde", 5, 0600);
	memcpy(buf, "xxxx", 4);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d),
	    CC_ERR_FORMAT);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	unlink(path);
	put(path, "", 0, 0600);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d),
	    CC_ERR_FORMAT);
	unlink(path);
	/* Not a regular file; a symbolic link is not followed. */
	assert_int_equal(cc_file_read_key(dir, buf, 4, "key", &d), CC_ERR_IO);
	assert_int_equal(symlink("/dev/null", path), 0);
	assert_int_equal(cc_file_read_key(path, buf, 4, "key", &d), CC_ERR_IO);
	assert_int_equal(cc_file_read_key(NULL, buf, 4, "key", &d),
	    CC_ERR_INVALID_ARGUMENT);
}

static void
read_all_is_bounded(void **state)
{
	struct cc_diag d = { "" };
	uint8_t *data = (uint8_t *)"sentinel";
	char path[128], link_path[128];
	size_t len = 99, i;

	(void)state;
	path_of(path, sizeof(path), "pem");
	assert_int_equal(cc_file_read_all(path, 100, 0, &data, &len, &d),
	    CC_ERR_IO);
	assert_null(data);
	assert_int_equal(len, 0);
	put(path, "hello", 5, 0644);
	/* Room after the bytes is zero, and one more NUL ends the text. */
	assert_int_equal(cc_file_read_all(path, 5, 10, &data, &len, &d), 0);
	assert_int_equal(len, 5);
	assert_string_equal((char *)data, "hello");
	for (i = 5; i < 5 + 10 + 1; i++)
		assert_int_equal(data[i], 0);
	cc_file_free(data, len + 10 + 1);
	/* One byte over the limit. */
	assert_int_equal(cc_file_read_all(path, 4, 0, &data, &len, &d),
	    CC_ERR_LIMIT);
	assert_null(data);
	assert_non_null(strstr(d.text, "5 bytes"));
	/* Certificates are often linked into place: links are followed. */
	path_of(link_path, sizeof(link_path), "pem.link");
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(cc_file_read_all(link_path, 5, 0, &data, &len, &d),
	    0);
	assert_int_equal(len, 5);
	free(data);
	/* An empty file and a directory. */
	unlink(path);
	put(path, "", 0, 0644);
	assert_int_equal(cc_file_read_all(path, 5, 0, &data, &len, &d), 0);
	assert_int_equal(len, 0);
	assert_string_equal((char *)data, "");
	free(data);
	assert_int_equal(cc_file_read_all(dir, 1 << 20, 0, &data, &len, &d),
	    CC_ERR_IO);
	assert_int_equal(cc_file_read_all(path, SIZE_MAX, 1, &data, &len, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_file_read_all(path, 5, 0, NULL, &len, &d),
	    CC_ERR_INVALID_ARGUMENT);
	cc_file_free(NULL, 10);
}

static void
destroy_overwrites_then_unlinks(void **state)
{
	struct cc_diag d = { "" };
	uint8_t seen[6];
	char path[128], target[128];
	bool existed = true;
	int fd;

	(void)state;
	path_of(path, sizeof(path), "secret");
	assert_int_equal(cc_file_destroy(path, &existed, &d), 0);
	assert_false(existed);
	put(path, "secret", 6, 0600);
	/* Hold the inode open to see what destroy leaves in it. */
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(cc_file_destroy(path, &existed, &d), 0);
	assert_true(existed);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(pread(fd, seen, sizeof(seen), 0), (ssize_t)sizeof(seen));
	assert_memory_equal(seen, "\0\0\0\0\0\0", 6);
	close(fd);
	/* A symbolic link is removed; what it points at is untouched. */
	path_of(target, sizeof(target), "target");
	put(target, "keep", 4, 0600);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(cc_file_destroy(path, &existed, &d), 0);
	assert_true(existed);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(cc_file_read_key(target, seen, 4, "key", &d), 0);
	assert_memory_equal(seen, "keep", 4);
	/* cc_file_overwrite alone keeps the name, with zeros. */
	assert_int_equal(cc_file_overwrite(target, &d), 0);
	assert_int_equal(cc_file_read_key(target, seen, 4, "key", &d), 0);
	assert_memory_equal(seen, "\0\0\0\0", 4);
	assert_int_equal(cc_file_overwrite(path, &d), 0);   /* none: fine */
	unlink(target);
	/* A directory is not a file to destroy. */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cc_file_destroy(path, &existed, &d), CC_ERR_IO);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(cc_file_destroy(NULL, NULL, &d),
	    CC_ERR_INVALID_ARGUMENT);
}

static void
sync_dir_and_parent(void **state)
{
	struct cc_diag d = { "" };
	char path[128];

	(void)state;
	assert_int_equal(cc_file_sync_dir(dir, &d), 0);
	path_of(path, sizeof(path), "anything");
	assert_int_equal(cc_file_sync_parent(path, &d), 0);
	assert_int_equal(cc_file_sync_parent("relative", &d), 0);
	assert_int_equal(cc_file_sync_parent("/x", &d), 0);
	path_of(path, sizeof(path), "missing/x");
	assert_int_equal(cc_file_sync_parent(path, &d), CC_ERR_IO);
	assert_non_null(strstr(d.text, "missing"));
	assert_int_equal(cc_file_sync_dir(NULL, &d), CC_ERR_INVALID_ARGUMENT);
}

/* Positioned reads and writes, whole or not at all. */
static void
pread_pwrite_all(void **state)
{
	uint8_t buf[300000], back[300000];
	char path[128];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	path_of(path, sizeof(path), "positioned");
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600)) >= 0);
	/* Out of order, with a gap that reads back as zeros. */
	assert_int_equal(cc_file_pwrite_all(fd, buf + 1000, sizeof(buf) - 1000,
	    1000), 0);
	assert_int_equal(cc_file_pwrite_all(fd, buf, 500, 0), 0);
	assert_int_equal(cc_file_pread_all(fd, back, sizeof(back), 0), 0);
	assert_memory_equal(back, buf, 500);
	for (i = 500; i < 1000; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 1000, buf + 1000, sizeof(buf) - 1000);
	/* Past the end: -1, EIO. */
	errno = 0;
	assert_int_equal(cc_file_pread_all(fd, back, 10, sizeof(buf) - 5), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(close(fd), 0);
	/* A closed descriptor: -1 with its own errno. */
	assert_int_equal(cc_file_pread_all(fd, back, 1, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(cc_file_pwrite_all(fd, back, 1, 0), -1);
	assert_int_equal(unlink(path), 0);
}

/* SHA-256 and size of a file, synced or not; none there is NOT_FOUND. */
static void
sha256_of_a_file(void **state)
{
	uint8_t data[600000], want[32], got[32];
	char path[128], link[128];
	uint64_t size = 1;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	crypto_hash_sha256(want, data, sizeof(data));
	path_of(path, sizeof(path), "hashed");
	assert_int_equal(cc_file_write(path, data, sizeof(data), 0600,
	    CC_FILE_REPLACE, NULL), 0);
	assert_int_equal(cc_file_sha256(path, false, &size, got, NULL), 0);
	assert_int_equal(size, sizeof(data));
	assert_memory_equal(got, want, 32);
	memset(got, 0, sizeof(got));
	assert_int_equal(cc_file_sha256(path, true, &size, got, NULL), 0);
	assert_memory_equal(got, want, 32);
	/* Empty. */
	assert_int_equal(cc_file_write(path, data, 0, 0600, CC_FILE_REPLACE,
	    NULL), 0);
	crypto_hash_sha256(want, data, 0);
	assert_int_equal(cc_file_sha256(path, false, &size, got, NULL), 0);
	assert_int_equal(size, 0);
	assert_memory_equal(got, want, 32);
	/* Missing, and not through a symbolic link. */
	path_of(link, sizeof(link), "link");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(cc_file_sha256(link, false, &size, got, NULL),
	    CC_ERR_IO);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cc_file_sha256(path, false, &size, got, NULL),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(size, 0);
}

/* One byte to a pipe; a full non-blocking pipe is not an error. */
static void
signal_a_pipe(void **state)
{
	int fds[2], i;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	cc_file_signal(fds[1], 'v');
	assert_int_equal(read(fds[0], &b, 1), 1);
	assert_int_equal(b, 'v');
	for (i = 0; i < 70000; i++)   /* more than a pipe holds */
		cc_file_signal(fds[1], 'x');
	assert_int_equal(read(fds[0], &b, 1), 1);
	assert_int_equal(b, 'x');
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(write_new_and_replace, empty_dir),
		cmocka_unit_test_teardown(write_failures_leave_nothing, empty_dir),
		cmocka_unit_test_teardown(hidden_temporary_file_is_removed, empty_dir),
		cmocka_unit_test_teardown(read_key_is_exact_and_private, empty_dir),
		cmocka_unit_test_teardown(read_all_is_bounded, empty_dir),
		cmocka_unit_test_teardown(destroy_overwrites_then_unlinks,
		    empty_dir),
		cmocka_unit_test_teardown(sync_dir_and_parent, empty_dir),
		cmocka_unit_test_teardown(pread_pwrite_all, empty_dir),
		cmocka_unit_test_teardown(sha256_of_a_file, empty_dir),
		cmocka_unit_test(signal_a_pipe),
	};
	int r;

	snprintf(dir, sizeof(dir), "/tmp/cc-file-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	empty_dir(NULL);
	rmdir(dir);
	return r;
}
