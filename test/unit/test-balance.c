/* test-balance.c - the balancing planner on fixed inputs, and properties
 * over random ones. */
#include <math.h>
#include <stdlib.h>

#include "balance.h"
#include "tap.h"
#include "unit.h"

#define W(t, n) { (t), (n), 1, 1, 0 }

static void
chunks_round_robin(struct balance_chunk *c, size_t n, size_t workers,
    double cost)
{
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].worker = i % workers;
		c[i].bytes = 25u << 20;
		c[i].cost = cost;
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
		c[i].pinned = 0;
	}
}

/* Gives worker 0 the first count[0] chunks, worker 1 the next count[1],
 * and so on. */
static void
chunks_in_blocks(struct balance_chunk *c, const size_t *count,
    size_t workers)
{
	size_t w, k, i = 0;

	for (w = 0; w < workers; w++)
		for (k = 0; k < count[w]; k++)
			c[i++].worker = w;
}

static size_t
moves_between(const struct balance_plan *p, size_t from, size_t to)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_moves; i++)
		n += p->moves[i].from == from && p->moves[i].to == to;
	return n;
}

static void
test_paper_rules(void)
{
	struct balance_worker w[3] = { W(16, 8), W(8, 8), W(12, 8) };
	struct balance_chunk c[24] = { 0 };
	struct balance_input in = { BALANCE_PAPER, w, 3, c, 24, 0.1, 1 };
	struct balance_plan p;

	balance_plan_init(&p);
	chunks_round_robin(c, 24, 3, 1.5);
	/* avg 12: A (16) is slow, B (8) fast, C (12) neither; per chunk
	 * 16 / 8 = 2, so ceil((16 - 12) / 2) = 2 exactly */
	is_int(balance_plan(&in, &p), 0, "paper: plans");
	is_int(p.n_moves, 2, "paper: ceil((T_s - avg) / (T_s / n_s)) when exact");
	is_int(moves_between(&p, 0, 1), 2, "paper: from the slow to the fast");
	ok(fabs(p.mean - 12) < 1e-9, "paper: the mean completion time");

	/* T_s = 17: avg 12.33, per 2.125, 2.196 -> 3 */
	w[0].completion = 17;
	balance_plan(&in, &p);
	is_int(p.n_moves, 3, "paper: the ceiling of 2.196 is 3");

	/* on the edges of the threshold nobody is slow or fast */
	w[0].completion = 13.2;
	w[1].completion = 10.8;
	w[2].completion = 12;
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "paper: T = avg (1 +- p) exactly is inside");
	w[0].completion = 13.2001;
	w[1].completion = 10.7999;
	balance_plan(&in, &p);
	ok(p.n_moves > 0, "paper: just outside moves");

	/* identical workers: nothing */
	w[0].completion = w[1].completion = w[2].completion = 12;
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "paper: identical workers, no moves");
	balance_plan_release(&p);
}

static void
test_paper_pairs(void)
{
	/* avg 16.67; slow: w0 (30), w1 (25); fast: w3 (5), w2 (10) */
	struct balance_worker w[6] = {
		W(30, 10), W(25, 10), W(10, 10), W(5, 10), W(15, 10), W(17, 10),
	};
	struct balance_chunk c[60] = { 0 };
	struct balance_input in = { BALANCE_PAPER, w, 6, c, 60, 0.1, 7 };
	struct balance_plan p, q;
	size_t i;
	int distinct = 1, from_slow = 1, same = 1;

	balance_plan_init(&p);
	balance_plan_init(&q);
	chunks_round_robin(c, 60, 6, 1);
	balance_plan(&in, &p);
	/* ceil((30 - 16.67) / 3) = 5; ceil((25 - 16.67) / 2.5) = 4 */
	is_int(moves_between(&p, 0, 3), 5, "paper: slowest paired with fastest");
	is_int(moves_between(&p, 1, 2), 4, "paper: second slowest with second fastest");
	is_int(p.n_moves, 9, "paper: no other moves");
	for (i = 0; i < p.n_moves; i++) {
		size_t j;

		from_slow &= c[p.moves[i].chunk].worker == p.moves[i].from;
		for (j = 0; j < i; j++)
			distinct &= p.moves[j].chunk != p.moves[i].chunk;
	}
	ok(from_slow, "paper: every chunk moved is the slow worker's");
	ok(distinct, "paper: no chunk chosen twice");

	/* the same seed, the same choice; another seed, another */
	balance_plan(&in, &q);
	for (i = 0; i < p.n_moves; i++)
		same &= p.moves[i].chunk == q.moves[i].chunk;
	ok(same, "paper: the seed fixes the random choice");
	in.seed = 8;
	balance_plan(&in, &q);
	same = 1;
	for (i = 0; i < p.n_moves; i++)
		same &= p.moves[i].chunk == q.moves[i].chunk;
	ok(!same, "paper: another seed chooses other chunks");

	/* more to move than the slow worker has: all of them */
	w[0].completion = 300;
	w[0].n_run = 100;     /* per chunk 3: 79 to move, 10 there */
	in.seed = 7;
	balance_plan(&in, &p);
	is_int(moves_between(&p, 0, 3), 10, "paper: k capped by the chunks there");
	/* a fast worker that may not receive is not paired */
	w[3].closed = 1;
	balance_plan(&in, &p);
	is_int(moves_between(&p, 0, 3), 0, "paper: a closed worker gets nothing");
	is_int(moves_between(&p, 0, 2), 10, "paper: the next fastest instead");
	balance_plan_release(&p);
	balance_plan_release(&q);
}

