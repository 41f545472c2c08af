/* catalog.c - what the cluster holds, in SQLite. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "catalog.h"
#include "xalloc.h"
#include "banned.h"

struct catalog {
	sqlite3 *db;
	char *path;
};

/*
 * Migrations: migrations[i] takes the schema from version i to i + 1.
 * A released migration is never changed; a new schema version appends
 * one. docs/catalog.md describes the current schema.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE captures ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  source TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  digest_algo TEXT NOT NULL,"
	"  chunk_size INTEGER NOT NULL,"
	"  replicas INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  source_size INTEGER NOT NULL,"
	"  source_mtime INTEGER NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE chunks ("
	"  id INTEGER PRIMARY KEY,"
	"  capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  file TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  first_time TEXT NOT NULL,"
	"  last_time TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  UNIQUE (capture_id, seq));"
	"CREATE TABLE workers ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  added_at INTEGER NOT NULL,"
	"  cores INTEGER);"
	"CREATE TABLE placements ("
	"  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
	"  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,"
	"  digest TEXT NOT NULL,"
	"  placed_at INTEGER NOT NULL,"
	"  PRIMARY KEY (chunk_id, worker_id));"
	"CREATE INDEX placements_worker ON placements(worker_id);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,"
	"  command TEXT NOT NULL,"
	"  started_ms INTEGER NOT NULL,"
	"  finished_ms INTEGER,"
	"  status INTEGER);"
	"CREATE TABLE run_workers ("
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,"
	"  chunks INTEGER NOT NULL,"
	"  completion_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (run_id, worker_id));"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
	"  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,"
	"  started_ms INTEGER NOT NULL,"
	"  wall_ms INTEGER NOT NULL,"
	"  exit_status INTEGER NOT NULL,"
	"  bytes_out INTEGER NOT NULL);"
	"CREATE INDEX jobs_run ON jobs(run_id);"
	"CREATE TABLE moves ("
	"  id INTEGER PRIMARY KEY,"
	"  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
	"  from_worker INTEGER REFERENCES workers(id) ON DELETE SET NULL,"
	"  to_worker INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,"
	"  state TEXT NOT NULL CHECK (state IN ('planned', 'copied',"
	"    'verified', 'committed', 'deleted', 'rolled-back')),"
	"  planned_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);",

	/* 1 -> 2: cuts of hot chunks into parts */
	"CREATE TABLE cuts ("
	"  id INTEGER PRIMARY KEY,"
	"  capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,"
	"  file TEXT NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  parts INTEGER NOT NULL,"
	"  workers TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('planned', 'committed',"
	"    'done', 'rolled-back')),"
	"  planned_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX cuts_capture ON cuts(capture_id, file);",
	/* 2 -> 3: how a capture's packets are put into chunks */
	"ALTER TABLE captures ADD COLUMN layout TEXT NOT NULL DEFAULT 'time'"
	"  CHECK (layout IN ('time', 'flow'));"
	"ALTER TABLE captures ADD COLUMN flows INTEGER;"
	"ALTER TABLE captures ADD COLUMN cut_flows INTEGER;",
	/* 3 -> 4: the flow layout's groups of chunks */
	"ALTER TABLE chunks ADD COLUMN flow_part INTEGER NOT NULL DEFAULT 0;",
	/* 4 -> 5: a chunk's earliest and latest time stamps ('' unknown) */
	"ALTER TABLE chunks ADD COLUMN min_time TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE chunks ADD COLUMN max_time TEXT NOT NULL DEFAULT '';"
	/* ... and the chunks a run was told to take ('' all) */
	"ALTER TABLE runs ADD COLUMN selection TEXT NOT NULL DEFAULT '';"
	/* ... and the files of a capture made of many */
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  capture_id INTEGER NOT NULL REFERENCES captures(id)"
	"    ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  prefix TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  mtime INTEGER NOT NULL,"
	"  format TEXT NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  min_time TEXT NOT NULL,"
	"  max_time TEXT NOT NULL,"
	"  chunks INTEGER NOT NULL,"
	"  UNIQUE (capture_id, path),"
	"  UNIQUE (capture_id, prefix));"
	/* ... chunks found by name (catalog_chunks_replace): thousands */
	"CREATE INDEX chunks_file ON chunks(capture_id, file);"
	/* ... and a run's jobs kept when their chunk goes (a cut, a
	 * re-add): history does not change */
	"CREATE TABLE jobs_kept ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  chunk_id INTEGER REFERENCES chunks(id) ON DELETE SET NULL,"
	"  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,"
	"  started_ms INTEGER NOT NULL,"
	"  wall_ms INTEGER NOT NULL,"
	"  exit_status INTEGER NOT NULL,"
	"  bytes_out INTEGER NOT NULL);"
	"INSERT INTO jobs_kept SELECT * FROM jobs;"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs_kept RENAME TO jobs;"
	"CREATE INDEX jobs_run ON jobs(run_id);",

	/* 5 -> 6: what a run needs to be run again on the chunks it left
	 * (run --rerun): how the command read its chunks, its window, and
	 * those chunks - failed (their exit status) or not run (NULL) */
	"ALTER TABLE runs ADD COLUMN stdin INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE runs ADD COLUMN since TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN until TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE run_left ("
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  chunk_id INTEGER REFERENCES chunks(id) ON DELETE SET NULL,"
	"  exit_status INTEGER);"
	"CREATE INDEX run_left_run ON run_left(run_id);",
	/* 6 -> 7: packets that go back in time (NULL: not known) */
	"ALTER TABLE captures ADD COLUMN backwards INTEGER;",
};

