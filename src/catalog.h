/* catalog.h - what the cluster holds: captures, their chunks, workers, where
 * every chunk is placed, and (for queries and balancing) runs, jobs and
 * moves. One SQLite file in WAL mode; the schema and its versions are in
 * docs/catalog.md. This is the only module that includes sqlite3.h.
 *
 * Every function returns 0 or a negative code with e filled in
 * (SC_ERR_CATALOG for a database failure, SC_ERR_NOT_FOUND where a row is
 * asked for by name). Lists are allocated and freed with free(). */
#ifndef SHARDCAP_CATALOG_H
#define SHARDCAP_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CATALOG_SCHEMA_VERSION 7

struct catalog;

struct cat_capture {
	int64_t id;
	char name[72];
	char source[4096];      /* the file it was added from (a realpath:
	                         * PATH_MAX at most) */
	char format[8];         /* "pcap" or "pcapng" */
	char digest_algo[8];
	uint64_t chunk_size;
	unsigned replicas;
	uint64_t packets, bytes;
	uint64_t source_size;   /* of the file when it was last added */
	int64_t source_mtime;   /* nanoseconds */
	int64_t added_at, updated_at;   /* seconds since the epoch */
	char layout[8];         /* "time" or "flow" (split.h); "" as "time" */
	int64_t flows;          /* IP flows; -1: not known (added before) */
	int64_t cut_flows;      /* of them, in more than one chunk; -1 */
	int64_t backwards;      /* packets earlier than one before them in
	                         * the file (split_result); -1: not known */
};

/* A file of a capture made of many (shardcap add of several files or a
 * directory), in capture order: by the time of its first packet. */
struct cat_source {
	char *path;             /* a realpath (catalog_sources allocates
	                         * it: catalog_sources_free) */
	char prefix[72];        /* its chunks are PREFIX-000001.pcap, ... */
	uint64_t size;          /* of the file when it was last split */
	int64_t mtime;          /* nanoseconds */
	char format[8];
	uint64_t packets, bytes;
	char min_time[40], max_time[40];        /* RFC 3339, or "" */
	size_t chunks;
};

struct cat_chunk {
	int64_t id;
	int64_t capture_id;
	unsigned seq;           /* 1, 2, ... in capture order */
	char file[96];
	uint64_t bytes, packets;
	char first_time[40], last_time[40];     /* RFC 3339, or "" */
	char min_time[40], max_time[40];        /* earliest, latest; "" */
	char digest[72];
	/* The flow layout's groups (split_chunk.part): 0, or its place
	 * (1, 2, ...) among the consecutive chunks of its group */
	unsigned part;
};

struct cat_placement {
	int64_t chunk_id;
	unsigned seq;
	int64_t worker_id;
	char worker[72];
	char digest[72];        /* of the copy the worker holds */
	int current;            /* that digest is the chunk's digest */
};

struct cat_worker {
	int64_t id;
	char name[72];
	uint64_t chunks, bytes; /* current copies it holds */
};

struct cat_run {
	int64_t id;
	char capture[72];
	char command[1024];     /* its start, for showing: the catalog has
	                         * it whole */
	int64_t started_ms, finished_ms;  /* wall clock, ms since the epoch */
	int status;             /* 0 when every job succeeded */
	size_t jobs;
	char selection[256];    /* the chunks it was told to take ("--since
	                         * ... --chunks ..."), "" for all */
	size_t left;            /* chunks it left: failed or not run */
};

struct cat_run_worker {
	char worker[72];
	size_t chunks;
	int64_t completion_ms;  /* from the run's start */
	int64_t busy_ms;        /* sum of its jobs' wall times */
};

struct cat_job {
	int64_t run_id, chunk_id, worker_id;
	char worker[72];
	int64_t started_ms;     /* from the run's start */
	int64_t wall_ms;
	int exit_status;
};

/* A cut of a chunk into parts, journaled (docs/balance.md). */
struct cat_cut {
	int64_t id, capture_id;
	char capture[72];
	char file[96];          /* the chunk that was cut */
	char digest[72];        /* its digest */
	unsigned parts;         /* planned; the split may make fewer */
	char workers[2048];     /* the workers it copies to or removes from,
	                         * names separated by spaces; "*": all */
	char state[16];         /* planned committed done rolled-back */
};

