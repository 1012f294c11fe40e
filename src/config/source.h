/* source.yaml: one upstream MySQL/MariaDB server, in DM's format.
 *
 * The same value travels three ways: dmctl reads source.yaml
 * (dm_source_config_load_file), inlines the certificate files
 * (dm_source_config_load_pem) and sends DM OpenAPI's Source object
 * (dm_source_config_to_json); dm-master reads that object back
 * (dm_source_config_from_json) and hands a worker a dm_db_config
 * (dm_source_config_to_db_config). Every reader is strict: an unknown key is
 * an error naming it, a DM key dm does not implement is an error saying why,
 * and DM keys that change nothing here are accepted and ignored
 * (docs/configuration.md lists which).
 *
 * The database block (`from:` here, `target-database:` in task.yaml) is the
 * shared dm_config_db below, so both files accept the same keys and send the
 * same JSON.
 *
 * Secrets: passwords (plain text or ciphertext, kept as written) and private
 * key PEM are wiped when freed and never appear in error messages. */
#ifndef DM_CONFIG_SOURCE_H
#define DM_CONFIG_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "config/bind.h"

/* mysql/conn.h's connection settings. Only the conversion functions
 * produce it, so this header does not pull in the MySQL client. */
struct dm_db_config;

#define DM_SOURCE_ID_MAX 64

/* `security:` of a database block. Paths are kept as written (relative
 * paths are relative to the reader's working directory, as in DM); the
 * *_pem members hold file contents, filled by *_load_pem or received as
 * JSON. NULL means not given. When both a path and content are present the
 * content wins: it is what dmctl read and sent. */
typedef struct dm_config_security {
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	char *ca_pem;
	char *cert_pem;
	char *key_pem; /* a secret */
	dm_strlist cert_allowed_cn;
	char *tls_min_version; /* dm extension: "1.2" (NULL) or "1.3" */
} dm_config_security;

/* Ordered name = value pairs (`session:` variables). */
typedef struct dm_config_map {
	dm_strlist keys;
	dm_strlist values;
} dm_config_map;

/* A database block: `from:` (source.yaml), `target-database:` (task.yaml). */
typedef struct dm_config_db {
	char *host;
	int64_t port;
	char *user;
	/* NULL when not given (a JSON object without it, e.g. an update that
	 * keeps the stored one), "" for an empty password. */
	char *password;
	dm_config_map session;
	dm_config_security security;
} dm_config_db;

typedef struct dm_source_config {
	char *source_id; /* [A-Za-z0-9_.-]{1,64} */
	bool enable;     /* false keeps the source's tasks stopped */
	bool enable_gtid;
	char *flavor;      /* "" (detect from the server), "mysql" or "mariadb" */
	int64_t server_id; /* 0: picked when replication starts */
	bool case_sensitive;
	dm_config_db from;
} dm_source_config;

void dm_source_config_init(dm_source_config *cfg);
/* Frees every member (password and key PEM wiped) and re-initialises. */
void dm_source_config_fini(dm_source_config *cfg);
/* Deep copy into dst (initialised; its old contents are freed). */
void dm_source_config_copy(dm_source_config *dst, const dm_source_config *src);

/* Reads source.yaml. *cfg is initialised by the call; on failure it is left
 * empty (nothing to free) and err reads "source.yaml:12: ..." with the
 * file's base name. Security files are not read (see load_pem). */
int dm_source_config_load_file(const char *path, dm_source_config *cfg, dm_err *err);
/* The same from text; filename is only used in messages. */
int dm_source_config_load_text(const char *text, size_t len, const char *filename,
                               dm_source_config *cfg, dm_err *err);

/* Reads the ssl-ca/ssl-cert/ssl-key files into ca_pem/cert_pem/key_pem,
 * as dmctl does before sending the source: the worker may run on another
 * host. A file that cannot be read is an error naming the key and path; a
 * cert without its key (or the reverse) is an error. */