static int
db_error(struct catalog *c, struct sc_err *e, const char *what)
{
	return sc_err_set(e, SC_ERR_CATALOG, "catalog '%s': %s: %s", c->path,
	    what, sqlite3_errmsg(c->db));
}

/* Runs SQL without results. */
static int
exec(struct catalog *c, const char *sql, struct sc_err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = sc_err_set(e, SC_ERR_CATALOG, "catalog '%s': %s",
		    c->path, msg ? msg : "failed");

		sqlite3_free(msg);
		return r;
	}
	return 0;
}

/*
 * Prepares sql and binds its parameters, described by types: 't' text,
 * 'i' int64_t, 'u' uint64_t (stored as int64), 'n' int64_t that is NULL
 * when negative. Returns NULL on failure with e filled in.
 */
static sqlite3_stmt *
prepare(struct catalog *c, struct sc_err *e, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(c, e, "cannot prepare a statement");
		return NULL;
	}
	va_start(ap, types);
	for (i = 0; types[i]; i++) {
		int rc;

		switch (types[i]) {
		case 't':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *),
			    -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'n': {
			int64_t v = va_arg(ap, int64_t);

			rc = v < 0 ? sqlite3_bind_null(st, i + 1) :
			    sqlite3_bind_int64(st, i + 1, v);
			break;
		}
		default:
			rc = sqlite3_bind_int64(st, i + 1,
			    (int64_t)va_arg(ap, uint64_t));
			break;
		}
		if (rc != SQLITE_OK) {
			va_end(ap);
			db_error(c, e, "cannot bind a value");
			sqlite3_finalize(st);
			return NULL;
		}
	}
	va_end(ap);
	return st;
}

/* Steps a statement without results to its end and finalizes it. */
static int
run(struct catalog *c, sqlite3_stmt *st, struct sc_err *e)
{
	int rc;

	if (st == NULL)
		return SC_ERR_CATALOG;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(c, e, "cannot write");
	return 0;
}

static void
copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

/* A text column of any length, malloc'd ("" for NULL). */
static char *
dup_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return xstrdup(t ? (const char *)t : "");
}

static int
schema_version(struct catalog *c)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(c->db,
	    "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;  /* no meta table: an empty file */
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
catalog_schema_version(struct catalog *c)
{
	return schema_version(c);
}

static int
migrate(struct catalog *c, struct sc_err *e)
{
	int v, r;
	char sql[128];

	if ((r = exec(c, "BEGIN IMMEDIATE", e)) != 0)
		return r;
	v = schema_version(c);
	if (v > CATALOG_SCHEMA_VERSION) {
		catalog_rollback(c);
		return sc_err_set(e, SC_ERR_CATALOG, "catalog '%s' has schema "
		    "version %d; this shardcap knows up to %d: upgrade shardcap",
		    c->path, v, CATALOG_SCHEMA_VERSION);
	}
	for (; v < CATALOG_SCHEMA_VERSION; v++) {
		if ((r = exec(c, migrations[v], e)) != 0) {
			catalog_rollback(c);
			return r;
		}
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta "
		    "VALUES ('schema_version', '%d')", v + 1);
		if ((r = exec(c, sql, e)) != 0) {
			catalog_rollback(c);
			return r;
		}
	}
	return exec(c, "COMMIT", e);
}

