/* source.yaml and DM OpenAPI's Source object, plus the database block
 * (`from:` / `target-database:`) that task.yaml shares. */
#include "config/source.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "base/file.h"
#include "base/mem.h"
#include "config/yaml.h"
#include "mysql/conn.h"

/* Config files and certificates are small; anything bigger is the wrong
 * file (a log, a binary). */
enum { MAX_CONFIG_BYTES = 1 << 20, MAX_PEM_BYTES = 1 << 20 };

#define RELAY_REASON "dm reads the binlog directly; relay log is not supported"

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? dm_xstrdup(s) : NULL;
}

/* "" and NULL both mean "not given". Keeping only NULL makes a JSON round
 * trip (which leaves unset keys out) give back the same value. */
static void null_if_empty(char **s)
{
	if (*s != NULL && **s == '\0') {
		free(*s);
		*s = NULL;
	}
}

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static void strlist_copy(dm_strlist *dst, const dm_strlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		dm_strlist_add(dst, src->items[i]);
}

/* "from" + "host" -> "from.host"; an empty prefix gives the key alone
 * (the Source object has host at its top level). */
static const char *key_path(char *buf, size_t n, const char *what, const char *key)
{
	if (what == NULL || *what == '\0')
		snprintf(buf, n, "%s", key);
	else
		snprintf(buf, n, "%s.%s", what, key);
	return buf;
}

/* Parsed YAML holds the password as text: overwrite every scalar before the
 * tree is freed. */
static void wipe_tree(dm_node *n)
{
	if (n == NULL)
		return;
	if (n->str != NULL)
		OPENSSL_cleanse(n->str, n->len);
	for (size_t i = 0; i < n->nkids; i++)
		wipe_tree(n->kids[i]);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- database block ---------------------------------------------------- */

static int check_min_version(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || strcmp(s, "1.2") == 0 || strcmp(s, "1.3") == 0)
		return 0;
	return dm_err_set(err, DM_EINVAL, "must be \"1.2\" or \"1.3\", not \"%s\"", s);
}

#define INLINE_PEM_HELP                                                                            \
	"give the certificate's file path in ssl-ca/ssl-cert/ssl-key instead (dmctl sends the "    \
	"content to the cluster)"

