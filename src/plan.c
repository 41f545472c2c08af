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
		c->has_range = parse_time_iso(chunks[i].min_time,
		    &c->min) == 0 && parse_time_iso(chunks[i].max_time,
		    &c->max) == 0;
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
		c->min = sr->chunks[i]->min;
		c->max = sr->chunks[i]->max;
		c->has_range = c->has_time;
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

/* Marks in keep[] the seqs of list ("1-3,17,20-"). */
static int
select_list(const struct run_plan *plan, const char *list,
    unsigned char *keep, struct sc_err *e)
{
	const char *p = list;
	size_t n = plan->n_chunks, i;

	for (;;) {
		uint64_t lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			goto bad;
		lo = strtoull(p, &end, 10);
		p = end;
		hi = lo;
		if (*p == '-') {
			p++;
			if (*p >= '0' && *p <= '9') {
				hi = strtoull(p, &end, 10);
				p = end;
			} else {
				hi = n;
			}
		}
		if (lo == 0 || hi < lo)
			goto bad;
		if (lo > n)
			return sc_err_set(e, SC_ERR_USAGE, "bad --chunks '%s': "
			    "'%s' has %zu chunk%s", list, plan->capture, n,
			    n == 1 ? "" : "s");
		if (hi > n)
			hi = n;
		for (i = 0; i < n; i++)
			if (plan->chunks[i].seq >= lo && plan->chunks[i].seq <= hi)
				keep[i] = 1;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	return sc_err_set(e, SC_ERR_USAGE, "bad --chunks '%s': want chunk "
	    "numbers and ranges from 1, such as 1-3,17", list);
}

/* splitmix64: the sample's choices, the same for the same seed */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Keeps `want` of the kept chunks: one in each of `want` stretches of
 * them as equal as can be. */
static void
select_sample(size_t n, unsigned want, uint64_t seed, unsigned char *keep)
{
	size_t *idx = xcalloc(n + 1, sizeof(*idx)), m = 0, i, k;
	uint64_t state = seed;

	for (i = 0; i < n; i++)
		if (keep[i])
			idx[m++] = i;
	if (want < m) {
		memset(keep, 0, n);
		for (k = 0; k < want; k++) {
			size_t lo = k * m / want, hi = (k + 1) * m / want;

			keep[idx[lo + next_random(&state) % (hi - lo)]] = 1;
		}
	}
	free(idx);
}

int
run_plan_select(struct run_plan *plan, const struct run_select *sel,
    struct run_selected *out, struct sc_err *e)
{
	size_t n = plan->n_chunks, i, k, m;
	unsigned char *keep = xcalloc(n + 1, 1), *trim = xcalloc(n + 1, 1);
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->of = n;
	if (sel->chunks != NULL) {
		if ((r = select_list(plan, sel->chunks, keep, e)) != 0)
			goto done;
	} else {
		memset(keep, 1, n);
	}
	if (sel->sample > 0)
		select_sample(n, sel->sample, sel->seed, keep);
	for (i = 0; i < n; i++) {
		const struct run_chunk *c = &plan->chunks[i];
		int inside = 1;

		if (!keep[i] || (!sel->has_since && !sel->has_until))
			continue;
		if (c->has_range) {
			if ((sel->has_since &&
			    sc_time_cmp(&c->max, &sel->since) < 0) ||
			    (sel->has_until &&
			    sc_time_cmp(&c->min, &sel->until) >= 0)) {
				keep[i] = 0;
				continue;
			}
			inside = (!sel->has_since ||
			    sc_time_cmp(&c->min, &sel->since) >= 0) &&
			    (!sel->has_until ||
			    sc_time_cmp(&c->max, &sel->until) < 0);
		} else {
			inside = 0;
		}
		trim[i] = !inside;
	}
	/* a group is read whole: all of it, cut to the window if a part is */
	for (i = 0; i < n; i = k) {
		int any = 0, cut = 0;

		for (k = i + 1; k < n && plan->chunks[k].part > 1; k++)
			;
		if (plan->chunks[i].part != 1)
			continue;
		for (m = i; m < k; m++) {
			any |= keep[m];
			cut |= trim[m] || !keep[m];
		}
		for (m = i; any && m < k; m++) {
			out->group_added += !keep[m];
			keep[m] = 1;
			trim[m] = cut && (sel->has_since || sel->has_until);
		}
	}
	for (i = 0; i < plan->n_workers; i++)
		plan->workers[i].chunks_total = 0;
	for (i = 0, m = 0; i < n; i++) {
		struct run_chunk *c = &plan->chunks[i];

		if (!keep[i]) {
			free(c->holders);
			free(c->copy);
			continue;
		}
		c->trim = trim[i];
		out->trimmed += c->trim;
		for (k = 0; k < c->n_holders; k++)
			plan->workers[c->holders[k]].chunks_total++;
		plan->chunks[m++] = *c;
	}
	plan->n_chunks = m;
	out->chunks = m;
	if (sel->has_since) {
		format_time_iso(&sb, &sel->since);
		snprintf(plan->since, sizeof(plan->since), "%s", sb.buf);
	}
	if (sel->has_until) {
		strbuf_reset(&sb);
		format_time_iso(&sb, &sel->until);
		snprintf(plan->until, sizeof(plan->until), "%s", sb.buf);
	}
	strbuf_reset(&sb);
	if (sel->chunks != NULL)
		strbuf_addf(&sb, " --chunks %s", sel->chunks);
	if (sel->sample > 0)
		strbuf_addf(&sb, " --sample %u --seed %llu", sel->sample,
		    (unsigned long long)sel->seed);
	if (sel->has_since)
		strbuf_addf(&sb, " --since %s", plan->since);
	if (sel->has_until)
		strbuf_addf(&sb, " --until %s", plan->until);
	snprintf(plan->selection, sizeof(plan->selection), "%s",
	    sb.len > 0 ? sb.buf + 1 : "");
done:
	strbuf_release(&sb);
	free(keep);
	free(trim);
	return r;
}