int
catalog_open(struct catalog **out, const char *path, struct sc_err *e)
{
	struct catalog *c = xcalloc(1, sizeof(*c));
	int r;

	c->path = xstrdup(path);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = db_error(c, e, "cannot open");
		catalog_close(c);
		return r;
	}
	/* Writers wait for each other; readers never block (WAL). */
	sqlite3_busy_timeout(c->db, 30000);
	if ((r = exec(c, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", e)) != 0 ||
	    (r = migrate(c, e)) != 0) {
		catalog_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void
catalog_close(struct catalog *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}

int
catalog_begin(struct catalog *c, struct sc_err *e)
{
	return exec(c, "BEGIN IMMEDIATE", e);
}

int
catalog_commit(struct catalog *c, struct sc_err *e)
{
	return exec(c, "COMMIT", e);
}

void
catalog_rollback(struct catalog *c)
{
	(void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- workers --- */

int
catalog_worker_ensure(struct catalog *c, const char *name, int64_t *id,
    struct sc_err *e)
{
	sqlite3_stmt *st;
	int r;

	r = run(c, prepare(c, e, "INSERT OR IGNORE INTO workers (name, "
	    "added_at) VALUES (?, ?)", "ti", name, (int64_t)time(NULL)), e);
	if (r != 0)
		return r;
	if ((st = prepare(c, e, "SELECT id FROM workers WHERE name = ?", "t",
	    name)) == NULL)
		return SC_ERR_CATALOG;
	r = sqlite3_step(st) == SQLITE_ROW ? 0 : db_error(c, e, "no worker row");
	if (r == 0)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r;
}

int
catalog_worker_delete(struct catalog *c, const char *name, struct sc_err *e)
{
	return run(c, prepare(c, e, "DELETE FROM workers WHERE name = ?", "t",
	    name), e);
}

/* Reads every row of st (finalizing it) with read, into a new array of
 * elements of size bytes each, zeroed before they are read. */
typedef void (*row_reader)(sqlite3_stmt *st, void *row);

static int
collect(struct catalog *c, sqlite3_stmt *st, size_t size, row_reader read,
    void **list, size_t *n, const char *what, struct sc_err *e)
{
	char *v = NULL;
	size_t alloc = 0;
	int rc;

	*list = NULL;
	*n = 0;
	if (st == NULL)
		return SC_ERR_CATALOG;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n + 1 > alloc) {
			alloc = alloc < 8 ? 8 : alloc * 2;
			v = xreallocarray(v, alloc, size);
		}
		memset(v + *n * size, 0, size);
		read(st, v + *n * size);
		(*n)++;
	}
	sqlite3_finalize(st);
	*list = v;
	return rc == SQLITE_DONE ? 0 : db_error(c, e, what);
}

static void
read_worker(sqlite3_stmt *st, void *row)
{
	struct cat_worker *w = row;

	w->id = sqlite3_column_int64(st, 0);
	copy_text(w->name, sizeof(w->name), st, 1);
	w->chunks = (uint64_t)sqlite3_column_int64(st, 2);
	w->bytes = (uint64_t)sqlite3_column_int64(st, 3);
}

int
catalog_workers(struct catalog *c, struct cat_worker **list, size_t *n,
    struct sc_err *e)
{
	void *v;
	int r;

	/* Only current copies count: a placement whose digest is not its
	 * chunk's any more describes an outdated file. */
	r = collect(c, prepare(c, e,
	    "SELECT w.id, w.name, count(ch.id), coalesce(sum(ch.bytes), 0) "
	    "FROM workers w LEFT JOIN placements p ON p.worker_id = w.id "
	    "LEFT JOIN chunks ch ON ch.id = p.chunk_id AND ch.digest = p.digest "
	    "GROUP BY w.id ORDER BY w.name", ""), sizeof(**list), read_worker,
	    &v, n, "cannot list workers", e);
	*list = v;
	return r;
}

/* --- captures --- */

#define CAPTURE_COLUMNS "id, name, source, format, digest_algo, chunk_size, " \
	"replicas, packets, bytes, source_size, source_mtime, added_at, " \
	"updated_at, layout, flows, cut_flows, backwards"

static void
read_capture(sqlite3_stmt *st, struct cat_capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->id = sqlite3_column_int64(st, 0);
	copy_text(cap->name, sizeof(cap->name), st, 1);
	copy_text(cap->source, sizeof(cap->source), st, 2);
	copy_text(cap->format, sizeof(cap->format), st, 3);
	copy_text(cap->digest_algo, sizeof(cap->digest_algo), st, 4);
	cap->chunk_size = (uint64_t)sqlite3_column_int64(st, 5);
	cap->replicas = (unsigned)sqlite3_column_int(st, 6);
	cap->packets = (uint64_t)sqlite3_column_int64(st, 7);
	cap->bytes = (uint64_t)sqlite3_column_int64(st, 8);
	cap->source_size = (uint64_t)sqlite3_column_int64(st, 9);
	cap->source_mtime = sqlite3_column_int64(st, 10);
	cap->added_at = sqlite3_column_int64(st, 11);
	cap->updated_at = sqlite3_column_int64(st, 12);
	copy_text(cap->layout, sizeof(cap->layout), st, 13);
	cap->flows = sqlite3_column_type(st, 14) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 14);
	cap->cut_flows = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 15);
	cap->backwards = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 16);
}

int
catalog_capture_get(struct catalog *c, const char *name,
    struct cat_capture *out, struct sc_err *e)
{
	sqlite3_stmt *st = prepare(c, e, "SELECT " CAPTURE_COLUMNS
	    " FROM captures WHERE name = ?", "t", name);
	int rc, r = 0;

	if (st == NULL)
		return SC_ERR_CATALOG;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_capture(st, out);
	else if (rc == SQLITE_DONE)
		r = sc_err_set(e, SC_ERR_NOT_FOUND, "no capture '%s'", name);
	else
		r = db_error(c, e, "cannot read a capture");
	sqlite3_finalize(st);
	return r;
}

/* A capture's layout as the catalog keeps it: "time" unless said. */
static const char *
capture_layout(const struct cat_capture *cap)
{
	return cap->layout[0] != '\0' ? cap->layout : "time";
}