/* The chunks of a group (one flow, read as one stream) are pinned:
 * neither algorithm moves or cuts them, however slow their worker. */
/* balance --even: a third worker added to two holding 6 chunks each
 * gets a third of the bytes; pinned chunks stay; a worker holding a
 * replica does not get it again */
static void
test_even(void)
{
	uint64_t bytes[12];
	unsigned char pinned[12] = { 0 }, holds[12 * 3] = { 0 };
	struct balance_move *mv;
	uint64_t load[3] = { 0 };
	size_t n, i, w;

	for (i = 0; i < 12; i++) {
		bytes[i] = 100;
		holds[i * 3 + i % 2] = 1;
	}
	n = balance_even(bytes, pinned, holds, 12, 3, &mv);
	for (i = 0; i < 12; i++)
		for (w = 0; w < 3; w++)
			load[w] += holds[i * 3 + w] ? bytes[i] : 0;
	ok(n == 4 && load[0] == 400 && load[1] == 400 && load[2] == 400,
	    "even: 4 moves make 400 bytes each (%zu moves)", n);
	for (i = 0; i < n; i++)
		ok(mv[i].to == 2 && mv[i].from < 2, "even: move %zu to the new "
		    "worker", i);
	free(mv);

	/* all pinned on worker 0 but one: only that one moves */
	memset(holds, 0, sizeof(holds));
	for (i = 0; i < 12; i++) {
		holds[i * 3] = 1;
		pinned[i] = i != 5;
	}
	n = balance_even(bytes, pinned, holds, 12, 3, &mv);
	ok(n == 1 && mv[0].chunk == 5 && mv[0].from == 0,
	    "even: pinned chunks stay");
	free(mv);

	/* two replicas of 3 chunks on 3 workers: balanced already, and no
	 * worker is given a second copy of a chunk */
	memset(holds, 0, sizeof(holds));
	memset(pinned, 0, sizeof(pinned));
	for (i = 0; i < 3; i++) {
		holds[i * 3 + i] = 1;
		holds[i * 3 + (i + 1) % 3] = 1;
	}
	n = balance_even(bytes, pinned, holds, 3, 3, &mv);
	ok(n == 0, "even: replicas spread already: no move");
	free(mv);
	/* one big chunk and small ones: the gap narrows, it never grows */
	memset(holds, 0, sizeof(holds));
	bytes[0] = 1000;
	for (i = 0; i < 6; i++)
		holds[i * 3] = 1;
	n = balance_even(bytes, pinned, holds, 6, 3, &mv);
	memset(load, 0, sizeof(load));
	for (i = 0; i < 6; i++)
		for (w = 0; w < 3; w++)
			load[w] += holds[i * 3 + w] ? bytes[i] : 0;
	ok(load[0] + load[1] + load[2] == 1500 &&
	    (load[0] == 1000 || load[1] == 1000 || load[2] == 1000) &&
	    load[0] >= 200 && load[1] >= 200 && load[2] >= 200 && n == 3,
	    "even: a chunk larger than the rest stays, the others go "
	    "(%llu %llu %llu)", (unsigned long long)load[0],
	    (unsigned long long)load[1], (unsigned long long)load[2]);
	free(mv);
}

static void
test_pinned(void)
{
	struct balance_worker w[2] = { W(10, 10), W(10, 10) };
	struct balance_chunk c[20] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 2, c, 20, 0.1, 1 };
	struct balance_plan p;
	size_t i, moved = 0;
	int algo;

	for (algo = 0; algo < 2; algo++) {
		balance_plan_init(&p);
		chunks_round_robin(c, 20, 2, 1);
		for (i = 0; i < 20; i++)
			c[i].pinned = c[i].worker == 0;
		c[0].cost = 50;         /* worker 0 slow: 59 s against 10 */
		w[0].completion = 59;
		in.algo = algo ? BALANCE_PAPER : BALANCE_DEFAULT;
		balance_plan(&in, &p);
		for (i = 0; i < p.n_moves; i++)
			moved += p.moves[i].chunk < 20 &&
			    c[p.moves[i].chunk].pinned;
		for (i = 0; i < p.n_splits; i++)
			moved += c[p.splits[i]].pinned;
		ok(moved == 0, "%s: pinned chunks neither moved nor cut (%zu "
		    "moves, %zu cuts)", algo ? "paper" : "default", p.n_moves,
		    p.n_splits);
		c[0].pinned = 0;
		balance_plan(&in, &p);
		ok(p.n_moves + p.n_splits > 0, "%s: the same, one chunk not "
		    "pinned: it goes", algo ? "paper" : "default");
		balance_plan_release(&p);
		w[0].completion = 10;
	}
}

