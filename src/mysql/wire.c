#include "mysql/wire.h"

#include <stddef.h>

#include <mysql.h>

int dm_wire_init(void)
{
	if (mysql_library_init(0, NULL, NULL) != 0)
		return -1;
	/* MYSQL_OPT_NET_BUFFER_LENGTH would set the same global through a
	 * handle; this says what it is. */
	MYSQL_PARAMETERS *p = mysql_get_parameters();
	if (p != NULL && p->p_net_buffer_length != NULL &&
	    *p->p_net_buffer_length < DM_WIRE_NET_BUFFER)
		*p->p_net_buffer_length = DM_WIRE_NET_BUFFER;
	return 0;
}

void dm_wire_fini(void)
{
	mysql_library_end();
}
