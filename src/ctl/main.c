/* dmctl: the operator's command line for dm-master (docs/dmctl.md). All of
 * it is in dmcore (src/ctl/ctl.c and cmd_*.c), so tests link the same code.
 *
 * `--cluster NAME` is resolved here, where the program is put together:
 * the cluster's metadata (written by dm-cluster, src/cluster/meta.h) gives
 * the master's address and, when the cluster uses TLS, the CA and the
 * operator's client certificate. They become --master-addr and --ssl-*
 * for dm_ctl_main, so src/ctl does not depend on src/cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "cluster/meta.h"
#include "ctl/ctl.h"

static bool is_cluster_flag(const char *a, const char **value)
{
	const char *n = a + (a[0] == '-') + (a[0] == '-' && a[1] == '-');
	if (a[0] != '-' || strncmp(n, "cluster", 7) != 0)
		return false;
	if (n[7] == '=') {
		*value = n + 8;
		return true;
	}
	*value = NULL;
	return n[7] == '\0';
}

static int with_cluster(int argc, char **argv, const dm_ctl_args *a)
{
	if (a->master_addr || a->ssl_ca || a->ssl_cert || a->ssl_key) {
		fprintf(stderr,
		        "dmctl: --cluster %s gives the master's address and certificates: "
		        "leave out --master-addr and --ssl-*\n",
		        a->cluster);
		return DM_CTL_EXIT_USAGE;
	}
	dm_err err;
	char *home = dm_cluster_home(&err);
	dm_cluster_meta *m = NULL;
	if (home == NULL || dm_cluster_meta_load(home, a->cluster, &m, &err) < 0) {
		fprintf(stderr, "dmctl: --cluster: %s\n", err.msg);
		free(home);
		return DM_CTL_EXIT_FAIL;
	}
	dm_strlist addrs = {0};
	dm_tls_settings tls;
	dm_tls_settings_init(&tls);
	dm_cluster_client_settings(m, &addrs, &tls);
	char **nv = dm_xcalloc((size_t)argc + 5, sizeof(char *));
	char *owned[4] = {0};
	int n = 0, k = 0;
	nv[n++] = argv[0];
	char *joined = NULL;
	for (size_t i = 0; i < addrs.n; i++) {
		char *j = dm_xasprintf("%s%s%s", joined ? joined : "", joined ? "," : "",
		                       addrs.items[i]);
		free(joined);
		joined = j;
	}
	nv[n++] = owned[k++] = dm_xasprintf("--master-addr=%s", joined ? joined : "");
	free(joined);
	if (tls.mode != DM_TLS_OFF) {
		nv[n++] = owned[k++] = dm_xasprintf("--ssl-ca=%s", tls.ca_file);
		nv[n++] = owned[k++] = dm_xasprintf("--ssl-cert=%s", tls.cert_file);
		nv[n++] = owned[k++] = dm_xasprintf("--ssl-key=%s", tls.key_file);
	}
	bool done = false;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (!done && strcmp(argv[i], "--") == 0)
			done = true;
		if (!done && is_cluster_flag(argv[i], &v)) {
			if (v == NULL)
				i++;
			continue;
		}
		nv[n++] = argv[i];
	}
	int rc = dm_ctl_main(n, nv);
	for (int i = 0; i < k; i++)
		free(owned[i]);
	free(nv);
	dm_tls_settings_fini(&tls);
	dm_strlist_fini(&addrs);
	dm_cluster_meta_free(m);
	free(home);
	return rc;
}

int main(int argc, char **argv)
{
	dm_ctl_args a;
	dm_err err;
	/* Usage errors are left for dm_ctl_main to report. */
	if (dm_ctl_parse_args(argc, argv, &a, &err) == 0 && a.cluster && !a.help && !a.version) {
		int rc = with_cluster(argc, argv, &a);
		dm_ctl_args_fini(&a);
		return rc;
	}
	dm_ctl_args_fini(&a);
	return dm_ctl_main(argc, argv);
}
