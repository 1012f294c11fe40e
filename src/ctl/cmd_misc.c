/* config and encrypt. */
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/mem.h"
#include "ctl/ctl.h"

/* Keys of the stored objects that are status, not configuration. */
static void drop_status(json_t *cfg)
{
	json_object_del(cfg, "status_list");
	json_object_del(cfg, "check_warnings");
	json_object_del(cfg, "worker_name");
}

int dm_ctl_cmd_config(dm_ctl *ctl, int argc, char **argv)
{
	const char *file = NULL;
	const dm_ctl_opt opts[] = {
	        {"path", 'p', DM_CTL_OPT_STRING, &file},
	        {0},
	};
	dm_strlist pos = {0};
	dm_err err;
	int rc;
	json_t *cfg = NULL;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
		goto out;
	}
	if (pos.n == 2 &&
	    (strcmp(pos.items[0], "master") == 0 || strcmp(pos.items[0], "worker") == 0)) {
		rc = dm_ctl_print_failure(ctl, "config master/worker is not supported: their "
		                               "configuration is the daemon's TOML file and flags");
		goto out;
	}
	if (pos.n != 2 ||
	    (strcmp(pos.items[0], "task") != 0 && strcmp(pos.items[0], "source") != 0)) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give task NAME or source NAME");
		goto out;
	}
	char *esc = dm_ctl_escape(pos.items[1]);
	char *path = dm_xasprintf("/api/v1/%ss/%s", pos.items[0], esc);
	free(esc);
	int a = dm_ctl_request(ctl, "GET", path, NULL, &cfg, NULL, &err);
	free(path);
	if (a < 0) {
		rc = dm_ctl_fail(ctl, "%s", err.msg);
		goto out;
	}
	if (a == DM_CTL_ANSWER_ERROR) {
		rc = dm_ctl_print_failure(ctl, err.msg);
		goto out;
	}
	if (!json_is_object(cfg)) {
		rc = dm_ctl_print_failure(ctl, "dm-master sent no configuration");
		goto out;
	}
	drop_status(cfg);
	if (file) {
		char *text = json_dumps(cfg, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		size_t n = strlen(text);
		text = dm_xrealloc(text, n + 2);
		memcpy(text + n, "\n", 2);
		a = dm_file_write_atomic(file, text, n + 1, 0600, &err);
		free(text);
		if (a < 0) {
			rc = dm_ctl_fail(ctl, "-p %s: %s", file, err.msg);
			goto out;
		}
		char *msg = dm_xasprintf("write config to file %s succeed", file);
		rc = dm_ctl_print_result(
		        ctl, json_pack("{s:b, s:s, s:s}", "result", 1, "msg", msg, "cfg", ""));
		free(msg);
		goto out;
	}
	/* DM prints the YAML as a string; dm's stored form is the API's
	 * JSON object, printed as such. */
	rc = dm_ctl_print_result(ctl,
	                         json_pack("{s:b, s:s, s:O}", "result", 1, "msg", "", "cfg", cfg));
out:
	json_decref(cfg);
	dm_strlist_fini(&pos);
	return rc;
}

int dm_ctl_cmd_encrypt(dm_ctl *ctl, int argc, char **argv)
{
	const dm_ctl_opt opts[] = {{0}};
	dm_strlist pos = {0};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
	} else if (pos.n != 1) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give one plaintext");
	} else {
		json_t *body = json_pack("{s:s}", "plaintext", pos.items[0]);
		json_t *answer = NULL;
		int a = dm_ctl_request(ctl, "POST", "/api/v1/secrets/encrypt", body, &answer, NULL,
		                       &err);
		json_decref(body);
		const char *ct = json_string_value(json_object_get(answer, "ciphertext"));
		/* Like DM: only the ciphertext on stdout; failures on stderr,
		 * and never the plaintext. */
		if (a < 0) {
			rc = dm_ctl_fail(ctl, "%s", err.msg);
		} else if (a == DM_CTL_ANSWER_ERROR) {
			rc = dm_ctl_fail(ctl, "encrypt failed: %s", err.msg);
		} else if (ct == NULL) {
			rc = dm_ctl_fail(ctl, "dm-master's answer has no ciphertext");
		} else {
			fprintf(ctl->out, "%s\n", ct);
			rc = DM_CTL_EXIT_OK;
		}
		json_decref(answer);
	}
	dm_strlist_fini(&pos);
	return rc;
}
