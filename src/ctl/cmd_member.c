/* list-member and offline-member: /api/v1/cluster. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ctl/ctl.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static bool wanted(const dm_strlist *names, const char *name)
{
	return names->n == 0 || dm_strlist_has(names, name);
}

/* GET path's "data" list, or NULL: *msg then says why (DM puts a group's
 * failure into that group's msg). -1 in *rc when there was no answer. */
static json_t *get_list(dm_ctl *ctl, const char *path, char **msg, int *rc, dm_err *err)
{
	json_t *answer = NULL;
	*rc = dm_ctl_request(ctl, "GET", path, NULL, &answer, NULL, err);
	if (*rc != DM_CTL_ANSWER_OK) {
		*msg = dm_xstrdup(err->msg);
		return NULL;
	}
	json_t *data = json_incref(json_object_get(answer, "data"));
	json_decref(answer);
	*msg = NULL;
	return json_is_array(data) ? data : (json_decref(data), json_array());
}

int dm_ctl_cmd_list_member(dm_ctl *ctl, int argc, char **argv)
{
	bool leader = false, master = false, worker = false;
	dm_strlist names = {0}, pos = {0};
	const dm_ctl_opt opts[] = {
	        {"leader", 'l', DM_CTL_OPT_BOOL, &leader},
	        {"master", 'm', DM_CTL_OPT_BOOL, &master},
	        {"worker", 'w', DM_CTL_OPT_BOOL, &worker},
	        {"name", 'n', DM_CTL_OPT_LIST, &names},
	        {0},
	};
	dm_err err;
	int rc = DM_CTL_EXIT_OK;
	json_t *masters = NULL, *workers = NULL, *members = NULL;
	char *mmsg = NULL, *wmsg = NULL;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
		goto out;
	}
	if (pos.n > 0) {
		rc = dm_ctl_usage_error(ctl, argv[0],
		                        "unexpected argument \"%s\" (names go with -n)",
		                        pos.items[0]);
		goto out;
	}
	if (!leader && !master && !worker)
		leader = master = worker = true;
	int a = 0;
	if (leader || master)
		masters = get_list(ctl, "/api/v1/cluster/masters", &mmsg, &a, &err);
	if (a >= 0 && worker)
		workers = get_list(ctl, "/api/v1/cluster/workers", &wmsg, &a, &err);
	if (a < 0) {
		rc = dm_ctl_fail(ctl, "%s", err.msg);
		goto out;
	}
	members = json_array();
	size_t i;
	json_t *m;
	if (leader) {
		json_t *l = json_pack("{s:s, s:s, s:s}", "msg", mmsg ? mmsg : "", "name", "",
		                      "addr", "");
		json_array_foreach(masters, i, m)
		{
			if (!json_is_true(json_object_get(m, "leader")))
				continue;
			json_object_set_new(l, "name", json_string(str(m, "name")));
			json_object_set_new(l, "addr", json_string(str(m, "addr")));
		}
		json_array_append_new(members, json_pack("{s:o}", "leader", l));
	}
	if (master) {
		json_t *list = json_array();
		json_array_foreach(masters, i, m)
		{
			if (!wanted(&names, str(m, "name")))
				continue;
			/* One master has no etcd member ID or peers; its API
			 * address is its client URL. */
			json_array_append_new(
			        list, json_pack("{s:s, s:b, s:[], s:[s]}", "name", str(m, "name"),
			                        "alive", json_is_true(json_object_get(m, "alive")),
			                        "peerURLs", "clientURLs", str(m, "addr")));
		}
		json_array_append_new(members, json_pack("{s:{s:s, s:o}}", "master", "msg",
		                                         mmsg ? mmsg : "", "masters", list));
	}
	if (worker) {
		json_t *list = json_array();
		json_array_foreach(workers, i, m)
		{
			if (!wanted(&names, str(m, "name")))
				continue;
			json_array_append_new(list,
			                      json_pack("{s:s, s:s, s:s, s:s}", "name",
			                                str(m, "name"), "addr", str(m, "addr"),
			                                "stage", str(m, "bound_stage"), "source",
			                                str(m, "bound_source_name")));
		}
		json_array_append_new(members, json_pack("{s:{s:s, s:o}}", "worker", "msg",
		                                         wmsg ? wmsg : "", "workers", list));
	}
	bool ok = mmsg == NULL && wmsg == NULL;
	rc = dm_ctl_print_result(
	        ctl, json_pack("{s:b, s:s, s:o}", "result", ok, "msg", "", "members", members));
	members = NULL;
out:
	json_decref(masters);
	json_decref(workers);
	json_decref(members);
	free(mmsg);
	free(wmsg);
	dm_strlist_fini(&names);
	dm_strlist_fini(&pos);
	return rc;
}

int dm_ctl_cmd_offline_member(dm_ctl *ctl, int argc, char **argv)
{
	bool master = false, worker = false;
	const char *name = NULL;
	dm_strlist pos = {0};
	const dm_ctl_opt opts[] = {
	        {"master", 'm', DM_CTL_OPT_BOOL, &master},
	        {"worker", 'w', DM_CTL_OPT_BOOL, &worker},
	        {"name", 'n', DM_CTL_OPT_STRING, &name},
	        {0},
	};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
	} else if (pos.n > 0) {
		rc = dm_ctl_usage_error(ctl, argv[0],
		                        "unexpected argument \"%s\" (the name goes "
		                        "with -n)",
		                        pos.items[0]);
	} else if (master == worker) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give exactly one of --master and --worker");
	} else if (name == NULL || *name == '\0') {
		rc = dm_ctl_usage_error(ctl, argv[0], "give the member's name with -n");
	} else if (master) {
		rc = dm_ctl_print_failure(ctl,
		                          "offline-member --master is not supported: dm runs a "
		                          "single dm-master, which cannot remove itself");
	} else {
		char *esc = dm_ctl_escape(name);
		char *path = dm_xasprintf("/api/v1/cluster/workers/%s", esc);
		rc = dm_ctl_request(ctl, "DELETE", path, NULL, NULL, NULL, &err);
		free(path);
		free(esc);
		if (rc < 0)
			rc = dm_ctl_fail(ctl, "%s", err.msg);
		else if (rc == DM_CTL_ANSWER_ERROR)
			rc = dm_ctl_print_failure(ctl, err.msg);
		else
			rc = dm_ctl_print_result(ctl,
			                         json_pack("{s:b, s:s}", "result", 1, "msg", ""));
	}
	dm_strlist_fini(&pos);
	return rc;
}
