/* Connections to sources and targets (MySQL protocol, Connector/C).
 *
 * One dm_db_config describes how to reach one server; dm_mysql_connect()
 * opens a new connection from it every time, reading the TLS files (or
 * writing the inline PEM material to private temporary files) for that
 * connection only, so replaced ssl-ca/ssl-cert/ssl-key files apply to the
 * next connection without a restart.
 *
 * Security block combinations (docs/mysql-tls.md):
 *   empty              plaintext
 *   CA only            TLS, server certificate and host name/IP verified
 *   cert + key         TLS with a client certificate, server NOT verified
 *   CA + cert + key    both
 * A cert without its key (or the reverse) is refused before connecting.
 *
 * Messages name the link ("source mysql-01 127.0.0.1:3306"), the user and
 * the config key to fix; never the password, a key or PEM content. */
#ifndef DM_MYSQL_CONN_H
#define DM_MYSQL_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <mysql.h>

#include "base/err.h"
#include "tls/tls.h"

#define DM_DB_DEFAULT_PORT            3306
#define DM_DB_DEFAULT_CONNECT_TIMEOUT 10 /* seconds */
#define DM_DB_DEFAULT_CHARSET         "utf8mb4"

/* A plain value: strings are owned and freed by dm_db_config_fini(). */
typedef struct dm_db_config {
	char *host;
	unsigned int port; /* 0 means 3306 */
	char *user;
	char *password; /* a secret: wiped on fini, never logged */
	dm_tls_settings security;
	/* Seconds; 0 means the default (connect) or no limit (read, write).
	 * A binlog reader keeps read_timeout above its heartbeat period. */
	unsigned int connect_timeout;
	unsigned int read_timeout;
	unsigned int write_timeout;
	char *charset; /* session character set; NULL means utf8mb4 */
	/* Allow LOAD DATA LOCAL INFILE. Off by default: with it on, a server
	 * may ask the client for any local file. Only the loader's target
	 * connections, which feed it from a callback, turn it on. */
	bool local_infile;
} dm_db_config;

/* Empty config: no host, port 3306, no TLS, utf8mb4, default timeouts. */
void dm_db_config_init(dm_db_config *c);
/* Frees every member (password and key PEM wiped first), re-initialises c. */
void dm_db_config_fini(dm_db_config *c);
/* Deep copy into dst (initialised or zeroed; old contents freed). dst may
 * alias src. */
void dm_db_config_copy(dm_db_config *dst, const dm_db_config *src);

/* Opens a connection. `what` names the link in messages: "source mysql-01"
 * or "target"; it also picks the config key named in hints ("from." for
 * "source ...", "target-database." otherwise). On success *ret is a
 * connected handle the caller closes with mysql_close(); when TLS was asked
 * for, the link is encrypted (a server that does not offer TLS is refused,
 * never silently used in plaintext). DM_EINVAL for a bad config, DM_ETLS for
 * certificate/handshake problems, DM_ENET for unreachable servers,
 * DM_ETIMEOUT for timeouts, DM_EDB for refusals by the server. */
int dm_mysql_connect(const dm_db_config *c, const char *what, MYSQL **ret, dm_err *err);
/* The same with mysql_real_connect's client flags (CLIENT_FOUND_ROWS…). */
int dm_mysql_connect_flags(const dm_db_config *c, const char *what, unsigned long client_flags,
                           MYSQL **ret, dm_err *err);

/* Runs a statement and discards any result. The message carries the MySQL
 * error number and text, and the statement cut to 200 bytes; do not pass
 * statements that contain secrets. */
int dm_mysql_query(MYSQL *m, const char *sql, dm_err *err);

/* Runs a query and returns the first column of its first row as a malloc'd
 * string in *ret (NULL for SQL NULL). DM_ENOTFOUND when there is no row. */
int dm_mysql_query_value(MYSQL *m, const char *sql, char **ret, dm_err *err);

/* Runs a query and returns its whole result (mysql_store_result) in *ret,
 * which the caller frees with mysql_free_result(). */
int dm_mysql_store(MYSQL *m, const char *sql, MYSQL_RES **ret, dm_err *err);

/* Fills err from m's last error as dm_mysql_query does (DM_ENET for a lost
 * connection, DM_EDB otherwise) and returns -1. */
int dm_mysql_error(MYSQL *m, const char *sql, dm_err *err);

/* Whether a MySQL/client error number is worth retrying the same work on a
 * new connection: connection lost or refused, deadlock, lock wait timeout,
 * server shutting down. */
bool dm_mysql_is_transient(unsigned int mysql_errno);

/* Whether the connected server is MariaDB (it says so in its version). */
bool dm_mysql_is_mariadb(MYSQL *m);

/* Whether the link is encrypted: true with the cipher ("TLS_AES_256_GCM_SHA384")
 * and protocol version ("TLSv1.3") copied out; false with both set to "".
 * Either buffer may be NULL. */
bool dm_mysql_tls_info(MYSQL *m, char *cipher_out, size_t cipher_len, char *version_out,
                       size_t version_len);

#endif
