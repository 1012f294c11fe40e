#include "worker/subtask.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/source.h"
#include "config/task.h"
#include "migrate/full.h"
#include "migrate/rules.h"
#include "mysql/conn.h"

struct dm_subtask {
	char *task, *source;
	int64_t generation;
	dm_log *log;
	dm_task_config cfg;
	dm_full *full;
	bool started;
	pthread_t thread;
	atomic_bool cancel;
	/* written by the runner before done is set */
	atomic_bool done;
	bool cancelled;
	dm_err err;
};

static void *run(void *arg)
{
	dm_subtask *s = arg;
	dm_err err;
	int rc = dm_full_run(s->full, &err);
	if (rc < 0 && atomic_load(&s->cancel)) {
		s->cancelled = true;
		dm_log_info(s->log, "subtask %s on %s stopped", s->task, s->source);
	} else if (rc < 0) {
		s->err = err;
		dm_log_error(s->log, "subtask %s on %s paused by an error: %s", s->task, s->source,
		             err.msg);
	} else if (strcmp(s->cfg.task_mode, "all") == 0) {
		dm_err_set(&s->err, DM_EINVAL,
		           "full copy finished; the incremental sync unit of task-mode all is not "
		           "available in this version");
	}
	atomic_store(&s->done, true);
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
                             const json_t *source_json, int64_t generation, dm_log *log)
{
	dm_subtask *s = dm_xcalloc(1, sizeof(*s));
	s->task = dm_xstrdup(task);
	s->source = dm_xstrdup(source);
	s->generation = generation;
	s->log = log;
	atomic_init(&s->cancel, false);
	atomic_init(&s->done, false);
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
	if (strcmp(s->cfg.task_mode, "incremental") == 0) {
		dm_source_config_fini(&src);
		dm_err_set(&err, DM_EINVAL,
		           "task-mode incremental needs the sync unit, which is not available in "
		           "this version; use task-mode full");
		return fail_now(s, &err);
	}
	dm_rules *rules;
	if (dm_rules_new(&s->cfg, inst, &rules, &err) < 0) {
		dm_source_config_fini(&src);
		return fail_now(s, &err);
	}
	dm_db_config up, down;
	dm_db_config_init(&up);
	dm_db_config_init(&down);
	dm_source_config_to_db_config(&src, &up);
	dm_task_config_target_db_config(&s->cfg, &down);
	dm_source_config_fini(&src);
	dm_full_opts o = {.task = task,
	                  .source_id = source,
	                  .meta_schema = s->cfg.meta_schema ? s->cfg.meta_schema : "dm_meta",
	                  .source = &up,
	                  .target = &down,
	                  .rules = rules,
	                  .log = log};
	dm_task_config_units(&s->cfg, inst, &o.units);
	s->full = dm_full_new(&o);
	dm_db_config_fini(&up);
	dm_db_config_fini(&down);
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
	(void)s;
	return "Load";
}

json_t *dm_subtask_load_status(dm_subtask *s)
{
	return s->full ? dm_full_status(s->full) : json_object();
}

void dm_subtask_free(dm_subtask *s)
{
	if (s == NULL)
		return;
	if (s->started)
		pthread_join(s->thread, NULL);
	dm_full_free(s->full);
	dm_task_config_fini(&s->cfg);
	free(s->task);
	free(s->source);
	free(s);
}