static const dm_bind_field security_fields[] = {
        {.key = "ssl-ca",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_config_security, ssl_ca),
         .help = "CA file that verifies the server's certificate"},
        {.key = "ssl-cert",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_config_security, ssl_cert),
         .help = "client certificate file"},
        {.key = "ssl-key",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_config_security, ssl_key),
         .help = "client private key file"},
        {.key = "cert-allowed-cn",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(dm_config_security, cert_allowed_cn)},
        {.key = "tls-min-version",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_config_security, tls_min_version),
         .check = check_min_version},
        {.key = "ssl-ca-bytes", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {.key = "ssl-cert-bytes", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {.key = "ssl-key-bytes", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {.key = "ssl-ca-base64", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {.key = "ssl-cert-base64", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {.key = "ssl-key-base64", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_PEM_HELP},
        {0},
};

/* "session" is a free-form map: read by hand in dm_config_db_bind. */
static const dm_bind_field db_fields[] = {
        {.key = "host", .kind = DM_BIND_STRING, .offset = offsetof(dm_config_db, host)},
        {.key = "port",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_config_db, port),
         .min = 1,
         .max = 65535},
        {.key = "user", .kind = DM_BIND_STRING, .offset = offsetof(dm_config_db, user)},
        {.key = "password", .kind = DM_BIND_STRING, .offset = offsetof(dm_config_db, password)},
        {.key = "max-allowed-packet",
         .kind = DM_BIND_IGNORE,
         .help = "deprecated in DM; the server's max_allowed_packet applies"},
        {.key = "security",
         .kind = DM_BIND_TABLE,
         .offset = offsetof(dm_config_db, security),
         .sub = security_fields},
        {0},
};

void dm_config_db_init(dm_config_db *db)
{
	memset(db, 0, sizeof(*db));
	db->port = DM_DB_DEFAULT_PORT;
}

static void security_fini(dm_config_security *s)
{
	free(s->ssl_ca);
	free(s->ssl_cert);
	free(s->ssl_key);
	free(s->ca_pem);
	free(s->cert_pem);
	dm_free_secret(s->key_pem);
	dm_strlist_fini(&s->cert_allowed_cn);
	free(s->tls_min_version);
	memset(s, 0, sizeof(*s));
}

void dm_config_db_fini(dm_config_db *db)
{
	free(db->host);
	free(db->user);
	dm_free_secret(db->password);
	dm_strlist_fini(&db->session.keys);
	dm_strlist_fini(&db->session.values);
	security_fini(&db->security);
	dm_config_db_init(db);
}

void dm_config_db_copy(dm_config_db *dst, const dm_config_db *src)
{
	dm_config_db t;
	dm_config_db_init(&t);
	t.host = dup_or_null(src->host);
	t.port = src->port;
	t.user = dup_or_null(src->user);
	t.password = dup_or_null(src->password);
	strlist_copy(&t.session.keys, &src->session.keys);
	strlist_copy(&t.session.values, &src->session.values);
	const dm_config_security *s = &src->security;
	t.security.ssl_ca = dup_or_null(s->ssl_ca);
	t.security.ssl_cert = dup_or_null(s->ssl_cert);
	t.security.ssl_key = dup_or_null(s->ssl_key);
	t.security.ca_pem = dup_or_null(s->ca_pem);
	t.security.cert_pem = dup_or_null(s->cert_pem);
	t.security.key_pem = dup_or_null(s->key_pem);
	strlist_copy(&t.security.cert_allowed_cn, &s->cert_allowed_cn);
	t.security.tls_min_version = dup_or_null(s->tls_min_version);
	/* Copy first, free after: dst may alias src. */
	dm_config_db_fini(dst);
	*dst = t;
}

static void db_normalise(dm_config_db *db)
{
	null_if_empty(&db->security.ssl_ca);
	null_if_empty(&db->security.ssl_cert);
	null_if_empty(&db->security.ssl_key);
	null_if_empty(&db->security.ca_pem);
	null_if_empty(&db->security.cert_pem);
	null_if_empty(&db->security.key_pem);
	null_if_empty(&db->security.tls_min_version);
}

int dm_config_bind_except(const dm_bind_field *fields, const dm_node *table, const char *filename,
                          void *out, const char *const *skip, dm_err *err)
{
	/* A view of the table without the skipped keys; it borrows the kids. */
	dm_node view = *table;
	view.kids = dm_xcalloc(table->nkids + 1, sizeof(dm_node *));
	view.nkids = 0;
	for (size_t i = 0; i < table->nkids; i++)
		if (!in_list(skip, table->kids[i]->key))
			view.kids[view.nkids++] = table->kids[i];
	int rc = dm_bind_tree(fields, &view, filename, out, err);
	free(view.kids);
	return rc;
}

int dm_config_db_bind(dm_config_db *db, const dm_node *table, const char *filename,
                      const char *what, dm_err *err)
{
	static const char *const skip[] = {"session", NULL};
	if (dm_config_bind_except(db_fields, table, filename, db, skip, err) < 0)
		return -1;
	const dm_node *s = dm_tree_get(table, "session");
	if (s != NULL && s->type != DM_NODE_NULL) {
		if (s->type != DM_NODE_TABLE)
			return dm_err_set(
			        err, DM_EINVAL,
			        "%s:%d: \"%s.session\" must be a table of variable: value",
			        filename, s->line, what);
		for (size_t i = 0; i < s->nkids; i++) {
			const dm_node *k = s->kids[i];
			if (k->type == DM_NODE_TABLE || k->type == DM_NODE_ARRAY ||
			    k->type == DM_NODE_NULL || k->str == NULL)
				return dm_err_set(
				        err, DM_EINVAL,
				        "%s:%d: \"%s.session.%s\" must be a value, found %s",
				        filename, k->line, what, k->key,
				        dm_tree_type_name(k->type));
			dm_strlist_add(&db->session.keys, k->key);
			dm_strlist_add(&db->session.values, k->str);
		}
	}
	db_normalise(db);
	return 0;
}

int dm_config_db_validate(const dm_config_db *db, const char *where, const char *what, dm_err *err)
{
	char p[128], sec[128];
	if (!is_set(db->host))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" is required", where,
		                  key_path(p, sizeof(p), what, "host"));
	if (db->port < 1 || db->port > 65535)
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be an integer 1-65535", where,
		                  key_path(p, sizeof(p), what, "port"));
	if (!is_set(db->user))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" is required", where,
		                  key_path(p, sizeof(p), what, "user"));
	const dm_config_security *s = &db->security;
	key_path(sec, sizeof(sec), what, "security");
	bool has_cert = is_set(s->ssl_cert) || is_set(s->cert_pem);
	bool has_key = is_set(s->ssl_key) || is_set(s->key_pem);
	/* Never fall back to plaintext or to no client certificate quietly. */
	if (has_cert && !has_key)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: %s: ssl-cert is set but ssl-key is not; set ssl-key to the "
		                  "certificate's private key, or remove ssl-cert",
		                  where, sec);
	if (has_key && !has_cert)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: %s: ssl-key is set but ssl-cert is not; set ssl-cert to the "
		                  "key's certificate, or remove ssl-key",
		                  where, sec);
	if (check_min_version(&s->tls_min_version, err) < 0)
		return dm_err_prefix(err, "%s: %s: tls-min-version", where, sec);
	for (size_t i = 0; i < s->cert_allowed_cn.n; i++)
		if (!is_set(s->cert_allowed_cn.items[i]))
			return dm_err_set(err, DM_EINVAL,
			                  "%s: %s: cert-allowed-cn entry %zu is empty", where, sec,
			                  i + 1);
	return 0;
}

