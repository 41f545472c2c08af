/* balance.h - the balancing planner: given where the chunks are and how
 * long the last run took on each worker, which chunks to move where.
 *
 * Pure: no I/O, no clock, no global state; the random choices of the
 * paper's algorithm come from the seed in the input, so a plan can be
 * replayed, unit-tested and simulated with thousands of workers.
 *
 * Two algorithms (docs/balance.md):
 *
 *   paper    McGrath's, exactly: workers slower than the mean completion
 *            time by more than the threshold are slow, faster by more are
 *            fast; the slowest is paired with the fastest and so on, and
 *            each pair moves ceil((T_s - avg) / (T_s / n_s)) chunks chosen
 *            at random from the slow worker to the fast one.
 *
 *   default  uses each chunk's measured cost and each worker's speed:
 *            moves, one at a time, the chunk that brings the slowest
 *            worker's predicted time nearest to the ideal (total work /
 *            total speed), preferring fewer bytes among moves about as
 *            good; never a move predicted to make the slowest time worse,
 *            never a chunk back to the worker it last left; a chunk that
 *            alone takes longer than the ideal is to be cut, and its
 *            parts are placed as chunks of their own; when the slowest
 *            worker's chunks are too big to fit anywhere, one of them is
 *            cut finer so that a part can go; a plan that does not
 *            shorten the slowest time by a move's worth is dropped.
 *            Nothing moves unless the slowest worker's predicted time
 *            exceeds the threshold by twice its standard error. */
#ifndef SHARDCAP_BALANCE_H
#define SHARDCAP_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#define BALANCE_NONE ((size_t)-1)

enum balance_algo {
	BALANCE_DEFAULT,
	BALANCE_PAPER,
};

struct balance_worker {
	double completion;      /* T_i: seconds from the run's start until
	                         * its last job ended (0: it ran nothing) */
	size_t n_run;           /* n_i: chunks it ran */
	unsigned slots;         /* jobs at once (0 is taken as 1) */
	double speed;           /* of one slot, relative; <= 0: unknown,
	                         * estimated from the chunk costs */
	int closed;             /* may not receive chunks */
};

struct balance_chunk {
	size_t worker;          /* the worker that holds and ran it */
	uint64_t bytes;
	double cost;            /* seconds its job took there; < 0 unknown */
	size_t came_from;       /* the worker it last moved away from, or
	                         * BALANCE_NONE */
	double cost_se;         /* standard error of cost, from the spread
	                         * of its recent costs; 0 unknown */
	int pinned;             /* never moved or cut: a part of a group of
	                         * chunks that a query reads as one stream */
};

struct balance_input {
	enum balance_algo algo;
	const struct balance_worker *workers;
	size_t n_workers;
	const struct balance_chunk *chunks;
	size_t n_chunks;
	double threshold;       /* p: 0.1 for 10 % */
	uint64_t seed;          /* for the paper's random choice */
};

/* chunk: an index into the input's chunks, or, from n_chunks on, a part
 * of a chunk to cut: part j of splits[k] is split_first[k] + j. */
struct balance_move {
	size_t chunk, from, to;
};

struct balance_plan {
	struct balance_move *moves;
	size_t n_moves, alloc_moves;
	size_t *splits;         /* chunks to cut into smaller ones */
	unsigned *split_parts;  /* into how many */
	size_t *split_first;    /* the number moves give their first part */
	size_t n_splits, alloc_splits;
	size_t n_oversize;      /* the first n_oversize splits: chunks that
	                         * alone take longer than the ideal; the
	                         * others are cut finer to fit elsewhere */
	double *before, *after; /* predicted completion time per worker */
	double ideal;           /* total work / total speed */
	double mean;            /* mean measured completion time */
	uint64_t bytes_moved;
};

void balance_plan_init(struct balance_plan *plan);
void balance_plan_release(struct balance_plan *plan);

/* Plans; plan must be initialised (and is reset). Returns 0, or -1 with
 * errno EINVAL when the input is inconsistent (a chunk on a worker that
 * does not exist, a negative threshold). */
int balance_plan(const struct balance_input *in, struct balance_plan *plan);

/*
 * Plans moves that share out chunks by bytes, with no timings: for a
 * capture no query has measured yet (a worker just added). holds[c * W +
 * w] says worker w holds a copy of chunk c (of bytes[c]); a chunk pinned
 * (a part of a group) does not move. Each step moves the chunk, from a
 * worker holding it to the lightest one that does not, that evens the
 * bytes held most (the sum of their squares); it stops when no move
 * evens them further. holds is updated to the result. Returns
 * the moves in *moves (freed by the caller) and their number.
 */
size_t balance_even(const uint64_t *bytes, const unsigned char *pinned,
    unsigned char *holds, size_t n_chunks, size_t W,
    struct balance_move **moves);

/* The largest predicted completion time in times[0..n). */
double balance_makespan(const double *times, size_t n);

/* The variance of a median of n draws is about pi/2 times that of their
 * mean. */
#define BALANCE_MEDIAN_NOISE 1.5707963267948966

/* One job of the history: item (a chunk, under one command) took cost
 * seconds on worker, in run. */
struct balance_obs {
	size_t item, worker;
	double cost;
	uint64_t run;           /* the run it is from, or 0 unknown */
};

/* Estimates each worker's speed of one slot from the history: the cost of
 * item i on worker w is taken as work(i) / speed(w), solved in the least
 * squares of the logarithms. Only items seen on more than one worker tell
 * speeds apart; a worker linked to no other by such an item gets 0
 * (unknown), and the others are scaled so that their geometric mean is 1.
 * Writes speed[0..n_workers). */
void balance_estimate_speeds(const struct balance_obs *obs, size_t n_obs,
    size_t n_items, size_t n_workers, double *speed);

/* Each chunk's cost where it is now: the median of its last (at most)
 * BALANCE_COST_RUNS costs on its worker in the history obs (oldest first;
 * item i is chunks[i]), so that one run's noise does not move chunks.
 * Each cost is first divided by its run's level - how much slower than
 * usual the run was for all the chunks it ran (the median over those
 * seen in other runs too; obs of run 0 are taken as they are) - so that
 * a machine slower as a whole in one run is not taken for noise between
 * the workers. With two costs or more, also the median's standard error
 * (cost_se), from their median absolute deviation. Sets the costs of the
 * chunks seen there; leaves the others as they are. */
#define BALANCE_COST_RUNS 5
void balance_recent_costs(const struct balance_obs *obs, size_t n_obs,
    struct balance_chunk *chunks, size_t n_chunks);

#endif
