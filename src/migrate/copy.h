/* The full copy's data path: readers stream chunks of rows out of the
 * upstream snapshot, writers load them into the target, with no file in
 * between.
 *
 *   reader i ──chunk pipe (bounded queue of blocks)──▶ writer j
 *
 * A reader takes the next chunk, hands its pipe to whichever writer is
 * free (the `ready` queue), and fills it while the writer drains it into a
 * LOAD DATA LOCAL INFILE whose local-infile callback reads the pipe (or,
 * when the target refuses LOCAL INFILE, into multi-row INSERTs of about
 * statement_size bytes). Each chunk is one target transaction that also
 * marks the chunk done in the checkpoint table. Memory per reader is a few
 * blocks, whatever the table size; a single row is held whole only by the
 * client library while it is being read.
 *
 * Rows are read with the binary character set and written with
 * CHARACTER SET binary (or hex literals), so bytes are copied as stored:
 * nothing is transcoded. BIT columns travel as numbers. The target session
 * runs in UTC with zero dates allowed. Any warning from the target (a value
 * too long, out of range, a duplicate under on-duplicate error) fails the
 * chunk with the warning's text: nothing is silently changed.
 *
 * Cancelling stops the threads at their next callback; statements still
 * waiting inside a server a second later are interrupted with KILL QUERY,
 * so a pause takes effect even behind a row lock held by someone else.
 *
 * A writer that loses its connection (or hits a deadlock or lock wait
 * timeout) rolls back, reconnects with backoff and has the chunk read
 * again (up to 5 times); a reader that fails ends the copy, since its
 * snapshot is gone. */
#ifndef DM_MIGRATE_COPY_H
#define DM_MIGRATE_COPY_H

#include <mysql.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/log.h"
#include "migrate/checkpoint.h"
#include "migrate/plan.h"
#include "mysql/conn.h"

typedef struct dm_copy_opts {
	const dm_db_config *target; /* writers connect with it */
	const char *what;           /* names the target in messages: "target" */
	const dm_ckpt *ckpt;
	dm_plan *plan;   /* chunks to copy; its tables' counters are updated */
	MYSQL **readers; /* borrowed, each inside the snapshot */
	/* where the readers are connected: a cancelled copy interrupts their
	 * statements through it (NULL: it does not) */
	const dm_db_config *source;
	const char *source_what;
	int nreaders;
	int nwriters;
	const char *on_duplicate; /* "replace", "ignore" or "error" */
	size_t statement_size;    /* INSERT mode */
	bool use_insert;          /* multi-row INSERT instead of LOAD DATA */
	dm_log *log;
	atomic_bool *cancel; /* set from outside to stop; the copy sets it on a fatal error */
	/* called by the writer that committed a table's last chunk, on its
	 * connection m, with the table's index in plan; an error ends the copy
	 * (the chunk stays committed) */
	int (*on_table_done)(void *arg, size_t table, MYSQL *m, dm_err *err);
	void *table_done_arg;
	/* called about every 5 s from the calling thread while the copy runs */
	void (*on_progress)(void *arg);
	void *progress_arg;
} dm_copy_opts;

/* Runs the copy to the end, the first fatal error, or cancellation
 * (DM_ECONFLICT "cancelled"). Blocks the calling thread. */
int dm_copy_run(const dm_copy_opts *o, dm_err *err);

/* A target connection set up for writing (UTC, strict but zero dates
 * allowed, no foreign key checks, long network timeouts): the full copy's
 * writers and the sync unit's appliers share it, so both refuse a value
 * the target would change. client_flags go to mysql_real_connect. */
int dm_copy_connect_writer(const dm_db_config *target, const char *what, bool local_infile,
                           unsigned long client_flags, MYSQL **ret, dm_err *err);

#endif
