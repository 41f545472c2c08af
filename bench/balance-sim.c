/* balance-sim.c - the balancing planner on simulated clusters: how fast it
 * converges and how long planning takes, for the paper's algorithm and
 * the default, at sizes no lab reaches.
 *
 *   balance-sim [--workers N] [--chunks M] [--rounds R] [--hetero]
 *               [--speeds S1,S2,...] [--even] [--seed S] [--noise F]
 *               [--worker-noise F] [--run-noise F] [--threshold P]
 *               [--last-cost] [--no-levels]
 *               [--tsv] [--timing]
 *
 * A chunk's true work is drawn from a skewed distribution (most chunks
 * cheap, a few up to 30 times dearer, like the DNS density of the paper's
 * data; --even: all within 20 % of each other, as the lab measures the
 * paper's query on that data); a worker's true speed is 1, or with
 * --hetero one of 1, 0.5 and 0.25, or with --speeds the list given (cycled
 * over the workers). Each round "runs the query": a chunk costs work /
 * speed on its worker, with 3 % noise (--noise F: F of 1, +-), and every
 * chunk of a worker in one run by a further factor 1 +- F (--worker-noise
 * F, default 0: a worker slowed as a whole for a run, as the lab's
 * workers are when they contend for the machine's cores), and every chunk
 * of the run by 1 +- F (--run-noise F, default 0: the whole machine
 * slower or faster for a run, as the lab's host drifts); a worker's
 * completion time is the sum of its chunks' costs. The planner sees only those
 * measurements (and, for the default, speeds estimated from the history
 * and each chunk's median cost over its last 5 runs where it is, as
 * shardcap balance, each levelled by its run's; --last-cost: the last
 * run's cost alone; --no-levels: not levelled), its moves
 * are applied, and the next round runs. Printed per round: the slowest worker's time over
 * the ideal (total work / total speed), the standard deviation of the
 * workers' times over their mean, and the chunks moved.
 *
 * --tsv prints the same per run and algorithm as tab-separated values,
 * with the placement's slowest time over the ideal without the noise
 * (placed_over_ideal): how good a placement is, apart from its run.
 *
 * --timing prints, for the first three runs, how long planning took (for
 * the default including the estimation of speeds from the history). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balance.h"
#include "xalloc.h"

/* the noise of a measured cost, +-; whether the default sees each chunk's
 * median over its recent runs (as shardcap balance does) or the last
 * run's cost alone */
static double noise_level = 0.03;
static double worker_noise;
/* --run-noise: the whole machine slower or faster in one run, +- */
static double run_noise;
/* --speeds: the workers' true speeds, cycled */
static double *speed_list;
static size_t n_speed_list;
static double threshold = 0.1;
static int recent = 1;
/* --no-levels: the planner is not told which run a cost is from, and
 * does not level the costs by their run */
static int levels = 1;
/* --even: chunks of nearly equal work, as the lab measures the paper's
 * query (2.1-2.7 s a chunk), the last one smaller */
static int even;

struct sim {
	size_t n_workers, n_chunks, alloc_chunks;
	double *speed;          /* true */
	double *work;           /* true, per chunk */
	size_t *where;
	size_t *came_from;
	uint64_t *bytes;
	struct balance_obs *hist;
	size_t n_hist, alloc_hist;
	uint64_t runs;          /* run so far */
	unsigned rng;
};

static double
uniform(unsigned *rng)
{
	return (rand_r(rng) + 0.5) / ((double)RAND_MAX + 1);
}

static void
sim_init(struct sim *s, size_t workers, size_t chunks, int hetero,
    unsigned seed)
{
	static const double speeds[] = { 1, 0.5, 0.25 };
	size_t i;

	memset(s, 0, sizeof(*s));
	s->rng = seed;
	s->n_workers = workers;
	s->n_chunks = chunks;
	s->alloc_chunks = chunks;
	s->speed = xcalloc(workers, sizeof(*s->speed));
	s->work = xcalloc(chunks, sizeof(*s->work));
	s->where = xcalloc(chunks, sizeof(*s->where));
	s->came_from = xcalloc(chunks, sizeof(*s->came_from));
	s->bytes = xcalloc(chunks, sizeof(*s->bytes));
	for (i = 0; i < workers; i++)
		s->speed[i] = n_speed_list ? speed_list[i % n_speed_list] :
		    hetero ? speeds[i % 3] : 1;
	for (i = 0; i < chunks; i++) {
		/* most chunks 0.3-1 s, one in ten up to 30 times that */
		double u = uniform(&s->rng);

		s->work[i] = 0.3 + 0.7 * uniform(&s->rng);
		if (u < 0.1)
			s->work[i] *= 1 + 29 * uniform(&s->rng);
		if (even)
			s->work[i] = (i + 1 == chunks ? 0.8 : 0.9) +
			    0.2 * uniform(&s->rng);
		s->where[i] = i % workers;      /* round robin, as add does */
		s->came_from[i] = BALANCE_NONE;
		s->bytes[i] = 25u << 20;
	}
}

