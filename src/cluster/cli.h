/* dm-cluster's command line: a table of commands, each with its own
 * --help (docs/cluster.md). main.c only calls dm_cluster_main(). */
#ifndef DM_CLUSTER_CLI_H
#define DM_CLUSTER_CLI_H

enum {
	DM_CLUSTER_EXIT_OK = 0,
	DM_CLUSTER_EXIT_FAIL = 1,
	DM_CLUSTER_EXIT_USAGE = 2,
};

/* The whole program; returns the exit status. */
int dm_cluster_main(int argc, char **argv);

#endif
