/* cli.h - what every command shares: reporting errors, exit statuses,
 * signals and progress on a terminal. Only commands use this. */
#ifndef SHARDCAP_CLI_H
#define SHARDCAP_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster.h"
#include "error.h"

extern const char *cli_command;         /* "split", for messages */
extern volatile sig_atomic_t cli_signal; /* the signal that asked us to stop */

/* "shardcap: split: " + message + newline, on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something the user should know that is not wrong. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports e about subject (a file name, or NULL) and returns the exit
 * status for it. */
int cli_report(const struct sc_err *e, const char *subject);
/* Prints the usage line and a hint on stderr; returns the usage status. */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Makes SIGINT, SIGTERM and SIGHUP set cli_signal instead of killing us,
 * and ignores SIGPIPE (writes fail with EPIPE instead). */
void cli_catch_signals(void);
/* The exit status for having been stopped by cli_signal: 128 + signal. */
int cli_signal_status(void);
/* Writes help text to stdout, through a pager never. Returns 0. */
int cli_help(const char *text);
/* Flushes stdout; reports a failed write (a full disk, a closed pipe). */
int cli_finish_stdout(int status);

/* Opens the cluster (cluster_open), saying so if it has to wait for the
 * lock. Returns 0, or the exit status after reporting the error. */
int cli_cluster_open(struct cluster *cl, unsigned flags);

/* A progress line on stderr, shown only when stderr is a terminal and at
 * most ten times a second, cut to the terminal's width; cleared by
 * progress_done, or by progress_clear for a line of text to go above
 * it (the next update draws it again at once). */
struct progress {
	int enabled;
	double last;
	double start;
	int shown;
	int drawn;              /* a line was ever drawn */
};

void progress_init(struct progress *p, int allowed);
/* Prints fmt as the progress line, unless printed less than 0.1 s ago. */
void progress_update(struct progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void progress_done(struct progress *p);
void progress_clear(struct progress *p);

#endif