static void
sim_release(struct sim *s)
{
	free(s->speed);
	free(s->work);
	free(s->where);
	free(s->came_from);
	free(s->bytes);
	free(s->hist);
}

/* Runs the query: measured cost per chunk, completion per worker;
 * returns the machine's speed factor in that run. */
static double
sim_run(struct sim *s, double *cost, double *completion, size_t *n_run)
{
	double *slowed = xcalloc(s->n_workers + 1, sizeof(*slowed));
	double machine = run_noise > 0 ? 1 + run_noise *
	    (2 * uniform(&s->rng) - 1) : 1;
	size_t i;

	s->runs++;
	for (i = 0; i < s->n_workers; i++) {
		completion[i] = 0;
		n_run[i] = 0;
		/* (no draw without it: the runs stay as they were) */
		slowed[i] = worker_noise > 0 ? 1 + worker_noise *
		    (2 * uniform(&s->rng) - 1) : 1;
	}
	for (i = 0; i < s->n_chunks; i++) {
		size_t w = s->where[i];
		double noise = 1 + noise_level * (2 * uniform(&s->rng) - 1);

		cost[i] = s->work[i] / s->speed[w] * noise * slowed[w] *
		    machine;
		completion[w] += cost[i];
		n_run[w]++;
		ALLOC_GROW(s->hist, s->n_hist + 1, s->alloc_hist);
		s->hist[s->n_hist].item = i;
		s->hist[s->n_hist].worker = w;
		s->hist[s->n_hist].cost = cost[i];
		s->hist[s->n_hist].run = levels ? s->runs : 0;
		s->n_hist++;
	}
	free(slowed);
	return machine;
}

static double
ideal_of(const struct sim *s)
{
	double work = 0, speed = 0;
	size_t i;

	for (i = 0; i < s->n_chunks; i++)
		work += s->work[i];
	for (i = 0; i < s->n_workers; i++)
		speed += s->speed[i];
	return work / speed;
}

/* The slowest worker's time over the ideal, without noise: how good the
 * placement is, apart from how a run measured it. */
static double
placed_of(const struct sim *s)
{
	double *t = xcalloc(s->n_workers + 1, sizeof(*t)), slowest;
	size_t i;

	for (i = 0; i < s->n_chunks; i++)
		t[s->where[i]] += s->work[i] / s->speed[s->where[i]];
	slowest = balance_makespan(t, s->n_workers) / ideal_of(s);
	free(t);
	return slowest;
}

/* Cuts chunk c into parts of equal work, the parts staying on its worker. */
static void
sim_split(struct sim *s, size_t c, unsigned parts)
{
	size_t i, n = s->n_chunks + parts - 1;

	if (n > s->alloc_chunks) {
		s->alloc_chunks = n * 2;
		s->work = xreallocarray(s->work, s->alloc_chunks, sizeof(double));
		s->where = xreallocarray(s->where, s->alloc_chunks, sizeof(size_t));
		s->came_from = xreallocarray(s->came_from, s->alloc_chunks,
		    sizeof(size_t));
		s->bytes = xreallocarray(s->bytes, s->alloc_chunks,
		    sizeof(uint64_t));
	}
	s->work[c] /= parts;
	s->bytes[c] /= parts;
	for (i = s->n_chunks; i < n; i++) {
		s->work[i] = s->work[c];
		s->bytes[i] = s->bytes[c];
		s->where[i] = s->where[c];
		s->came_from[i] = BALANCE_NONE;
	}
	s->n_chunks = n;
}