static void
test_default_basic(void)
{
	struct balance_worker w[4] = { W(10, 10), W(10, 10), W(10, 10), W(10, 10) };
	struct balance_chunk c[40] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 4, c, 40, 0.1, 1 };
	struct balance_plan p;
	size_t i;

	balance_plan_init(&p);
	chunks_round_robin(c, 40, 4, 1);
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "default: identical workers and chunks, no moves");
	is_int(p.n_splits, 0, "default: and no splits");
	ok(fabs(p.ideal - 10) < 1e-9, "default: the ideal is work / speed");

	/* one hot chunk, 100 s where the others take 1 */
	c[5].cost = 100;
	w[1].completion = 109;
	balance_plan(&in, &p);
	is_int(p.n_splits, 1, "default: a chunk longer than the ideal is split");
	is_int(p.splits[0], 5, "default: that chunk");
	ok(p.split_parts[0] >= 2 && p.split_parts[0] * p.ideal / 2 >= 100,
	    "default: into parts of at most half the ideal (%u parts, ideal %.2f)",
	    p.split_parts[0], p.ideal);
	{
		size_t parts_moved = 0, n_to[4] = { 0, 0, 0, 0 };

		for (i = 0; i < p.n_moves; i++) {
			size_t m = p.moves[i].chunk;

			ok(m != 5, "default: the hot chunk itself is not moved");
			if (m >= 40 && m < p.split_first[0] + p.split_parts[0]) {
				parts_moved++;
				n_to[p.moves[i].to]++;
			}
		}
		ok(p.split_first[0] == 40,
		    "default: its parts are numbered after the chunks");
		ok(parts_moved >= p.split_parts[0] / 2 && n_to[0] > 0 &&
		    n_to[2] > 0 && n_to[3] > 0,
		    "default: its parts are spread over the other workers "
		    "(%zu of %u moved)", parts_moved, p.split_parts[0]);
		ok(balance_makespan(p.after, 4) < 0.5 *
		    balance_makespan(p.before, 4),
		    "default: the slowest predicted time halves at least "
		    "(%.2f -> %.2f)", balance_makespan(p.before, 4),
		    balance_makespan(p.after, 4));
	}

	/* uneven costs: worker 0 has all the expensive chunks */
	for (i = 0; i < 40; i++)
		c[i].cost = i % 4 == 0 ? 3 : 1;
	balance_plan(&in, &p);
	ok(p.n_moves > 0, "default: moves off the expensive worker");
	ok(balance_makespan(p.after, 4) <= p.ideal * 1.1 + 1e-9,
	    "default: predicted within the threshold of the ideal "
	    "(%.2f, ideal %.2f)", balance_makespan(p.after, 4), p.ideal);
	for (i = 0; i < p.n_moves; i++)
		ok(p.moves[i].to != 0, "default: nothing to the slow worker");
	ok(balance_makespan(p.after, 4) <= p.ideal * 1.05 + 1e-9,
	    "default: past the threshold, within half of it");
	balance_plan_release(&p);
}

/* Past the threshold, the plan goes on to half of it: 12, 11, 7 chunks of
 * 1 s (ideal 10, threshold 11) would stop at 11, 11, 8 - just inside. */
static void
test_default_aim(void)
{
	struct balance_worker w[3] = { W(12, 12), W(11, 11), W(7, 7) };
	struct balance_chunk c[30] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 3, c, 30, 0.1, 1 };
	struct balance_plan p;
	const size_t blocks[3] = { 12, 11, 7 };

	balance_plan_init(&p);
	chunks_round_robin(c, 30, 3, 1);
	chunks_in_blocks(c, blocks, 3);
	balance_plan(&in, &p);
	ok(balance_makespan(p.after, 3) <= p.ideal * 1.05 + 1e-9,
	    "default: past the threshold, down to half of it (%.2f, ideal %.2f)",
	    balance_makespan(p.after, 3), p.ideal);
	is_int(p.n_moves, 3, "default: 12 11 7 -> 10 10 10 in three moves");
	is_int(moves_between(&p, 0, 2) + moves_between(&p, 1, 2), 3,
	    "default: all to the fast worker");

	/* 11 11 8: inside the threshold, nothing moves though half of it
	 * could be reached */
	c[0].worker = 2;
	w[0].completion = 11;
	w[2].completion = 8;
	w[0].n_run = 11;
	w[2].n_run = 8;
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "default: within the threshold, no moves");
	balance_plan_release(&p);
}

/* Past the threshold, whole moves bring the slowest inside it; going on to
 * half of it takes cuts (parts of a chunk), which are kept only if they
 * gain at least half a move's gain. */
static void
test_default_margin(void)
{
	struct balance_worker w[5] = { W(19.2, 6), W(18.3, 6), W(18, 6),
	    W(15, 5), W(15, 5) };
	struct balance_chunk c[30] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 5, c, 28, 0.1, 1 };
	struct balance_plan p;
	const size_t five[5] = { 6, 6, 6, 5, 5 }, four[4] = { 10, 8, 6, 6 };
	size_t i;

	balance_plan_init(&p);
	/* 28 chunks of 3 s on 5 workers, 6 6 6 5 5, but one of worker 0's
	 * takes 4.2 and worker 1's 3.05: ideal 17.1, limit 18.81, the aim
	 * 17.955. A chunk of worker 0 to worker 3 leaves 18.3 (1.07x); two
	 * cuts after it would end at 18.0, 0.3 s better: not worth it. */
	chunks_round_robin(c, 28, 5, 3);
	chunks_in_blocks(c, five, 5);
	for (i = 6; i < 12; i++)
		c[i].cost = 3.05;
	c[0].cost = 4.2;
	balance_plan(&in, &p);
	is_int(p.n_moves, 1, "default: one whole chunk to within the threshold");
	is_int(p.n_splits, 0,
	    "default: no cut for a margin of less than half a move's gain");
	ok(fabs(balance_makespan(p.after, 5) - 18.3) < 1e-9,
	    "default: the slowest then worker 1 (%.2f)",
	    balance_makespan(p.after, 5));

	/* 30 chunks of 2 s on 4 workers, 10 8 6 6: two whole moves leave
	 * 16 16 14 14 (1.07x the ideal of 15); a cut of a chunk of each of
	 * the two slowest, a half to each of the others, ends at 15 */
	in.n_workers = 4;
	in.n_chunks = 30;
	w[0] = (struct balance_worker)W(20, 10);
	w[1] = (struct balance_worker)W(16, 8);
	w[2] = (struct balance_worker)W(12, 6);
	w[3] = (struct balance_worker)W(12, 6);
	chunks_round_robin(c, 30, 4, 2);
	chunks_in_blocks(c, four, 4);
	balance_plan(&in, &p);
	is_int(p.n_splits, 2, "default: cuts that gain 1 s of 15 are kept");
	ok(fabs(balance_makespan(p.after, 4) - 15) < 1e-9,
	    "default: and end at the ideal (%.2f)",
	    balance_makespan(p.after, 4));
	balance_plan_release(&p);
}

