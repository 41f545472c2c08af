/* push.h - adding a capture to the cluster: split it into the store,
 * place every chunk on its workers (round-robin, replicas on distinct
 * workers) and push to every worker at once with one rsync each, sending
 * only what a worker does not hold already. Also removing a capture. */
#ifndef SHARDCAP_PUSH_H
#define SHARDCAP_PUSH_H

#include <signal.h>
#include <stdint.h>

#include "cluster.h"
#include "error.h"
#include "split.h"

struct push_worker {
	char name[72];
	char where[300];        /* how it is reached, for messages */
	size_t chunks;          /* chunks it should hold */
	uint64_t bytes;
	size_t sent_files;      /* files rsync transferred */
	uint64_t sent_bytes;    /* their sizes */
	uint64_t literal_bytes; /* file data rsync actually sent */
	uint64_t wire_bytes;    /* everything rsync sent, compressed */
	int failed;
	char error[400];        /* what went wrong, for the user */
	double seconds;
};

struct add_progress {
	int phase;              /* 0 splitting, 1 pushing */
	struct split_progress split;
	const struct push_worker *workers;
	size_t n_workers;
};

struct add_options {
	const char *input;
	/* A capture made of many files (push_add_set): inputs[0..n_inputs),
	 * files or directories (their regular files, not hidden ones) */
	char *const *inputs;
	size_t n_inputs;
	/* a file modified less than settle seconds ago is still being
	 * written: not added yet (one added before keeps its chunks) */
	double settle;
	const char *name;
	uint64_t size;          /* chunk size; 0: the capture's or config's */
	unsigned replicas;      /* 0: the capture's or config's */
	int layout;             /* enum split_layout; -1: the capture's, or
				 * time */
	/* the name may be given to another file than the capture's: it
	 * replaces it (without, that is refused unless the file begins as
	 * the capture did) */
	int replace;
	/* (the command's) an incomplete last record is damage, not the tail
	 * of a file still being written */
	int strict;
	volatile sig_atomic_t *interrupted;
	void (*progress)(void *ctx, const struct add_progress *p);
	void *progress_ctx;
};

/* One file of a capture made of many, as an add found it. */
struct add_file {
	char *path;
	int state;              /* ADD_FILE_* */
	struct sc_err damage;   /* damaged after good packets: what */
	uint64_t dropped_bytes;
};
enum { ADD_FILE_SAME, ADD_FILE_NEW, ADD_FILE_CHANGED, ADD_FILE_GONE };

struct add_result {
	int existed;            /* the capture was in the catalog before */
	int source_unchanged;   /* same size and time: not split again */
	struct split_result split; /* when split */
	size_t chunks;
	size_t chunks_new, chunks_changed, chunks_removed;
	uint64_t packets, bytes;
	unsigned replicas;
	struct push_worker *workers;
	size_t n_workers;
	size_t failed_workers;
	/* push_add_set: every file, those of the set (by time) then those
	 * gone from it; pairs of files whose times overlap */
	struct add_file *files;
	size_t n_files;
	size_t files_by_state[4];
	size_t files_waiting;   /* still being written: not added yet */
	size_t overlaps;
	char overlap[600];      /* the first overlap, for the user */
	char *bad_file;         /* the file an error is about, or NULL */
};

/* Adds (or re-adds) a capture. Returns 0 when every worker got its
 * chunks; SC_ERR_WORKER when some could not (res->workers says which and
 * why; the catalog records only what reached a worker); other codes when
 * nothing was done. res needs add_result_release in every case. */
int push_add(struct cluster *cl, const struct add_options *opt,
    struct add_result *res, struct sc_err *e);
void add_result_release(struct add_result *res);

/*
 * Adds (or re-adds) a capture made of many files (opt->inputs): each file
 * split into chunks of its own, named after it (FILE-000001.pcap), and
 * the capture's chunks those of its files in the order of their first
 * time stamps. Adding again splits only the files that are new or
 * changed (size or time), and the chunks of files no longer given leave
 * the workers. Refused before anything changes: a directory with no
 * file (SC_ERR_EMPTY), two files of one name (SC_ERR_USAGE), a file that
 * is not a capture (its split's status). A file that changes while it is
 * split is SC_ERR_CHANGED. Returns as push_add.
 */
int push_add_set(struct cluster *cl, const struct add_options *opt,
    struct add_result *res, struct sc_err *e);

/* The catalog's row for a chunk a split wrote (file, size, packets, time
 * range, digest in hex); the capture, id and seq are left 0. */
void push_chunk_of_split(struct cat_chunk *ch, const struct split_chunk *c,
    enum digest_algo algo);

/* Pushes the chunks of a capture that some worker should hold but does not
 * (placement, then rsync), as push_add does after splitting. */
int push_capture(struct cluster *cl, const struct cat_capture *cap,
    volatile sig_atomic_t *interrupted,
    void (*progress)(void *ctx, const struct add_progress *p), void *ctx,
    struct push_worker **workers, size_t *n_workers, struct sc_err *e);

/* Removes a capture from every worker holding it, from the store and from
 * the catalog. With force, workers that cannot be reached are forgotten.
 * Returns SC_ERR_WORKER (the capture stays in the catalog, with what is
 * still out there) when a worker failed. */
int push_remove(struct cluster *cl, const char *name, int force,
    volatile sig_atomic_t *interrupted, struct push_worker **workers,
    size_t *n_workers, struct sc_err *e);

#endif
