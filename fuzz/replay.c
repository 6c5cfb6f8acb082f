/* SPDX-License-Identifier: MIT */
/*
 * fuzz/replay.c - runs a fuzz target on given inputs once each, without
 * libFuzzer, so that corpora and past crashers replay in `make test`
 * with any compiler (built with ASan+UBSan by fuzz/fuzz.mk).
 *
 *   NAME-replay FILE|DIR...     (a directory: every regular file in it)
 *
 * Prints "replayed N inputs" and exits 0; a failed check aborts. An
 * argument that cannot be read is an error (exit 1): a missing corpus
 * must not pass as an empty one.
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

static unsigned long replayed;

static int one(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* One byte more, so that libFuzzer's empty input is a valid pointer. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	replayed++;
	return 0;
}

static int arg(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return one(path);

	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), rc = 0;
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(p, &st) == 0 &&
		    S_ISREG(st.st_mode) && one(p) < 0)
			rc = -1;
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (arg(argv[i]) < 0)
			rc = 1;
	printf("replayed %lu inputs\n", replayed);
	return rc;
}
