#include "worker/subtask.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "config/source.h"
#include "config/task.h"
#include "migrate/checkpoint.h"
#include "migrate/full.h"
#include "migrate/sync.h"
#include "migrate/rules.h"
#include "mysql/conn.h"

struct dm_subtask {
	char *task, *source;
	int64_t generation;
	int done_fd;
	dm_log *log;
	dm_task_config cfg;
	size_t inst;
	dm_db_config up, down;
	uint32_t server_id;
	bool enable_gtid;
	dm_full *full;
	_Atomic(dm_sync *) sync; /* published once built, for cancel and status */
	bool started;
	pthread_t thread;
	atomic_bool cancel;
	/* written by the runner before done is set */
	atomic_bool done;
	bool cancelled;
	dm_err err;
};

/* The sync unit, starting where the target says: the full copy's snapshot
 * (all), or the task's meta, or the upstream's current position
 * (incremental). A checkpoint, when the target has one, wins over both. */
static int make_sync(dm_subtask *s, dm_sync **out, dm_err *err)
{
	dm_rules *rules;
	dm_filter *filter;
	if (dm_rules_new(&s->cfg, s->inst, &rules, err) < 0)
		return -1;
	if (dm_filter_new(&s->cfg, s->inst, &filter, err) < 0) {
		dm_rules_free(rules);
		return -1;
	}
	dm_task_units u;
	dm_task_config_units(&s->cfg, s->inst, &u);
	const char *meta = s->cfg.meta_schema ? s->cfg.meta_schema : "dm_meta";
	dm_sync_opts o = {.task = s->task,
	                  .source_id = s->source,
	                  .meta_schema = meta,
	                  .source = &s->up,
	                  .target = &s->down,
	                  .rules = rules,
	                  .filter = filter,
	                  .workers = (int)u.sync_threads,
	                  .batch = (int)u.batch,
	                  .safe_mode = u.safe_mode,
	                  .server_id = s->server_id,
	                  .enable_gtid = s->enable_gtid,
	                  .log = s->log};
	char *name = NULL, *safe = NULL, *gtid = NULL;
	uint64_t safe_pos = 0;
	int rc = 0;
	if (strcmp(s->cfg.task_mode, "all") == 0) {
		MYSQL *m = NULL;
		dm_ckpt ck;
		dm_ckpt_init(&ck, meta, s->task, s->source);
		dm_snapshot snap = {0};
		bool finished = false;
		rc = dm_mysql_connect(&s->down, "target", &m, err);
		if (rc == 0)
			rc = dm_ckpt_read_snapshot(&ck, m, &snap, &finished, err);
		if (rc == 0)
			rc = dm_ckpt_read_resumed(&ck, m, &safe, &safe_pos, err);
		if (rc == 0) {
			name = dm_xstrdup(snap.binlog_name);
			o.start_pos = snap.binlog_pos;
			gtid = dm_xstrdup(snap.binlog_gtid);
			dm_snapshot_fini(&snap);
		}
		if (m)
			mysql_close(m);
		dm_ckpt_fini(&ck);
	} else {
		const dm_task_instance *in = &s->cfg.instances[s->inst];
		if (in->has_meta) {
			name = in->meta.binlog_name ? dm_xstrdup(in->meta.binlog_name) : NULL;
			o.start_pos = (uint64_t)in->meta.binlog_pos;
			gtid = in->meta.binlog_gtid ? dm_xstrdup(in->meta.binlog_gtid) : NULL;
		}
	}
	o.start_name = name;
	o.start_gtid = gtid;
	o.safe_until_name = safe;
	o.safe_until_pos = safe_pos;
	if (rc == 0)
		*out = dm_sync_new(&o);
	else {
		dm_rules_free(rules);
		dm_filter_free(filter);
	}
	free(name);
	free(gtid);
	free(safe);
	return rc;
}

static void *run(void *arg)
{
	dm_subtask *s = arg;
	dm_err err;
	int rc = 0;
	if (s->full)
		rc = dm_full_run(s->full, &err);
	bool wants_sync = strcmp(s->cfg.task_mode, "full") != 0;
	if (rc == 0 && wants_sync && !atomic_load(&s->cancel)) {
		dm_sync *sync = NULL;
		rc = make_sync(s, &sync, &err);
		if (rc == 0) {
			atomic_store(&s->sync, sync);
			if (atomic_load(&s->cancel)) /* a cancel that came before the store */
				dm_sync_cancel(sync);
			dm_log_info(s->log, "subtask %s on %s: sync unit started", s->task,
			            s->source);
			rc = dm_sync_run(sync, &err);
		}
	}
	if (atomic_load(&s->cancel)) {
		s->cancelled = true;
		dm_log_info(s->log, "subtask %s on %s stopped", s->task, s->source);
	} else if (rc < 0) {
		s->err = err;
		dm_log_error(s->log, "subtask %s on %s paused by an error: %s", s->task, s->source,
		             err.msg);
	}
	int fd = s->done_fd; /* s may be freed once done is seen */
	atomic_store(&s->done, true);
	if (fd >= 0) {
		uint64_t one = 1;
		(void)!write(fd, &one, sizeof(one));
	}
	return NULL;
}

