/* dm-cluster: deploys, starts and stops a dm cluster from a topology file
 * and keeps its certificates (docs/cluster.md). All of it is in dmcore
 * (src/cluster), so tests link the same code. */
#include "cluster/cli.h"

int main(int argc, char **argv)
{
	return dm_cluster_main(argc, argv);
}
