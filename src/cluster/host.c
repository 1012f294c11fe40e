/* The local host: this machine, through plain system calls. */
#include "cluster/host.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mem.h"

static int local_mkdirs(dm_host *h, const char *path, unsigned mode, dm_err *err)
{
	(void)h;
	return dm_file_mkdirs(path, (mode_t)mode, err);
}

static int local_write_file(dm_host *h, const char *path, const void *data, size_t len,
                            unsigned mode, dm_err *err)
{
	(void)h;
	return dm_file_write_atomic(path, data, len, (mode_t)mode, err);
}

static int local_copy_file(dm_host *h, const char *src, const char *path, unsigned mode,
                           dm_err *err)
{
	(void)h;
	char *data;
	size_t len;
	if (dm_file_read(src, 1024 * 1024, &data, &len, err) < 0)
		return -1;
	int rc = dm_file_write_atomic(path, data, len, (mode_t)mode, err);
	/* The file may be a private key. */
	dm_free_secret(data);
	return rc;
}

static int local_read_file(dm_host *h, const char *path, size_t max, char **ret, dm_err *err)
{
	(void)h;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return dm_err_set(err, DM_ENOTFOUND, "%s does not exist", path);
	size_t len;
	return dm_file_read(path, max, ret, &len, err);
}

static int local_remove_file(dm_host *h, const char *path, dm_err *err)
{
	(void)h;
	if (unlink(path) < 0 && errno != ENOENT)
		return dm_err_set(err, DM_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
	return rc < 0 && errno != ENOENT ? -1 : 0;
}

static int local_remove_tree(dm_host *h, const char *path, dm_err *err)
{
	(void)h;
	struct stat st;
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (strcmp(path, "/") == 0 || path[0] != '/')
		return dm_err_set(err, DM_EINTERNAL, "refusing to remove \"%s\"", path);
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return dm_err_set(err, DM_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * A failure is reported to the parent through fd as an errno value. */
static void child(const dm_host_proc *p, int fd)
{
	int e;
	int in = open("/dev/null", O_RDONLY);
	int out = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (setsid() < 0 || in < 0 || out < 0 || chdir(p->cwd) < 0 || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(out, 2) < 0)
		goto fail;
	close(in);
	close(out);
	execv(p->argv[0], p->argv);
fail:
	e = errno;
	if (write(fd, &e, sizeof(e)) < 0) {
		/* Nothing left to report with. */
	}
	_exit(127);
}

static int local_start(dm_host *h, const dm_host_proc *p, pid_t *ret_pid, dm_err *err)
{
	(void)h;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return dm_err_set(err, DM_EIO, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return dm_err_set(err, DM_EIO, "cannot start %s: fork: %s", p->argv[0],
		                  strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child(p, fds[1]);
	}
	close(fds[1]);
	int e = 0;
	ssize_t n;
	do
		n = read(fds[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		return dm_err_set(err, DM_EIO, "cannot start %s (log %s, directory %s): %s",
		                  p->argv[0], p->log, p->cwd, strerror(e));
	}
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (dm_file_write_atomic(p->pid_file, buf, (size_t)len, 0644, err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return dm_err_prefix(err, "pid file");
	}
	*ret_pid = pid;
	return 0;
}

static bool local_alive(dm_host *h, pid_t pid, const char *prog)
{
	(void)h;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true; /* no /proc: kill(0) is all we know */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm is cut to 15 bytes by the kernel. */
	char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
	if (open_p == NULL || close_p == NULL || close_p[1] == '\0')
		return false;
	if (close_p[2] == 'Z' || close_p[2] == 'X')
		return false;
	size_t cl = (size_t)(close_p - open_p - 1);
	size_t pl = strlen(prog);
	return cl == (pl < 15 ? pl : 15) && strncmp(open_p + 1, prog, cl) == 0;
}

static int local_signal(dm_host *h, pid_t pid, int sig, dm_err *err)
{
	(void)h;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		return dm_err_set(err, DM_EIO, "cannot signal pid %ld: %s", (long)pid,
		                  strerror(errno));
	return 0;
}

static bool local_reap(dm_host *h, pid_t pid, int *ret_status)
{
	(void)h;
	int st;
	if (waitpid(pid, &st, WNOHANG) == pid) {
		*ret_status = st;
		return true;
	}
	return false;
}

static void local_free(dm_host *h)
{
	free(h);
}

static const dm_host_ops local_ops = {
        .mkdirs = local_mkdirs,
        .write_file = local_write_file,
        .copy_file = local_copy_file,
        .read_file = local_read_file,
        .remove_file = local_remove_file,
        .remove_tree = local_remove_tree,
        .start = local_start,
        .alive = local_alive,
        .signal = local_signal,
        .reap = local_reap,
        .free = local_free,
};

dm_host *dm_host_local_new(void)
{
	dm_host *h = dm_xcalloc(1, sizeof(*h));
	h->ops = &local_ops;
	return h;
}

void dm_host_free(dm_host *h)
{
	if (h)
		h->ops->free(h);
}

pid_t dm_host_read_pid(dm_host *h, const char *pid_file)
{
	char *s;
	if (h->ops->read_file(h, pid_file, 64, &s, NULL) < 0)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	bool ok = end != s && (*end == '\n' || *end == '\0') && v > 1;
	free(s);
	return ok ? (pid_t)v : 0;
}