/* PEM is ASCII text; anything else is the wrong file (DER, a binary) and
 * would not survive JSON either. */
static bool looks_like_pem(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
			return false;
	}
	return strstr(data, "-----BEGIN ") != NULL;
}

int dm_config_db_load_pem(dm_config_db *db, const char *what, dm_err *err)
{
	dm_config_security *s = &db->security;
	struct {
		const char *key;
		const char *path;
		char **pem;
	} items[] = {
	        {"ssl-ca", s->ssl_ca, &s->ca_pem},
	        {"ssl-cert", s->ssl_cert, &s->cert_pem},
	        {"ssl-key", s->ssl_key, &s->key_pem},
	};
	bool has_cert = is_set(s->ssl_cert) || is_set(s->cert_pem);
	bool has_key = is_set(s->ssl_key) || is_set(s->key_pem);
	if (has_cert != has_key)
		return dm_err_set(
		        err, DM_EINVAL, "%s: %s is set but %s is not; set both or neither", what,
		        has_cert ? "ssl-cert" : "ssl-key", has_cert ? "ssl-key" : "ssl-cert");
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if (!is_set(items[i].path))
			continue;
		char *data = NULL;
		size_t len = 0;
		if (dm_file_read(items[i].path, MAX_PEM_BYTES, &data, &len, err) < 0)
			return dm_err_prefix(err, "%s.%s", what, items[i].key);
		bool ok = strlen(data) == len && looks_like_pem(data, len);
		if (!ok) {
			OPENSSL_cleanse(data, len);
			free(data);
			return dm_err_set(err, DM_EINVAL, "%s.%s %s: no PEM data in it", what,
			                  items[i].key, items[i].path);
		}
		dm_free_secret(*items[i].pem);
		*items[i].pem = data;
	}
	return 0;
}

static void set_str(json_t *o, const char *key, const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;
	if (v != NULL)
		json_object_set_new(o, key, v);
}

json_t *dm_config_json_from_strlist(const dm_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		json_t *v = json_string(l->items[i]);
		if (v != NULL)
			json_array_append_new(a, v);
	}
	return a;
}

static bool security_empty(const dm_config_security *s)
{
	return !s->ssl_ca && !s->ssl_cert && !s->ssl_key && !s->ca_pem && !s->cert_pem &&
	       !s->key_pem && s->cert_allowed_cn.n == 0 && !s->tls_min_version;
}

