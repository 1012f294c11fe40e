/* wire: Connector/C's process-wide settings. Connector/C sizes its network
 * buffer for small interactive queries; dm streams hundreds of megabytes
 * through each link (the full copy's readers and LOAD DATA writers, the
 * binlog reader). The measurements behind the size are in
 * docs/benchmarks.md ("Where the TLS cost comes from"). */
#ifndef DM_MYSQL_WIRE_H
#define DM_MYSQL_WIRE_H

/* Bytes Connector/C gathers before a write(2) (its default is 8 KiB).
 * LOAD DATA LOCAL sends 4 KiB packets; with 64 KiB the client makes an
 * eighth of the writes, and over TLS sends full 16 KiB records. */
#define DM_WIRE_NET_BUFFER 65536

/* Initialises Connector/C for a threaded process and sets its network
 * buffer (a global in Connector/C, hence here and not per connection).
 * Call once from main() before any thread connects. Returns -1 if the
 * library could not be initialised. */
int dm_wire_init(void);
/* Releases what dm_wire_init set up; from main(), after every thread ended. */
void dm_wire_fini(void);

#endif
