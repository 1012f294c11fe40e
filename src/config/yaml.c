#include "config/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "base/mem.h"

enum { MAX_DEPTH = 64 };

struct reader {
	yaml_parser_t parser;
	const char *filename;
	dm_err *err;
	int depth;
};

static int fail_at(struct reader *r, const yaml_mark_t *m, const char *what)
{
	return dm_err_set(r->err, DM_EINVAL, "%s:%zu:%zu: %s", r->filename, m->line + 1,
	                  m->column + 1, what);
}

static int next(struct reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->parser, ev))
		return 0;
	const yaml_mark_t *m = &r->parser.problem_mark;
	return dm_err_set(r->err, DM_EINVAL, "%s:%zu:%zu: %s%s%s", r->filename, m->line + 1,
	                  m->column + 1, r->parser.problem ? r->parser.problem : "invalid YAML",
	                  r->parser.context ? " " : "", r->parser.context ? r->parser.context : "");
}

static int parse_int(const char *s, int64_t *out)
{
	int base = 10;
	const char *p = s;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	}
	if (*p == '\0')
		return -1;
	for (const char *q = p; *q; q++) {
		int ok = base == 16
		                 ? (q[0] >= '0' && q[0] <= '9') || (q[0] >= 'a' && q[0] <= 'f') ||
		                           (q[0] >= 'A' && q[0] <= 'F')
		                 : (q[0] >= '0' && q[0] <= (base == 8 ? '7' : '9'));
		if (!ok)
			return -1;
	}
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, base);
	if (errno == ERANGE || *end != '\0' || v > (unsigned long long)INT64_MAX + (neg ? 1u : 0u))
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_float(const char *s, double *out)
{
	if (!strcasecmp(s, ".inf") || !strcasecmp(s, "+.inf")) {
		*out = INFINITY;
		return 0;
	}
	if (!strcasecmp(s, "-.inf")) {
		*out = -INFINITY;
		return 0;
	}
	if (!strcasecmp(s, ".nan")) {
		*out = NAN;
		return 0;
	}
	/* Only plain decimal forms: strtod would also take "infinity", hex... */
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	int digits = 0;
	for (const char *q = p; *q; q++) {
		if (*q >= '0' && *q <= '9')
			digits++;
		else if (!strchr(".eE+-", *q))
			return -1;
	}
	if (!digits)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

static dm_node *scalar(const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	dm_node *n;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	int64_t i;
	double f;
	if (plain && (len == 0 || !strcmp(text, "~") || !strcasecmp(text, "null"))) {
		n = dm_tree_new(DM_NODE_NULL, line, col);
	} else if (plain && (!strcasecmp(text, "true") || !strcasecmp(text, "false"))) {
		n = dm_tree_new(DM_NODE_BOOL, line, col);
		n->b = !strcasecmp(text, "true");
	} else if (plain && parse_int(text, &i) == 0) {
		n = dm_tree_new(DM_NODE_INTEGER, line, col);
		n->i = i;
	} else if (plain && parse_float(text, &f) == 0) {
		n = dm_tree_new(DM_NODE_FLOAT, line, col);
		n->f = f;
	} else {
		n = dm_tree_new(DM_NODE_STRING, line, col);
	}
	n->str = dm_xstrndup(text, len);
	n->len = len;
	return n;
}

static int parse_node(struct reader *r, yaml_event_t *ev, dm_node **ret);

static int parse_mapping(struct reader *r, dm_node *table)
{
	for (;;) {
		yaml_event_t kev;
		if (next(r, &kev) < 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			fail_at(r, &kev.start_mark, "only plain keys are supported in mappings");
			yaml_event_delete(&kev);
			return -1;
		}
		char *key =
		        dm_xstrndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
		if (dm_tree_get(table, key)) {
			dm_err_set(r->err, DM_EINVAL, "%s:%zu:%zu: duplicate key \"%s\"",
			           r->filename, kev.start_mark.line + 1, kev.start_mark.column + 1,
			           key);
			free(key);
			yaml_event_delete(&kev);
			return -1;
		}
		yaml_event_delete(&kev);
		yaml_event_t vev;
		dm_node *val = NULL;
		if (next(r, &vev) < 0 || parse_node(r, &vev, &val) < 0) {
			free(key);
			return -1;
		}
		dm_tree_add(table, key, val);
		free(key);
	}
}

static int parse_sequence(struct reader *r, dm_node *arr)
{
	for (;;) {
		yaml_event_t ev;
		if (next(r, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		dm_node *val = NULL;
		if (parse_node(r, &ev, &val) < 0)
			return -1;
		dm_tree_add(arr, NULL, val);
	}
}

/* Consumes ev (deletes it) and the events of the node it starts. */
static int parse_node(struct reader *r, yaml_event_t *ev, dm_node **ret)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	int rc = 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT: *ret = scalar(ev); break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT: {
		int is_map = ev->type == YAML_MAPPING_START_EVENT;
		if (++r->depth > MAX_DEPTH) {
			rc = fail_at(r, &ev->start_mark, "nesting deeper than 64 levels");
			break;
		}
		dm_node *n = dm_tree_new(is_map ? DM_NODE_TABLE : DM_NODE_ARRAY, line, col);
		rc = is_map ? parse_mapping(r, n) : parse_sequence(r, n);
		r->depth--;
		if (rc < 0)
			dm_tree_free(n);
		else
			*ret = n;
		break;
	}
	case YAML_ALIAS_EVENT:
		rc = fail_at(r, &ev->start_mark,
		             "YAML aliases (*name) are not supported; write the value out");
		break;
	default: rc = fail_at(r, &ev->start_mark, "unexpected YAML event"); break;
	}
	yaml_event_delete(ev);
	return rc;
}

int dm_yaml_parse(const char *text, size_t len, const char *filename, dm_node **ret_root,
                  dm_err *err)
{
	struct reader r = {.filename = filename ? filename : "<yaml>", .err = err};
	if (!yaml_parser_initialize(&r.parser))
		return dm_err_set(err, DM_EINTERNAL, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
	dm_node *root = NULL;
	int rc = -1;
	yaml_event_t ev;
	/* STREAM-START, then DOCUMENT-START or STREAM-END (empty file). */
	if (next(&r, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next(&r, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		root = dm_tree_new(DM_NODE_TABLE, 1, 1);
		rc = 0;
		goto out;
	}
	yaml_event_delete(&ev);
	if (next(&r, &ev) < 0)
		goto out;
	if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
	    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		yaml_event_delete(&ev);
		root = dm_tree_new(DM_NODE_TABLE, 1, 1);
	} else if (ev.type != YAML_MAPPING_START_EVENT) {
		fail_at(&r, &ev.start_mark, "the document must be a mapping of keys to values");
		yaml_event_delete(&ev);
		goto out;
	} else if (parse_node(&r, &ev, &root) < 0) {
		goto out;
	}
	if (next(&r, &ev) < 0) /* DOCUMENT-END */
		goto out;
	yaml_event_delete(&ev);
	if (next(&r, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		fail_at(&r, &ev.start_mark, "only one YAML document per file is supported");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	rc = 0;
out:
	yaml_parser_delete(&r.parser);
	if (rc < 0) {
		dm_tree_free(root);
		return -1;
	}
	*ret_root = root;
	return 0;
}
