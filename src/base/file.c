#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int dm_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, dm_err *err)
{
	char *tmp = dm_xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		dm_err_set(err, DM_EIO, "cannot create a temporary file beside %s: %s", path,
		           strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = -1;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		dm_err_set(err, DM_EIO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		dm_err_set(err, DM_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		dm_err_set(err, DM_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the directory entry is on disk. */
	char *dircopy = dm_xstrdup(path);
	int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dircopy);
	rc = 0;
out:
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int dm_file_read(const char *path, size_t max, char **ret_data, size_t *ret_len, dm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dm_err_set(err, errno == ENOENT ? DM_ENOTFOUND : DM_EIO, "%s: %s", path,
		                  strerror(errno));
	size_t cap = 4096, len = 0;
	char *data = dm_xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			data = dm_xrealloc(data, cap);
		}
		ssize_t r = read(fd, data + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dm_err_set(err, DM_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			dm_err_set(err, DM_ELIMIT, "%s: larger than the limit of %zu bytes", path,
			           max);
			goto fail;
		}
	}
	close(fd);
	data[len] = '\0';
	*ret_data = data;
	if (ret_len)
		*ret_len = len;
	return 0;
fail:
	close(fd);
	free(data);
	return -1;
}

int dm_file_mkdirs(const char *path, mode_t mode, dm_err *err)
{
	char *p = dm_xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			dm_err_set(err, DM_EIO, "cannot create directory %s: %s", p,
			           strerror(errno));
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return dm_err_set(err, DM_EIO, "%s exists and is not a directory", path);
	return 0;
}
