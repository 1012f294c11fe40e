#include "migrate/defer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "config/bind.h"
#include "mysql/conn.h"
#include "mysql/sql.h"

void dm_defer_init(dm_defer *d)
{
	memset(d, 0, sizeof(*d));
}

void dm_defer_fini(dm_defer *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].name);
		free(d->items[i].clause);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

void dm_defer_add(dm_defer *d, const char *name, const char *clause)
{
	d->items = dm_xrealloc(d->items, (d->n + 1) * sizeof(*d->items));
	d->items[d->n++] = (dm_defer_index){dm_xstrdup(name), dm_xstrdup(clause)};
}

/* ---- reading SHOW CREATE TABLE ----------------------------------------- */

/* The backquoted name at s (a backquote inside is doubled), unquoted and
 * malloc'd; *end is set past it. NULL when s holds no such name. */
static char *take_ident(const char *s, const char **end)
{
	if (*s != '`')
		return NULL;
	dm_buf b;
	dm_buf_init(&b);
	for (s++; *s; s++) {
		if (*s == '`' && s[1] == '`') {
			dm_buf_putc(&b, '`');
			s++;
		} else if (*s == '`') {
			*end = s + 1;
			dm_buf_putc(&b, '\0');
			return dm_buf_detach(&b);
		} else {
			dm_buf_putc(&b, *s);
		}
	}
	dm_buf_fini(&b);
	return NULL;
}

typedef struct line {
	const char *s;
	size_t len; /* without the separating comma */
} line;

static bool line_starts(const line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

static bool line_has(const line *l, const char *what)
{
	size_t n = strlen(what);
	for (size_t i = 0; i + n <= l->len; i++)
		if (memcmp(l->s + i, what, n) == 0)
			return true;
	return false;
}

/* For "  KEY `name` (`col`...": its name and first column (NULL for an
 * expression), malloc'd. False when the line is not a plain KEY. */
static bool plain_key(const line *l, char **name, char **first_col)
{
	*name = *first_col = NULL;
	if (!line_starts(l, "  KEY `"))
		return false;
	const char *end;
	char *n = take_ident(l->s + 6, &end);
	if (n == NULL || strncmp(end, " (", 2) != 0) {
		free(n);
		return false;
	}
	*name = n;
	*first_col = take_ident(end + 2, &end);
	return true;
}

void dm_defer_split(const char *def, char **body, dm_defer *d)
{
	*body = NULL;
	/* definitions sit one per line between "(\n" and "\n)"; SHOW CREATE
	 * escapes newlines inside names, comments and defaults */
	const char *paren = def + strspn(def, " ");
	const char *close = strncmp(paren, "(\n", 2) == 0 ? strstr(paren, "\n)") : NULL;
	if (close == NULL || strstr(close, "ENGINE=InnoDB") == NULL) {
		*body = dm_xstrdup(def);
		return;
	}
	size_t n = 0, cap = 16;
	line *lines = dm_xcalloc(cap, sizeof(*lines));
	for (const char *s = paren + 2; s < close;) {
		const char *nl = memchr(s, '\n', (size_t)(close - s));
		const char *e = nl ? nl : close;
		if (n == cap)
			lines = dm_xrealloc(lines, (cap *= 2) * sizeof(*lines));
		lines[n++] = (line){s, (size_t)(e - s) - (e > s && e[-1] == ',')};
		s = nl ? nl + 1 : close;
	}
	/* an AUTO_INCREMENT column must lead some key when the table is made */
	char *auto_col = NULL;
	bool fk = false;
	for (size_t i = 0; i < n; i++) {
		fk |= line_has(&lines[i], "FOREIGN KEY");
		const char *end;
		if (auto_col == NULL && line_starts(&lines[i], "  `") &&
		    line_has(&lines[i], " AUTO_INCREMENT"))
			auto_col = take_ident(lines[i].s + 2, &end);
	}
	bool *put_off = dm_xcalloc(n + 1, sizeof(*put_off));
	size_t before = d->n;
	for (size_t i = 0; i < n && !fk; i++) {
		char *name, *col;
		if (!plain_key(&lines[i], &name, &col))
			continue;
		if (auto_col == NULL || col == NULL || strcasecmp(col, auto_col) != 0) {
			char *clause = dm_xstrndup(lines[i].s + 2, lines[i].len - 2);
			dm_defer_add(d, name, clause);
			free(clause);
			put_off[i] = true;
		}
		free(name);
		free(col);
	}
	if (d->n == before) {
		*body = dm_xstrdup(def);
	} else {
		dm_buf b;
		dm_buf_init(&b);
		dm_buf_append(&b, def, (size_t)(paren + 2 - def));
		bool first = true;
		for (size_t i = 0; i < n; i++) {
			if (put_off[i])
				continue;
			if (!first)
				dm_buf_puts(&b, ",\n");
			dm_buf_append(&b, lines[i].s, lines[i].len);
			first = false;
		}
		dm_buf_puts(&b, close);
		*body = dm_buf_detach(&b);
	}
	free(put_off);
	free(auto_col);
	free(lines);
}

/* ---- adding them --------------------------------------------------------- */

static void where_table(dm_buf *b, const dm_ckpt *c, const char *tschema, const char *tname)
{
	dm_buf_puts(b, " WHERE source_id = ");
	dm_sql_string(b, c->source);
	dm_buf_puts(b, " AND target_schema = ");
	dm_sql_string(b, tschema);
	dm_buf_puts(b, " AND target_table = ");
	dm_sql_string(b, tname);
}

static int pending(const dm_ckpt *c, MYSQL *target, const char *tschema, const char *tname,
                   dm_defer *out, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "SELECT index_name, clause FROM %s", c->index_table);
	where_table(&b, c, tschema, tname);
	dm_buf_puts(&b, " ORDER BY seq");
	MYSQL_RES *res;
	int rc = dm_mysql_store(target, b.data, &res, err);
	dm_buf_fini(&b);
	if (rc < 0)
		return -1;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL)
		dm_defer_add(out, row[0], row[1]);
	mysql_free_result(res);
	return 0;
}

