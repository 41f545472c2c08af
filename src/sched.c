/* sched.c - which chunks a slot runs next: its worker's own first, then
 * another local worker's, then a straggler's; where slots start; which
 * jobs are stragglers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "runner.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

int
sched_holds(const struct run_chunk *c, size_t w)
{
	return size_in(c->holders, c->n_holders, w);
}

size_t
sched_copy_for(const struct run_plan *plan, const struct run_chunk *c, size_t w)
{
	size_t k;

	if (plan->base != NULL || sched_holds(c, w))
		return w;
	if (plan->cfg == NULL || !plan->cfg->share_local ||
	    !plan->workers[w].cw.local)
		return (size_t)-1;
	for (k = 0; k < c->n_holders; k++)
		if (plan->workers[c->holders[k]].cw.local)
			return c->holders[k];
	return (size_t)-1;
}

void
sched_drop_holder(struct run_chunk *c, size_t w)
{
	size_t k;

	for (k = 0; k < c->n_holders; k++)
		if (c->holders[k] == w) {
			c->holders[k] = c->holders[--c->n_holders];
			return;
		}
}

void
sched_requeue(struct run_plan *plan, const size_t *batch, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct run_chunk *c = &plan->chunks[batch[i]];

		if (c->running > 0)
			c->running--;
		if (c->state == 1 && c->running == 0) {
			c->state = 0;
			c->again = 1;
		}
	}
}

/* The group chunk i is in: its first chunk and how many. */
static size_t
group_of(const struct run_plan *plan, size_t i, size_t *first)
{
	size_t n = 1;

	*first = i - (plan->chunks[i].part - 1);
	while (*first + n < plan->n_chunks &&
	    plan->chunks[*first + n].part == n + 1)
		n++;
	return n;
}

/* Whether worker w (any worker able to run, when w is -1) holds every
 * chunk of a group, all waiting. */
static int
holds_group(const struct runner *rn, size_t first, size_t n, size_t w)
{
	size_t i, k;

	for (i = first; i < first + n; i++)
		if (rn->plan->chunks[i].state != 0)
			return 0;
	if (w != (size_t)-1) {
		for (i = first; i < first + n; i++)
			if (!sched_holds(&rn->plan->chunks[i], w))
				return 0;
		return 1;
	}
	for (k = 0; k < rn->plan->n_workers; k++)
		if (!rn->plan->workers[k].failed && holds_group(rn, first, n, k))
			return 1;
	return 0;
}

/* Whether worker w may take waiting chunk i now: not a chunk of a group
 * that another worker should take whole, nor of one a chunk of which is
 * being copied from the store (to the worker of its bad copy, which
 * then holds the group whole again). */
static int
may_take(const struct runner *rn, size_t i, size_t w)
{
	size_t first, g, k;

	if (rn->plan->chunks[i].part == 0 || !rn->opt->whole_groups)
		return 1;
	g = group_of(rn->plan, i, &first);
	for (k = first; k < first + g; k++)
		if (rn->plan->chunks[k].fetching)
			return 0;
	return g > RUN_MAX_BATCH || holds_group(rn, first, g, w) ||
	    !holds_group(rn, first, g, (size_t)-1);
}

size_t
sched_waiting(const struct runner *rn, size_t w)
{
	size_t i, n = 0;

	for (i = 0; i < rn->plan->n_chunks; i++)
		if (rn->plan->chunks[i].state == 0 &&
		    sched_holds(&rn->plan->chunks[i], w) && may_take(rn, i, w))
			n++;
	return n;
}

/* A waiting chunk that local worker w may run from another local
 * worker's copy once it has none of its own waiting (share-local). */
static int
shareable(const struct runner *rn, const struct run_chunk *c, size_t w)
{
	return c->state == 0 && c->part == 0 && !sched_holds(c, w) &&
	    sched_copy_for(rn->plan, c, w) != (size_t)-1;
}