int
catalog_capture_save(struct catalog *c, struct cat_capture *cap,
    struct sc_err *e)
{
	int64_t now = (int64_t)time(NULL);
	struct cat_capture old;
	struct sc_err ignore;
	int r;

	if (catalog_capture_get(c, cap->name, &old, &ignore) == 0) {
		cap->id = old.id;
		cap->added_at = old.added_at;
		cap->updated_at = now;
		return run(c, prepare(c, e, "UPDATE captures SET source = ?, "
		    "format = ?, digest_algo = ?, chunk_size = ?, replicas = ?, "
		    "packets = ?, bytes = ?, source_size = ?, source_mtime = ?, "
		    "updated_at = ?, layout = ?, flows = ?, cut_flows = ?, "
		    "backwards = ? WHERE id = ?", "tttuuuuuiitnnni",
		    cap->source, cap->format, cap->digest_algo, cap->chunk_size,
		    (uint64_t)cap->replicas, cap->packets, cap->bytes,
		    cap->source_size, cap->source_mtime, now,
		    capture_layout(cap), cap->flows, cap->cut_flows,
		    cap->backwards, cap->id), e);
	}
	cap->added_at = cap->updated_at = now;
	r = run(c, prepare(c, e, "INSERT INTO captures (name, source, format, "
	    "digest_algo, chunk_size, replicas, packets, bytes, source_size, "
	    "source_mtime, added_at, updated_at, layout, flows, cut_flows, "
	    "backwards) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "ttttuuuuuiiitnnn", cap->name, cap->source, cap->format,
	    cap->digest_algo, cap->chunk_size, (uint64_t)cap->replicas,
	    cap->packets, cap->bytes, cap->source_size, cap->source_mtime, now,
	    now, capture_layout(cap), cap->flows, cap->cut_flows,
	    cap->backwards), e);
	if (r == 0)
		cap->id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int
catalog_capture_delete(struct catalog *c, int64_t id, struct sc_err *e)
{
	return run(c, prepare(c, e, "DELETE FROM captures WHERE id = ?", "i",
	    id), e);
}

static void
read_capture_row(sqlite3_stmt *st, void *row)
{
	read_capture(st, row);
}

int
catalog_captures(struct catalog *c, struct cat_capture **list, size_t *n,
    struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT " CAPTURE_COLUMNS
	    " FROM captures ORDER BY name", ""), sizeof(**list),
	    read_capture_row, &v, n, "cannot list captures", e);

	*list = v;
	return r;
}

/* --- sources --- */

static void
read_source(sqlite3_stmt *st, void *row)
{
	struct cat_source *src = row;

	src->path = dup_text(st, 0);
	copy_text(src->prefix, sizeof(src->prefix), st, 1);
	src->size = (uint64_t)sqlite3_column_int64(st, 2);
	src->mtime = sqlite3_column_int64(st, 3);
	copy_text(src->format, sizeof(src->format), st, 4);
	src->packets = (uint64_t)sqlite3_column_int64(st, 5);
	src->bytes = (uint64_t)sqlite3_column_int64(st, 6);
	copy_text(src->min_time, sizeof(src->min_time), st, 7);
	copy_text(src->max_time, sizeof(src->max_time), st, 8);
	src->chunks = (size_t)sqlite3_column_int64(st, 9);
}

int
catalog_sources(struct catalog *c, int64_t capture_id,
    struct cat_source **list, size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT path, prefix, size, mtime, "
	    "format, packets, bytes, min_time, max_time, chunks FROM sources "
	    "WHERE capture_id = ? ORDER BY id", "i", capture_id),
	    sizeof(**list), read_source, &v, n, "cannot list files", e);

	*list = v;
	return r;
}

void
catalog_sources_free(struct cat_source *list, size_t n)
{
	size_t i;

	for (i = 0; list != NULL && i < n; i++)
		free(list[i].path);
	free(list);
}

int
catalog_sources_replace(struct catalog *c, int64_t capture_id,
    const struct cat_source *list, size_t n, struct sc_err *e)
{
	size_t i;
	int r = run(c, prepare(c, e, "DELETE FROM sources WHERE capture_id = ?",
	    "i", capture_id), e);

	for (i = 0; i < n && r == 0; i++)
		r = run(c, prepare(c, e, "INSERT INTO sources (capture_id, path, "
		    "prefix, size, mtime, format, packets, bytes, min_time, "
		    "max_time, chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    "ittuituuttu", capture_id, list[i].path, list[i].prefix,
		    list[i].size, list[i].mtime, list[i].format, list[i].packets,
		    list[i].bytes, list[i].min_time, list[i].max_time,
		    (uint64_t)list[i].chunks), e);
	return r;
}

/* --- chunks --- */

