/* dmctl: the operator's command line for dm-master (docs/dmctl.md). All of
 * it is in dmcore (src/ctl/ctl.c and cmd_*.c), so tests link the same code. */
#include "ctl/ctl.h"

int main(int argc, char **argv)
{
	return dm_ctl_main(argc, argv);
}