size_t
sched_shareable(const struct runner *rn, size_t w)
{
	size_t i, n = 0;

	for (i = 0; i < rn->plan->n_chunks; i++)
		n += shareable(rn, &rn->plan->chunks[i], w);
	return n;
}

/* A straggler's chunk that worker w may run too: its job is overdue, it
 * runs once, elsewhere. */
static int
speculable(const struct run_chunk *c, size_t w)
{
	return c->state == 1 && c->overdue && c->running == 1 &&
	    c->part == 0 && c->worker != w && sched_holds(c, w);
}

size_t
sched_speculable(const struct runner *rn, size_t w)
{
	size_t i, n = 0;

	for (i = 0; i < rn->plan->n_chunks; i++)
		n += speculable(&rn->plan->chunks[i], w);
	return n;
}

size_t
sched_next_batch(struct runner *rn, size_t w, size_t *batch, int *spec,
    int *whole)
{
	const struct run_worker *rw = &rn->plan->workers[w];
	size_t i, n = 0;
	unsigned b = rn->opt->stream_arg >= 0 && rn->opt->batch > 1 ?
	    rn->opt->batch : 1;
	uint64_t largest = 0, waiting = 0, want, taken = 0;

	*spec = 0;
	*whole = 0;
	for (i = 0; i < rn->plan->n_chunks; i++) {
		const struct run_chunk *c = &rn->plan->chunks[i];

		if (c->bytes > largest)
			largest = c->bytes;
		if (c->state == 0 && sched_holds(c, w))
			waiting += c->bytes;
	}
	/* this slot's share of what is left, at most the batch */
	want = (waiting + rw->slots - 1) / (rw->slots ? rw->slots : 1);
	if (want > b * largest)
		want = b * largest;
	for (i = 0; i < rn->plan->n_chunks && n < RUN_MAX_BATCH; i++) {
		const struct run_chunk *c = &rn->plan->chunks[i];

		if (c->state != 0 || !sched_holds(c, w))
			continue;
		if (c->part > 0) {
			size_t first, g = group_of(rn->plan, i, &first);

			if (!may_take(rn, i, w))
				continue;       /* a worker that holds it all */
			if (n > 0)
				break;
			if (!rn->opt->whole_groups || g > RUN_MAX_BATCH ||
			    !holds_group(rn, first, g, w)) {
				/* alone: no job can take it whole */
				batch[n++] = i;
				break;
			}
			for (n = 0; n < g; n++)
				batch[n] = first + n;
			*whole = 1;
			break;
		}
		if (n > 0 && (b == 1 || taken + c->bytes > want))
			break;
		batch[n++] = i;
		taken += c->bytes;
	}
	/* none of its own: another local worker's last waiting chunk, the
	 * one that worker would have come to last */
	for (i = rn->plan->n_chunks; i > 0 && n == 0; i--)
		if (shareable(rn, &rn->plan->chunks[i - 1], w))
			batch[n++] = i - 1;
	for (i = 0; i < rn->plan->n_chunks && n == 0; i++)
		if (speculable(&rn->plan->chunks[i], w)) {
			batch[n++] = i;
			*spec = 1;
		}
	return n;
}

int
sched_usable_holder(const struct runner *rn, const struct run_chunk *c,
    size_t except)
{
	size_t k;

	for (k = 0; k < c->n_holders; k++)
		if (c->holders[k] != except &&
		    !rn->plan->workers[c->holders[k]].failed)
			return 1;
	return 0;
}

void
sched_spread_startup(struct run_plan *plan, const size_t *batch, size_t n)
{
	struct run_chunk *first = &plan->chunks[batch[0]];
	double rest = 0, rest_bytes = 0, own, startup;
	size_t i;

	if (n < 2)
		return;
	for (i = 1; i < n; i++) {
		rest += plan->chunks[batch[i]].wall;
		rest_bytes += (double)plan->chunks[batch[i]].bytes;
	}
	if (rest_bytes <= 0)
		return;
	own = rest * (double)first->bytes / rest_bytes;
	if (own >= first->wall)
		return;
	startup = first->wall - own;
	first->wall = own;
	for (i = 0; i < n; i++) {
		struct run_chunk *ch = &plan->chunks[batch[i]];

		ch->wall += startup / (double)n;
		if (i > 0)
			ch->start = plan->chunks[batch[i - 1]].start +
			    plan->chunks[batch[i - 1]].wall;
	}
}

