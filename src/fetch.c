/* fetch.c - copies of chunks from the store to a worker while a run goes
 * on: to rescue chunks no usable worker holds, to start a straggler's
 * chunks elsewhere, to check a failed job's copies. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "file.h"
#include "runner.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

int
fetch_plan(struct runner *rn, struct sc_err *e)
{
	struct run_plan *plan = rn->plan;
	size_t W = plan->n_workers, i, w;
	size_t *wait = xcalloc(W + 1, sizeof(*wait));
	size_t **lists = xcalloc(W + 1, sizeof(*lists));
	size_t *n_list = xcalloc(W + 1, sizeof(*n_list));
	size_t *alloc_list = xcalloc(W + 1, sizeof(*alloc_list));
	int r = 0, computed = 0;

	for (i = 0; i < plan->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];
		size_t best = W;
		double best_load = 0;
		int lost = c->state == 0 && !c->fetching &&
		    !sched_usable_holder(rn, c, W);
		int straggler = c->state == 1 && c->overdue &&
		    c->running == 1 && !c->fetching &&
		    !sched_usable_holder(rn, c, c->worker);

		if (!lost && !(straggler && plan->store != NULL))
			continue;
		if (!computed) {
			for (w = 0; w < W; w++)
				wait[w] = sched_waiting(rn, w);
			computed = 1;
		}
		for (w = 0; w < W && plan->store != NULL; w++) {
			const struct run_worker *rw = &plan->workers[w];
			unsigned slots = rw->slots ? rw->slots : 1;
			double load = (double)(wait[w] + rw->busy +
			    n_list[w]) / slots;

			if (rw->failed || c->copy[w] == RUN_COPY_UNFIT)
				continue;
			if (straggler && (w == c->worker || wait[w] > 0 ||
			    n_list[w] > 0 || rw->busy >= slots))
				continue;
			/* a bad copy is made sound where it is */
			if (lost && c->copy[w] == RUN_COPY_BAD) {
				best = w;
				break;
			}
			if (best == W || load < best_load) {
				best = w;
				best_load = load;
			}
		}
		if (best == W) {
			if (lost) {
				c->state = 3;
				c->exit_code = -1;
				rn->res->lost_chunks++;
			}
			continue;
		}
		ALLOC_GROW(lists[best], n_list[best] + 1, alloc_list[best]);
		lists[best][n_list[best]++] = i;
		c->fetching = 1;
		c->again |= lost;
	}
	for (w = 0; w < W; w++) {
		if (n_list[w] > 0 && r == 0 &&
		    (r = fetch_start(rn, FETCH_RESCUE, w, lists[w], n_list[w],
		    NULL, e)) != 0) {
			/* could not even start: that worker will not do */
			for (i = 0; i < n_list[w]; i++) {
				plan->chunks[lists[w][i]].fetching = 0;
				plan->chunks[lists[w][i]].copy[w] =
				    RUN_COPY_UNFIT;
			}
			r = 0;
		}
		free(lists[w]);
	}
	free(lists);
	free(n_list);
	free(alloc_list);
	free(wait);
	return r;
}

static void
on_fetch_line(struct child *c, const char *line, void *ctx)
{
	struct fetch *f = ctx;

	(void)c;
	(void)remote_sent_add(&f->sent, line, NULL);
}

