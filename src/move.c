/* move.c - moving chunks between workers, journaled (see move.h). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "beat.h"
#include "child.h"
#include "move.h"
#include "remote.h"
#include "run.h"
#include "strvec.h"
#include "xalloc.h"
#include "banned.h"

/* One move as this file works on it. */
struct item {
	int64_t journal_id;
	int64_t chunk_id;
	char file[96];
	char digest[72];
	uint64_t bytes;
	const struct config_worker *from, *to;  /* NULL: not configured */
	int64_t from_id, to_id;
	int ok;                 /* the last step worked for it */
	int differs;            /* verify: the copy differs or is missing */
	char basis[96];         /* seed: the file to start the copy from */
	uint64_t sent;          /* copy: the bytes rsync sent */
	char error[400];
};

enum step {
	STEP_PEER,              /* from -> to, worker to worker */
	STEP_COPY,              /* store -> to */
	STEP_VERIFY,            /* compare the store's and to's by checksum */
	STEP_DROP_NEW,          /* remove to's copy (rolling back) */
	STEP_DROP_OLD,          /* remove from's copy (after the commit) */
	STEP_SEED,              /* on to: the file made a hard link to its
	                         * basis, for rsync to send only what differs */
};

/* One child per worker for a step. */
struct wjob {
	const struct config_worker *cw;
	struct strvec argv;
	struct child child;
	char *list_path;
	size_t *items;
	size_t n_items, alloc_items;
	struct remote_sent listed;      /* files rsync reported */
	int started;
};

static void
crash_point(const char *state)
{
	const char *want = getenv(MOVE_CRASH_ENV);

	if (want != NULL && strcmp(want, state) == 0)
		raise(SIGKILL);
}

static void
on_rsync_line(struct child *c, const char *line, void *ctx)
{
	struct wjob *j = ctx;

	(void)c;
	(void)remote_sent_add(&j->listed, line, NULL);
}

static void
wjob_release(struct wjob *j)
{
	child_release(&j->child);
	strvec_release(&j->argv);
	if (j->list_path != NULL) {
		(void)unlink(j->list_path);
		free(j->list_path);
	}
	remote_sent_release(&j->listed);
	free(j->items);
}

static const struct config_worker *
step_worker(const struct item *it, enum step step)
{
	return step == STEP_DROP_OLD || step == STEP_PEER ? it->from : it->to;
}

/* The argv of a step on one worker; beacon: the marks that watch the
 * workers' ends of its copies. */
static int
build_step(struct cluster *cl, const char *capture, struct item *items,
    struct wjob *j, enum step step, const struct run_beacon *beacon,
    struct sc_err *e)
{
	static const char *const verify[] = { "-c", "-n", NULL };
	/* -c: a copy already there is compared by content, not by size and
	 * time - a damaged copy of the same size and second is replaced */
	static const char *const copy[] = { "-c", NULL };
	size_t i;
	int r;

