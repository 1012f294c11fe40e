/* Fuzz target: the YAML reader (config/yaml.h), then typed binding
 * (config/bind.h) into a struct shaped like DM's source.yaml, the way
 * dm-master loads a source. Checks the tree's invariants, the error
 * contract, and that a successful bind leaves values within their limits. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/bind.h"
#include "config/yaml.h"
#include "fuzz_common.h"

struct security {
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	dm_strlist cert_allowed_cn;
};

struct from {
	char *host;
	int64_t port;
	char *user;
	char *password;
	struct security security;
};

struct source_cfg {
	char *source_id;
	bool enable_gtid;
	bool enable_relay;
	char *relay_binlog_name;
	char *relay_binlog_gtid;
	char *relay_dir;
	char *flavor;
	bool case_sensitive;
	struct from from;
};

static int check_flavor(const void *value, dm_err *err)
{
	const char *s = *(char *const *)value;
	if (s == NULL || strcmp(s, "mysql") == 0 || strcmp(s, "mariadb") == 0)
		return 0;
	return dm_err_set(err, DM_EINVAL, "must be mysql or mariadb");
}

static const dm_bind_field security_fields[] = {
        {.key = "ssl-ca", .kind = DM_BIND_STRING, .offset = offsetof(struct security, ssl_ca)},
        {.key = "ssl-cert", .kind = DM_BIND_STRING, .offset = offsetof(struct security, ssl_cert)},
        {.key = "ssl-key", .kind = DM_BIND_STRING, .offset = offsetof(struct security, ssl_key)},
        {.key = "cert-allowed-cn",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(struct security, cert_allowed_cn)},
        {0},
};

static const dm_bind_field from_fields[] = {
        {.key = "host",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct from, host),
         .def = "127.0.0.1"},
        {.key = "port",
         .kind = DM_BIND_INT,
         .offset = offsetof(struct from, port),
         .min = 1,
         .max = 65535,
         .def = "3306"},
        {.key = "user",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct from, user),
         .def = "root"},
        {.key = "password", .kind = DM_BIND_STRING, .offset = offsetof(struct from, password)},
        {.key = "security",
         .kind = DM_BIND_TABLE,
         .offset = offsetof(struct from, security),
         .sub = security_fields},
        {.key = "session", .kind = DM_BIND_IGNORE},
        {0},
};

static const dm_bind_field source_fields[] = {
        {.key = "source-id",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct source_cfg, source_id)},
        {.key = "enable-gtid",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(struct source_cfg, enable_gtid),
         .def = "false"},
        {.key = "enable-relay",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(struct source_cfg, enable_relay),
         .def = "false"},
        {.key = "relay-binlog-name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct source_cfg, relay_binlog_name)},
        {.key = "relay-binlog-gtid",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct source_cfg, relay_binlog_gtid)},
        {.key = "relay-dir",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct source_cfg, relay_dir),
         .def = "relay-dir"},
        {.key = "flavor",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct source_cfg, flavor),
         .def = "mysql",
         .check = check_flavor},
        {.key = "case-sensitive",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(struct source_cfg, case_sensitive),
         .def = "false"},
        {.key = "from",
         .kind = DM_BIND_TABLE,
         .offset = offsetof(struct source_cfg, from),
         .sub = from_fields},
        {.key = "purge", .kind = DM_BIND_UNSUPPORTED, .help = "relay logs are not kept"},
        {.key = "checker", .kind = DM_BIND_IGNORE},
        {0},
};

static dm_node sentinel;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_node *root = &sentinel;
	dm_err err;
	dm_err_clear(&err);
	if (dm_yaml_parse((const char *)data, size, "source.yaml", &root, &err) < 0) {
		FUZZ_ASSERT(root == &sentinel);
		fuzz_check_err(&err, "source.yaml");
		return 0;
	}
	FUZZ_ASSERT(root != &sentinel && root != NULL);
	fuzz_check_tree(root, NULL, 0, 64 + 1);

	struct source_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	FUZZ_ASSERT(dm_bind_defaults(source_fields, &cfg, &err) == 0);
	dm_err_clear(&err);
	if (dm_bind_tree(source_fields, root, "source.yaml", &cfg, &err) < 0) {
		fuzz_check_err(&err, "source.yaml");
	} else {
		FUZZ_ASSERT(cfg.from.port >= 1 && cfg.from.port <= 65535);
		FUZZ_ASSERT(cfg.from.host != NULL && cfg.from.user != NULL);
		FUZZ_ASSERT(cfg.flavor != NULL && (strcmp(cfg.flavor, "mysql") == 0 ||
		                                   strcmp(cfg.flavor, "mariadb") == 0));
		const dm_strlist *cn = &cfg.from.security.cert_allowed_cn;
		for (size_t i = 0; i < cn->n; i++)
			FUZZ_ASSERT(cn->items[i] != NULL);
	}
	dm_bind_free(source_fields, &cfg);
	dm_tree_free(root);
	return 0;
}