/* 8 equal chunks on 3 equal workers: 3, 3, 2, 1.125 times the ideal, and
 * no whole chunk can go anywhere without making its receiver the slowest:
 * a chunk of each full worker is cut in thirds and a third goes to the
 * third worker. */
static void
test_default_cut_to_fit(void)
{
	struct balance_worker w[3] = { W(3, 3), W(3, 3), W(2, 2) };
	struct balance_chunk c[8] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 3, c, 8, 0.1, 1 };
	struct balance_plan p;
	size_t i, parts_to_2 = 0;

	balance_plan_init(&p);
	chunks_round_robin(c, 8, 3, 1);
	balance_plan(&in, &p);
	is_int(p.n_splits, 2, "default: a chunk of each full worker is cut");
	for (i = 0; i < p.n_splits; i++)
		ok(p.split_parts[i] == 3 && c[p.splits[i]].worker != 2,
		    "default: cut %zu: chunk %zu of worker %zu in %u parts",
		    i, p.splits[i], c[p.splits[i]].worker, p.split_parts[i]);
	for (i = 0; i < p.n_moves; i++)
		parts_to_2 += p.moves[i].chunk >= 8 && p.moves[i].to == 2;
	is_int(p.n_moves, 2, "default: two parts move");
	is_int(parts_to_2, 2, "default: both parts, to the emptier worker");
	ok(balance_makespan(p.after, 3) <= p.ideal * (1 + 1e-9),
	    "default: parts reach the ideal (%.3f, ideal %.3f)",
	    balance_makespan(p.after, 3), p.ideal);

	/* chunks of a single MiB are not cut: nothing to do then */
	for (i = 0; i < 8; i++)
		c[i].bytes = 1u << 20;
	balance_plan(&in, &p);
	is_int(p.n_splits + p.n_moves, 0, "default: 1 MiB chunks are not cut");
	balance_plan_release(&p);
}

/* Chunks of 25 MiB costing cost[i], the first n0 on worker 0, the next n1
 * on worker 1, the rest on worker 2. */
static void
chunks_on_three(struct balance_chunk *c, size_t n, const double *cost,
    size_t n0, size_t n1)
{
	const size_t count[3] = { n0, n1, n - n0 - n1 };
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].bytes = 25u << 20;
		c[i].cost = cost[i];
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
	}
	chunks_in_blocks(c, count, 3);
}

/* Worker 0 (speed 2) holds four chunks of 3 s, 12 s; the others are too
 * full for a whole chunk, a third of one (ceil(3 s / its 1.11 s excess))
 * or an exchange, and the slow worker counts every second of worker 0's
 * four times. Cut in quarters, a part fits on either: the parts are sized
 * to the room a receiver has, not only to the excess. */
static void
test_default_cut_to_room(void)
{
	struct balance_worker w[3] = { W(12, 4), W(10.5, 4), W(8, 1) };
	struct balance_chunk c[9] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 3, c, 9, 0.1, 1 };
	static const double cost[9] = { 3, 3, 3, 3, 3, 3, 3, 1.5, 8 };
	struct balance_plan p;

	w[0].speed = 2;
	w[1].speed = 2;
	w[2].speed = 0.5;
	chunks_on_three(c, 9, cost, 4, 4);
	balance_plan_init(&p);
	balance_plan(&in, &p);
	ok(fabs(p.ideal - 49 / 4.5) < 1e-9, "default: room: ideal %.3f", p.ideal);
	is_int(p.n_splits, 1, "default: room: one chunk of worker 0 is cut");
	ok(p.n_splits == 1 && p.splits[0] < 4 && p.split_parts[0] == 4,
	    "default: room: in quarters (%u parts)",
	    p.n_splits ? p.split_parts[0] : 0);
	is_int(p.n_moves, 1, "default: room: one part moves");
	ok(p.n_moves == 1 && p.moves[0].from == 0 && p.moves[0].chunk >= 9,
	    "default: room: a part, off worker 0");
	ok(balance_makespan(p.after, 3) <= p.ideal * 1.05,
	    "default: room: within half the threshold (%.3f, ideal %.3f)",
	    balance_makespan(p.after, 3), p.ideal);
	balance_plan_release(&p);
}

/* No whole chunk of worker 0 (12 s) fits elsewhere; exchanging one of
 * 3 s for worker 2's of 2 s would end at 11 s, and so would cutting one in
 * thirds and sending a third to worker 2. The exchange sends two whole
 * chunks, the cut one part: the cut. */
