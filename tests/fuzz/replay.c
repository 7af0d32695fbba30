/*
 * Replays a fuzz corpus through a harness's LLVMFuzzerTestOneInput, so that
 * the normal test run (and the sanitizer build) checks every kept input.
 * Arguments are corpus directories or single files. A missing or empty
 * corpus is an error: a replay that runs nothing proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *data = NULL;
	long size;
	int r = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* An exact-size copy so that ASan sees reads past the end. */
	if ((data = malloc(size > 0 ? (size_t)size : 1)) == NULL)
		goto out;
	if (size > 0 && fread(data, 1, (size_t)size, f) != (size_t)size)
		goto out;
	LLVMFuzzerTestOneInput(data, (size_t)size);
	r = 0;
out:
	if (r != 0)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	free(data);
	fclose(f);
	return r;
}

static int
replay_path(const char *path, unsigned *count)
{
	struct stat st;
	struct dirent **names = NULL;
	char child[4096];
	int i, n, r = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) != 0)
			return -1;
		(*count)++;
		return 0;
	}
	/* Sorted, so a failure is reproducible by name. */
	if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && r == 0) {
			if ((size_t)snprintf(child, sizeof(child), "%s/%s", path,
			    names[i]->d_name) >= sizeof(child))
				r = -1;
			else
				r = replay_path(child, count);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			return 1;
	if (count == 0) {
		fprintf(stderr, "replay: no corpus inputs found\n");
		return 1;
	}
	printf("replayed %u inputs\n", count);
	return 0;
}
