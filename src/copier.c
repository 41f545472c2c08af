/* copier.c - filling output files on a thread of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "file.h"
#include "xalloc.h"
#include "banned.h"

enum copier_op { OP_LENT, OP_BYTES, OP_COMMIT };

struct copier_item {
	enum copier_op op;
	int fd;
	const char *name;       /* OP_LENT, OP_BYTES: for messages; OP_COMMIT: tmp */
	const char *final;      /* OP_COMMIT */
	uint64_t len;
	const uint8_t *bytes;   /* OP_LENT, OP_BYTES: what to write */
	uint8_t *owned;         /* OP_BYTES: bytes, freed once written */
	void (*give_back)(void *ctx, int loan); /* OP_LENT */
	void *ctx;
	int loan;
};

struct copier {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct copier_item items[COPIER_SLOTS];
	unsigned head, tail;
	uint64_t queued_bytes;
	int stop, discard;
	size_t committed;
	int code;               /* first error (written under mu) */
	struct sc_err err;
};

/* Carries out one request; returns 0 or an error, described in e. */
static int
do_item(struct copier *c, struct copier_item *it, int discard,
    struct sc_err *e)
{
	/* After an error only the closing is still worth doing. */
	int failed = discard || c->code != 0;
	int code = 0;

	switch (it->op) {
	case OP_LENT:
	case OP_BYTES:
		if (!failed && file_write_all(it->fd, it->bytes, (size_t)it->len) < 0)
			code = sc_err_sys(e, "cannot write '%s'", it->name);
		if (it->give_back != NULL)
			it->give_back(it->ctx, it->loan);
		free(it->owned);
		break;
	case OP_COMMIT:
		/* close() reports write-back errors on some file systems. */
		if (close(it->fd) < 0 && !failed)
			code = sc_err_sys(e, "cannot write '%s'", it->name);
		else if (!failed && rename(it->name, it->final) < 0)
			code = sc_err_sys(e, "cannot rename '%s' to '%s'",
			    it->name, it->final);
		else if (!failed)
			c->committed++;
		break;
	}
	return code;
}

static void *
copier_main(void *arg)
{
	struct copier *c = arg;
	struct copier_item it;
	struct sc_err e;
	int discard, code;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (c->head == c->tail && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->head == c->tail) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		it = c->items[c->tail % COPIER_SLOTS];
		discard = c->discard;
		pthread_mutex_unlock(&c->mu);

		code = do_item(c, &it, discard, &e);

		pthread_mutex_lock(&c->mu);
		if (code != 0 && c->code == 0) {
			c->code = code;
			c->err = e;
		}
		c->tail++;
		if (it.op == OP_BYTES)
			c->queued_bytes -= it.len;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return NULL;
}

int
copier_start(struct copier **out, struct sc_err *e)
{
	struct copier *c = xcalloc(1, sizeof(*c));
	sigset_t all, old;
	int r;

	sc_err_clear(&c->err);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, copier_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		errno = r;
		return sc_err_sys(e, "cannot start a writer thread");
	}
	*out = c;
	return 0;
}

static void
push(struct copier *c, const struct copier_item *it)
{
	uint64_t bytes = it->op == OP_BYTES ? it->len : 0;

	pthread_mutex_lock(&c->mu);
	while (c->head - c->tail == COPIER_SLOTS ||
	    (bytes > 0 && c->queued_bytes > 0 &&
	    c->queued_bytes + bytes > COPIER_MAX_BYTES))
		pthread_cond_wait(&c->cv, &c->mu);
	c->items[c->head % COPIER_SLOTS] = *it;
	c->head++;
	c->queued_bytes += bytes;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
copier_lent(struct copier *c, int fd, const char *name, const void *p,
    size_t len, void (*give_back)(void *ctx, int loan), void *ctx, int loan)
{
	struct copier_item it = { OP_LENT, fd, name, NULL, len, p, NULL,
	    give_back, ctx, loan };

	push(c, &it);
}

void
copier_bytes(struct copier *c, int fd, const char *name, const void *p,
    size_t len)
{
	struct copier_item it = { OP_BYTES, fd, name, NULL, len, NULL, NULL,
	    NULL, NULL, -1 };

	if (len == 0)
		return;
	it.owned = xmalloc(len);
	memcpy(it.owned, p, len);
	it.bytes = it.owned;
	push(c, &it);
}

void
copier_commit(struct copier *c, int fd, const char *tmp, const char *final)
{
	struct copier_item it = { OP_COMMIT, fd, tmp, final, 0, NULL, NULL,
	    NULL, NULL, -1 };

	push(c, &it);
}

int
copier_failed(struct copier *c, struct sc_err *e)
{
	int code;

	pthread_mutex_lock(&c->mu);
	code = c->code;
	if (code != 0 && e != NULL)
		*e = c->err;
	pthread_mutex_unlock(&c->mu);
	return code;
}

int
copier_finish(struct copier *c, int discard, size_t *committed,
    struct sc_err *e)
{
	int code;

	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	c->discard = discard;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	code = c->code;
	if (code != 0 && e != NULL)
		*e = c->err;
	if (committed != NULL)
		*committed = c->committed;
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	return code;
}
