/* dm-master.toml and dm-worker.toml: DM's key names, defaults, validation.
 *
 * Loading order: defaults, then the file given by --config (TOML), then
 * every other --key=value flag, then validation. The same function runs
 * again on SIGHUP; callers build the new config beside the old one and
 * swap only if it loaded. Strings are owned by the struct: free with
 * dm_master_config_fini() / dm_worker_config_fini(). */
#ifndef DM_CONFIG_DAEMON_H
#define DM_CONFIG_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/log.h"
#include "config/bind.h"
#include "tls/tls.h"

/* Keys both daemons share. */
typedef struct dm_daemon_common {
	char *config_file; /* the --config file, NULL without one */
	char *name;
	char *advertise_addr;
	char *log_level;
	char *log_file;
	char *log_format;
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	dm_strlist cert_allowed_cn;
	char *tls_mode; /* "" until validated: then off|permissive|strict */
	/* Whether this daemon's own calls to its peers (worker -> master,
	 * master -> worker) use TLS: "auto" (TLS unless tls-mode is off), "on"
	 * or "off". "off" with tls-mode permissive is the step of a roll-out
	 * where servers already accept TLS but clients still talk plaintext. */
	char *tls_client;
	char *tls_min_version;
	/* Resolved by validation. */
	dm_log_level log_level_v;
	dm_log_format log_format_v;
	dm_tls_mode tls_mode_v;
	bool tls_client_v;
} dm_daemon_common;

typedef struct dm_master_config {
	dm_daemon_common c;
	char *master_addr;
	char *data_dir;
	dm_strlist join;
	char *secret_key_path;
} dm_master_config;

typedef struct dm_worker_config {
	dm_daemon_common c;
	char *worker_addr;
	dm_strlist join;
	int64_t keepalive_ttl; /* seconds */
} dm_worker_config;

/* argv as given to main(); argv[0] is skipped. On failure *cfg is left
 * finalised (nothing to free) and err says file:line and key, or the flag. */
int dm_master_config_load(dm_master_config *cfg, int argc, char **argv, dm_err *err);
void dm_master_config_fini(dm_master_config *cfg);
int dm_worker_config_load(dm_worker_config *cfg, int argc, char **argv, dm_err *err);
void dm_worker_config_fini(dm_worker_config *cfg);

/* TLS settings for this daemon's links (server and client roles use the
 * same files). out must be initialised; its old contents are replaced. */
void dm_daemon_tls_settings(const dm_daemon_common *c, dm_tls_settings *out);

/* The settings for this daemon's HTTP client to its peers: the same files,
 * mode off when tls-client resolves to off. out as above. */
void dm_daemon_client_tls_settings(const dm_daemon_common *c, dm_tls_settings *out);

/* The listener's server-role TLS: *ret is NULL when tls-mode is off.
 * Fails, naming the file, when the material does not load; warnings
 * (expiry, key file mode) are logged. */
int dm_daemon_server_tls(const dm_daemon_common *c, dm_log *log, dm_tls **ret, dm_err *err);

/* Prints every key with its default and help, for --help. */
void dm_master_config_usage(FILE *out);
void dm_worker_config_usage(FILE *out);

/* Splits "host:port" / "[v6]:port" / ":port". Host may be empty. */
int dm_config_split_addr(const char *addr, char *host, size_t hostlen, int *port, dm_err *err);

#endif