	if (step == STEP_COPY || step == STEP_VERIFY) {
		struct strbuf list = STRBUF_INIT;
		char *store = cluster_store_dir(cl, capture);

		for (i = 0; i < j->n_items; i++) {
			strbuf_addstr(&list, items[j->items[i]].file);
			strbuf_addch(&list, '\0');
		}
		r = cluster_write_list(cl, "move", j->cw->name, &list,
		    &j->list_path, e);
		if (r == 0)
			r = agent_rsync_argv(&j->argv, &cl->cfg, j->cw,
			    cl->control_dir, store, j->list_path, capture,
			    step == STEP_VERIFY ? verify : copy,
			    run_beacon_mark(beacon,
			    (size_t)(j->cw - cl->cfg.workers)), e);
		strbuf_release(&list);
		free(store);
		return r;
	} else if (step == STEP_PEER) {
		/* the agent's peer: one rsync for each worker the chunks go
		 * to, one after the other */
		struct strvec args = STRVEC_INIT;
		const char **files = xcalloc(j->n_items + 1, sizeof(*files));
		size_t k, n;

		strvec_pushf(&args, "%s/%s", j->cw->dir, capture);
		r = 0;
		for (i = 0; i < j->n_items && r == 0; i++) {
			const struct config_worker *to = items[j->items[i]].to;

			for (k = 0; k < i; k++)
				if (items[j->items[k]].to == to)
					break;
			if (k < i)
				continue;
			for (n = 0, k = i; k < j->n_items; k++)
				if (items[j->items[k]].to == to)
					files[n++] = items[j->items[k]].file;
			r = agent_peer_args(&args, &cl->cfg, to, capture, files,
			    n, run_beacon_mark(beacon,
			    (size_t)(to - cl->cfg.workers)), e);
		}
		if (r == 0)
			r = agent_argv(&j->argv, &cl->cfg, j->cw, cl->control_dir,
			    1, "peer", (const char *const *)args.v, args.n, e);
		free(files);
		strvec_release(&args);
		return r;
	} else {
		/* the agent's link (best effort: without the link the copy is
		 * whole, that is all; rsync never writes into the file it
		 * starts from, it renames a new one over it) or delete */
		struct strvec args = STRVEC_INIT;

		strvec_pushf(&args, "%s/%s", j->cw->dir, capture);
		for (i = 0; i < j->n_items; i++) {
			const struct item *it = &items[j->items[i]];

			if (step == STEP_SEED)
				strvec_push(&args, it->basis);
			strvec_push(&args, it->file);
		}
		r = agent_argv(&j->argv, &cl->cfg, j->cw, cl->control_dir, 1,
		    step == STEP_SEED ? "link" : "delete",
		    (const char *const *)args.v, args.n, e);
		strvec_release(&args);
		return r;
	}
}

/*
 * Runs a step for items[0..n) (all of one capture), one child per worker
 * at once, and sets each item's ok. An item whose worker is not
 * configured any more: removing its copy there is moot (ok), copying to
 * it impossible (not ok).
 */
static int
run_step(struct cluster *cl, const char *capture, struct item *items,
    size_t n, enum step step, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, i, k, n_running = 0;
	struct wjob *jobs = xcalloc(W + 1, sizeof(*jobs));
	struct child **running = xcalloc(W + 1, sizeof(*running));
	unsigned char *want = xcalloc(W + 1, 1);
	struct run_beacon *beacon = NULL;
	int r = 0;

	for (i = 0; i < n; i++) {
		const struct config_worker *w = step_worker(&items[i], step);

		items[i].ok = 0;
		if (w == NULL) {
			items[i].ok = step == STEP_DROP_NEW ||
			    step == STEP_DROP_OLD;
			if (!items[i].ok)
				snprintf(items[i].error, sizeof(items[i].error),
				    "its worker is not configured any more");
			continue;
		}
		k = (size_t)(w - cl->cfg.workers);
		/* the worker that receives, for the copying steps */
		if (step == STEP_COPY || step == STEP_VERIFY)
			want[k] = 1;
		else if (step == STEP_PEER && items[i].to != NULL)
			want[items[i].to - cl->cfg.workers] = 1;
		jobs[k].cw = w;
		ALLOC_GROW(jobs[k].items, jobs[k].n_items + 1,
		    jobs[k].alloc_items);
		jobs[k].items[jobs[k].n_items++] = i;
	}
	beacon = run_beacon_start(&cl->cfg, cl->control_dir, want);
	for (k = 0; k < W; k++) {
		struct wjob *j = &jobs[k];

		strvec_init(&j->argv);
		child_init(&j->child, NULL);
	}
	for (k = 0; k < W; k++) {
		struct wjob *j = &jobs[k];

		if (j->n_items == 0)
			continue;
		if ((r = build_step(cl, capture, items, j, step, beacon,
		    e)) != 0)
			goto out;
		if (step == STEP_COPY || step == STEP_VERIFY) {
			/* rsync, from here */
			child_init(&j->child, j->argv.v);
			j->child.on_line = on_rsync_line;
			j->child.ctx = j;
		} else {
			/* a verb of the agent: the agent goes along */
			agent_child_init(&j->child, j->argv.v, j->cw);
		}
		if (child_start(&j->child, e) != 0) {
			for (i = 0; i < j->n_items; i++)
				snprintf(items[j->items[i]].error,
				    sizeof(items[j->items[i]].error), "%s",
				    e->msg);
			continue;
		}
		agent_send(&j->child);
		j->started = 1;
		running[n_running++] = &j->child;
	}
	r = child_wait_all(running, n_running, interrupted, e);
	run_beacon_stop(beacon);
	beacon = NULL;
	for (k = 0; k < W && r == 0; k++) {
		struct wjob *j = &jobs[k];
		int code;

		if (!j->started)
			continue;
		code = child_exit_code(&j->child);
		for (i = 0; i < j->n_items; i++) {
			struct item *it = &items[j->items[i]];

			if (code != 0) {
				const char *why = child_last_error(&j->child);

				snprintf(it->error, sizeof(it->error),
				    "worker '%s': %s (exit %d)", j->cw->name,
				    *why ? why : "failed", code);
			} else if (step == STEP_VERIFY &&
			    remote_sent_has(&j->listed, it->file)) {
				it->differs = 1;
				snprintf(it->error, sizeof(it->error),
				    "worker '%s': the copy of '%s' differs from "
				    "the store's", j->cw->name, it->file);
			} else {
				it->ok = 1;
				if (step == STEP_COPY)
					it->sent = remote_sent_bytes(&j->listed,
					    it->file);
			}
		}
	}
out:
	run_beacon_stop(beacon);
	for (k = 0; k < W; k++)
		wjob_release(&jobs[k]);
	free(jobs);
	free(running);
	free(want);
	return r;
}