static int
cmp_slot_start(const void *a, const void *b)
{
	const struct run_chunk *x = *(const struct run_chunk *const *)a;
	const struct run_chunk *y = *(const struct run_chunk *const *)b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

void
sched_spread_setup(struct run_plan *plan)
{
	struct run_chunk **by = xcalloc(plan->n_chunks + 1, sizeof(*by));
	size_t n = 0, i, k, m;

	for (i = 0; i < plan->n_chunks; i++)
		if (plan->chunks[i].state == 2)
			by[n++] = &plan->chunks[i];
	qsort(by, n, sizeof(*by), cmp_slot_start);
	for (i = 0; i < n; i = m) {
		double setup = 0, share, at, end = 0;

		for (m = i; m < n && by[m]->slot == by[i]->slot; m++)
			setup += by[m]->setup;
		if (setup <= 0)
			continue;
		share = setup / (double)(m - i);
		at = by[i]->start - setup;
		for (k = i; k < m; k++) {
			if (k > i && by[k]->start > end)
				at += by[k]->start - end;   /* the gap before it */
			end = by[k]->start + by[k]->wall;
			by[k]->start = at;
			by[k]->wall += share;
			by[k]->setup = 0;
			at += by[k]->wall;
		}
	}
	free(by);
}

static double
median_per_byte(struct runner *rn)
{
	if (rn->median_of != rn->n_per_byte) {
		double *v = xcalloc(rn->n_per_byte + 1, sizeof(*v));
		size_t n = rn->n_per_byte;

		memcpy(v, rn->per_byte, n * sizeof(*v));
		rn->median = sort_median(v, n);
		rn->median_of = n;
		free(v);
	}
	return rn->median;
}

/* How long a job of these chunks may run before it is a straggler; 0: no
 * limit (yet). */
static double
job_limit(struct runner *rn, const struct slot *sl)
{
	double bytes = 0, limit;
	size_t i;

	if (rn->opt->timeout > 0)
		return rn->opt->timeout * (double)sl->n_batch;
	if (rn->opt->timeout_factor <= 0 || rn->n_per_byte < 3)
		return 0;
	for (i = 0; i < sl->n_batch; i++)
		bytes += (double)rn->plan->chunks[sl->batch[i]].bytes;
	limit = rn->opt->timeout_factor * median_per_byte(rn) * bytes;
	return limit < RUN_MIN_STRAGGLER ? RUN_MIN_STRAGGLER : limit;
}

void
sched_find_stragglers(struct runner *rn)
{
	double now = monotonic_seconds() - rn->t0;
	size_t i, k;

	if (rn->opt->timeout <= 0 && rn->opt->timeout_factor <= 0)
		return;
	for (i = 0; i < rn->n_slots; i++) {
		struct slot *sl = rn->slots[i];
		double limit;

		if (!sl->busy || sl->overdue || sl->cancelled)
			continue;
		limit = job_limit(rn, sl);
		if (limit <= 0 || now - sl->start <= limit)
			continue;
		sl->overdue = 1;
		rn->res->stragglers++;
		for (k = 0; k < sl->n_batch; k++)
			rn->plan->chunks[sl->batch[k]].overdue = 1;
		{
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "[%s %s] running for %.1f s, past its "
			    "%.1f s: a straggler; it may start again on "
			    "another worker\n",
			    rn->plan->chunks[sl->batch[0]].file,
			    rn->plan->workers[sl->worker].name,
			    now - sl->start, limit);
			run_say(rn, sb.buf, sb.len);
			strbuf_release(&sb);
		}
	}
}
