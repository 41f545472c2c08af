/* streams.c - a slot's stdout and stderr: the tool's own bytes, passed
 * on, and the records of the agent among them (slot.h), taken out. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "runner.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

void
run_say(struct runner *rn, const char *text, size_t len)
{
	if (rn->opt->progress_clear != NULL)
		rn->opt->progress_clear(rn->opt->progress_ctx);
	(void)file_write_all(rn->opt->err_fd, text, len);
}

/*
 * Whether the line is one another job said already: then it is counted
 * and not shown again (the same warning from every chunk, the same
 * error from every job of a command that cannot run). The lines are in
 * an open-addressed table of 2 * SEEN_LINES_MAX slots.
 */
static int
seen_before(struct runner *rn, const char *text, size_t len)
{
	size_t cap = 2 * SEEN_LINES_MAX, i;

	if (rn->seen == NULL)
		rn->seen = xcalloc(cap, sizeof(*rn->seen));
	i = (size_t)(fnv1a(FNV1A_BASIS, text, len) % cap);
	while (rn->seen[i].text != NULL) {
		if (strlen(rn->seen[i].text) == len &&
		    memcmp(rn->seen[i].text, text, len) == 0) {
			rn->seen[i].count++;
			return 1;
		}
		i = (i + 1) % cap;
	}
	if (rn->n_seen < SEEN_LINES_MAX) {
		rn->seen[i].text = xstrndup(text, len);
		rn->seen[i].count = 1;
		rn->seen[i].order = rn->n_seen++;
	}
	return 0;
}