int dm_source_config_load_pem(dm_source_config *cfg, dm_err *err);

/* DM OpenAPI's Source object: source_name, host, port, user, password,
 * enable_gtid, enable, flavor (omitted when empty), security
 * {ssl_ca_content, ssl_cert_content, ssl_key_content, cert_allowed_cn},
 * plus dm's keys server_id, case_sensitive, session and security's
 * ssl_ca_path/ssl_cert_path/ssl_key_path/tls_min_version. Without
 * include_secrets, password and ssl_key_content are left out entirely (no
 * "******" that a client could send back). New reference; never NULL. */
json_t *dm_source_config_to_json(const dm_source_config *cfg, bool include_secrets);
/* Reads a Source object and validates it as load_file does. Unknown keys
 * are errors ("source: unknown key \"x\""); DM's read-only keys
 * (status_list, task_name_list) and purge are ignored; relay_config may
 * only say enable_relay false. *cfg is initialised by the call. */
int dm_source_config_from_json(const json_t *json, dm_source_config *cfg, dm_err *err);

/* Connection settings for dm_mysql_connect(). out must be initialised; its
 * old contents are replaced. PEM content is used in preference to paths. */
void dm_source_config_to_db_config(const dm_source_config *cfg, struct dm_db_config *out);

/* ---- shared with task.yaml's target-database ------------------------- */

void dm_config_db_init(dm_config_db *db);
void dm_config_db_fini(dm_config_db *db);
void dm_config_db_copy(dm_config_db *dst, const dm_config_db *src);
/* Binds a database block from YAML (a table node). what is its key path
 * for messages ("from", "target-database"). */
int dm_config_db_bind(dm_config_db *db, const dm_node *table, const char *filename,
                      const char *what, dm_err *err);
/* Checks the block: host and user given, cert with key. where prefixes
 * messages ("source.yaml", "task"), what is the block's key path ("from",
 * "target-database"; "" for the Source object, which is flat). */
int dm_config_db_validate(const dm_config_db *db, const char *where, const char *what, dm_err *err);
/* Reads the security files into the PEM members; what prefixes the key in
 * messages ("from.security"). */
int dm_config_db_load_pem(dm_config_db *db, const char *what, dm_err *err);
/* Adds host, port, user, password (only with include_secrets), security
 * and session to obj. */
void dm_config_db_to_json(const dm_config_db *db, json_t *obj, bool include_secrets);
/* Reads host, port, user, password, security and session from obj; other
 * keys are the caller's (check them with dm_config_json_keys). */
int dm_config_db_from_json(dm_config_db *db, const json_t *obj, const char *where, dm_err *err);
void dm_config_db_to_db_config(const dm_config_db *db, struct dm_db_config *out);

/* Binds table with fields, leaving out the keys in skip (NULL-ended): the
 * caller reads those itself (maps, lists of tables, aliases). */
int dm_config_bind_except(const dm_bind_field *fields, const dm_node *table, const char *filename,
                          void *out, const char *const *skip, dm_err *err);

/* Strict JSON readers shared by the source and task codecs. Messages read
 * "<where>: ..." (where is a path such as "task.target_config"). A missing
 * key or a JSON null leaves *out unchanged and returns 0. */
int dm_config_json_keys(const json_t *obj, const char *where, const char *const *known,
                        dm_err *err);
int dm_config_json_string(const json_t *obj, const char *key, const char *where, char **out,
                          dm_err *err);
int dm_config_json_int(const json_t *obj, const char *key, int64_t min, int64_t max,
                       const char *where, int64_t *out, dm_err *err);
int dm_config_json_bool(const json_t *obj, const char *key, const char *where, bool *out,
                        dm_err *err);
/* Replaces *out with the array's strings. */
int dm_config_json_strlist(const json_t *obj, const char *key, const char *where, dm_strlist *out,
                           dm_err *err);
/* A JSON array of strings (never NULL). */
json_t *dm_config_json_from_strlist(const dm_strlist *l);

#endif