static dm_subtask *fail_now(dm_subtask *s, const dm_err *err)
{
	s->err = *err;
	dm_log_error(s->log, "subtask %s on %s cannot start: %s", s->task, s->source, err->msg);
	atomic_store(&s->done, true);
	return s;
}

dm_subtask *dm_subtask_start(const char *task, const char *source, const json_t *task_json,
                             const json_t *source_json, int64_t generation, int done_fd,
                             dm_log *log)
{
	dm_subtask *s = dm_xcalloc(1, sizeof(*s));
	s->done_fd = done_fd;
	s->task = dm_xstrdup(task);
	s->source = dm_xstrdup(source);
	s->generation = generation;
	s->log = log;
	atomic_init(&s->cancel, false);
	atomic_init(&s->done, false);
	atomic_init(&s->sync, NULL);
	dm_db_config_init(&s->up);
	dm_db_config_init(&s->down);
	dm_task_config_init(&s->cfg);
	dm_err err;
	dm_source_config src;
	if (dm_task_config_from_json(task_json, &s->cfg, &err) < 0)
		return fail_now(s, &err);
	if (dm_source_config_from_json(source_json, &src, &err) < 0)
		return fail_now(s, &err);
	size_t inst = s->cfg.n_instances;
	for (size_t i = 0; i < s->cfg.n_instances; i++)
		if (strcmp(s->cfg.instances[i].source_id, source) == 0)
			inst = i;
	if (inst == s->cfg.n_instances) {
		dm_source_config_fini(&src);
		dm_err_set(&err, DM_EINVAL, "task %s has no mysql-instances entry for source %s",
		           task, source);
		return fail_now(s, &err);
	}
	s->inst = inst;
	s->server_id = (uint32_t)src.server_id;
	s->enable_gtid = src.enable_gtid;
	dm_source_config_to_db_config(&src, &s->up);
	dm_task_config_target_db_config(&s->cfg, &s->down);
	dm_source_config_fini(&src);
	if (strcmp(s->cfg.task_mode, "incremental") != 0) {
		dm_rules *rules;
		if (dm_rules_new(&s->cfg, inst, &rules, &err) < 0)
			return fail_now(s, &err);
		dm_full_opts o = {.task = task,
		                  .source_id = source,
		                  .meta_schema =
		                          s->cfg.meta_schema ? s->cfg.meta_schema : "dm_meta",
		                  .source = &s->up,
		                  .target = &s->down,
		                  .rules = rules,
		                  .log = log};
		dm_task_config_units(&s->cfg, inst, &o.units);
		s->full = dm_full_new(&o);
	}
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		dm_err_set(&err, DM_EINTERNAL, "cannot start the subtask's thread");
		return fail_now(s, &err);
	}
	s->started = true;
	dm_log_info(log, "subtask %s on %s started (task-mode %s)", task, source, s->cfg.task_mode);
	return s;
}

void dm_subtask_cancel(dm_subtask *s)
{
	atomic_store(&s->cancel, true);
	if (s->full)
		dm_full_cancel(s->full);
	dm_sync *sync = atomic_load(&s->sync);
	if (sync)
		dm_sync_cancel(sync);
}

bool dm_subtask_done(const dm_subtask *s)
{
	return atomic_load(&s->done);
}

bool dm_subtask_cancelled(const dm_subtask *s)
{
	return s->cancelled;
}

const char *dm_subtask_error(const dm_subtask *s)
{
	return atomic_load(&s->done) ? s->err.msg : "";
}

int64_t dm_subtask_generation(const dm_subtask *s)
{
	return s->generation;
}

const char *dm_subtask_task(const dm_subtask *s)
{
	return s->task;
}

const char *dm_subtask_source(const dm_subtask *s)
{
	return s->source;
}

const char *dm_subtask_unit(const dm_subtask *s)
{
	if (atomic_load(&((dm_subtask *)s)->sync))
		return "Sync";
	return s->full || strcmp(s->cfg.task_mode, "full") == 0 ? "Load" : "Sync";
}

json_t *dm_subtask_load_status(dm_subtask *s)
{
	return s->full ? dm_full_status(s->full) : NULL;
}

json_t *dm_subtask_sync_status(dm_subtask *s)
{
	dm_sync *sync = atomic_load(&s->sync);
	return sync ? dm_sync_status(sync) : NULL;
}

void dm_subtask_free(dm_subtask *s)
{
	if (s == NULL)
		return;
	if (s->started)
		pthread_join(s->thread, NULL);
	dm_full_free(s->full);
	dm_sync_free(atomic_load(&s->sync));
	dm_db_config_fini(&s->up);
	dm_db_config_fini(&s->down);
	dm_task_config_fini(&s->cfg);
	free(s->task);
	free(s->source);
	free(s);
}