static void
read_chunk(sqlite3_stmt *st, void *row)
{
	struct cat_chunk *ch = row;

	ch->id = sqlite3_column_int64(st, 0);
	ch->capture_id = sqlite3_column_int64(st, 8);
	ch->seq = (unsigned)sqlite3_column_int(st, 1);
	copy_text(ch->file, sizeof(ch->file), st, 2);
	ch->bytes = (uint64_t)sqlite3_column_int64(st, 3);
	ch->packets = (uint64_t)sqlite3_column_int64(st, 4);
	copy_text(ch->first_time, sizeof(ch->first_time), st, 5);
	copy_text(ch->last_time, sizeof(ch->last_time), st, 6);
	copy_text(ch->digest, sizeof(ch->digest), st, 7);
	ch->part = (unsigned)sqlite3_column_int(st, 9);
	copy_text(ch->min_time, sizeof(ch->min_time), st, 10);
	copy_text(ch->max_time, sizeof(ch->max_time), st, 11);
}

int
catalog_chunks(struct catalog *c, int64_t capture_id, struct cat_chunk **list,
    size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT id, seq, file, bytes, "
	    "packets, first_time, last_time, digest, capture_id, flow_part, "
	    "min_time, max_time FROM chunks WHERE capture_id = ? ORDER BY seq", "i", capture_id),
	    sizeof(**list), read_chunk, &v, n, "cannot list chunks", e);

	*list = v;
	return r;
}

/* The id of the chunk at seq. */
static int
chunk_id_at(struct catalog *c, int64_t capture_id, unsigned seq, int64_t *id,
    struct sc_err *e)
{
	sqlite3_stmt *st;
	int r;

	if ((st = prepare(c, e, "SELECT id FROM chunks WHERE capture_id = ? "
	    "AND seq = ?", "iu", capture_id, (uint64_t)seq)) == NULL)
		return SC_ERR_CATALOG;
	r = sqlite3_step(st) == SQLITE_ROW ? 0 : db_error(c, e, "no chunk row");
	if (r == 0)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r;
}

int
catalog_chunks_replace(struct catalog *c, int64_t capture_id,
    struct cat_chunk *list, size_t n, struct sc_err *e)
{
	size_t i;
	int r;

	/* out of the way of the new numbers; what is left over goes */
	if ((r = run(c, prepare(c, e, "UPDATE chunks SET seq = -seq WHERE "
	    "capture_id = ?", "i", capture_id), e)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		struct cat_chunk *ch = &list[i];

		ch->capture_id = capture_id;
		ch->seq = (unsigned)i + 1;
		r = run(c, prepare(c, e, "UPDATE chunks SET seq = ?, bytes = ?, "
		    "packets = ?, first_time = ?, last_time = ?, digest = ?, "
		    "flow_part = ?, min_time = ?, max_time = ? WHERE "
		    /* (+seq: found by file, chunks_file, not by the seq
		     * index, which would scan every row set aside) */
		    "capture_id = ? AND file = ? AND +seq < 0",
		    "uuutttuttit", (uint64_t)ch->seq, ch->bytes, ch->packets,
		    ch->first_time, ch->last_time, ch->digest, (uint64_t)ch->part,
		    ch->min_time, ch->max_time, capture_id, ch->file), e);
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = run(c, prepare(c, e, "INSERT INTO chunks (capture_id, "
			    "seq, file, bytes, packets, first_time, last_time, "
			    "digest, flow_part, min_time, max_time) VALUES (?, ?, "
			    "?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    "iutuutttutt", capture_id, (uint64_t)ch->seq, ch->file,
			    ch->bytes, ch->packets, ch->first_time, ch->last_time,
			    ch->digest, (uint64_t)ch->part, ch->min_time,
			    ch->max_time), e);
		if (r == 0)
			r = chunk_id_at(c, capture_id, ch->seq, &ch->id, e);
	}
	if (r == 0)
		r = run(c, prepare(c, e, "DELETE FROM chunks WHERE capture_id = ? "
		    "AND seq < 0", "i", capture_id), e);
	return r;
}

/* --- placements --- */

static void
read_placement(sqlite3_stmt *st, void *row)
{
	struct cat_placement *p = row;

	p->chunk_id = sqlite3_column_int64(st, 0);
	p->seq = (unsigned)sqlite3_column_int(st, 1);
	p->worker_id = sqlite3_column_int64(st, 2);
	copy_text(p->worker, sizeof(p->worker), st, 3);
	copy_text(p->digest, sizeof(p->digest), st, 4);
	p->current = sqlite3_column_int(st, 5);
}

int
catalog_placements(struct catalog *c, int64_t capture_id,
    struct cat_placement **list, size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT p.chunk_id, ch.seq, "
	    "p.worker_id, w.name, p.digest, p.digest = ch.digest "
	    "FROM placements p JOIN chunks ch ON ch.id = p.chunk_id "
	    "JOIN workers w ON w.id = p.worker_id WHERE ch.capture_id = ? "
	    "ORDER BY ch.seq, w.name", "i", capture_id), sizeof(**list),
	    read_placement, &v, n, "cannot list placements", e);

	*list = v;
	return r;
}

int
catalog_placement_set(struct catalog *c, int64_t chunk_id, int64_t worker_id,
    const char *digest, struct sc_err *e)
{
	return run(c, prepare(c, e, "INSERT OR REPLACE INTO placements "
	    "(chunk_id, worker_id, digest, placed_at) SELECT ?1, ?2, ?3, ?4 "
	    "WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?1)",
	    "iiti", chunk_id, worker_id, digest, (int64_t)time(NULL)), e);
}