/* Lines said most often first; of as many, the first said first. */
static int
by_count(const void *a, const void *b)
{
	const struct seen_line *x = *(struct seen_line *const *)a;
	const struct seen_line *y = *(struct seen_line *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void
run_stderr_summary(struct runner *rn)
{
	struct strbuf sb = STRBUF_INIT;
	struct seen_line **many = NULL;
	size_t i, n = 0;

	if (rn->seen != NULL)
		many = xcalloc(SEEN_LINES_MAX, sizeof(*many));
	for (i = 0; rn->seen != NULL && i < 2 * SEEN_LINES_MAX; i++)
		if (rn->seen[i].text != NULL && rn->seen[i].count > 1)
			many[n++] = &rn->seen[i];
	/* (a stopped run said its error once: nothing to add) */
	if (n > 0 && !rn->res->stopped) {
		qsort(many, n, sizeof(*many), by_count);
		for (i = 0; i < n && i < 3; i++)
			strbuf_addf(&sb, "[%zu times] %s\n", many[i]->count,
			    many[i]->text);
		if (n > 3)
			strbuf_addf(&sb, "[...] and %zu more lines said more "
			    "than once\n", n - 3);
	}
	for (i = 0; rn->seen != NULL && i < 2 * SEEN_LINES_MAX; i++)
		free(rn->seen[i].text);
	free(many);
	if (sb.len > 0)
		run_say(rn, sb.buf, sb.len);
	strbuf_release(&sb);
	free(rn->seen);
	rn->seen = NULL;
	rn->n_seen = 0;
}

/* A piece of a line of a slot's stderr (the tool's own) goes to the
 * user, the line prefixed with the chunk its job works on; end: the
 * line ends with it. */
static void
err_out(struct runner *rn, struct slot *sl, const char *text, size_t len,
    int end)
{
	struct strbuf sb = STRBUF_INIT, named = STRBUF_INIT;
	size_t c = sl->busy ? sl->batch[sl->n_fed < sl->n_batch ?
	    sl->n_fed : sl->n_batch - 1] : (size_t)-1;
	const char *hit;

	if (sl->cancelled)
		return;         /* a killed job's last words are noise */
	if (c != (size_t)-1 && sl->placeholder != NULL &&
	    (hit = memmem(text, len, sl->placeholder,
	    strlen(sl->placeholder))) != NULL) {
		/* a warm tool's child names the file it read */
		strbuf_add(&named, text, (size_t)(hit - text));
		run_chunk_path(&named, rn->plan, sl->worker, c);
		strbuf_add(&named, hit + strlen(sl->placeholder),
		    len - (size_t)(hit - text) - strlen(sl->placeholder));
		text = named.buf;
		len = named.len;
	}
	if (sl->busy && sl->job_err.len < JOB_ERR_MAX) {
		strbuf_add(&sl->job_err, text, len < JOB_ERR_MAX ? len :
		    JOB_ERR_MAX);
		if (end)
			strbuf_addch(&sl->job_err, '\n');
	}
	/* a whole line said before: counted, not shown */
	if (!sl->err_cont && end && seen_before(rn, text, len)) {
		strbuf_release(&named);
		return;
	}
	if (!sl->err_cont) {
		if (c != (size_t)-1)
			strbuf_addf(&sb, "[%s %s] ", rn->plan->chunks[c].file,
			    rn->plan->workers[sl->worker].name);
		else
			strbuf_addf(&sb, "[%s] ",
			    rn->plan->workers[sl->worker].name);
		strbuf_reset(&sl->last_err);
	}
	if (sl->last_err.len < ERR_LINE_MAX)
		strbuf_add(&sl->last_err, text, len < ERR_LINE_MAX ? len :
		    ERR_LINE_MAX);
	strbuf_add(&sb, text, len);
	if (end)
		strbuf_addch(&sb, '\n');
	sl->err_cont = !end;
	run_say(rn, sb.buf, sb.len);
	strbuf_release(&sb);
	strbuf_release(&named);
}

/* Text of a slot's stderr, not a record: whole lines are passed on; a
 * line's start is kept (a record may come in its middle, the tool's
 * writes around it), or passed on in pieces once it is long. */
static void
err_text(struct runner *rn, struct slot *sl, const char *data, size_t len)
{
	const char *nl;

	while ((nl = memchr(data, '\n', len)) != NULL) {
		strbuf_add(&sl->err_line, data, (size_t)(nl - data));
		err_out(rn, sl, sl->err_line.buf, sl->err_line.len, 1);
		strbuf_reset(&sl->err_line);
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	strbuf_add(&sl->err_line, data, len);
	if (sl->err_line.len >= ERR_LINE_MAX) {
		err_out(rn, sl, sl->err_line.buf, sl->err_line.len, 0);
		strbuf_reset(&sl->err_line);
	}
}

/* The line the tool left without a newline, passed on as one. */
static void
err_text_end(struct runner *rn, struct slot *sl)
{
	if (sl->err_line.len > 0 || sl->err_cont)
		err_out(rn, sl, sl->err_line.buf, sl->err_line.len, 1);
	strbuf_reset(&sl->err_line);
}

/* A record from a slot's stderr (slot.h), without its token. */
static void
err_record(struct runner *rn, struct slot *sl, const char *rec)
{
	char type[16];
	unsigned long id;
	int at = 0;

	if (sscanf(rec, " %15s%n", type, &at) != 1)
		return;
	rec += at;
	if (strcmp(type, RUN_REC_STARTED) == 0 && !sl->started) {
		struct run_worker *rw = &rn->plan->workers[sl->worker];
		unsigned long cores = strtoul(rec, NULL, 10);

		/* "jobs = 0": as many slots as the worker has cores */
		sl->started = 1;
		if (rw->slots == 0)
			rw->slots = cores > 0 && cores < 4096 ?
			    (unsigned)cores : 1;
	} else if (strcmp(type, RUN_REC_READY) == 0 && sl->ready_at == 0) {
		const char *failed = strstr(rec, "failed ");

		sl->ready_at = monotonic_seconds() - rn->t0;
		sl->warm = strstr(rec, "warm") != NULL;
		if (failed != NULL)
			run_setup_failed(rn, sl, (int)strtol(failed + 7, NULL, 10));
		if (sl == rn->hub_first)
			run_hub_decided(rn, sl->warm);
	} else if (strcmp(type, RUN_REC_FED) == 0) {
		if (sl->busy && sl->n_fed < sl->n_batch)
			sl->fed[sl->n_fed++] = monotonic_seconds() - rn->t0;
	} else if (strcmp(type, RUN_REC_DONE) == 0) {
		if (sl->busy && strtoul(rec, NULL, 10) == sl->job_id) {
			err_text_end(rn, sl);
			sl->got_err_end = 1;
		}
	} else if (strcmp(type, RUN_REC_NOTE) == 0 &&
	    strncmp(rec, " no-zone", 8) == 0) {
		struct run_worker *rw = &rn->plan->workers[sl->worker];
		struct strbuf sb = STRBUF_INIT;

		/* once a worker, whatever its slots */
		if (!rw->no_zone_said) {
			rw->no_zone_said = 1;
			strbuf_addf(&sb, "[%s] warning: this worker has no "
			    "time zone '%s' (tzdata): its tools print local "
			    "times in UTC\n", rw->name,
			    rn->zone != NULL ? rn->zone : "?");
			run_say(rn, sb.buf, sb.len);
			strbuf_release(&sb);
		}
	} else if (strcmp(type, RUN_REC_BAD) == 0) {
		char *q;
		unsigned long k;

		id = strtoul(rec, &q, 10);
		while (sl->busy && id == sl->job_id && q != rec) {
			rec = q;
			k = strtoul(rec, &q, 10);
			if (q != rec && k < sl->n_batch) {
				sl->bad[k] = 1;
				sl->bad_any = 1;
			}
		}
	}
}

/*
 * Where the run's token is in sc, or NULL; *text: how many bytes at sc's
 * start are surely the tool's - all before the token, or all but what
 * could be the start of one still coming (flush: the stream has ended,
 * all).
 */
static const char *
find_token(const struct runner *rn, const struct strbuf *sc, int flush,
    size_t *text)
{
	const char *hit = memmem(sc->buf, sc->len, rn->token, rn->token_len);
	size_t keep = rn->token_len - 1;

	if (hit != NULL)
		*text = (size_t)(hit - sc->buf);
	else
		*text = flush ? sc->len : sc->len > keep ? sc->len - keep : 0;
	return hit;
}

/*
 * A slot's stderr: its tool's, passed on line by line, each prefixed
 * with the chunk its job works on, and records (slot.h), taken out
 * wherever they are. flush: the stream has ended.
 */
void
run_take_stderr(struct runner *rn, struct slot *sl, const char *data,
    size_t len, int flush)
{
	struct strbuf *sc = &sl->err_scan;
	const char *hit, *nl;
	char rec[RUN_REC_MAX + 1];
	size_t n;

	strbuf_add(sc, data, len);
	for (;;) {
		hit = find_token(rn, sc, flush, &n);
		err_text(rn, sl, sc->buf, n);
		strbuf_remove(sc, 0, n);
		if (hit == NULL)
			break;
		nl = memchr(sc->buf, '\n', sc->len < RUN_REC_MAX ? sc->len :
		    RUN_REC_MAX);
		if (nl == NULL) {
			if (sc->len < RUN_REC_MAX && !flush)
				break;  /* the rest of it is coming */
			/* a token with no record: not the tool's, not shown */
			strbuf_remove(sc, 0, rn->token_len);
			continue;
		}
		n = (size_t)(nl - sc->buf) - rn->token_len;
		memcpy(rec, sc->buf + rn->token_len, n);
		rec[n] = '\0';
		strbuf_remove(sc, 0, (size_t)(nl - sc->buf) + 1);
		err_record(rn, sl, rec);
	}
	if (flush)
		err_text_end(rn, sl);
}

/* Output of a slot: everything up to the run's token is the job's; the
 * token's line says which job and its exit status. */
int
run_take_stdout(struct runner *rn, struct slot *sl, const char *data,
    size_t len, struct sc_err *e)
{
	const char *hit;
	unsigned id = 0;
	size_t n;
	int r, status = -1;

	if (!sl->busy || sl->got_out_end)
		return 0;       /* nothing may come between jobs */
	strbuf_add(&sl->scan, data, len);
	hit = find_token(rn, &sl->scan, 0, &n);
	if (n > 0 && (r = outbuf_add(&sl->out, sl->scan.buf, n, e)) != 0)
		return r;
	strbuf_remove(&sl->scan, 0, n);
	if (hit == NULL || memchr(sl->scan.buf, '\n', sl->scan.len) == NULL)
		return 0;       /* the rest of the token's line is coming */
	if (sscanf(sl->scan.buf + rn->token_len, " %u %d", &id, &status) == 2 &&
	    id == sl->job_id) {
		sl->status = status;
		sl->got_out_end = 1;
	}
	strbuf_reset(&sl->scan);
	return 0;
}

