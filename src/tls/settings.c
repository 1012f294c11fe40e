/* dm_tls_settings: the plain value that configures every TLS link, and
 * the checks that need no file. Loading lives in tls.c. */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int dm_tls_mode_parse(const char *s, dm_tls_mode *ret, dm_err *err)
{
	static const struct {
		const char *name;
		dm_tls_mode mode;
	} modes[] = {
	        {"off", DM_TLS_OFF},
	        {"permissive", DM_TLS_PERMISSIVE},
	        {"strict", DM_TLS_STRICT},
	};
	for (size_t i = 0; s != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*ret = modes[i].mode;
			return 0;
		}
	}
	return dm_err_set(err, DM_EINVAL, "tls-mode \"%s\" is not one of off, permissive, strict",
	                  s != NULL ? s : "");
}

const char *dm_tls_mode_name(dm_tls_mode mode)
{
	switch (mode) {
	case DM_TLS_OFF: return "off";
	case DM_TLS_PERMISSIVE: return "permissive";
	case DM_TLS_STRICT: return "strict";
	}
	return "unknown";
}

void dm_tls_settings_init(dm_tls_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = DM_TLS_STRICT;
}

void dm_tls_settings_fini(dm_tls_settings *s)
{
	free(s->ca_file);
	free(s->cert_file);
	free(s->key_file);
	free(s->ca_pem);
	free(s->cert_pem);
	dm_free_secret(s->key_pem);
	for (size_t i = 0; i < s->n_allowed_cn; i++)
		free(s->allowed_cn[i]);
	free(s->allowed_cn);
	free(s->min_version);
	dm_tls_settings_init(s);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? dm_xstrdup(s) : NULL;
}

void dm_tls_settings_copy(dm_tls_settings *dst, const dm_tls_settings *src)
{
	dm_tls_settings tmp;
	tmp.mode = src->mode;
	tmp.ca_file = dup_or_null(src->ca_file);
	tmp.cert_file = dup_or_null(src->cert_file);
	tmp.key_file = dup_or_null(src->key_file);
	tmp.ca_pem = dup_or_null(src->ca_pem);
	tmp.cert_pem = dup_or_null(src->cert_pem);
	tmp.key_pem = dup_or_null(src->key_pem);
	tmp.n_allowed_cn = src->n_allowed_cn;
	tmp.allowed_cn = NULL;
	if (src->n_allowed_cn > 0) {
		tmp.allowed_cn = dm_xcalloc(src->n_allowed_cn, sizeof(char *));
		for (size_t i = 0; i < src->n_allowed_cn; i++)
			tmp.allowed_cn[i] = dup_or_null(src->allowed_cn[i]);
	}
	tmp.min_version = dup_or_null(src->min_version);
	tmp.insecure_no_client_cert = src->insecure_no_client_cert;
	tmp.insecure_skip_verify = src->insecure_skip_verify;
	/* Copy first, free after: dst may alias src. */
	dm_tls_settings_fini(dst);
	*dst = tmp;
}

bool dm_tls_settings_empty(const dm_tls_settings *s)
{
	return !is_set(s->ca_file) && !is_set(s->cert_file) && !is_set(s->key_file) &&
	       !is_set(s->ca_pem) && !is_set(s->cert_pem) && !is_set(s->key_pem);
}

static int parse_min_version(const char *v, int *ret, dm_err *err)
{
	if (!is_set(v) || strcmp(v, "1.2") == 0) {
		*ret = TLS1_2_VERSION;
		return 0;
	}
	if (strcmp(v, "1.3") == 0) {
		*ret = TLS1_3_VERSION;
		return 0;
	}
	return dm_err_set(err, DM_EINVAL, "tls-min-version \"%s\" is not supported; use 1.2 or 1.3",
	                  v);
}

int dm_tls_settings_validate(const dm_tls_settings *s, dm_tls_role role, dm_err *err)
{
	if (s->mode != DM_TLS_OFF && s->mode != DM_TLS_PERMISSIVE && s->mode != DM_TLS_STRICT)
		return dm_err_set(err, DM_EINVAL, "tls-mode has an unknown value %d", (int)s->mode);
	if (is_set(s->ca_file) && is_set(s->ca_pem))
		return dm_err_set(err, DM_EINVAL,
		                  "ssl-ca is given both as a file and as PEM content; give one");
	if (is_set(s->cert_file) && is_set(s->cert_pem))
		return dm_err_set(err, DM_EINVAL,
		                  "ssl-cert is given both as a file and as PEM content; give one");
	if (is_set(s->key_file) && is_set(s->key_pem))
		return dm_err_set(err, DM_EINVAL,
		                  "ssl-key is given both as a file and as PEM content; give one");
	bool has_ca = is_set(s->ca_file) || is_set(s->ca_pem);
	bool has_cert = is_set(s->cert_file) || is_set(s->cert_pem);
	bool has_key = is_set(s->key_file) || is_set(s->key_pem);
	/* Checked in every mode: a half-configured pair is a mistake the user
	 * must hear about even while TLS is off. */
	if (has_cert && !has_key)
		return dm_err_set(err, DM_EINVAL,
		                  "ssl-cert is set but ssl-key is not; set ssl-key to the "
		                  "certificate's private key");
	if (has_key && !has_cert)
		return dm_err_set(err, DM_EINVAL,
		                  "ssl-key is set but ssl-cert is not; set ssl-cert to the "
		                  "key's certificate");
	int v;
	if (parse_min_version(s->min_version, &v, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_allowed_cn; i++) {
		if (!is_set(s->allowed_cn[i]))
			return dm_err_set(err, DM_EINVAL, "cert-allowed-cn entry %zu is empty",
			                  i + 1);
	}
	if (s->mode == DM_TLS_OFF || role != DM_TLS_SERVER)
		return 0;
	const char *mode = dm_tls_mode_name(s->mode);
	if (!has_cert)
		return dm_err_set(err, DM_EINVAL,
		                  "tls-mode %s needs ssl-cert and ssl-key: a TLS server must "
		                  "present a certificate (or set tls-mode off)",
		                  mode);
	if (s->insecure_no_client_cert) {
		if (s->n_allowed_cn > 0)
			return dm_err_set(err, DM_EINVAL,
			                  "cert-allowed-cn needs client certificates, but they "
			                  "are not required");
		return 0;
	}
	if (!has_ca)
		return dm_err_set(err, DM_EINVAL,
		                  "tls-mode %s needs ssl-ca: the server verifies client "
		                  "certificates against it",
		                  mode);
	return 0;
}