static int
set_state(struct cluster *cl, struct item *items, size_t n, int only_ok,
    const char *state, struct sc_err *e)
{
	size_t i;
	int r;

	if ((r = catalog_begin(cl->cat, e)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		if (!only_ok || items[i].ok)
			r = catalog_move_state(cl->cat, items[i].journal_id,
			    state, e);
	if (r != 0) {
		catalog_rollback(cl->cat);
		return r;
	}
	return catalog_commit(cl->cat, e);
}

/* Moves the items that did not make it back: their new copy removed (as
 * far as possible), the journal says rolled-back. Keeps the rest. */
static int
roll_back_failed(struct cluster *cl, const char *capture, struct item *items,
    size_t *n, struct move_outcome *out, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	struct item *bad = xcalloc(*n + 1, sizeof(*bad));
	size_t n_bad = 0, kept = 0, i;
	int r = 0;

	for (i = 0; i < *n; i++) {
		if (items[i].ok) {
			items[kept++] = items[i];
			continue;
		}
		if (out != NULL) {
			out->failed++;
			if (!out->error[0])
				snprintf(out->error, sizeof(out->error), "%s",
				    items[i].error);
		}
		bad[n_bad++] = items[i];
	}
	*n = kept;
	if (n_bad) {
		/* best effort: a copy left behind is only wasted space */
		r = run_step(cl, capture, bad, n_bad, STEP_DROP_NEW,
		    interrupted, e);
		if (r == 0) {
			for (i = 0; i < n_bad; i++)
				bad[i].ok = 1;
			r = set_state(cl, bad, n_bad, 0, "rolled-back", e);
		}
	}
	free(bad);
	return r;
}

static int
peer_eligible(const struct cluster *cl, const struct item *it)
{
	return cl->cfg.peer_copy && it->from != NULL && it->to != NULL &&
	    !it->from->local && !it->to->local;
}

/*
 * Copies the chunks to their new workers: with peer-copy, straight from
 * the old worker where both are remote (the paper's peer-to-peer future
 * work: the bytes do not pass through this machine); from the store
 * otherwise, and for every peer copy that failed. Sets each item's ok.
 */
static int
copy_items(struct cluster *cl, const char *capture, struct item *items,
    size_t n, volatile sig_atomic_t *interrupted, struct move_outcome *out,
    struct sc_err *e)
{
	struct item *sub = xcalloc(n + 1, sizeof(*sub));
	size_t *where = xcalloc(n + 1, sizeof(*where));
	size_t i, m = 0;
	int r = 0;

	for (i = 0; i < n; i++) {
		items[i].ok = 0;
		if (peer_eligible(cl, &items[i])) {
			where[m] = i;
			sub[m++] = items[i];
		}
	}
	if (m > 0) {
		r = run_step(cl, capture, sub, m, STEP_PEER, interrupted, e);
		for (i = 0; i < m && r == 0; i++) {
			items[where[i]].ok = sub[i].ok;
			if (sub[i].ok)
				out->peer++;
		}
	}
	/* the rest, and what did not make it, from the store */
	m = 0;
	for (i = 0; i < n && r == 0; i++) {
		if (items[i].ok)
			continue;
		where[m] = i;
		sub[m++] = items[i];
	}
	if (m > 0 && r == 0) {
		r = run_step(cl, capture, sub, m, STEP_COPY, interrupted, e);
		for (i = 0; i < m && r == 0; i++) {
			items[where[i]].ok = sub[i].ok;
			memcpy(items[where[i]].error, sub[i].error,
			    sizeof(sub[i].error));
		}
	}
	free(sub);
	free(where);
	return r;
}

/* After a step: the items it worked for reach state, the others are
 * rolled back and leave the list. */
static int
settle(struct cluster *cl, const char *capture, struct item *items,
    size_t *n, const char *state, struct move_outcome *out,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	int r;

	if ((r = set_state(cl, items, *n, 1, state, e)) != 0 ||
	    (r = roll_back_failed(cl, capture, items, n, out, interrupted,
	    e)) != 0)
		return r;
	crash_point(state);
	return 0;
}

/* The catalog switch: the new copy recorded, the old one forgotten. */
static int
commit_moves(struct cluster *cl, struct item *items, size_t n,
    struct sc_err *e)
{
	size_t i;
	int r;

	if ((r = catalog_begin(cl->cat, e)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		r = catalog_placement_set(cl->cat, items[i].chunk_id,
		    items[i].to_id, items[i].digest, e);
		if (r == 0 && items[i].from_id != 0)
			r = catalog_placement_delete(cl->cat,
			    items[i].chunk_id, items[i].from_id, e);
		if (r == 0)
			r = catalog_move_state(cl->cat, items[i].journal_id,
			    "committed", e);
	}
	if (r != 0) {
		catalog_rollback(cl->cat);
		return r;
	}
	return catalog_commit(cl->cat, e);
}

/* Removes the old copies of committed moves, once no query reads them.
 * A copy from the store (a repair) has no old copy: no query is waited
 * for. */
static int
drop_old(struct cluster *cl, const char *capture, struct item *items,
    size_t n, size_t *done, size_t *left, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	size_t i, old = 0;
	int r;

	for (i = 0; i < n; i++)
		old += items[i].from != NULL;
	if (n == 0)
		return 0;
	if (old > 0 && (r = cluster_quiesce(cl, e)) != 0)
		return r;
	if ((r = run_step(cl, capture, items, n, STEP_DROP_OLD, interrupted,
	    e)) != 0)
		return r;
	if ((r = set_state(cl, items, n, 1, "deleted", e)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (items[i].ok)
			(*done)++;
		else
			(*left)++;
	}
	return 0;
}

int
move_apply(struct cluster *cl, const char *capture,
    const struct move_request *moves, size_t n,
    volatile sig_atomic_t *interrupted, struct move_outcome *out,
    struct sc_err *e)
{
	struct item *items = xcalloc(n + 1, sizeof(*items));
	size_t i, count = n;
	int r;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		free(items);
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct item *it = &items[i];

		it->chunk_id = moves[i].chunk_id;
		snprintf(it->file, sizeof(it->file), "%s", moves[i].file);
		snprintf(it->digest, sizeof(it->digest), "%s", moves[i].digest);
		it->bytes = moves[i].bytes;
		it->from = moves[i].from == MOVE_FROM_STORE ? NULL :
		    &cl->cfg.workers[moves[i].from];
		it->to = &cl->cfg.workers[moves[i].to];
	}
	/* planned */
	if ((r = catalog_begin(cl->cat, e)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		if (items[i].from != NULL)
			r = catalog_worker_ensure(cl->cat, items[i].from->name,
			    &items[i].from_id, e);
		if (r == 0)
			r = catalog_worker_ensure(cl->cat, items[i].to->name,
			    &items[i].to_id, e);
		if (r == 0)
			r = catalog_move_add(cl->cat, items[i].chunk_id,
			    items[i].from_id, items[i].to_id,
			    &items[i].journal_id, e);
	}
	if (r != 0) {
		catalog_rollback(cl->cat);
		goto out;
	}
	if ((r = catalog_commit(cl->cat, e)) != 0)
		goto out;
	crash_point("planned");

	/* copied */
	if ((r = copy_items(cl, capture, items, count, interrupted, out,
	    e)) != 0)
		goto out;
	if ((r = settle(cl, capture, items, &count, "copied", out,
	    interrupted, e)) != 0)
		goto out;

	/* verified */
	if ((r = run_step(cl, capture, items, count, STEP_VERIFY, interrupted,
	    e)) != 0)
		goto out;
	if ((r = settle(cl, capture, items, &count, "verified", out,
	    interrupted, e)) != 0)
		goto out;

	/* committed */
	if ((r = commit_moves(cl, items, count, e)) != 0)
		goto out;
	crash_point("committed");
	for (i = 0; i < count; i++)
		out->bytes += items[i].bytes;

	/* deleted */
	r = drop_old(cl, capture, items, count, &out->done, &out->left,
	    interrupted, e);
	if (r == 0)
		crash_point("deleted");
	if (r == 0 && out->failed)
		r = sc_err_set(e, SC_ERR_WORKER, "%zu of %zu moves failed: %s",
		    out->failed, n, out->error);
out:
	free(items);
	return r;
}

/* Runs step for one file on each of checks' workers (a file of the
 * store: the item's to), copying back what came of it. */
static int
files_step(struct cluster *cl, const char *capture, struct item *items,
    struct move_file *files, size_t n, enum step step,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		snprintf(items[i].file, sizeof(items[i].file), "%s",
		    files[i].file);
		items[i].to = &cl->cfg.workers[files[i].worker];
		snprintf(items[i].basis, sizeof(items[i].basis), "%s",
		    files[i].basis);
	}
	r = run_step(cl, capture, items, n, step, interrupted, e);
	for (i = 0; i < n && r == 0; i++) {
		files[i].ok = items[i].ok;
		files[i].sent = items[i].sent;
		snprintf(files[i].error, sizeof(files[i].error), "%s",
		    items[i].error);
	}
	return r;
}

int
move_check_copies(struct cluster *cl, const char *capture,
    struct move_check *checks, size_t n, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	struct item *items = xcalloc(n + 1, sizeof(*items));
	struct move_file *files = xcalloc(n + 1, sizeof(*files));
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		snprintf(files[i].file, sizeof(files[i].file), "%s",
		    checks[i].file);
		files[i].worker = checks[i].worker;
	}
	r = files_step(cl, capture, items, files, n, STEP_VERIFY, interrupted,
	    e);
	for (i = 0; i < n && r == 0; i++) {
		checks[i].state = items[i].ok ? MOVE_COPY_SAME :
		    items[i].differs ? MOVE_COPY_DIFFERS : MOVE_COPY_UNKNOWN;
		snprintf(checks[i].error, sizeof(checks[i].error), "%s",
		    items[i].error);
	}
	free(files);
	free(items);
	return r;
}

int
move_files(struct cluster *cl, const char *capture, enum move_files_op op,
    struct move_file *files, size_t n, volatile sig_atomic_t *interrupted,
    struct sc_err *e)
{
	struct item *items = xcalloc(n + 1, sizeof(*items));
	struct move_file *copied = xcalloc(n + 1, sizeof(*copied));
	size_t *where = xcalloc(n + 1, sizeof(*where));
	size_t i, m = 0;
	int r;

	if (op == MOVE_FILES_COPY) {
		for (i = 0; i < n; i++)
			if (files[i].basis[0])
				copied[m++] = files[i];
		r = m > 0 ? files_step(cl, capture, items, copied, m, STEP_SEED,
		    interrupted, e) : 0;
		m = 0;
		if (r != 0)
			goto out;
	}
	r = files_step(cl, capture, items, files, n, op == MOVE_FILES_COPY ?
	    STEP_COPY : STEP_DROP_NEW, interrupted, e);
	if (r == 0 && op == MOVE_FILES_COPY) {
		/* the copies that arrived, compared with the store's */
		for (i = 0; i < n; i++)
			if (files[i].ok) {
				where[m] = i;
				copied[m++] = files[i];
			}
		r = files_step(cl, capture, items, copied, m, STEP_VERIFY,
		    interrupted, e);
		for (i = 0; i < m && r == 0; i++) {
			files[where[i]].ok = copied[i].ok;
			memcpy(files[where[i]].error, copied[i].error,
			    sizeof(copied[i].error));
		}
	}
out:
	free(where);
	free(copied);
	free(items);
	return r;
}

/* The items of the open moves of one capture, by state. */
static int
recover_capture(struct cluster *cl, const char *capture,
    const struct cat_move *mv, size_t n, volatile sig_atomic_t *interrupted,
    size_t *finished, size_t *rolled_back, struct sc_err *e)
{
	struct item *back = xcalloc(n + 1, sizeof(*back));
	struct item *commit = xcalloc(n + 1, sizeof(*commit));
	struct item *drop = xcalloc(n + 1, sizeof(*drop));
	size_t n_back = 0, n_commit = 0, n_drop = 0, i, left = 0;
	int r = 0;

	for (i = 0; i < n; i++) {
		struct item it;

		memset(&it, 0, sizeof(it));
		it.journal_id = mv[i].id;
		it.chunk_id = mv[i].chunk_id;
		snprintf(it.file, sizeof(it.file), "%s", mv[i].file);
		snprintf(it.digest, sizeof(it.digest), "%s", mv[i].digest);
		it.from = cluster_worker(cl, mv[i].from);
		it.to = cluster_worker(cl, mv[i].to);
		it.from_id = mv[i].from_id;
		it.to_id = mv[i].to_id;
		if (strcmp(mv[i].state, "planned") == 0 ||
		    strcmp(mv[i].state, "copied") == 0 ||
		    (strcmp(mv[i].state, "verified") == 0 && it.to == NULL))
			back[n_back++] = it;
		else if (strcmp(mv[i].state, "verified") == 0)
			commit[n_commit++] = it;
		else
			drop[n_drop++] = it;
	}
	if (n_back) {
		r = run_step(cl, capture, back, n_back, STEP_DROP_NEW,
		    interrupted, e);
		if (r == 0)
			r = set_state(cl, back, n_back, 0, "rolled-back", e);
		if (r == 0)
			*rolled_back += n_back;
	}
	if (r == 0 && n_commit) {
		r = commit_moves(cl, commit, n_commit, e);
		for (i = 0; i < n_commit && r == 0; i++)
			drop[n_drop++] = commit[i];
	}
	if (r == 0)
		r = drop_old(cl, capture, drop, n_drop, finished, &left,
		    interrupted, e);
	free(back);
	free(commit);
	free(drop);
	return r;
}

int
move_recover(struct cluster *cl, volatile sig_atomic_t *interrupted,
    size_t *finished, size_t *rolled_back, struct sc_err *e)
{
	struct cat_move *mv = NULL;
	size_t n = 0, i, j;
	int r;

	*finished = 0;
	*rolled_back = 0;
	if ((r = catalog_moves_open(cl->cat, &mv, &n, e)) != 0)
		return r;
	/* the list comes by capture: one capture at a time */
	for (i = 0; i < n && r == 0; i = j) {
		for (j = i; j < n && strcmp(mv[j].capture, mv[i].capture) == 0;
		    j++)
			;
		r = recover_capture(cl, mv[i].capture, mv + i, j - i,
		    interrupted, finished, rolled_back, e);
	}
	free(mv);
	return r;
}
