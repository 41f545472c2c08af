/* agent.h - the worker side of shardcap: one POSIX sh file, src/agent.sh,
 * built into shardcap and kept on each worker, whose verbs (a run's slot,
 * check, list, remove) shardcap calls with argv. This module knows its
 * text and version, where it lives on a worker, and builds the one kind
 * of remote command line a call needs (quoted by shell_quote, remote.h);
 * it sends the agent where it is missing. */
#ifndef SHARDCAP_AGENT_H
#define SHARDCAP_AGENT_H

#include <stddef.h>

#include "child.h"
#include "config.h"
#include "error.h"
#include "strbuf.h"
#include "strvec.h"

/* src/agent.sh, made into C by the Makefile (agent-text.c). */
extern const char agent_text[];

/* 16 hex digits, of the text: the agent on a worker is named after it,
 * so that shardcaps of other versions keep theirs beside it. */
const char *agent_version(void);

/* A call of a worker that does not have the agent ends with this status
 * (and nothing done), unless it was made to take the agent. */
#define AGENT_MISSING 97

/*
 * The argv that calls verb (args[0..n)) of the agent on worker w: for a
 * remote worker, ssh with a command line that runs the agent kept in its
 * directory; for a local one, sh with the agent kept in a private
 * directory of this user on this machine (written here when missing).
 * send: a worker that lacks the agent takes it from the call's stdin
 * first (the caller starts it with a pipe and calls agent_send); without,
 * the call ends with AGENT_MISSING there.
 */
int agent_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir, int send,
    const char *verb, const char *const *args, size_t n, struct sc_err *e);
/* child_init for a call made with send: its stdin a pipe when worker w
 * is remote (a local worker's agent is written here, never sent). */
void agent_child_init(struct child *c, char *const *argv,
    const struct config_worker *w);
/* Writes the agent's text to a call's stdin (agent_child_init) and closes
 * it; nothing for a call without a pipe. */
void agent_send(struct child *c);
/*
 * Sends the agent, all at once, to the remote workers (want[i]; want
 * NULL: all) not known to have it: a file in control_dir.agents/ notes
 * each worker that has taken this version. One that cannot take it is left
 * as it is: its calls end with AGENT_MISSING.
 */
void agent_ensure(const struct config *cfg, const char *control_dir,
    const unsigned char *want);
/* Notes that worker w has the agent (a call made with send ended well). */
void agent_mark_sent(const char *control_dir, const struct config_worker *w);
/* Sends the agent to worker w (one ssh; nothing for a local one). */
int agent_install(const struct config *cfg, const struct config_worker *w,
    const char *control_dir, struct sc_err *e);

/*
 * remote_rsync_argv, watched by mark when worker w is remote and mark is
 * not NULL: a file on w that a beacon (src/beat.h) keeps while shardcap
 * is there. The worker's rsync runs under the agent's rsync-watch, which
 * ends it once the file has been gone for remote_silence seconds, so that
 * a copy cut off from shardcap does not wait on the worker for TCP to
 * give up (docs/failures.md). A worker without this agent runs its rsync
 * unwatched.
 */
int agent_rsync_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *src_dir, const char *files_from, const char *dest_subdir,
    const char *const *extra, const char *mark, struct sc_err *e);
/*
 * The arguments of the agent's peer that, run on another worker in its
 * subdir, send the files straight to the same subdir of worker to with
 * rsync over ssh - a copy between workers that does not pass through this
 * machine: their count and names, then the count and words of the rsync,
 * appended to args. The ssh options are the cluster's, without its
 * control socket: the workers must share the ssh set-up (keys, config
 * file paths). mark: as for agent_rsync_argv, on worker to.
 */
int agent_peer_args(struct strvec *args, const struct config *cfg,
    const struct config_worker *to, const char *subdir,
    const char *const *files, size_t n, const char *mark, struct sc_err *e);

#endif
