/* Leveled logging, as text (DM's layout) or one JSON object per line.
 *
 * A dm_log is created by main() from the config and passed down to what
 * needs it; library code returns dm_err values and leaves logging to the
 * layer that decides. Safe to use from several threads: one line is one
 * write(2). As a last line of defence, a message that contains a PEM block
 * is cut before it: callers must still never pass passwords or keys. */
#ifndef DM_BASE_LOG_H
#define DM_BASE_LOG_H

#include <stdarg.h>

#include "base/err.h"

typedef enum dm_log_level {
	DM_LOG_DEBUG,
	DM_LOG_INFO,
	DM_LOG_WARN,
	DM_LOG_ERROR,
} dm_log_level;

typedef enum dm_log_format {
	DM_LOG_TEXT,
	DM_LOG_JSON,
} dm_log_format;

typedef struct dm_log dm_log;

/* path NULL or "" logs to stderr. component is a short name ("dm-master")
 * put on every line. Caller frees with dm_log_free(). */
dm_log *dm_log_new(const char *component, dm_log_level level, dm_log_format format,
                   const char *path, dm_err *err);
void dm_log_free(dm_log *log);

/* For SIGHUP: new level/format take effect on the next line; a new path is
 * opened first and swapped in only if that worked (also reopens a rotated
 * file when the path is unchanged). */
int dm_log_reconfigure(dm_log *log, dm_log_level level, dm_log_format format, const char *path,
                       dm_err *err);

int dm_log_level_parse(const char *s, dm_log_level *ret, dm_err *err);
int dm_log_format_parse(const char *s, dm_log_format *ret, dm_err *err);
const char *dm_log_level_name(dm_log_level level);
int dm_log_enabled(const dm_log *log, dm_log_level level);

void dm_log_write(dm_log *log, dm_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void dm_log_vwrite(dm_log *log, dm_log_level level, const char *fmt, va_list ap);

#define dm_log_debug(log, ...) dm_log_write((log), DM_LOG_DEBUG, __VA_ARGS__)
#define dm_log_info(log, ...)  dm_log_write((log), DM_LOG_INFO, __VA_ARGS__)
#define dm_log_warn(log, ...)  dm_log_write((log), DM_LOG_WARN, __VA_ARGS__)
#define dm_log_error(log, ...) dm_log_write((log), DM_LOG_ERROR, __VA_ARGS__)

#endif