int
catalog_placement_delete(struct catalog *c, int64_t chunk_id,
    int64_t worker_id, struct sc_err *e)
{
	return run(c, prepare(c, e, "DELETE FROM placements WHERE chunk_id = ? "
	    "AND worker_id = ?", "ii", chunk_id, worker_id), e);
}

/* --- runs --- */

int
catalog_run_add(struct catalog *c, int64_t capture_id, const char *command,
    const char *selection, int64_t started_ms, int64_t finished_ms,
    int status, int64_t *id, struct sc_err *e)
{
	return catalog_run_add_spec(c, capture_id, command, selection, 0, "",
	    "", started_ms, finished_ms, status, id, e);
}

int
catalog_run_add_spec(struct catalog *c, int64_t capture_id,
    const char *command, const char *selection, int use_stdin,
    const char *since, const char *until, int64_t started_ms,
    int64_t finished_ms, int status, int64_t *id, struct sc_err *e)
{
	int r = run(c, prepare(c, e, "INSERT INTO runs (capture_id, command, "
	    "selection, stdin, since, until, started_ms, finished_ms, status) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "ittittiii", capture_id,
	    command, selection, (int64_t)(use_stdin != 0), since, until,
	    started_ms, finished_ms, (int64_t)status), e);

	if (r == 0)
		*id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int
catalog_run_left_add(struct catalog *c, int64_t run_id, int64_t chunk_id,
    int exit_status, struct sc_err *e)
{
	return run(c, prepare(c, e, "INSERT INTO run_left (run_id, chunk_id, "
	    "exit_status) VALUES (?, ?, ?)", "iin", run_id, chunk_id,
	    (int64_t)exit_status), e);
}

static void
read_left(sqlite3_stmt *st, void *row)
{
	int64_t *id = row;

	*id = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, 0);
}

int
catalog_run_spec(struct catalog *c, int64_t run_id, struct cat_run_spec *s,
    struct sc_err *e)
{
	sqlite3_stmt *st = prepare(c, e, "SELECT cap.name, r.command, r.stdin, "
	    "r.since, r.until FROM runs r JOIN captures cap ON "
	    "cap.id = r.capture_id WHERE r.id = ?", "i", run_id);
	void *v;
	int rc, r;

	memset(s, 0, sizeof(*s));
	if (st == NULL)
		return SC_ERR_CATALOG;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(s->capture, sizeof(s->capture), st, 0);
		s->command = dup_text(st, 1);
		s->use_stdin = sqlite3_column_int(st, 2) != 0;
		copy_text(s->since, sizeof(s->since), st, 3);
		copy_text(s->until, sizeof(s->until), st, 4);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return sc_err_set(e, SC_ERR_NOT_FOUND, "no run %lld",
		    (long long)run_id);
	if (rc != SQLITE_ROW)
		return db_error(c, e, "cannot read a run");
	r = collect(c, prepare(c, e, "SELECT chunk_id FROM run_left WHERE "
	    "run_id = ? ORDER BY rowid", "i", run_id), sizeof(*s->left),
	    read_left, &v, &s->n_left, "cannot read a run's chunks", e);
	s->left = v;
	if (r != 0)
		catalog_run_spec_free(s);
	return r;
}

void
catalog_run_spec_free(struct cat_run_spec *s)
{
	free(s->command);
	free(s->left);
	memset(s, 0, sizeof(*s));
}

int
catalog_run_worker_add(struct catalog *c, int64_t run_id, int64_t worker_id,
    size_t chunks, int64_t completion_ms, struct sc_err *e)
{
	return run(c, prepare(c, e, "INSERT INTO run_workers (run_id, "
	    "worker_id, chunks, completion_ms) VALUES (?, ?, ?, ?)", "iiui",
	    run_id, worker_id, (uint64_t)chunks, completion_ms), e);
}

int
catalog_job_add(struct catalog *c, int64_t run_id, int64_t chunk_id,
    int64_t worker_id, int64_t started_ms, int64_t wall_ms, int exit_status,
    uint64_t bytes_out, struct sc_err *e)
{
	return run(c, prepare(c, e, "INSERT INTO jobs (run_id, chunk_id, "
	    "worker_id, started_ms, wall_ms, exit_status, bytes_out) SELECT "
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM chunks "
	    "WHERE id = ?2)", "iiiiiiu", run_id, chunk_id, worker_id,
	    started_ms, wall_ms, (int64_t)exit_status, bytes_out), e);
}

static void
read_run(sqlite3_stmt *st, void *row)
{
	struct cat_run *r = row;

	r->id = sqlite3_column_int64(st, 0);
	copy_text(r->capture, sizeof(r->capture), st, 1);
	copy_text(r->command, sizeof(r->command), st, 2);
	r->started_ms = sqlite3_column_int64(st, 3);
	r->finished_ms = sqlite3_column_int64(st, 4);
	r->status = sqlite3_column_int(st, 5);
	r->jobs = (size_t)sqlite3_column_int64(st, 6);
	copy_text(r->selection, sizeof(r->selection), st, 7);
	r->left = (size_t)sqlite3_column_int64(st, 8);
}