void dm_config_db_to_json(const dm_config_db *db, json_t *obj, bool include_secrets)
{
	set_str(obj, "host", db->host ? db->host : "");
	json_object_set_new(obj, "port", json_integer(db->port));
	set_str(obj, "user", db->user ? db->user : "");
	if (include_secrets)
		set_str(obj, "password", db->password);
	const dm_config_security *s = &db->security;
	if (!security_empty(s)) {
		json_t *j = json_object();
		set_str(j, "ssl_ca_content", s->ca_pem);
		set_str(j, "ssl_cert_content", s->cert_pem);
		if (include_secrets)
			set_str(j, "ssl_key_content", s->key_pem);
		if (s->cert_allowed_cn.n > 0)
			json_object_set_new(j, "cert_allowed_cn",
			                    dm_config_json_from_strlist(&s->cert_allowed_cn));
		set_str(j, "ssl_ca_path", s->ssl_ca);
		set_str(j, "ssl_cert_path", s->ssl_cert);
		set_str(j, "ssl_key_path", s->ssl_key);
		set_str(j, "tls_min_version", s->tls_min_version);
		json_object_set_new(obj, "security", j);
	}
	if (db->session.keys.n > 0) {
		json_t *j = json_object();
		for (size_t i = 0; i < db->session.keys.n; i++)
			set_str(j, db->session.keys.items[i], db->session.values.items[i]);
		json_object_set_new(obj, "session", j);
	}
}

/* ---- strict JSON readers ----------------------------------------------- */

int dm_config_json_keys(const json_t *obj, const char *where, const char *const *known, dm_err *err)
{
	if (!json_is_object(obj))
		return dm_err_set(err, DM_EINVAL, "%s: must be a JSON object", where);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (!in_list(known, k))
			return dm_err_set(err, DM_EINVAL, "%s: unknown key \"%s\"", where, k);
	}
	return 0;
}

int dm_config_json_string(const json_t *obj, const char *key, const char *where, char **out,
                          dm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a string", where, key);
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must not contain NUL characters",
		                  where, key);
	dm_free_secret(*out);
	*out = dm_xstrdup(s);
	return 0;
}

int dm_config_json_int(const json_t *obj, const char *key, int64_t min, int64_t max,
                       const char *where, int64_t *out, dm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be an integer %lld-%lld", where,
		                  key, (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

int dm_config_json_bool(const json_t *obj, const char *key, const char *where, bool *out,
                        dm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

int dm_config_json_strlist(const json_t *obj, const char *key, const char *where, dm_strlist *out,
                           dm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a list of strings", where,
		                  key);
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a list of strings",
			                  where, key);
	}
	dm_strlist_fini(out);
	for (size_t i = 0; i < json_array_size(v); i++)
		dm_strlist_add(out, json_string_value(json_array_get(v, i)));
	return 0;
}

int dm_config_db_from_json(dm_config_db *db, const json_t *obj, const char *where, dm_err *err)
{
	if (dm_config_json_string(obj, "host", where, &db->host, err) < 0 ||
	    dm_config_json_int(obj, "port", 1, 65535, where, &db->port, err) < 0 ||
	    dm_config_json_string(obj, "user", where, &db->user, err) < 0 ||
	    dm_config_json_string(obj, "password", where, &db->password, err) < 0)
		return -1;
	/* DM's GET answers "******"; sent back it would become the password. */
	if (db->password != NULL && strcmp(db->password, "******") == 0)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: \"password\" is \"******\", DM's placeholder for a hidden "
		                  "password: send the real password, or leave the key out",
		                  where);
	char sub[160];
	const json_t *s = json_object_get(obj, "security");
	if (s != NULL && !json_is_null(s)) {
		static const char *const known[] = {
		        "ssl_ca_content",  "ssl_cert_content", "ssl_key_content",
		        "cert_allowed_cn", "ssl_ca_path",      "ssl_cert_path",
		        "ssl_key_path",    "tls_min_version",  NULL};
		dm_config_security *c = &db->security;
		snprintf(sub, sizeof(sub), "%s.security", where);
		if (dm_config_json_keys(s, sub, known, err) < 0 ||
		    dm_config_json_string(s, "ssl_ca_content", sub, &c->ca_pem, err) < 0 ||
		    dm_config_json_string(s, "ssl_cert_content", sub, &c->cert_pem, err) < 0 ||
		    dm_config_json_string(s, "ssl_key_content", sub, &c->key_pem, err) < 0 ||
		    dm_config_json_strlist(s, "cert_allowed_cn", sub, &c->cert_allowed_cn, err) <
		            0 ||
		    dm_config_json_string(s, "ssl_ca_path", sub, &c->ssl_ca, err) < 0 ||
		    dm_config_json_string(s, "ssl_cert_path", sub, &c->ssl_cert, err) < 0 ||
		    dm_config_json_string(s, "ssl_key_path", sub, &c->ssl_key, err) < 0 ||
		    dm_config_json_string(s, "tls_min_version", sub, &c->tls_min_version, err) < 0)
			return -1;
	}
	const json_t *m = json_object_get(obj, "session");
	if (m != NULL && !json_is_null(m)) {
		snprintf(sub, sizeof(sub), "%s.session", where);
		if (!json_is_object(m))
			return dm_err_set(err, DM_EINVAL, "%s: must be an object of strings", sub);
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)m, k, v)
		{
			if (!json_is_string(v) ||
			    strlen(json_string_value(v)) != json_string_length(v))
				return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a string",
				                  sub, k);
			dm_strlist_add(&db->session.keys, k);
			dm_strlist_add(&db->session.values, json_string_value(v));
		}
	}
	db_normalise(db);
	return 0;
}