static void
test_default_cut_over_exchange(void)
{
	struct balance_worker w[3] = { W(12, 4), W(10.5, 4), W(9.5, 4) };
	struct balance_chunk c[12] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 3, c, 12, 0.1, 1 };
	static const double cost[12] = { 3, 3, 3, 3, 3, 3, 3, 1.5,
	    3, 3, 1.5, 2 };
	struct balance_plan p;

	chunks_on_three(c, 12, cost, 4, 4);
	balance_plan_init(&p);
	balance_plan(&in, &p);
	is_int(p.n_splits, 1, "default: cut over exchange: a cut");
	ok(p.n_splits == 1 && p.split_parts[0] == 3,
	    "default: cut over exchange: in thirds");
	ok(moves_between(&p, 1, 0) + moves_between(&p, 2, 0) == 0,
	    "default: cut over exchange: nothing comes back to worker 0");
	ok(p.bytes_moved < (uint64_t)(25u << 20),
	    "default: cut over exchange: less than a chunk moved (%llu)",
	    (unsigned long long)p.bytes_moved);
	ok(balance_makespan(p.after, 3) <= p.ideal * 1.1,
	    "default: cut over exchange: within the threshold (%.3f, ideal %.3f)",
	    balance_makespan(p.after, 3), p.ideal);
	balance_plan_release(&p);
}

/* A move that gains on the slowest worker when another is nearly as slow
 * and nothing brings that one down: the plan as a whole would gain less
 * than a move must, so there is none. */
static void
test_default_worth_it(void)
{
	struct balance_worker w[3] = { W(3, 3), W(2.95, 3), W(1.6, 1) };
	struct balance_chunk c[7] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 3, c, 7, 0.1, 1 };
	struct balance_plan p;
	size_t i;

	balance_plan_init(&p);
	for (i = 0; i < 7; i++) {
		c[i].worker = i < 3 ? 0 : i < 6 ? 1 : 2;
		c[i].bytes = 1u << 20;
		c[i].cost = i < 3 ? 1 : i < 6 ? 2.95 / 3 : 1.6;
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
	}
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "default: a plan gaining less than a move's worth "
	    "is no plan");
	ok(balance_makespan(p.after, 3) == balance_makespan(p.before, 3),
	    "default: and it predicts no change");
	balance_plan_release(&p);
}

static void
test_default_speeds(void)
{
	struct balance_worker w[2] = { W(10, 20), W(20, 20) };
	struct balance_chunk c[40] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 2, c, 40, 0.05, 1 };
	struct balance_plan p;
	size_t i;

	balance_plan_init(&p);
	/* worker 0 is twice as fast: same work, half the time */
	w[0].speed = 2;
	w[1].speed = 1;
	for (i = 0; i < 40; i++) {
		c[i].worker = i % 2;
		c[i].bytes = 25u << 20;
		c[i].cost = i % 2 ? 1 : 0.5;
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
	}
	balance_plan(&in, &p);
	/* work 40, speed 3: ideal 13.33; 6 or 7 chunks to the fast one */
	ok(fabs(p.ideal - 40.0 / 3) < 1e-9, "default: ideal with speeds");
	ok(p.n_moves >= 6 && p.n_moves <= 7,
	    "default: moves as the speeds say (%zu)", p.n_moves);
	is_int(moves_between(&p, 1, 0), p.n_moves, "default: slow to fast");
	ok(balance_makespan(p.after, 2) <= p.ideal * 1.05,
	    "default: within 5%% of the ideal");

	/* a chunk does not go back where it came from */
	for (i = 0; i < 40; i++)
		c[i].came_from = i % 2 ? 0 : BALANCE_NONE;
	balance_plan(&in, &p);
	is_int(p.n_moves, 0, "default: no chunk back to the worker it left");

	/* among equal moves, the fewest bytes */
	for (i = 0; i < 40; i++) {
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
		c[i].bytes = i == 17 ? 1000 : 25u << 20;
	}
	balance_plan(&in, &p);
	ok(p.n_moves > 0 && p.moves[0].chunk == 17,
	    "default: the smallest chunk moves first");
	balance_plan_release(&p);
}

static void
test_default_unknown_speeds(void)
{
	struct balance_worker w[2] = { { 10, 20, 1, 0, 0 }, { 20, 20, 1, 0, 0 } };
	struct balance_chunk c[40] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 2, c, 40, 0.05, 1 };
	struct balance_plan p;
	size_t i;

	balance_plan_init(&p);
	/* nobody measured the speeds; worker 1's chunks all take twice as
	 * long (with one dear chunk on each): a slower worker, not dear
	 * chunks */
	for (i = 0; i < 40; i++) {
		c[i].worker = i % 2;
		c[i].bytes = 25u << 20;
		c[i].cost = i % 2 ? 1 : 0.5;
		c[i].came_from = BALANCE_NONE;
		c[i].cost_se = 0;
	}
	c[0].cost = 1.5;
	c[1].cost = 3;
	balance_plan(&in, &p);
	is_int(p.n_splits, 0, "unknown speeds: a slow worker's chunks are not cut");
	ok(p.n_moves >= 5 && moves_between(&p, 1, 0) == p.n_moves,
	    "unknown speeds: taken from the median costs, chunks go to the "
	    "faster (%zu moves)", p.n_moves);
	ok(balance_makespan(p.after, 2) <= p.ideal * 1.05,
	    "unknown speeds: within 5%% of the ideal (%.2f, %.2f)",
	    balance_makespan(p.after, 2), p.ideal);
	/* a chunk dear on any worker is still cut */
	c[1].cost = 200;
	balance_plan(&in, &p);
	is_int(p.n_splits, 1, "unknown speeds: a truly dear chunk is cut");
	balance_plan_release(&p);
}

