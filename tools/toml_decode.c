/* toml-decode: TOML on stdin, toml-test's tagged JSON on stdout.
 *
 * Exit 0 on success; on invalid input the error (file:line:col: message)
 * goes to stderr and the exit status is 1. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "config/toml.h"

static json_t *tagged(const char *type, json_t *value)
{
	return json_pack("{s:s, s:o}", "type", type, "value", value);
}

static json_t *tagged_text(const char *type, const char *text)
{
	return tagged(type, json_string(text));
}

static json_t *to_json(const dm_node *n)
{
	char num[64];
	switch (n->type) {
	case DM_NODE_TABLE: {
		json_t *o = json_object();
		dm_buf key;
		dm_buf_init(&key);
		for (size_t i = 0; i < n->nkids; i++) {
			/* Undo the C0 80 stand-in for NUL (see config/toml.h). */
			dm_buf_reset(&key);
			for (const char *k = n->kids[i]->key; *k; k++) {
				if ((unsigned char)k[0] == 0xC0 && (unsigned char)k[1] == 0x80) {
					dm_buf_putc(&key, '\0');
					k++;
				} else {
					dm_buf_putc(&key, *k);
				}
			}
			json_object_setn_new(o, key.len ? key.data : "", key.len,
			                     to_json(n->kids[i]));
		}
		dm_buf_fini(&key);
		return o;
	}
	case DM_NODE_ARRAY: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->nkids; i++)
			json_array_append_new(a, to_json(n->kids[i]));
		return a;
	}
	case DM_NODE_STRING: return tagged("string", json_stringn(n->str ? n->str : "", n->len));
	case DM_NODE_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, n->i);
		return tagged_text("integer", num);
	case DM_NODE_FLOAT:
		if (isnan(n->f))
			snprintf(num, sizeof(num), "nan");
		else if (isinf(n->f))
			snprintf(num, sizeof(num), "%sinf", n->f < 0 ? "-" : "");
		else
			snprintf(num, sizeof(num), "%.17g", n->f);
		return tagged_text("float", num);
	case DM_NODE_BOOL: return tagged_text("bool", n->b ? "true" : "false");
	case DM_NODE_DATETIME: return tagged_text("datetime", n->str);
	case DM_NODE_DATETIME_LOCAL: return tagged_text("datetime-local", n->str);
	case DM_NODE_DATE_LOCAL: return tagged_text("date-local", n->str);
	case DM_NODE_TIME_LOCAL: return tagged_text("time-local", n->str);
	case DM_NODE_NULL: break;
	}
	return json_null();
}

int main(void)
{
	dm_buf in;
	dm_buf_init(&in);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		dm_buf_append(&in, chunk, n);
	if (ferror(stdin)) {
		perror("toml-decode: reading stdin");
		dm_buf_fini(&in);
		return 1;
	}
	dm_node *root;
	dm_err err;
	dm_err_clear(&err);
	if (dm_toml_parse(in.data, in.len, "<stdin>", &root, &err) < 0) {
		fprintf(stderr, "toml-decode: %s\n", err.msg);
		dm_buf_fini(&in);
		return 1;
	}
	dm_buf_fini(&in);
	json_t *j = to_json(root);
	dm_tree_free(root);
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(j);
	if (rc < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		perror("toml-decode: writing stdout");
		return 1;
	}
	return 0;
}