void dm_config_db_to_db_config(const dm_config_db *db, dm_db_config *out)
{
	dm_db_config_fini(out);
	out->host = dup_or_null(db->host);
	out->port = (unsigned int)db->port;
	out->user = dup_or_null(db->user);
	out->password = dup_or_null(db->password);
	const dm_config_security *s = &db->security;
	dm_tls_settings *t = &out->security;
	/* Content wins over a path: it is what dmctl read where the path was
	 * meaningful, and the path may not exist on this host. */
	if (is_set(s->ca_pem))
		t->ca_pem = dm_xstrdup(s->ca_pem);
	else
		t->ca_file = dup_or_null(s->ssl_ca);
	if (is_set(s->cert_pem))
		t->cert_pem = dm_xstrdup(s->cert_pem);
	else
		t->cert_file = dup_or_null(s->ssl_cert);
	if (is_set(s->key_pem))
		t->key_pem = dm_xstrdup(s->key_pem);
	else
		t->key_file = dup_or_null(s->ssl_key);
	if (s->cert_allowed_cn.n > 0) {
		t->allowed_cn = dm_xcalloc(s->cert_allowed_cn.n, sizeof(char *));
		for (size_t i = 0; i < s->cert_allowed_cn.n; i++)
			t->allowed_cn[i] = dm_xstrdup(s->cert_allowed_cn.items[i]);
		t->n_allowed_cn = s->cert_allowed_cn.n;
	}
	t->min_version = dup_or_null(s->tls_min_version);
}

/* ---- source.yaml -------------------------------------------------------- */

static int check_source_id(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL)
		return 0;
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= DM_SOURCE_ID_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-';
	if (ok)
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "\"%.80s\" must be 1-%d characters from A-Z a-z 0-9 _ . - (it names "
	                  "the source in API paths and checkpoints)",
	                  s, DM_SOURCE_ID_MAX);
}

static int check_flavor(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || *s == '\0' || strcasecmp(s, "mysql") == 0 || strcasecmp(s, "mariadb") == 0)
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "\"%s\" must be mysql, mariadb, or empty to detect it from the server",
	                  s);
}

/* "from", "enable-relay" and "filters" are read by hand (bind_source). */
static const dm_bind_field source_fields[] = {
        {.key = "source-id",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_source_config, source_id),
         .check = check_source_id},
        {.key = "enable",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(dm_source_config, enable),
         .def = "true"},
        {.key = "enable-gtid",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(dm_source_config, enable_gtid),
         .def = "false"},
        {.key = "flavor",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_source_config, flavor),
         .check = check_flavor},
        {.key = "server-id",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_source_config, server_id),
         .min = 0,
         .max = UINT32_MAX,
         .def = "0"},
        {.key = "case-sensitive",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(dm_source_config, case_sensitive),
         .def = "false"},
        {.key = "relay-binlog-name", .kind = DM_BIND_IGNORE, .help = "relay log is off"},
        {.key = "relay-binlog-gtid", .kind = DM_BIND_IGNORE, .help = "relay log is off"},
        {.key = "relay-dir", .kind = DM_BIND_IGNORE, .help = "deprecated; relay log is off"},
        {.key = "meta-dir", .kind = DM_BIND_IGNORE},
        {.key = "charset", .kind = DM_BIND_IGNORE},
        {.key = "auto-fix-gtid", .kind = DM_BIND_IGNORE, .help = "deprecated; DM forces false"},
        {.key = "purge", .kind = DM_BIND_IGNORE, .help = "relay log purging; no relay log"},
        {.key = "checker", .kind = DM_BIND_IGNORE, .help = "DM's auto-resume back-off"},
        {.key = "tracer", .kind = DM_BIND_IGNORE},
        {0},
};

