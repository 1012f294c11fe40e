#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dm_err_set(dm_err *err, enum dm_err_code code, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int dm_err_prefix(dm_err *err, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	char prefix[DM_ERR_MSG_MAX];
	char old[DM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message stays NUL-terminated. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3;
	size_t m = strnlen(old, room);
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	return -1;
}

void dm_err_clear(dm_err *err)
{
	if (err == NULL)
		return;
	err->code = DM_OK;
	err->msg[0] = '\0';
}

const char *dm_err_code_name(enum dm_err_code code)
{
	switch (code) {
	case DM_OK: return "ok";
	case DM_EINVAL: return "invalid";
	case DM_EIO: return "io";
	case DM_ENOTFOUND: return "not-found";
	case DM_EEXIST: return "exists";
	case DM_ECONFLICT: return "conflict";
	case DM_ETLS: return "tls";
	case DM_ENET: return "network";
	case DM_ETIMEOUT: return "timeout";
	case DM_EDB: return "database";
	case DM_ELIMIT: return "limit";
	case DM_EINTERNAL: return "internal";
	}
	return "unknown";
}
