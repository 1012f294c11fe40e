#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/mem.h"

/* mu protects fd and path while a reconfigure swaps them; level and format
 * are read without it so a disabled debug line costs one atomic load. */
struct dm_log {
	char *component;
	_Atomic int level;
	_Atomic int format;
	pthread_mutex_t mu;
	int fd;
	char *path;
};

static int open_log(const char *path, int *ret_fd, dm_err *err)
{
	if (path == NULL || *path == '\0') {
		*ret_fd = STDERR_FILENO;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return dm_err_set(err, DM_EIO,
		                  "log-file %s: %s; check the directory exists and is writable",
		                  path, strerror(errno));
	*ret_fd = fd;
	return 0;
}

dm_log *dm_log_new(const char *component, dm_log_level level, dm_log_format format,
                   const char *path, dm_err *err)
{
	int fd = -1;
	if (open_log(path, &fd, err) < 0)
		return NULL;
	dm_log *log = dm_xcalloc(1, sizeof(*log));
	log->component = dm_xstrdup(component ? component : "dm");
	atomic_store(&log->level, level);
	atomic_store(&log->format, format);
	pthread_mutex_init(&log->mu, NULL);
	log->fd = fd;
	log->path = (path && *path) ? dm_xstrdup(path) : NULL;
	return log;
}

void dm_log_free(dm_log *log)
{
	if (log == NULL)
		return;
	if (log->fd != STDERR_FILENO)
		close(log->fd);
	pthread_mutex_destroy(&log->mu);
	free(log->component);
	free(log->path);
	free(log);
}

int dm_log_reconfigure(dm_log *log, dm_log_level level, dm_log_format format, const char *path,
                       dm_err *err)
{
	int fd = -1;
	if (open_log(path, &fd, err) < 0)
		return -1;
	pthread_mutex_lock(&log->mu);
	int old = log->fd;
	log->fd = fd;
	free(log->path);
	log->path = (path && *path) ? dm_xstrdup(path) : NULL;
	pthread_mutex_unlock(&log->mu);
	if (old != STDERR_FILENO && old != fd)
		close(old);
	atomic_store(&log->level, level);
	atomic_store(&log->format, format);
	return 0;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int dm_log_level_parse(const char *s, dm_log_level *ret, dm_err *err)
{
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*ret = (dm_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*ret = DM_LOG_WARN;
		return 0;
	}
	return dm_err_set(err, DM_EINVAL, "log level \"%s\" is not one of debug, info, warn, error",
	                  s);
}

int dm_log_format_parse(const char *s, dm_log_format *ret, dm_err *err)
{
	if (strcasecmp(s, "text") == 0) {
		*ret = DM_LOG_TEXT;
		return 0;
	}
	if (strcasecmp(s, "json") == 0) {
		*ret = DM_LOG_JSON;
		return 0;
	}
	return dm_err_set(err, DM_EINVAL, "log format \"%s\" is not one of text, json", s);
}

const char *dm_log_level_name(dm_log_level level)
{
	if ((int)level < 0 || level > DM_LOG_ERROR)
		return "unknown";
	return level_names[level];
}

int dm_log_enabled(const dm_log *log, dm_log_level level)
{
	return log != NULL && (int)level >= atomic_load(&log->level);
}

/* Cuts a message before anything that looks like PEM content. */
static void scrub(dm_buf *msg)
{
	char *p = strstr(msg->data ? msg->data : "", "-----BEGIN");
	if (p == NULL)
		return;
	msg->len = (size_t)(p - msg->data);
	msg->data[msg->len] = '\0';
	dm_buf_puts(msg, "[PEM content removed from log]");
}

static void format_time(char *out, size_t n)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	char date[40], zone[8];
	strftime(date, sizeof(date), "%Y/%m/%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	/* DM prints +08:00, strftime gives +0800. */
	snprintf(out, n, "%s.%03d %.3s:%.2s", date, (int)(tv.tv_usec / 1000), zone, zone + 3);
}

void dm_log_vwrite(dm_log *log, dm_log_level level, const char *fmt, va_list ap)
{
	if (!dm_log_enabled(log, level))
		return;
	dm_buf msg, line;
	dm_buf_init(&msg);
	dm_buf_init(&line);
	dm_buf_vprintf(&msg, fmt, ap);
	scrub(&msg);
	char ts[64];
	format_time(ts, sizeof(ts));
	if (atomic_load(&log->format) == DM_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", ts, "level",
		                      dm_log_level_name(level), "component", log->component, "msg",
		                      dm_buf_str(&msg));
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		dm_buf_puts(&line, s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		char lv[8];
		snprintf(lv, sizeof(lv), "%s", dm_log_level_name(level));
		for (char *c = lv; *c; c++)
			*c = (char)(*c - 32 * (*c >= 'a' && *c <= 'z'));
		dm_buf_printf(&line, "[%s] [%s] [%s] %s", ts, lv, log->component, dm_buf_str(&msg));
	}
	dm_buf_putc(&line, '\n');
	pthread_mutex_lock(&log->mu);
	size_t off = 0;
	while (off < line.len) {
		ssize_t w = write(log->fd, line.data + off, line.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&log->mu);
	dm_buf_fini(&msg);
	dm_buf_fini(&line);
}

void dm_log_write(dm_log *log, dm_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dm_log_vwrite(log, level, fmt, ap);
	va_end(ap);
}