void dm_source_config_init(dm_source_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* Only booleans and integers have defaults: nothing is allocated. */
	dm_bind_defaults(source_fields, cfg, NULL);
	dm_config_db_init(&cfg->from);
}

void dm_source_config_fini(dm_source_config *cfg)
{
	dm_bind_free(source_fields, cfg);
	dm_config_db_fini(&cfg->from);
	dm_source_config_init(cfg);
}

void dm_source_config_copy(dm_source_config *dst, const dm_source_config *src)
{
	dm_source_config t = *src;
	t.source_id = dup_or_null(src->source_id);
	t.flavor = dup_or_null(src->flavor);
	dm_config_db_init(&t.from);
	dm_config_db_copy(&t.from, &src->from);
	dm_source_config_fini(dst);
	*dst = t;
}

static bool node_empty(const dm_node *n)
{
	return n->type == DM_NODE_NULL ||
	       ((n->type == DM_NODE_ARRAY || n->type == DM_NODE_TABLE) && n->nkids == 0);
}

static int bind_source(dm_source_config *cfg, const dm_node *root, const char *file, dm_err *err)
{
	static const char *const special[] = {"from", "enable-relay", "filters", NULL};
	if (dm_config_bind_except(source_fields, root, file, cfg, special, err) < 0)
		return -1;
	const dm_node *n = dm_tree_get(root, "enable-relay");
	if (n != NULL && n->type != DM_NODE_NULL) {
		if (n->type != DM_NODE_BOOL)
			return dm_err_set(err, DM_EINVAL,
			                  "%s:%d: \"enable-relay\" must be true or false, found %s",
			                  file, n->line, dm_tree_type_name(n->type));
		if (n->b)
			return dm_err_set(
			        err, DM_EINVAL,
			        "%s:%d: \"enable-relay\" true is not supported by dm: " RELAY_REASON
			        "; set it to false or remove it",
			        file, n->line);
	}
	n = dm_tree_get(root, "filters");
	if (n != NULL && !node_empty(n))
		return dm_err_set(
		        err, DM_EINVAL,
		        "%s:%d: \"filters\" is not supported by dm: binlog event filters in "
		        "source.yaml are not supported yet; put them in the task's "
		        "\"filters\" and reference them from mysql-instances' filter-rules",
		        file, n->line);
	n = dm_tree_get(root, "from");
	if (n != NULL && n->type != DM_NODE_NULL) {
		if (n->type != DM_NODE_TABLE)
			return dm_err_set(err, DM_EINVAL,
			                  "%s:%d: \"from\" must be a table, found %s", file,
			                  n->line, dm_tree_type_name(n->type));
		if (dm_config_db_bind(&cfg->from, n, file, "from", err) < 0)
			return -1;
	}
	return 0;
}

/* Checks that span keys, for both readers. json picks the key names. */
static int validate_source(dm_source_config *cfg, const char *where, bool json, dm_err *err)
{
	const char *id_key = json ? "source_name" : "source-id";
	if (!is_set(cfg->source_id))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" is required", where, id_key);
	if (check_source_id(&cfg->source_id, err) < 0)
		return dm_err_prefix(err, "%s: \"%s\"", where, id_key);
	if (check_flavor(&cfg->flavor, err) < 0)
		return dm_err_prefix(err, "%s: \"flavor\"", where);
	null_if_empty(&cfg->flavor);
	for (char *p = cfg->flavor; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return dm_config_db_validate(&cfg->from, where, json ? "" : "from", err);
}

int dm_source_config_load_text(const char *text, size_t len, const char *filename,
                               dm_source_config *cfg, dm_err *err)
{
	dm_source_config_init(cfg);
	dm_node *root = NULL;
	if (dm_yaml_parse(text, len, filename, &root, err) < 0)
		return -1;
	int rc = bind_source(cfg, root, filename, err);
	wipe_tree(root);
	dm_tree_free(root);
	if (rc == 0)
		rc = validate_source(cfg, filename, false, err);
	if (rc < 0)
		dm_source_config_fini(cfg);
	return rc;
}

