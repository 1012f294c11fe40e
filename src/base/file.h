/* Whole-file helpers. */
#ifndef DM_BASE_FILE_H
#define DM_BASE_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* Replaces path with data so that a reader (or a crash) sees either the old
 * or the new content, never a mix: writes a temp file in the same directory
 * with the given mode, fsyncs it, renames it over path, fsyncs the directory.
 * The temporary file is created 0600 (mkostemp) before it gets its mode, so
 * a key written here is never readable by others, not even for a moment. */
int dm_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, dm_err *err);

/* Reads a whole file into a NUL-terminated malloc'd buffer the caller frees.
 * Fails with DM_ELIMIT when the file is larger than max bytes. */
int dm_file_read(const char *path, size_t max, char **ret_data, size_t *ret_len, dm_err *err);

/* mkdir -p with the given mode for the directories it creates. */
int dm_file_mkdirs(const char *path, mode_t mode, dm_err *err);

#endif