int
fetch_start(struct runner *rn, enum fetch_why why, size_t w,
    const size_t *chunks, size_t n, struct job_end *job, struct sc_err *e)
{
	static const char *const checksum[] = { "-c", NULL };
	struct run_plan *plan = rn->plan;
	struct fetch *f = xcalloc(1, sizeof(*f));
	size_t i;

	f->why = why;
	f->worker = w;
	f->chunks = xcalloc(n + 1, sizeof(*f->chunks));
	memcpy(f->chunks, chunks, n * sizeof(*chunks));
	f->n = n;
	f->job = job;
	strbuf_init(&f->list);
	for (i = 0; i < n; i++) {
		strbuf_addstr(&f->list, plan->chunks[chunks[i]].file);
		strbuf_addch(&f->list, '\0');
	}
	strvec_init(&f->argv);
	/* (the plan's workers are the config's, in its order) */
	if (!plan->workers[w].cw.local && w < plan->cfg->n_workers) {
		if (rn->beacons == NULL)
			rn->beacons = xcalloc(plan->n_workers + 1,
			    sizeof(*rn->beacons));
		if (rn->beacons[w] == NULL) {
			unsigned char *want = xcalloc(plan->cfg->n_workers + 1,
			    1);

			want[w] = 1;
			rn->beacons[w] = run_beacon_start_shared(plan->cfg,
			    plan->control_dir, want, &rn->beat);
			free(want);
		}
	}
	if (agent_rsync_argv(&f->argv, plan->cfg, &plan->workers[w].cw,
	    plan->control_dir, plan->store, "-", plan->capture, checksum,
	    rn->beacons != NULL ? run_beacon_mark(rn->beacons[w], w) : NULL,
	    e) != 0)
		goto fail;
	child_init(&f->child, f->argv.v);
	f->child.want_stdin = 1;
	f->child.on_line = on_fetch_line;
	f->child.ctx = f;
	if (child_start(&f->child, e) != 0)
		goto fail;
	/* the list is short; rsync reads it first */
	if (file_write_all(f->child.in_fd, f->list.buf, f->list.len) < 0)
		child_signal(&f->child, SIGTERM);
	close(f->child.in_fd);
	f->child.in_fd = -1;
	ALLOC_GROW(rn->fetches, rn->n_fetches + 1, rn->alloc_fetches);
	rn->fetches[rn->n_fetches++] = f;
	return 0;
fail:
	strvec_release(&f->argv);
	strbuf_release(&f->list);
	free(f->chunks);
	free(f);
	return SC_ERR_WORKER;
}

void
fetch_release(struct fetch *f)
{
	child_release(&f->child);
	strvec_release(&f->argv);
	strbuf_release(&f->list);
	remote_sent_release(&f->sent);
	free(f->chunks);
	if (f->job != NULL)
		run_drop_job(f->job);
	free(f);
}

int
fetch_done(struct runner *rn, struct fetch *f)
{
	struct run_plan *plan = rn->plan;
	int code = child_exit_code(&f->child), r = 0;
	size_t i, bad = 0;

	if (f->why == FETCH_RESCUE) {
		for (i = 0; i < f->n; i++) {
			struct run_chunk *c = &plan->chunks[f->chunks[i]];

			c->fetching = 0;
			if (code != 0) {
				c->copy[f->worker] = RUN_COPY_UNFIT;
				continue;
			}
			if (!sched_holds(c, f->worker))
				c->holders[c->n_holders++] = f->worker;
			c->copy[f->worker] = RUN_COPY_FETCHED;
			rn->res->fetched++;
		}
	} else if (code == 0) {
		for (i = 0; i < f->n; i++) {
			struct run_chunk *c = &plan->chunks[f->chunks[i]];

			if (!remote_sent_has(&f->sent, c->file))
				continue;
			/* it was damaged; it is sound now */
			c->copy[f->worker] = RUN_COPY_FETCHED;
			rn->res->bad_copies++;
			bad++;
		}
		if (bad > 0) {
			rn->checks_bad++;
			sched_requeue(plan, f->job->batch, f->job->n_batch);
			run_drop_job(f->job);
		} else {
			rn->checks_sound++;
			r = run_job_complete(rn, f->job);
		}
		f->job = NULL;
	} else {
		/* could not check: the failure stands */
		r = run_job_complete(rn, f->job);
		f->job = NULL;
	}
	if (rn->stopping)
		;       /* stopped by the run's end, not failed */
	else if (code == 255)
		run_worker_lost(rn, f->worker, *child_last_error(&f->child) ?
		    child_last_error(&f->child) : "ssh failed");
	else if (code != 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "[%s] copying %zu chunk%s from the store "
		    "failed (rsync exit %d): %s\n", plan->workers[f->worker].name,
		    f->n, f->n == 1 ? "" : "s", code,
		    child_last_error(&f->child));
		run_say(rn, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	return r;
}
