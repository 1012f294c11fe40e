/* Fuzz target: the TOML reader (config/toml.h), then typed binding of the
 * tree into a dm-master.toml-shaped struct, as the daemons load their
 * config. Checks the tree's invariants and the error contract. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/bind.h"
#include "config/toml.h"
#include "fuzz_common.h"

struct experimental {
	bool openapi;
};

struct master_cfg {
	char *name;
	char *master_addr;
	char *advertise_addr;
	char *log_level;
	char *data_dir;
	char *peer_urls;
	char *initial_cluster;
	int64_t election_timeout;
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	dm_strlist cert_allowed_cn;
	struct experimental experimental;
};

static const dm_bind_field experimental_fields[] = {
        {.key = "openapi",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(struct experimental, openapi),
         .def = "false"},
        {0},
};

static const dm_bind_field master_fields[] = {
        {.key = "name", .kind = DM_BIND_STRING, .offset = offsetof(struct master_cfg, name)},
        {.key = "master-addr",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, master_addr),
         .def = ":8261"},
        {.key = "advertise-addr",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, advertise_addr)},
        {.key = "log-level",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, log_level),
         .def = "info"},
        {.key = "log-file", .kind = DM_BIND_IGNORE},
        {.key = "data-dir",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, data_dir)},
        {.key = "peer-urls",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, peer_urls)},
        {.key = "initial-cluster",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, initial_cluster)},
        {.key = "election-timeout",
         .kind = DM_BIND_INT,
         .offset = offsetof(struct master_cfg, election_timeout),
         .min = 1,
         .max = 3600000,
         .def = "3000"},
        {.key = "ssl-ca", .kind = DM_BIND_STRING, .offset = offsetof(struct master_cfg, ssl_ca)},
        {.key = "ssl-cert",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct master_cfg, ssl_cert)},
        {.key = "ssl-key", .kind = DM_BIND_STRING, .offset = offsetof(struct master_cfg, ssl_key)},
        {.key = "cert-allowed-cn",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(struct master_cfg, cert_allowed_cn)},
        {.key = "auto-compaction-mode",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "dm keeps no etcd of its own"},
        {.key = "experimental",
         .kind = DM_BIND_TABLE,
         .offset = offsetof(struct master_cfg, experimental),
         .sub = experimental_fields},
        {0},
};

static dm_node sentinel;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_node *root = &sentinel;
	dm_err err;
	dm_err_clear(&err);
	if (dm_toml_parse((const char *)data, size, "fuzz.toml", &root, &err) < 0) {
		FUZZ_ASSERT(root == &sentinel); /* left alone on failure */
		fuzz_check_err(&err, "fuzz.toml");
		return 0;
	}
	FUZZ_ASSERT(root != &sentinel && root != NULL);
	/* An array of tables under a 128-part header is two levels deep. */
	fuzz_check_tree(root, NULL, 0, DM_TOML_MAX_DEPTH + 2);

	struct master_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	FUZZ_ASSERT(dm_bind_defaults(master_fields, &cfg, &err) == 0);
	dm_err_clear(&err);
	if (dm_bind_tree(master_fields, root, "fuzz.toml", &cfg, &err) < 0) {
		fuzz_check_err(&err, "fuzz.toml");
	} else {
		FUZZ_ASSERT(cfg.election_timeout >= 1 && cfg.election_timeout <= 3600000);
		FUZZ_ASSERT(cfg.master_addr != NULL && cfg.log_level != NULL);
		for (size_t i = 0; i < cfg.cert_allowed_cn.n; i++)
			FUZZ_ASSERT(cfg.cert_allowed_cn.items[i] != NULL);
	}
	dm_bind_free(master_fields, &cfg);
	dm_tree_free(root);
	return 0;
}