int
catalog_runs(struct catalog *c, const char *capture, size_t limit,
    int whole, struct cat_run **list, size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT r.id, cap.name, r.command, "
	    "r.started_ms, coalesce(r.finished_ms, 0), coalesce(r.status, -1), "
	    "(SELECT count(*) FROM jobs j WHERE j.run_id = r.id), r.selection, "
	    "(SELECT count(*) FROM run_left l WHERE l.run_id = r.id) "
	    "FROM runs r JOIN captures cap ON cap.id = r.capture_id "
	    "WHERE (?1 IS NULL OR cap.name = ?1) AND (?3 = 0 OR "
	    "r.selection = '') ORDER BY r.id DESC LIMIT ?2", "tuu", capture,
	    (uint64_t)limit, (uint64_t)(whole != 0)), sizeof(**list), read_run,
	    &v, n, "cannot list runs", e);

	*list = v;
	return r;
}

static void
read_run_worker(sqlite3_stmt *st, void *row)
{
	struct cat_run_worker *w = row;

	copy_text(w->worker, sizeof(w->worker), st, 0);
	w->chunks = (size_t)sqlite3_column_int64(st, 1);
	w->completion_ms = sqlite3_column_int64(st, 2);
	w->busy_ms = sqlite3_column_int64(st, 3);
}

int
catalog_run_workers(struct catalog *c, int64_t run_id,
    struct cat_run_worker **list, size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, "SELECT w.name, rw.chunks, "
	    "rw.completion_ms, (SELECT coalesce(sum(j.wall_ms), 0) FROM jobs j "
	    "WHERE j.run_id = rw.run_id AND j.worker_id = rw.worker_id) "
	    "FROM run_workers rw JOIN workers w ON w.id = rw.worker_id "
	    "WHERE rw.run_id = ? ORDER BY w.name", "i", run_id),
	    sizeof(**list), read_run_worker, &v, n, "cannot list a run", e);

	*list = v;
	return r;
}

static void
read_job(sqlite3_stmt *st, void *row)
{
	struct cat_job *j = row;

	j->run_id = sqlite3_column_int64(st, 0);
	j->chunk_id = sqlite3_column_int64(st, 1);
	j->worker_id = sqlite3_column_int64(st, 2);
	copy_text(j->worker, sizeof(j->worker), st, 3);
	j->started_ms = sqlite3_column_int64(st, 4);
	j->wall_ms = sqlite3_column_int64(st, 5);
	j->exit_status = sqlite3_column_int(st, 6);
}

static int
collect_jobs(struct catalog *c, sqlite3_stmt *st, struct cat_job **list,
    size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, st, sizeof(**list), read_job, &v, n,
	    "cannot list jobs", e);

	*list = v;
	return r;
}

#define JOB_COLUMNS "j.run_id, j.chunk_id, j.worker_id, w.name, " \
	"j.started_ms, j.wall_ms, j.exit_status "

int
catalog_jobs(struct catalog *c, int64_t run_id, struct cat_job **list,
    size_t *n, struct sc_err *e)
{
	return collect_jobs(c, prepare(c, e, "SELECT " JOB_COLUMNS
	    "FROM jobs j JOIN workers w ON w.id = j.worker_id "
	    "WHERE j.run_id = ? ORDER BY j.id", "i", run_id), list, n, e);
}

int
catalog_jobs_history(struct catalog *c, int64_t capture_id,
    int64_t run_id, size_t runs, struct cat_job **list, size_t *n,
    struct sc_err *e)
{
	/* the command compared in the database, whole: a cat_run holds
	 * only its start */
	return collect_jobs(c, prepare(c, e, "SELECT " JOB_COLUMNS
	    "FROM jobs j JOIN workers w ON w.id = j.worker_id "
	    "WHERE j.run_id IN (SELECT id FROM runs WHERE capture_id = ?1 "
	    "AND id <= ?2 AND selection = '' AND command = (SELECT command "
	    "FROM runs WHERE id = ?2) ORDER BY id DESC LIMIT ?3) ORDER BY j.id",
	    "iiu", capture_id, run_id, (uint64_t)runs), list, n, e);
}