/* The index names the target table has now. */
static int existing(MYSQL *target, const char *tschema, const char *tname, dm_strlist *names,
                    dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_puts(&b, "SELECT DISTINCT index_name FROM information_schema.STATISTICS "
	                "WHERE table_schema = ");
	dm_sql_string(&b, tschema);
	dm_buf_puts(&b, " AND table_name = ");
	dm_sql_string(&b, tname);
	MYSQL_RES *res;
	int rc = dm_mysql_store(target, b.data, &res, err);
	dm_buf_fini(&b);
	if (rc < 0)
		return -1;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL)
		dm_strlist_add(names, row[0]);
	mysql_free_result(res);
	return 0;
}

static bool listed(const dm_strlist *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (strcasecmp(names->items[i], name) == 0) /* index names ignore case */
			return true;
	return false;
}

int dm_defer_apply(const dm_ckpt *c, MYSQL *target, const char *tschema, const char *tname,
                   dm_log *log, dm_err *err)
{
	dm_defer want;
	dm_defer_init(&want);
	dm_strlist have = {0};
	dm_buf q;
	dm_buf_init(&q);
	int rc = pending(c, target, tschema, tname, &want, err);
	if (rc == 0 && want.n > 0)
		rc = existing(target, tschema, tname, &have, err);
	size_t adding = 0;
	if (rc == 0 && want.n > 0) {
		dm_buf_puts(&q, "ALTER TABLE ");
		dm_sql_table(&q, tschema, tname);
		for (size_t i = 0; i < want.n; i++) {
			if (listed(&have, want.items[i].name))
				continue;
			dm_buf_puts(&q, adding++ ? ", ADD " : " ADD ");
			dm_buf_puts(&q, want.items[i].clause);
		}
	}
	if (rc == 0 && adding > 0) {
		dm_log_info(log, "adding %zu deferred index%s to `%s`.`%s`", adding,
		            adding > 1 ? "es" : "", tschema, tname);
		int64_t t0 = dm_clock_mono_ms();
		rc = dm_mysql_query(target, q.data, err);
		if (rc < 0)
			dm_err_prefix(err,
			              "adding the deferred indexes of `%s`.`%s` (the copy "
			              "can be resumed to try again)",
			              tschema, tname);
		else
			dm_log_info(log, "indexes of `%s`.`%s` added in %.1f s", tschema, tname,
			            (double)(dm_clock_mono_ms() - t0) / 1000.0);
	}
	if (rc == 0 && want.n > 0) {
		dm_buf_reset(&q);
		dm_buf_printf(&q, "DELETE FROM %s", c->index_table);
		where_table(&q, c, tschema, tname);
		rc = dm_mysql_query(target, q.data, err);
	}
	dm_buf_fini(&q);
	dm_strlist_fini(&have);
	dm_defer_fini(&want);
	return rc;
}

int dm_defer_record(const dm_ckpt *c, MYSQL *target, const char *tschema, const char *tname,
                    const dm_defer *d, dm_err *err)
{
	if (d->n == 0)
		return 0;
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "DELETE FROM %s", c->index_table);
	where_table(&b, c, tschema, tname);
	int rc = dm_mysql_query(target, b.data, err);
	dm_buf_reset(&b);
	dm_buf_printf(&b,
	              "INSERT INTO %s (source_id, target_schema, target_table, seq, index_name, "
	              "clause) VALUES ",
	              c->index_table);
	for (size_t i = 0; i < d->n; i++) {
		dm_buf_puts(&b, i ? ", (" : "(");
		dm_sql_string(&b, c->source);
		dm_buf_putc(&b, ',');
		dm_sql_string(&b, tschema);
		dm_buf_putc(&b, ',');
		dm_sql_string(&b, tname);
		dm_buf_printf(&b, ",%zu,", i);
		dm_sql_string(&b, d->items[i].name);
		dm_buf_putc(&b, ',');
		dm_sql_hex(&b, d->items[i].clause, strlen(d->items[i].clause));
		dm_buf_putc(&b, ')');
	}
	if (rc == 0)
		rc = dm_mysql_query(target, b.data, err);
	dm_buf_fini(&b);
	return rc;
}