/* A random cluster: do the predictions add up, does nothing get worse? */
static void
test_random_properties(void)
{
	struct balance_worker w[12];
	struct balance_chunk c[200] = { 0 };
	struct balance_plan p;
	unsigned seed = 12345;
	int round, worse = 0, bad_sum = 0, bad_move = 0, paper_ok = 1;
	int small_gain = 0;

	balance_plan_init(&p);
	for (round = 0; round < 200; round++) {
		struct balance_input in = { BALANCE_DEFAULT, w, 0, c, 0, 0.1, 0 };
		size_t nw = 2 + (size_t)(rand_r(&seed) % 11);
		size_t nc = 1 + (size_t)(rand_r(&seed) % 200), i;
		double before_work = 0, after_work = 0;

		for (i = 0; i < nw; i++) {
			w[i].completion = 0;
			w[i].n_run = 0;
			w[i].slots = 1 + (unsigned)(rand_r(&seed) % 3);
			w[i].speed = 0.25 + (rand_r(&seed) % 100) / 25.0;
			w[i].closed = rand_r(&seed) % 8 == 0;
		}
		for (i = 0; i < nc; i++) {
			c[i].worker = (size_t)rand_r(&seed) % nw;
			c[i].bytes = 1 + (uint64_t)(rand_r(&seed) % (25u << 20));
			c[i].cost = rand_r(&seed) % 10 == 0 ? -1 :
			    0.1 + (rand_r(&seed) % 1000) / 100.0;
			c[i].came_from = rand_r(&seed) % 5 == 0 ?
			    (size_t)rand_r(&seed) % nw : BALANCE_NONE;
			c[i].cost_se = 0;
			w[c[i].worker].n_run++;
			w[c[i].worker].completion += c[i].cost > 0 ? c[i].cost : 1;
		}
		in.n_workers = nw;
		in.n_chunks = nc;
		in.threshold = (rand_r(&seed) % 30) / 100.0;
		in.algo = round % 2 ? BALANCE_PAPER : BALANCE_DEFAULT;
		in.seed = (uint64_t)round;
		if (balance_plan(&in, &p) != 0) {
			paper_ok = 0;
			continue;
		}
		for (i = 0; i < nw; i++) {
			before_work += p.before[i] * w[i].speed * w[i].slots;
			after_work += p.after[i] * w[i].speed * w[i].slots;
		}
		if (fabs(before_work - after_work) > 1e-6 * (1 + before_work))
			bad_sum++;
		for (i = 0; i < p.n_moves; i++)
			if (w[p.moves[i].to].closed ||
			    p.moves[i].from == p.moves[i].to ||
			    (in.algo == BALANCE_DEFAULT &&
			    p.moves[i].chunk < nc &&
			    p.moves[i].to == c[p.moves[i].chunk].came_from))
				bad_move++;
		if (in.algo == BALANCE_DEFAULT &&
		    balance_makespan(p.after, nw) >
		    balance_makespan(p.before, nw) + 1e-9)
			worse++;
		if (in.algo == BALANCE_DEFAULT && p.n_moves > 0 &&
		    balance_makespan(p.after, nw) > balance_makespan(p.before,
		    nw) - (in.threshold / 2 > 0.01 ? in.threshold / 2 : 0.01) *
		    p.ideal + 1e-9)
			small_gain++;
	}
	ok(paper_ok, "random: every input planned");
	is_int(bad_sum, 0, "random: moves keep the total work");
	is_int(bad_move, 0, "random: no move to a closed worker, to itself, or back");
	is_int(worse, 0, "random: default never predicts a worse slowest time");
	is_int(small_gain, 0, "random: a default plan gains at least a move's worth");
	balance_plan_release(&p);
}

static void
test_bad_input(void)
{
	struct balance_worker w[1] = { W(1, 1) };
	struct balance_chunk c[1] = { { 3, 1, 1, BALANCE_NONE, 0, 0 } };
	struct balance_input in = { BALANCE_DEFAULT, w, 1, c, 1, 0.1, 0 };
	struct balance_plan p;

	balance_plan_init(&p);
	is_int(balance_plan(&in, &p), -1, "a chunk on no worker is refused");
	c[0].worker = 0;
	in.threshold = -1;
	is_int(balance_plan(&in, &p), -1, "a negative threshold is refused");
	in.threshold = 0;
	in.n_chunks = 0;
	is_int(balance_plan(&in, &p), 0, "no chunks: nothing to do");
	is_int(p.n_moves, 0, "no chunks: no moves");
	balance_plan_release(&p);
}

