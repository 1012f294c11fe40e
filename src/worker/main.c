/* dm-worker: registers with the masters, keeps alive, and runs the subtasks
 * of the source bound to it. See docs/control-plane.md. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "mysql/wire.h"
#include "worker/worker.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: dm-worker [--config=dm-worker.toml] [--key=value ...]\n\n"
	             "Every key of dm-worker.toml can be given as a flag; flags override the "
	             "file.\nSIGHUP reloads the file; SIGTERM shuts down gracefully.\n\nKeys:\n");
	dm_worker_config_usage(out);
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
			printf("dm-worker %s\n", DM_WORKER_VERSION);
			return 0;
		}
	}
	/* No fastbins: Connector/C makes a large allocation for every binlog
	 * event, and each such malloc first sweeps the fastbins that the
	 * small frees of the row pipeline fill (malloc_consolidate under
	 * mariadb_rpl_fetch was 4% of the worker's CPU in
	 * bench/incremental.sh); tcache still serves the small sizes. */
	mallopt(M_MXFAST, 0);
	if (dm_wire_init() < 0) {
		fprintf(stderr, "dm-worker: Connector/C could not be initialised\n");
		return 1;
	}
	dm_worker w;
	dm_err err;
	if (dm_worker_init(&w, argc, argv, &err) < 0) {
		fprintf(stderr, "dm-worker: %s\n", err.msg);
		return 1;
	}
	int rc = dm_worker_run(&w, &err);
	if (rc < 0)
		dm_log_error(w.log, "%s", err.msg);
	dm_log_info(w.log, "dm-worker stopped");
	dm_worker_fini(&w);
	dm_wire_fini();
	return rc < 0 ? 1 : 0;
}
