/* Stand-in for libFuzzer's main() in the normal (gcc, ASan+UBSan) build.
 *
 * Runs LLVMFuzzerTestOneInput once over every file named on the command line
 * and every file under every directory named (recursively, sorted, dot files
 * skipped), so the seed corpus and the crash inputs kept in
 * tests/fuzz/corpus/<target>/ are replayed by `ctest -R fuzz-regress`.
 *
 * Each input is copied into a buffer of exactly its size, as libFuzzer does,
 * so the sanitizers see a read past the end. Exit 0 when every input ran;
 * 1 when a path could not be read or nothing ran at all (an empty corpus
 * would otherwise pass silently). A crash aborts through the sanitizer. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t ran;
static int failed;

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t len = 0, cap = 4096;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return -1;
	}
	/* Exactly len bytes, so ASan flags any read past the input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	*ret = exact;
	*ret_len = len;
	return 0;
}

static void run_file(const char *path)
{
	uint8_t *data;
	size_t len;
	if (read_all(path, &data, &len) < 0) {
		fprintf(stderr, "driver: cannot read %s: %s\n", path, strerror(errno));
		failed = 1;
		return;
	}
	fprintf(stderr, "driver: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	ran++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path);

static void run_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "driver: cannot open %s: %s\n", path, strerror(errno));
		failed = 1;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				abort();
			names = nn;
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (names[n] == NULL)
			abort();
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_path(names[i]);
		free(names[i]);
	}
	free(names);
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "driver: cannot stat %s: %s\n", path, strerror(errno));
		failed = 1;
		return;
	}
	if (S_ISDIR(st.st_mode))
		run_dir(path);
	else
		run_file(path);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	fprintf(stderr, "driver: %zu input(s) ran\n", ran);
	if (ran == 0) {
		fprintf(stderr, "driver: no inputs found\n");
		return 1;
	}
	return failed;
}