static void
test_speeds(void)
{
	/* 3 workers with speeds 1, 2, 0.5 (geometric mean 1); 30 items of
	 * random work, each seen on two or three of them */
	double truth[4] = { 1, 2, 0.5, 1 }, work[30], speed[4];
	struct balance_obs obs[120];
	size_t n = 0, i;
	unsigned seed = 99;

	for (i = 0; i < 30; i++) {
		size_t w;

		work[i] = 1 + rand_r(&seed) % 50;
		for (w = 0; w < 3; w++)
			if (w != i % 3 || i % 2) {
				obs[n].item = i;
				obs[n].worker = w;
				obs[n].cost = work[i] / truth[w];
				n++;
			}
	}
	/* worker 3 ran only items nobody else did */
	obs[n].item = 29;
	obs[n].worker = 3;
	obs[n].cost = 7;
	n++;
	obs[n - 1].item = 40;   /* out of range: ignored */
	balance_estimate_speeds(obs, n, 30, 4, speed);
	ok(fabs(speed[0] - 1) < 1e-6 && fabs(speed[1] - 2) < 1e-6 &&
	    fabs(speed[2] - 0.5) < 1e-6,
	    "speeds found from items seen on several workers (%.4f %.4f %.4f)",
	    speed[0], speed[1], speed[2]);
	ok(speed[3] == 0, "a worker linked to no other: speed unknown (0)");

	/* nothing seen twice: everyone 1 */
	for (i = 0; i < 30; i++) {
		obs[i].item = i;
		obs[i].worker = i % 3;
		obs[i].cost = 1 + (double)i;
	}
	balance_estimate_speeds(obs, 30, 30, 3, speed);
	ok(speed[0] == 0 && speed[1] == 0 && speed[2] == 0,
	    "no item on two workers: all speeds unknown");
}

static void
test_recent_costs(void)
{
	/* item 0 where it is now (worker 1): 1..6 over seven runs, one of
	 * them (100) on worker 0 before it moved; item 1 never seen; item 2
	 * twice on worker 0, once elsewhere; item 3 seen only elsewhere and
	 * failed (cost 0) where it is */
	struct balance_obs obs[] = {
		{ 0, 1, 1, 0 }, { 0, 1, 2, 0 }, { 0, 0, 100, 0 },
		{ 0, 1, 3, 0 }, { 2, 0, 8, 0 }, { 0, 1, 4, 0 },
		{ 2, 1, 50, 0 }, { 0, 1, 5, 0 }, { 2, 0, 9, 0 },
		{ 3, 1, 7, 0 }, { 3, 0, 0, 0 }, { 0, 1, 6, 0 },
		{ 9, 0, 1, 0 },
	};
	struct balance_chunk ch[4] = {
		{ 1, 0, -1, BALANCE_NONE, 0, 0 }, { 0, 0, -1, BALANCE_NONE, 0, 0 },
		{ 0, 0, -1, BALANCE_NONE, 0, 0 }, { 0, 0, -1, BALANCE_NONE, 0, 0 },
	};

	balance_recent_costs(obs, sizeof(obs) / sizeof(obs[0]), ch, 4);
	ok(ch[0].cost == 4, "a chunk's cost: the median of its last 5 runs "
	    "where it is (%g)", ch[0].cost);
	ok(ch[1].cost == -1 && ch[3].cost == -1,
	    "never measured where it is: left as it was");
	ok(ch[2].cost == 8.5, "two runs there: their mean (%g)", ch[2].cost);
	/* 2..6: deviations 2 1 0 1 2 from 4, MAD 1 */
	ok(fabs(ch[0].cost_se - 1.4826 * sqrt(M_PI / 2 / 5)) < 1e-9,
	    "its standard error, from the MAD of those runs (%g)",
	    ch[0].cost_se);
	/* 8 and 9: MAD 0.5 */
	ok(fabs(ch[2].cost_se - 1.4826 * 0.5 * sqrt(M_PI / 2 / 2)) < 1e-9,
	    "two runs: a standard error from their difference (%g)",
	    ch[2].cost_se);
	ok(ch[0].cost_se > 0 && ch[1].cost_se == 0,
	    "never measured where it is: none");
}

/* Four chunks over five runs, the whole machine 1.3 times slower in runs
 * 2 and 4 and 0.8 times in run 5; each chunk costs the same otherwise.
 * Chunk 4 came to worker 1 before run 5 and ran there once. */
static void
test_recent_costs_levels(void)
{
	static const double level[6] = { 0, 1, 1.3, 1, 1.3, 0.8 };
	static const double usual[5] = { 2, 3, 4, 5, 6 };
	struct balance_obs obs[30];
	struct balance_chunk ch[5] = { 0 };
	size_t n = 0, i, r;

	for (r = 1; r <= 5; r++)
		for (i = 0; i < 5; i++) {
			obs[n].item = i;
			obs[n].worker = i == 4 && r == 5 ? 1 : 0;
			obs[n].cost = usual[i] * level[r];
			obs[n].run = r;
			n++;
		}
	for (i = 0; i < 5; i++) {
		ch[i].worker = i == 4;
		ch[i].bytes = 1;
		ch[i].cost = -1;
		ch[i].came_from = BALANCE_NONE;
		ch[i].cost_se = 0;
	}
	balance_recent_costs(obs, n, ch, 5);
	for (i = 0; i < 4; i++)
		if (fabs(ch[i].cost - usual[i]) > 1e-9 || ch[i].cost_se > 1e-9)
			break;
	ok(i == 4, "levelled by its run: each chunk its usual cost, no "
	    "noise (the first that is not: %zu of 4)", i);
	ok(fabs(ch[4].cost - usual[4]) < 1e-9, "seen once, in a fast run: "
	    "its usual cost (%g)", ch[4].cost);

	/* the same costs from runs of unknown number: as they are */
	for (i = 0; i < n; i++)
		obs[i].run = 0;
	for (i = 0; i < 5; i++)
		ch[i].cost = -1;
	balance_recent_costs(obs, n, ch, 5);
	ok(ch[0].cost == 2 && ch[0].cost_se > 0 && ch[4].cost == 6 * 0.8,
	    "runs unknown: the raw median and its spread (%g, se %g)",
	    ch[0].cost, ch[0].cost_se);

	/* one chunk given five times in one run, another run beside */
	for (i = 0; i < 5; i++) {
		obs[i].item = 0;
		obs[i].worker = 0;
		obs[i].cost = 2 + (double)i;
		obs[i].run = 7;
	}
	obs[5].item = 1;
	obs[5].worker = 0;
	obs[5].cost = 3;
	obs[5].run = 8;
	for (i = 0; i < 2; i++)
		ch[i].cost = -1;
	balance_recent_costs(obs, 6, ch, 2);
	ok(ch[0].cost == 4 && ch[1].cost == 3,
	    "a run given twice for a chunk: its costs, as they are (%g)",
	    ch[0].cost);
}