/* A move of a chunk between workers, journaled (docs/balance.md). */
struct cat_move {
	int64_t id, chunk_id;
	char file[96];
	char capture[72];
	int64_t from_id, to_id; /* from_id 0: the worker is gone */
	char from[72], to[72];
	char state[16];         /* planned copied verified committed deleted
	                         * rolled-back */
	char digest[72];        /* the chunk's */
};

/* Opens (creating if needed, and migrating to the current schema) the
 * catalog at path. */
int catalog_open(struct catalog **out, const char *path, struct sc_err *e);
void catalog_close(struct catalog *c);
/* The schema version the file is at. */
int catalog_schema_version(struct catalog *c);

/* A write transaction (BEGIN IMMEDIATE). */
int catalog_begin(struct catalog *c, struct sc_err *e);
int catalog_commit(struct catalog *c, struct sc_err *e);
void catalog_rollback(struct catalog *c);

int catalog_worker_ensure(struct catalog *c, const char *name, int64_t *id,
    struct sc_err *e);
int catalog_worker_delete(struct catalog *c, const char *name,
    struct sc_err *e);
/* Every worker known to the catalog with what it holds, by name. */
int catalog_workers(struct catalog *c, struct cat_worker **list, size_t *n,
    struct sc_err *e);

int catalog_capture_get(struct catalog *c, const char *name,
    struct cat_capture *out, struct sc_err *e);
/* Inserts, or updates the capture of the same name; sets cap->id. */
int catalog_capture_save(struct catalog *c, struct cat_capture *cap,
    struct sc_err *e);
/* Deletes the capture with its chunks and their placements. */
int catalog_capture_delete(struct catalog *c, int64_t id, struct sc_err *e);
int catalog_captures(struct catalog *c, struct cat_capture **list, size_t *n,
    struct sc_err *e);

/* The files of a capture made of many, in capture order; none for a
 * capture of one file. */
int catalog_sources(struct catalog *c, int64_t capture_id,
    struct cat_source **list, size_t *n, struct sc_err *e);
void catalog_sources_free(struct cat_source *list, size_t n);
/* Sets them (inside the caller's transaction). */
int catalog_sources_replace(struct catalog *c, int64_t capture_id,
    const struct cat_source *list, size_t n, struct sc_err *e);

/* The chunks of a capture, by seq. */
int catalog_chunks(struct catalog *c, int64_t capture_id,
    struct cat_chunk **list, size_t *n, struct sc_err *e);
/* Makes list[0..n) the capture's chunks, in that order: seq becomes
 * 1..n; a chunk whose file the capture had keeps its row (its
 * placements, its run history) with the new seq and content, others are
 * inserted, and chunks not in the list are deleted with their
 * placements. Sets each one's id, capture_id and seq. Placements keep the
 * digest of the copy they describe, so a changed digest makes them stale
 * by itself. Within the caller's transaction. */
int catalog_chunks_replace(struct catalog *c, int64_t capture_id,
    struct cat_chunk *list, size_t n, struct sc_err *e);

/* The placements of a capture's chunks, by seq and worker name. */
int catalog_placements(struct catalog *c, int64_t capture_id,
    struct cat_placement **list, size_t *n, struct sc_err *e);
/* Records that worker holds a copy of chunk with this digest; nothing
 * when the chunk no longer exists (a query's record after a cut). */
int catalog_placement_set(struct catalog *c, int64_t chunk_id,
    int64_t worker_id, const char *digest, struct sc_err *e);
int catalog_placement_delete(struct catalog *c, int64_t chunk_id,
    int64_t worker_id, struct sc_err *e);

/* A run, the completion time of each worker in it, and every job (none
 * for a chunk cut while the run went on). selection: the chunks it was
 * told to take (cat_run.selection), "" for all. */
int catalog_run_add(struct catalog *c, int64_t capture_id,
    const char *command, const char *selection, int64_t started_ms,
    int64_t finished_ms, int status, int64_t *id, struct sc_err *e);
