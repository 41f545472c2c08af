/* test-source.c - the window's loans: lent bytes stay put while the window
 * moves on, the reader waits when every buffer is out, and the hook runs
 * before each move. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "tap.h"
#include "unit.h"

#define INPUT 20000
#define STEP 40

static uint8_t input[INPUT];

static void
fill_input(void)
{
	size_t i;

	for (i = 0; i < INPUT; i++)
		input[i] = (uint8_t)(i * 131 + (i >> 8));
}

struct loan {
	const uint8_t *p;
	uint64_t off;
	int token;
};

/* Gives back every loan of the oldest buffer still lent; returns 0 if one
 * of them no longer shows the bytes it was lent with. */
static int
give_back_oldest(struct source *src, struct loan *l, size_t *n)
{
	int token = l[0].token, intact = 1;
	size_t i, kept = 0;

	for (i = 0; i < *n; i++) {
		if (l[i].token != token) {
			l[kept++] = l[i];
			continue;
		}
		intact &= memcmp(l[i].p, input + l[i].off, STEP) == 0;
		source_give_back(src, l[i].token);
	}
	*n = kept;
	return intact;
}

static size_t
tokens_out(const struct loan *l, size_t n)
{
	size_t i, j, distinct = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && l[j].token != l[i].token; j++)
			;
		distinct += j == i;
	}
	return distinct;
}

/* Reads the input STEP bytes at a time, lending each step, and gives the
 * loans back only when every buffer is out: the reader must then have
 * carried on in another buffer each time. */
static void
lend_while_reading(uint32_t trickle)
{
	static struct loan l[INPUT / STEP];
	struct source src;
	size_t n = 0, i;
	int right = 1, intact = 1, used[SOURCE_BUFS] = { 0 }, buffers = 0;
	uint64_t off;

	source_open_mem(&src, input, INPUT, trickle);
	for (off = 0; off < INPUT; off += STEP) {
		const uint8_t *p;
		size_t got;

		if (tokens_out(l, n) == SOURCE_BUFS)
			intact &= give_back_oldest(&src, l, &n);
		if (source_need(&src, STEP, &p, &got, NULL) != 0 ||
		    got != STEP) {
			right = 0;
			break;
		}
		right &= memcmp(p, input + off, STEP) == 0;
		l[n].p = source_lend(&src, off, &l[n].token);
		l[n].off = off;
		right &= l[n].p == p;
		if (l[n].token >= 0 && !used[l[n].token]) {
			used[l[n].token] = 1;
			buffers++;
		}
		n++;
		source_skip(&src, STEP);
	}
	while (n > 0)
		intact &= give_back_oldest(&src, l, &n);
	ok(right, "trickle %u: every view shows the input's bytes", trickle);
	ok(intact, "trickle %u: lent bytes stay put until given back",
	    trickle);
	if (trickle != 0)
		is_int(buffers, SOURCE_BUFS, "every buffer was used");
	else
		is_int(buffers, 0, "a memory source lends its own bytes");
	for (i = 0; i < SOURCE_BUFS; i++)
		is_int(src.bufs[i].lent, 0, "nothing left on loan");
	source_close(&src);
}

struct giver {
	struct source *src;
	int token;
	int given;              /* set before the loan is given back */
};

static void *
give_later(void *arg)
{
	struct giver *g = arg;

	usleep(20000);
	g->given = 1;
	source_give_back(g->src, g->token);
	return NULL;
}

/* With every buffer lent, source_need waits until a loan comes back. */
static void
wait_for_a_buffer(void)
{
	struct source src;
	struct giver g;
	pthread_t t;
	const uint8_t *p;
	size_t got;
	uint64_t off = 0;
	int tokens[SOURCE_BUFS], n = 0, token, i, started;

	source_open_mem(&src, input, INPUT, 7);
	while (n < SOURCE_BUFS && off < INPUT) {
		if (source_need(&src, STEP, &p, &got, NULL) != 0)
			break;
		(void)source_lend(&src, off, &token);
		if (n == 0 || tokens[n - 1] != token)
			tokens[n++] = token;
		else
			source_give_back(&src, token);
		source_skip(&src, STEP);
		off += STEP;
	}
	is_int(n, SOURCE_BUFS, "one loan out of every buffer");
	g.src = &src;
	g.token = tokens[0];
	g.given = 0;
	started = pthread_create(&t, NULL, give_later, &g) == 0;
	ok(started, "giver thread started");
	/* Reads until the window has to move out of the current buffer. */
	while (started && off + STEP <= INPUT &&
	    src.cur == (unsigned)tokens[n - 1]) {
		if (source_need(&src, STEP, &p, &got, NULL) != 0)
			break;
		source_skip(&src, STEP);
		off += STEP;
	}
	if (started)
		pthread_join(t, NULL);
	ok(g.given, "the reader moved on only after a loan came back");
	is_int(src.cur, tokens[0], "into the buffer given back");
	ok(memcmp(source_at(&src, off - STEP), input + off - STEP, STEP) == 0,
	    "and reads on correctly");
	for (i = 1; i < n; i++)
		source_give_back(&src, tokens[i]);
	source_close(&src);
}

struct hook {
	struct source *src;
	uint64_t kept;          /* offset kept behind the position */
	int calls, intact;
};

static int
on_slide(void *ctx, struct sc_err *e)
{
	struct hook *h = ctx;

	(void)e;
	h->calls++;
	h->intact &= memcmp(source_at(h->src, h->kept), input + h->kept,
	    (size_t)(h->src->pos - h->kept)) == 0;
	return h->calls == 50 ? -7 : 0;
}

/* The hook sees the kept bytes where they were, and its error is
 * source_need's. */
static void
slide_hook(void)
{
	struct source src;
	struct hook h = { &src, 0, 0, 1 };
	const uint8_t *p;
	size_t got;
	uint64_t off;
	int r = 0;

	source_open_mem(&src, input, INPUT, 3);
	source_on_slide(&src, on_slide, &h);
	for (off = 0; off + STEP <= INPUT; off += STEP) {
		/* Keeps the last three steps, as a split keeps what it has
		 * not yet handed over. */
		h.kept = off >= 3 * STEP ? off - 3 * STEP : 0;
		source_keep(&src, h.kept);
		if ((r = source_need(&src, STEP, &p, &got, NULL)) != 0)
			break;
		source_skip(&src, STEP);
	}
	is_int(h.calls, 50, "the hook ran before each move, until it failed");
	ok(h.intact, "it saw the kept bytes in place");
	is_int(r, -7, "its error is source_need's");
	source_close(&src);
}

void
test_source(void)
{
	fill_input();
	lend_while_reading(0);
	lend_while_reading(5);
	lend_while_reading(1000);
	wait_for_a_buffer();
	slide_hook();
}
