/* dm-master: keeps the cluster state, schedules sources onto workers and
 * serves the API. See docs/control-plane.md. */
#include <stdio.h>
#include <string.h>

#include "mysql/wire.h"
#include "master/master.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: dm-master [--config=dm-master.toml] [--key=value ...]\n\n"
	             "Every key of dm-master.toml can be given as a flag; flags override the "
	             "file.\nSIGHUP reloads the file (TLS files, tls-mode, allowed CNs, log "
	             "settings);\nSIGTERM shuts down gracefully.\n\nKeys:\n");
	dm_master_config_usage(out);
	fprintf(out, "\nSee docs/configuration.md and docs/tls.md.\n");
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("dm-master %s\n", DM_MASTER_VERSION);
			return 0;
		}
	}
	if (dm_wire_init() < 0) {
		fprintf(stderr, "dm-master: Connector/C could not be initialised\n");
		return 1;
	}
	dm_master m;
	dm_err err;
	if (dm_master_init(&m, argc, argv, &err) < 0) {
		fprintf(stderr, "dm-master: %s\n", err.msg);
		return 1;
	}
	int rc = dm_master_run(&m, &err);
	if (rc < 0)
		dm_log_error(m.log, "%s", err.msg);
	dm_log_info(m.log, "dm-master stopped");
	dm_master_fini(&m);
	dm_wire_fini();
	return rc < 0 ? 1 : 0;
}
