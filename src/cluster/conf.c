#include "cluster/conf.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cluster/certs.h"

static char *inst_file(const dm_topo *t, const dm_topo_inst *i, const char *sub, const char *ext)
{
	char *dir = dm_topo_inst_dir(t, i);
	char *p = dm_xasprintf("%s/%s/%s.%s", dir, sub, dm_topo_role_name(i->role), ext);
	free(dir);
	return p;
}

char *dm_cluster_inst_conf(const dm_topo *t, const dm_topo_inst *i)
{
	return inst_file(t, i, "conf", "toml");
}

char *dm_cluster_inst_log(const dm_topo *t, const dm_topo_inst *i)
{
	return inst_file(t, i, "log", "log");
}

char *dm_cluster_inst_pid(const dm_topo *t, const dm_topo_inst *i)
{
	return inst_file(t, i, "run", "pid");
}

/* A TOML basic string. */
static void put_str(dm_buf *b, const char *key, const char *v)
{
	dm_buf_printf(b, "%s = \"", key);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			dm_buf_printf(b, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			dm_buf_printf(b, "\\u%04x", *c);
		else
			dm_buf_putc(b, (char)*c);
	}
	dm_buf_puts(b, "\"\n");
}

char *dm_cluster_conf_render(const dm_cluster_meta *m, const dm_topo_inst *i, dm_tls_mode mode,
                             bool tls_client)
{
	const dm_topo *t = m->topo;
	bool master = i->role == DM_TOPO_MASTER;
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "# %s.toml of \"%s\" in cluster \"%s\", written by dm-cluster.\n"
	              "# Change the topology's \"config\" map instead of this file: dm-cluster\n"
	              "# rewrites it.\n",
	              dm_topo_role_name(i->role), i->name, m->name);
	char *addr = dm_topo_inst_addr(i);
	put_str(&b, "name", i->name);
	put_str(&b, master ? "master-addr" : "worker-addr", addr);
	put_str(&b, "advertise-addr", addr);
	free(addr);
	if (master) {
		char *data = dm_topo_inst_data_dir(t, i);
		put_str(&b, "data-dir", data);
		free(data);
	} else {
		dm_buf join;
		dm_buf_init(&join);
		for (size_t k = 0; k < t->nmasters; k++) {
			char *a = dm_topo_inst_addr(&t->insts[k]);
			dm_buf_printf(&join, "%s%s", k ? "," : "", a);
			free(a);
		}
		put_str(&b, "join", dm_buf_str(&join));
		dm_buf_fini(&join);
	}
	for (size_t k = 0; k < i->nconfig; k++)
		dm_buf_printf(&b, "%s = %s\n", i->config[k].key, i->config[k].toml);
	put_str(&b, "tls-mode", dm_tls_mode_name(mode));
	if (mode == DM_TLS_PERMISSIVE)
		put_str(&b, "tls-client", tls_client ? "on" : "off");
	if (mode != DM_TLS_OFF) {
		char *dir = dm_topo_inst_dir(t, i);
		const char *keys[3] = {"ssl-ca", "ssl-cert", "ssl-key"};
		const char *files[3] = {DM_CLUSTER_INST_CA, DM_CLUSTER_INST_CERT,
		                        DM_CLUSTER_INST_KEY};
		for (int k = 0; k < 3; k++) {
			char *p = dm_xasprintf("%s/%s", dir, files[k]);
			put_str(&b, keys[k], p);
			free(p);
		}
		free(dir);
		dm_buf_puts(&b, master ? "cert-allowed-cn = [\"dm-master\", \"dm-worker\", "
		                         "\"" DM_CLUSTER_CLIENT_CN "\"]\n"
		                       : "cert-allowed-cn = [\"dm-master\"]\n");
	}
	return dm_buf_detach(&b);
}
