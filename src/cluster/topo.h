/* dm-cluster's topology file: TiUP's DM topology shape, in YAML.
 *
 *   global: {user?, deploy_dir, data_dir?, enable_tls?}
 *   master_servers: [{host, port, name?, config?}]
 *   worker_servers: [{host, port, name?, config?}]
 *
 * Parsing is strict: an unknown key, a missing field, a duplicate name or
 * port, a key in `config` that dm-master.toml / dm-worker.toml does not
 * know (or that dm-cluster writes itself), or a host that is not this
 * machine's loopback is an error naming file, line and key. Every instance
 * runs on this machine, so ports must differ across the whole topology
 * (instance directories are named after the port, as TiUP names them). */
#ifndef DM_CLUSTER_TOPO_H
#define DM_CLUSTER_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define DM_TOPO_MAX_BYTES     (1024 * 1024)
#define DM_TOPO_MAX_INSTANCES 64
#define DM_TOPO_NAME_MAX      64

typedef enum dm_topo_role {
	DM_TOPO_MASTER,
	DM_TOPO_WORKER,
} dm_topo_role;

/* One extra key of an instance's config, kept in the two forms it is
 * written in: a TOML value for the generated file, and flag text (what
 * --key=value would say) for validation. */
typedef struct dm_topo_kv {
	char *key;
	char *toml;
	char *flag;
	int line;
} dm_topo_kv;

typedef struct dm_topo_inst {
	dm_topo_role role;
	char *name;
	char *host;
	int port;
	int line; /* of the item in the topology file */
	dm_topo_kv *config;
	size_t nconfig;
} dm_topo_inst;

typedef struct dm_topo {
	char *user;       /* NULL when not given */
	char *deploy_dir; /* absolute (relative paths are resolved against the cwd) */
	char *data_dir;   /* as written; "data" when not given */
	bool enable_tls;
	/* Masters first, then workers, each in file order. */
	dm_topo_inst *insts;
	size_t ninsts;
	size_t nmasters;
} dm_topo;

/* Parses a topology; filename is used in messages only. On success *ret
 * is owned by the caller (dm_topo_free). */
int dm_topo_parse(const char *text, size_t len, const char *filename, dm_topo **ret, dm_err *err);
/* Reads path (at most DM_TOPO_MAX_BYTES) and parses it. *ret_text, when
 * ret_text is not NULL, gets the file's bytes (caller frees). */
int dm_topo_load(const char *path, dm_topo **ret, char **ret_text, dm_err *err);
/* NULL is a no-op. */
void dm_topo_free(dm_topo *t);

/* 127.0.0.0/8, ::1 or "localhost". */
bool dm_topo_host_is_loopback(const char *host);
/* "dm-master" / "dm-worker": the program, and the CN of its certificate. */
const char *dm_topo_role_name(dm_topo_role role);
/* "host:port", "[::1]:port" for IPv6; "localhost" becomes 127.0.0.1
 * (dm-master and dm-worker do not resolve names). Caller frees. */
char *dm_topo_inst_addr(const dm_topo_inst *i);
/* <deploy_dir>/dm-master-<port>. Caller frees. */
char *dm_topo_inst_dir(const dm_topo *t, const dm_topo_inst *i);
/* The instance's data directory: <inst dir>/<data_dir>, or
 * <data_dir>/dm-master-<port> when data_dir is absolute. Caller frees. */
char *dm_topo_inst_data_dir(const dm_topo *t, const dm_topo_inst *i);
/* Instance by name, or NULL. Borrowed. */
const dm_topo_inst *dm_topo_find(const dm_topo *t, const char *name);

/* Names of clusters and instances: 1-64 of A-Z a-z 0-9 _ . -, not
 * starting with '.' or '-'. what names the thing in the message. */
int dm_topo_check_name(const char *what, const char *name, dm_err *err);

#endif
