/* cli.c - what every command shares: errors, signals, progress. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "cut.h"
#include "move.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

const char *cli_command;
volatile sig_atomic_t cli_signal;

static void
vreport(const char *level, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "shardcap: ");
	if (cli_command != NULL)
		strbuf_addf(&sb, "%s: ", cli_command);
	if (level != NULL)
		strbuf_addf(&sb, "%s: ", level);
	strbuf_vaddf(&sb, fmt, ap);
	strbuf_addch(&sb, '\n');
	fflush(stdout);
	fwrite(sb.buf, 1, sb.len, stderr);
	strbuf_release(&sb);
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(NULL, fmt, ap);
	va_end(ap);
}

void
cli_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning", fmt, ap);
	va_end(ap);
}

void
cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("note", fmt, ap);
	va_end(ap);
}

int
cli_report(const struct sc_err *e, const char *subject)
{
	if (e->code == SC_ERR_INTERRUPTED)
		return cli_signal_status();
	if (subject != NULL && e->has_offset)
		cli_error("'%s' at byte %llu: %s", subject,
		    (unsigned long long)e->offset, e->msg);
	else if (subject != NULL && sc_err_is_format(e->code))
		cli_error("'%s': %s", subject, e->msg);
	else
		cli_error("%s", e->msg);
	return sc_exit_code(e->code);
}

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s\nTry 'shardcap help %s' for more.\n",
	    usage, cli_command ? cli_command : "");
	return sc_exit_code(SC_ERR_USAGE);
}

static void
on_signal(int signo)
{
	cli_signal = signo;
}

void
cli_catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
cli_signal_status(void)
{
	return 128 + (cli_signal ? cli_signal : SIGINT);
}

int
cli_help(const char *text)
{
	fputs(text, stdout);
	return cli_finish_stdout(0);
}

int
cli_finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		cli_error("cannot write to standard output: %s",
		    strerror(errno));
		return status ? status : 1;
	}
	return status;
}

void
progress_init(struct progress *p, int allowed)
{
	memset(p, 0, sizeof(*p));
	p->enabled = allowed && isatty(STDERR_FILENO);
	p->start = monotonic_seconds();
}

void
progress_update(struct progress *p, int force, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	double now;
	va_list ap;

	if (!p->enabled)
		return;
	now = monotonic_seconds();
	if (!force && now - p->last < 0.1)
		return;
	p->last = now;
	strbuf_addch(&sb, '\r');
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* a line wider than the terminal would wrap, and \r would then
	 * redraw only its last row */
	{
		struct winsize ws;

		if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 1 && sb.len > ws.ws_col)
			strbuf_setlen(&sb, ws.ws_col);  /* \r and cols - 1 */
	}
	strbuf_addstr(&sb, "\033[K");
	fwrite(sb.buf, 1, sb.len, stderr);
	fflush(stderr);
	p->shown = p->drawn = 1;
	strbuf_release(&sb);
}

void
progress_clear(struct progress *p)
{
	if (p->enabled && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = 0;
	p->last = 0;
}

void
progress_done(struct progress *p)
{
	progress_clear(p);
}

static void
say_waiting(void *ctx)
{
	(void)ctx;
	cli_warning("waiting for another shardcap command on this cluster "
	    "to finish");
}

/* The journals every command that changes the cluster ends first. */
static const struct {
	int (*recover)(struct cluster *cl, volatile sig_atomic_t *interrupted,
	    size_t *finished, size_t *rolled_back, struct sc_err *e);
	const char *what;
} journals[] = {
	{ move_recover, "moves" },
	{ cut_recover, "cuts" },
};

int
cli_cluster_open(struct cluster *cl, unsigned flags)
{
	struct sc_err e;
	size_t i;

	sc_err_clear(&e);
	if (cluster_open(cl, flags, say_waiting, NULL, &e) != 0)
		return cli_report(&e, NULL);
	/* a command that died moving or cutting chunks left the journal
	 * open */
	for (i = 0; (flags & CLUSTER_LOCK) && i < ARRAY_SIZE(journals); i++) {
		size_t finished, rolled_back;

		if (journals[i].recover(cl, &cli_signal, &finished,
		    &rolled_back, &e) != 0) {
			int status = cli_report(&e, NULL);

			cluster_close(cl);
			return status;
		}
		if (finished || rolled_back)
			cli_warning("finished %zu and rolled back %zu chunk "
			    "%s an earlier command left open", finished,
			    rolled_back, journals[i].what);
	}
	return 0;
}
