/* plan.c - what a run is to do: the chunks of a capture and the workers
 * holding their copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "plan.h"
#include "remote.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

static void
worker_from_config(struct run_worker *rw, const struct config_worker *w)
{
	struct strbuf sb = STRBUF_INIT;

	memset(rw, 0, sizeof(*rw));
	snprintf(rw->name, sizeof(rw->name), "%s", w->name);
	rw->cw.name = xstrdup(w->name);
	rw->cw.local = w->local;
	rw->cw.host = w->host ? xstrdup(w->host) : NULL;
	rw->cw.port = w->port;
	rw->cw.user = w->user ? xstrdup(w->user) : NULL;
	rw->cw.identity = w->identity ? xstrdup(w->identity) : NULL;
	rw->cw.dir = xstrdup(w->dir);
	rw->cw.jobs = w->jobs;
	rw->slots = w->jobs;
	remote_describe(&sb, w);
	snprintf(rw->where, sizeof(rw->where), "%s", sb.buf);
	strbuf_release(&sb);
}

int
run_plan_cluster(struct run_plan *plan, struct cluster *cl, const char *name,
    volatile sig_atomic_t *interrupted, struct sc_err *e)
{
	struct cat_capture cap;
	struct cat_chunk *chunks = NULL;
	struct cat_placement *pl = NULL;
	size_t n_chunks = 0, n_pl = 0, i, k;
	int r;

	memset(plan, 0, sizeof(*plan));
	plan->cfg = &cl->cfg;
	plan->control_dir = cl->control_dir;
	if ((r = catalog_capture_get(cl->cat, name, &cap, e)) != 0)
		return r;
	plan->store = cluster_store_dir(cl, name);
	snprintf(plan->capture, sizeof(plan->capture), "%s", name);
	plan->capture_id = cap.id;
	if ((r = catalog_chunks(cl->cat, cap.id, &chunks, &n_chunks, e)) != 0 ||
	    (r = catalog_placements(cl->cat, cap.id, &pl, &n_pl, e)) != 0)
		goto out;
	plan->n_workers = cl->cfg.n_workers;
	plan->workers = xcalloc(plan->n_workers + 1, sizeof(*plan->workers));
	for (k = 0; k < plan->n_workers; k++) {
		worker_from_config(&plan->workers[k], &cl->cfg.workers[k]);
		if ((r = catalog_worker_ensure(cl->cat, cl->cfg.workers[k].name,
		    &plan->workers[k].worker_id, e)) != 0)
			goto out;
	}
	plan->n_chunks = n_chunks;
	plan->chunks = xcalloc(n_chunks + 1, sizeof(*plan->chunks));
	for (i = 0; i < n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		c->seq = chunks[i].seq;
		c->chunk_id = chunks[i].id;
		snprintf(c->file, sizeof(c->file), "%s", chunks[i].file);
		snprintf(c->digest, sizeof(c->digest), "%s", chunks[i].digest);
		c->bytes = chunks[i].bytes;
		c->has_time = parse_time_iso(chunks[i].first_time,
		    &c->first) == 0;
		c->part = chunks[i].part;
		c->holders = xcalloc(plan->n_workers + 1, sizeof(size_t));
		c->copy = xcalloc(plan->n_workers + 1, 1);
		for (k = 0; k < n_pl; k++) {
			size_t w;

			if (pl[k].chunk_id != c->chunk_id || !pl[k].current)
				continue;
			for (w = 0; w < plan->n_workers; w++)
				if (plan->workers[w].worker_id == pl[k].worker_id) {
					c->holders[c->n_holders++] = w;
					plan->workers[w].chunks_total++;
				}
		}
	}
	/* Local workers with "jobs = 0" run one job per core of this
	 * machine; remote ones learn theirs from their first slot. */
	for (k = 0; k < plan->n_workers; k++) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		if (plan->workers[k].slots == 0 && plan->workers[k].cw.local)
			plan->workers[k].slots = cores > 0 ? (unsigned)cores : 1;
	}
	(void)interrupted;
out:
	free(chunks);
	free(pl);
	return r;
}

int
run_plan_local(struct run_plan *plan, const struct config *cfg,
    const char *name, const char *dir, const struct split_result *sr,
    unsigned n, struct sc_err *e)
{
	size_t i, k;

	(void)e;
	memset(plan, 0, sizeof(*plan));
	plan->cfg = cfg;
	plan->control_dir = "/nonexistent";
	snprintf(plan->capture, sizeof(plan->capture), "%s", name);
	plan->base = xstrdup(dir);
	plan->n_workers = n ? n : 1;
	plan->workers = xcalloc(plan->n_workers, sizeof(*plan->workers));
	for (k = 0; k < plan->n_workers; k++) {
		struct config_worker w;

		memset(&w, 0, sizeof(w));
		w.name = xasprintf("local%zu", k + 1);
		w.local = 1;
		w.dir = (char *)dir;
		w.jobs = 1;
		worker_from_config(&plan->workers[k], &w);
		free(w.name);
	}
	plan->n_chunks = sr->n_chunks;
	plan->chunks = xcalloc(sr->n_chunks + 1, sizeof(*plan->chunks));
	for (i = 0; i < sr->n_chunks; i++) {
		struct run_chunk *c = &plan->chunks[i];

		c->seq = (unsigned)i + 1;
		snprintf(c->file, sizeof(c->file), "%s", sr->chunks[i]->file);
		c->bytes = sr->chunks[i]->bytes;
		c->first = sr->chunks[i]->first;
		c->has_time = sr->chunks[i]->has_time;
		c->part = sr->chunks[i]->part;
		c->holders = xcalloc(plan->n_workers, sizeof(size_t));
		c->copy = xcalloc(plan->n_workers + 1, 1);
		for (k = 0; k < plan->n_workers; k++)
			c->holders[c->n_holders++] = k;
	}
	return 0;
}

void
run_plan_release(struct run_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n_workers; i++) {
		struct config_worker *w = &plan->workers[i].cw;

		free(w->name);
		free(w->host);
		free(w->user);
		free(w->identity);
		free(w->dir);
	}
	for (i = 0; i < plan->n_chunks; i++) {
		free(plan->chunks[i].holders);
		free(plan->chunks[i].copy);
	}
	free(plan->workers);
	free(plan->chunks);
	free(plan->base);
	free(plan->store);
	memset(plan, 0, sizeof(*plan));
}