int dm_source_config_load_file(const char *path, dm_source_config *cfg, dm_err *err)
{
	char *text;
	size_t len;
	dm_source_config_init(cfg);
	if (dm_file_read(path, MAX_CONFIG_BYTES, &text, &len, err) < 0)
		return dm_err_prefix(err, "cannot read the source config");
	int rc = dm_source_config_load_text(text, len, base_name(path), cfg, err);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int dm_source_config_load_pem(dm_source_config *cfg, dm_err *err)
{
	return dm_config_db_load_pem(&cfg->from, "from.security", err);
}

json_t *dm_source_config_to_json(const dm_source_config *cfg, bool include_secrets)
{
	json_t *o = json_object();
	set_str(o, "source_name", cfg->source_id ? cfg->source_id : "");
	dm_config_db_to_json(&cfg->from, o, include_secrets);
	json_object_set_new(o, "enable_gtid", json_boolean(cfg->enable_gtid));
	json_object_set_new(o, "enable", json_boolean(cfg->enable));
	if (is_set(cfg->flavor))
		set_str(o, "flavor", cfg->flavor);
	if (cfg->server_id != 0)
		json_object_set_new(o, "server_id", json_integer(cfg->server_id));
	json_object_set_new(o, "case_sensitive", json_boolean(cfg->case_sensitive));
	return o;
}

static int relay_from_json(const json_t *r, dm_err *err)
{
	static const char *const known[] = {"enable_relay", "relay_binlog_name",
	                                    "relay_binlog_gtid", "relay_dir", NULL};
	if (r == NULL || json_is_null(r))
		return 0;
	bool on = false;
	if (dm_config_json_keys(r, "source.relay_config", known, err) < 0 ||
	    dm_config_json_bool(r, "enable_relay", "source.relay_config", &on, err) < 0)
		return -1;
	if (on)
		return dm_err_set(
		        err, DM_EINVAL,
		        "source.relay_config: \"enable_relay\" true is not supported by dm: "
		        "%s",
		        RELAY_REASON);
	return 0;
}

int dm_source_config_from_json(const json_t *json, dm_source_config *cfg, dm_err *err)
{
	static const char *const known[] = {"source_name",    "host",      "port",
	                                    "user",           "password",  "enable_gtid",
	                                    "enable",         "flavor",    "security",
	                                    "session",        "server_id", "case_sensitive",
	                                    "relay_config",   "purge",     "status_list",
	                                    "task_name_list", NULL};
	const char *w = "source";
	dm_source_config_init(cfg);
	const json_t *purge = json_object_get(json, "purge");
	if (dm_config_json_keys(json, w, known, err) < 0 ||
	    dm_config_json_string(json, "source_name", w, &cfg->source_id, err) < 0 ||
	    dm_config_db_from_json(&cfg->from, json, w, err) < 0 ||
	    dm_config_json_bool(json, "enable_gtid", w, &cfg->enable_gtid, err) < 0 ||
	    dm_config_json_bool(json, "enable", w, &cfg->enable, err) < 0 ||
	    dm_config_json_string(json, "flavor", w, &cfg->flavor, err) < 0 ||
	    dm_config_json_int(json, "server_id", 0, UINT32_MAX, w, &cfg->server_id, err) < 0 ||
	    dm_config_json_bool(json, "case_sensitive", w, &cfg->case_sensitive, err) < 0 ||
	    relay_from_json(json_object_get(json, "relay_config"), err) < 0)
		goto fail;
	/* Relay-log purging: accepted (DM clients send it) and ignored. */
	if (purge != NULL && !json_is_null(purge) && !json_is_object(purge)) {
		dm_err_set(err, DM_EINVAL, "source: \"purge\" must be an object");
		goto fail;
	}
	if (validate_source(cfg, w, true, err) < 0)
		goto fail;
	return 0;
fail:
	dm_source_config_fini(cfg);
	return -1;
}

void dm_source_config_to_db_config(const dm_source_config *cfg, dm_db_config *out)
{
	dm_config_db_to_db_config(&cfg->from, out);
}