/* The same, with how the command read its chunks and the run's window
 * (RFC 3339, "" for no bound): what run --rerun needs. */
int catalog_run_add_spec(struct catalog *c, int64_t capture_id,
    const char *command, const char *selection, int use_stdin,
    const char *since, const char *until, int64_t started_ms,
    int64_t finished_ms, int status, int64_t *id, struct sc_err *e);
/* A chunk the run left: failed with exit_status, or not run (-1). */
int catalog_run_left_add(struct catalog *c, int64_t run_id, int64_t chunk_id,
    int exit_status, struct sc_err *e);

/* What a run was asked, to run it again on the chunks it left. */
struct cat_run_spec {
	char capture[72];
	char *command;          /* its words, each shell-quoted (shell_quote) */
	int use_stdin;
	char since[40], until[40];      /* its window; "" for no bound */
	int64_t *left;          /* the chunks it left: failed or not run; 0
	                         * for one gone since (a cut, a re-add) */
	size_t n_left;
};
/* Run run_id's spec; SC_ERR_NOT_FOUND when there is no such run. */
int catalog_run_spec(struct catalog *c, int64_t run_id, struct cat_run_spec *s,
    struct sc_err *e);
void catalog_run_spec_free(struct cat_run_spec *s);
int catalog_run_worker_add(struct catalog *c, int64_t run_id,
    int64_t worker_id, size_t chunks, int64_t completion_ms, struct sc_err *e);
int catalog_job_add(struct catalog *c, int64_t run_id, int64_t chunk_id,
    int64_t worker_id, int64_t started_ms, int64_t wall_ms, int exit_status,
    uint64_t bytes_out, struct sc_err *e);
/* The last limit runs (of capture, or of all when NULL), newest first;
 * with whole, only runs over every chunk (no selection). */
int catalog_runs(struct catalog *c, const char *capture, size_t limit,
    int whole, struct cat_run **list, size_t *n, struct sc_err *e);
/* The workers of a run, by name. */
int catalog_run_workers(struct catalog *c, int64_t run_id,
    struct cat_run_worker **list, size_t *n, struct sc_err *e);

/* The jobs of a run, in the order they were recorded. */
int catalog_jobs(struct catalog *c, int64_t run_id, struct cat_job **list,
    size_t *n, struct sc_err *e);
/* The jobs of the last `runs` runs of a capture over every chunk, up to
 * run run_id, with exactly run_id's command (compared whole, however
 * long). */
int catalog_jobs_history(struct catalog *c, int64_t capture_id,
    int64_t run_id, size_t runs, struct cat_job **list, size_t *n,
    struct sc_err *e);

/* Journals a move as planned; sets *id. from_worker 0: a copy from the
 * store that replaces nothing (a repair). */
int catalog_move_add(struct catalog *c, int64_t chunk_id, int64_t from_worker,
    int64_t to_worker, int64_t *id, struct sc_err *e);
int catalog_move_state(struct catalog *c, int64_t id, const char *state,
    struct sc_err *e);
/* The moves not finished: planned, copied, verified or committed; by
 * capture, then in the order they were planned. */
int catalog_moves_open(struct catalog *c, struct cat_move **list, size_t *n,
    struct sc_err *e);
/* For each chunk of a capture that ever moved, its last move that was not
 * rolled back. */
int catalog_moves_last(struct catalog *c, int64_t capture_id,
    struct cat_move **list, size_t *n, struct sc_err *e);

/* Journals a cut of chunk file (of this digest) into parts as planned. */
int catalog_cut_add(struct catalog *c, int64_t capture_id, const char *file,
    const char *digest, unsigned parts, const char *workers, int64_t *id,
    struct sc_err *e);
int catalog_cut_state(struct catalog *c, int64_t id, const char *state,
    struct sc_err *e);
/* The cuts not finished (planned or committed), in the order planned. */
int catalog_cuts_open(struct catalog *c, struct cat_cut **list, size_t *n,
    struct sc_err *e);
/* The finished cuts of a capture, oldest first. */
int catalog_cuts_done(struct catalog *c, int64_t capture_id,
    struct cat_cut **list, size_t *n, struct sc_err *e);

#endif