int
catalog_move_add(struct catalog *c, int64_t chunk_id, int64_t from_worker,
    int64_t to_worker, int64_t *id, struct sc_err *e)
{
	int64_t now = (int64_t)time(NULL);
	int r = run(c, prepare(c, e, "INSERT INTO moves (chunk_id, "
	    "from_worker, to_worker, state, planned_at, updated_at) VALUES "
	    "(?, nullif(?, 0), ?, 'planned', ?, ?)", "iiiii", chunk_id, from_worker,
	    to_worker, now, now), e);

	if (r == 0)
		*id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int
catalog_move_state(struct catalog *c, int64_t id, const char *state,
    struct sc_err *e)
{
	return run(c, prepare(c, e, "UPDATE moves SET state = ?, updated_at = ? "
	    "WHERE id = ?", "tii", state, (int64_t)time(NULL), id), e);
}

static void
read_move(sqlite3_stmt *st, void *row)
{
	struct cat_move *m = row;

	m->id = sqlite3_column_int64(st, 0);
	m->chunk_id = sqlite3_column_int64(st, 1);
	copy_text(m->file, sizeof(m->file), st, 2);
	copy_text(m->capture, sizeof(m->capture), st, 3);
	m->from_id = sqlite3_column_int64(st, 4);
	copy_text(m->from, sizeof(m->from), st, 5);
	m->to_id = sqlite3_column_int64(st, 6);
	copy_text(m->to, sizeof(m->to), st, 7);
	copy_text(m->state, sizeof(m->state), st, 8);
	copy_text(m->digest, sizeof(m->digest), st, 9);
}

static int
collect_moves(struct catalog *c, sqlite3_stmt *st, struct cat_move **list,
    size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, st, sizeof(**list), read_move, &v, n,
	    "cannot list moves", e);

	*list = v;
	return r;
}

#define MOVE_QUERY "SELECT m.id, m.chunk_id, ch.file, cap.name, " \
	"coalesce(m.from_worker, 0), coalesce(wf.name, ''), m.to_worker, " \
	"wt.name, m.state, ch.digest FROM moves m " \
	"JOIN chunks ch ON ch.id = m.chunk_id " \
	"JOIN captures cap ON cap.id = ch.capture_id " \
	"LEFT JOIN workers wf ON wf.id = m.from_worker " \
	"JOIN workers wt ON wt.id = m.to_worker "

int
catalog_moves_open(struct catalog *c, struct cat_move **list, size_t *n,
    struct sc_err *e)
{
	return collect_moves(c, prepare(c, e, MOVE_QUERY "WHERE m.state IN "
	    "('planned', 'copied', 'verified', 'committed') "
	    "ORDER BY cap.name, m.id", ""),
	    list, n, e);
}

int
catalog_moves_last(struct catalog *c, int64_t capture_id,
    struct cat_move **list, size_t *n, struct sc_err *e)
{
	return collect_moves(c, prepare(c, e, MOVE_QUERY "WHERE m.id IN "
	    "(SELECT max(m2.id) FROM moves m2 JOIN chunks c2 ON "
	    "c2.id = m2.chunk_id WHERE c2.capture_id = ? AND m2.state <> "
	    "'rolled-back' GROUP BY m2.chunk_id) ORDER BY m.id", "i",
	    capture_id), list, n, e);
}

/* --- cuts --- */

int
catalog_cut_add(struct catalog *c, int64_t capture_id, const char *file,
    const char *digest, unsigned parts, const char *workers, int64_t *id,
    struct sc_err *e)
{
	int64_t now = (int64_t)time(NULL);
	int r = run(c, prepare(c, e, "INSERT INTO cuts (capture_id, file, "
	    "digest, parts, workers, state, planned_at, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, 'planned', ?, ?)", "ittutii", capture_id, file,
	    digest, (uint64_t)parts, workers, now, now), e);

	if (r == 0)
		*id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int
catalog_cut_state(struct catalog *c, int64_t id, const char *state,
    struct sc_err *e)
{
	return run(c, prepare(c, e, "UPDATE cuts SET state = ?, updated_at = ? "
	    "WHERE id = ?", "tii", state, (int64_t)time(NULL), id), e);
}

static void
read_cut(sqlite3_stmt *st, void *row)
{
	struct cat_cut *k = row;

	k->id = sqlite3_column_int64(st, 0);
	k->capture_id = sqlite3_column_int64(st, 1);
	copy_text(k->capture, sizeof(k->capture), st, 2);
	copy_text(k->file, sizeof(k->file), st, 3);
	copy_text(k->digest, sizeof(k->digest), st, 4);
	k->parts = (unsigned)sqlite3_column_int(st, 5);
	copy_text(k->state, sizeof(k->state), st, 6);
	copy_text(k->workers, sizeof(k->workers), st, 7);
}

#define CUT_QUERY "SELECT k.id, k.capture_id, cap.name, k.file, k.digest, " \
	"k.parts, k.state, k.workers FROM cuts k JOIN captures cap ON cap.id = " \
	"k.capture_id "

int
catalog_cuts_open(struct catalog *c, struct cat_cut **list, size_t *n,
    struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, CUT_QUERY "WHERE k.state IN "
	    "('planned', 'committed') ORDER BY k.id", ""), sizeof(**list),
	    read_cut, &v, n, "cannot list cuts", e);

	*list = v;
	return r;
}

int
catalog_cuts_done(struct catalog *c, int64_t capture_id,
    struct cat_cut **list, size_t *n, struct sc_err *e)
{
	void *v;
	int r = collect(c, prepare(c, e, CUT_QUERY "WHERE k.capture_id = ? "
	    "AND k.state = 'done' ORDER BY k.id", "i", capture_id),
	    sizeof(**list), read_cut, &v, n, "cannot list cuts", e);

	*list = v;
	return r;
}