/* 6 chunks on worker 0, 4 on worker 1, all alike: 1.2 times the ideal,
 * past the threshold by 0.5 s. Moves when the costs are known to +-0.05
 * s a chunk, and also when they are known to +-0.3 s only (2 x 0.73 s on
 * worker 0): the noise holds a plan back by half the threshold at most
 * (0.25 s), and 1.2x is past that. 45 and 35 chunks of 0.25 s (1.125x,
 * past the threshold by 0.25 s): no move when they are known to +-0.1 s
 * (2 x 0.67 s), a move when to +-0.01 s (2 x 0.07 s). */
static void
test_default_noise(void)
{
	struct balance_worker w[2] = { W(6, 6), W(4, 4) };
	struct balance_chunk c[80] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 2, c, 10, 0.1, 1 };
	double cost[80];
	struct balance_plan p;
	size_t i;

	balance_plan_init(&p);
	for (i = 0; i < 80; i++)
		cost[i] = 1;
	chunks_on_three(c, 10, cost, 6, 4);     /* none left for worker 2 */
	for (i = 0; i < 10; i++)
		c[i].cost_se = 0.05;
	balance_plan(&in, &p);
	is_int(p.n_moves, 1, "default: past the threshold beyond the noise, "
	    "a move");
	for (i = 0; i < 10; i++)
		c[i].cost_se = i < 6 ? 0.3 : 0;
	balance_plan(&in, &p);
	is_int(p.n_moves, 1, "default: past the threshold by more than half "
	    "of it, a move however noisy");
	/* the noise of the receiver is not the slowest worker's */
	for (i = 0; i < 10; i++)
		c[i].cost_se = i < 6 ? 0 : 0.3;
	balance_plan(&in, &p);
	is_int(p.n_moves, 1, "default: a noisy receiver does not stop it");

	for (i = 0; i < 80; i++)
		cost[i] = 0.25;
	chunks_on_three(c, 80, cost, 45, 35);
	in.n_chunks = 80;
	w[0].completion = 11.25;
	w[0].n_run = 45;
	w[1].completion = 8.75;
	w[1].n_run = 35;
	for (i = 0; i < 80; i++)
		c[i].cost_se = i < 45 ? 0.1 : 0;
	balance_plan(&in, &p);
	is_int(p.n_moves + p.n_splits, 0,
	    "default: past the threshold within the noise, no moves");
	for (i = 0; i < 80; i++)
		c[i].cost_se = i < 45 ? 0.01 : 0;
	balance_plan(&in, &p);
	ok(p.n_moves > 0, "default: the same known better, moves (%zu)",
	    p.n_moves);
	balance_plan_release(&p);
}

/* A big capture: 100 chunks of 0.1 s, 60 on worker 0 and 40 on worker 1
 * (1.2x the ideal of 5 s). No chunk alone gains a move's worth (0.25 s),
 * none can be cut to; they move for what each gains, down to half the
 * threshold. */
static void
test_default_small_chunks(void)
{
	struct balance_worker w[2] = { W(6, 60), W(4, 40) };
	struct balance_chunk c[100] = { 0 };
	struct balance_input in = { BALANCE_DEFAULT, w, 2, c, 100, 0.1, 1 };
	double cost[100];
	struct balance_plan p;
	size_t i;

	for (i = 0; i < 100; i++)
		cost[i] = 0.1;
	chunks_on_three(c, 100, cost, 60, 40);
	balance_plan_init(&p);
	balance_plan(&in, &p);
	ok(p.n_moves >= 5 && moves_between(&p, 0, 1) == p.n_moves,
	    "default: small chunks move, each for what it gains (%zu)",
	    p.n_moves);
	ok(balance_makespan(p.after, 2) <= p.ideal * 1.05 + 1e-9,
	    "default: small chunks, down to half the threshold (%.2f)",
	    balance_makespan(p.after, 2));
	is_int(p.n_splits, 0, "default: small chunks, none cut");
	balance_plan_release(&p);
}

void
test_balance(void)
{
	test_recent_costs();
	test_recent_costs_levels();
	test_paper_rules();
	test_paper_pairs();
	test_default_basic();
	test_pinned();
	test_even();
	test_default_aim();
	test_default_margin();
	test_default_cut_to_fit();
	test_default_cut_to_room();
	test_default_cut_over_exchange();
	test_default_worth_it();
	test_default_noise();
	test_default_small_chunks();
	test_default_speeds();
	test_default_unknown_speeds();
	test_random_properties();
	test_bad_input();
	test_speeds();
}