struct round {
	double over_ideal, spread;
	double placed;          /* the placement's slowest true time (no
	                         * noise) over the ideal */
	size_t moved, splits;
	double mbytes;          /* that changed place */
	double plan_seconds;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
simulate(enum balance_algo algo, size_t workers, size_t chunks, int hetero,
    unsigned seed, size_t rounds, struct round *out)
{
	struct sim s;
	struct balance_plan plan;
	size_t r, i;

	sim_init(&s, workers, chunks, hetero, seed);
	balance_plan_init(&plan);
	for (r = 0; r < rounds; r++) {
		double *cost = xcalloc(s.n_chunks, sizeof(double));
		double *completion = xcalloc(workers, sizeof(double));
		double *speed = xcalloc(workers, sizeof(double));
		size_t *n_run = xcalloc(workers, sizeof(size_t));
		struct balance_worker *bw = xcalloc(workers, sizeof(*bw));
		struct balance_chunk *bc = xcalloc(s.n_chunks, sizeof(*bc));
		struct balance_input in;
		double mean = 0, var = 0, t0, machine;

		out[r].placed = placed_of(&s);
		machine = sim_run(&s, cost, completion, n_run);
		for (i = 0; i < workers; i++)
			mean += completion[i];
		mean /= (double)workers;
		for (i = 0; i < workers; i++)
			var += (completion[i] - mean) * (completion[i] - mean);
		out[r].over_ideal = 0;
		for (i = 0; i < workers; i++)
			if (completion[i] > out[r].over_ideal)
				out[r].over_ideal = completion[i];
		/* over the run's own ideal, as bench/paper measures: the
		 * machine's drift taken out */
		out[r].over_ideal /= ideal_of(&s) * machine;
		out[r].spread = sqrt(var / (double)workers) / mean;

		t0 = now();
		if (algo == BALANCE_DEFAULT)
			balance_estimate_speeds(s.hist, s.n_hist, s.n_chunks,
			    workers, speed);
		for (i = 0; i < workers; i++) {
			bw[i].completion = completion[i];
			bw[i].n_run = n_run[i];
			bw[i].slots = 1;
			bw[i].speed = algo == BALANCE_DEFAULT ? speed[i] : 0;
		}
		for (i = 0; i < s.n_chunks; i++) {
			bc[i].worker = s.where[i];
			bc[i].bytes = s.bytes[i];
			bc[i].cost = cost[i];
			bc[i].came_from = s.came_from[i];
		}
		if (algo == BALANCE_DEFAULT && recent)
			balance_recent_costs(s.hist, s.n_hist, bc, s.n_chunks);
		in.algo = algo;
		in.workers = bw;
		in.n_workers = workers;
		in.chunks = bc;
		in.n_chunks = s.n_chunks;
		in.threshold = threshold;
		in.seed = seed + r;
		balance_plan(&in, &plan);
		out[r].plan_seconds = now() - t0;
		out[r].moved = plan.n_moves;
		out[r].splits = plan.n_splits;
		/* the parts of a cut that stay are made from the copy
		 * there; what changes place is what moves */
		out[r].mbytes = (double)plan.bytes_moved / (1 << 20);
		/* parts first, where the plan numbers them: part 0 takes
		 * its chunk's place, the others come after the chunks */
		{
			size_t n_plan = s.n_chunks, *at, k, j;

			for (k = 0; k < plan.n_splits; k++)
				n_plan += plan.split_parts[k];
			at = xcalloc(n_plan + 1, sizeof(*at));
			for (i = 0; i < s.n_chunks; i++)
				at[i] = i;
			for (k = 0; k < plan.n_splits; k++) {
				size_t first = s.n_chunks;

				sim_split(&s, plan.splits[k],
				    plan.split_parts[k]);
				at[plan.split_first[k]] = plan.splits[k];
				for (j = 1; j < plan.split_parts[k]; j++)
					at[plan.split_first[k] + j] =
					    first + j - 1;
			}
			for (i = 0; i < plan.n_moves; i++) {
				size_t c = at[plan.moves[i].chunk];

				s.came_from[c] = plan.moves[i].from;
				s.where[c] = plan.moves[i].to;
			}
			free(at);
		}
		/* the history of a cut chunk no longer applies (its first
		 * part has its number); the others' does */
		if (plan.n_splits) {
			size_t k, kept = 0;

			for (i = 0; i < s.n_hist; i++) {
				for (k = 0; k < plan.n_splits; k++)
					if (s.hist[i].item == plan.splits[k])
						break;
				if (k == plan.n_splits)
					s.hist[kept++] = s.hist[i];
			}
			s.n_hist = kept;
		}
		free(cost);
		free(completion);
		free(speed);
		free(n_run);
		free(bw);
		free(bc);
	}
	balance_plan_release(&plan);
	sim_release(&s);
}

/* --speeds 1,1,0.5,0.5 */
static int
parse_speeds(const char *arg)
{
	const char *p = arg;

	for (;;) {
		char *end;
		double v = strtod(p, &end);

		if (end == p || !(v > 0))
			return -1;
		speed_list = xreallocarray(speed_list, n_speed_list + 1,
		    sizeof(*speed_list));
		speed_list[n_speed_list++] = v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

static void
print_table(const struct round *paper, const struct round *dflt,
    size_t rounds, size_t workers, size_t chunks, int hetero, unsigned seed)
{
	size_t r;

	printf("%zu workers%s%s, %zu chunks, threshold %.0f %%, noise %.0f %%",
	    workers, n_speed_list ? " (speeds from --speeds)" : "",
	    hetero && !n_speed_list ? " (speeds 1, 0.5, 0.25)" : "", chunks,
	    threshold * 100, noise_level * 100);
	if (worker_noise > 0)
		printf(" and %.0f %% per worker and run", worker_noise * 100);
	if (run_noise > 0)
		printf(" and %.0f %% per run", run_noise * 100);
	printf(", default's costs %s, seed %u\n\n",
	    recent ? "the median of the last 5 runs" : "the last run's", seed);
	printf("| run | paper: slowest / ideal | spread | moved | MB | "
	    "default: slowest / ideal | spread | moved | cut | MB |\n");
	printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
	    "| ---: |\n");
	for (r = 0; r < rounds; r++)
		printf("| %zu | %.2f | %.2f | %zu | %.0f | %.2f | %.2f | %zu | "
		    "%zu | %.0f |\n", r + 1, paper[r].over_ideal,
		    paper[r].spread, paper[r].moved, paper[r].mbytes,
		    dflt[r].over_ideal, dflt[r].spread, dflt[r].moved,
		    dflt[r].splits, dflt[r].mbytes);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "hetero", no_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "timing", no_argument, NULL, 't' },
		{ "noise", required_argument, NULL, 'n' },
		{ "last-cost", no_argument, NULL, 'l' },
		{ "even", no_argument, NULL, 'e' },
		{ "threshold", required_argument, NULL, 'p' },
		{ "speeds", required_argument, NULL, 'S' },
		{ "tsv", no_argument, NULL, 'T' },
		{ "worker-noise", required_argument, NULL, 'W' },
		{ "run-noise", required_argument, NULL, 'R' },
		{ "no-levels", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	size_t workers = 100, chunks = 2800, rounds = 6, r;
	unsigned seed = 1;
	int hetero = 0, timing = 0, tsv = 0, c;
	struct round *paper, *dflt;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': workers = strtoul(optarg, NULL, 10); break;
		case 'c': chunks = strtoul(optarg, NULL, 10); break;
		case 'r': rounds = strtoul(optarg, NULL, 10); break;
		case 'H': hetero = 1; break;
		case 's': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': timing = 1; break;
		case 'n': noise_level = strtod(optarg, NULL); break;
		case 'l': recent = 0; break;
		case 'e': even = 1; break;
		case 'p': threshold = strtod(optarg, NULL); break;
		case 'T': tsv = 1; break;
		case 'W': worker_noise = strtod(optarg, NULL); break;
		case 'R': run_noise = strtod(optarg, NULL); break;
		case 'L': levels = 0; break;
		case 'S':
			if (parse_speeds(optarg) != 0) {
				fprintf(stderr, "balance-sim: --speeds: want "
				    "positive numbers, comma-separated\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: balance-sim [--workers N] "
			    "[--chunks M] [--rounds R] [--hetero] [--seed S] "
			    "[--speeds S1,S2,...] [--noise F] [--worker-noise F] "
			    "[--run-noise F] [--no-levels] "
			    "[--threshold P] [--last-cost] [--even] [--tsv] "
			    "[--timing]\n");
			return 2;
		}
	}
	if (workers == 0 || chunks == 0 || rounds == 0) {
		fprintf(stderr, "balance-sim: workers, chunks and rounds must "
		    "be positive\n");
		return 2;
	}
	if (timing && rounds > 3)
		rounds = 3;
	paper = xcalloc(rounds, sizeof(*paper));
	dflt = xcalloc(rounds, sizeof(*dflt));
	simulate(BALANCE_PAPER, workers, chunks, hetero, seed, rounds, paper);
	simulate(BALANCE_DEFAULT, workers, chunks, hetero, seed, rounds, dflt);
	if (timing) {
		for (r = 0; r < rounds; r++)
			printf("| %zu workers, %zu chunks%s, after run %zu | "
			    "%.3f s, %zu moves | %.3f s, %zu moves, %zu cut |\n",
			    workers, chunks, hetero ? ", mixed speeds" : "",
			    r + 1, paper[r].plan_seconds, paper[r].moved,
			    dflt[r].plan_seconds, dflt[r].moved,
			    dflt[r].splits);
	} else if (tsv) {
		printf("algorithm\trun\tslowest_over_ideal\tplaced_over_ideal"
		    "\tmoved\tcut\tmbytes\n");
		for (r = 0; r < rounds; r++)
			printf("paper\t%zu\t%.4f\t%.4f\t%zu\t0\t%.1f\n"
			    "default\t%zu\t%.4f\t%.4f\t%zu\t%zu\t%.1f\n",
			    r + 1, paper[r].over_ideal, paper[r].placed,
			    paper[r].moved, paper[r].mbytes, r + 1,
			    dflt[r].over_ideal, dflt[r].placed, dflt[r].moved,
			    dflt[r].splits, dflt[r].mbytes);
	} else
		print_table(paper, dflt, rounds, workers, chunks, hetero, seed);
	free(paper);
	free(dflt);
	return 0;
}
