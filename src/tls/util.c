#include "tls/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "base/file.h"
#include "base/mem.h"

int dm_tls_util_read(const char *what, const char *path, char **ret, size_t *ret_len,
                     struct stat *ret_st, dm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dm_err_set(err, DM_ETLS, "%s %s: %s", what, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return dm_err_set(err, DM_ETLS, "%s %s: %s", what, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dm_err_set(err, DM_ETLS,
		                  "%s %s: not a regular file; give the path of a PEM file", what,
		                  path);
	}
	if (st.st_size > DM_TLS_FILE_MAX) {
		close(fd);
		return dm_err_set(err, DM_ETLS,
		                  "%s %s: file is larger than %d bytes; is this the right file?",
		                  what, path, DM_TLS_FILE_MAX);
	}
	/* st_size is only a hint: the file may grow while we read. */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = dm_xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > DM_TLS_FILE_MAX) {
				close(fd);
				dm_tls_util_free_data(data, len);
				return dm_err_set(
				        err, DM_ETLS,
				        "%s %s: file is larger than %d bytes; is this the "
				        "right file?",
				        what, path, DM_TLS_FILE_MAX);
			}
			char *bigger = dm_xmalloc(cap * 2 + 1);
			memcpy(bigger, data, len);
			dm_tls_util_free_data(data, len);
			data = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			dm_tls_util_free_data(data, len);
			return dm_err_set(err, DM_ETLS, "%s %s: %s", what, path, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0) {
		free(data);
		return dm_err_set(err, DM_ETLS, "%s %s: file is empty", what, path);
	}
	data[len] = '\0';
	*ret = data;
	*ret_len = len;
	if (ret_st != NULL)
		*ret_st = st;
	return 0;
}

void dm_tls_util_free_data(char *data, size_t len)
{
	if (data == NULL)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}

int dm_tls_util_write_atomic(const char *what, const char *path, const void *data, size_t len,
                             mode_t mode, dm_err *err)
{
	if (dm_file_write_atomic(path, data, len, mode, err) < 0)
		return dm_err_prefix(err, "%s %s", what, path);
	return 0;
}

int dm_tls_util_time(const ASN1_TIME *t, time_t *ret)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	time_t v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	*ret = v;
	return 0;
}

long dm_tls_util_days(time_t from, time_t to)
{
	long long d = (long long)to - (long long)from;
	long long q = d / 86400;
	if (d % 86400 != 0 && d < 0)
		q--;
	return (long)q;
}

void dm_tls_util_fmt_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, n, "@%lld", (long long)t);
}

int dm_tls_util_cn(const X509_NAME *name, char *out, size_t n)
{
	if (name == NULL)
		return -1;
	int idx = -1, last = -1;
	while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
		last = idx;
	if (last < 0)
		return -1;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, s);
	if (len < 0)
		return -1;
	int rc = -1;
	if ((size_t)len < n && memchr(utf8, '\0', (size_t)len) == NULL) {
		memcpy(out, utf8, (size_t)len);
		out[len] = '\0';
		rc = 0;
	}
	OPENSSL_free(utf8);
	return rc;
}
