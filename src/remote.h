/* remote.h - how to reach a worker: the argv of ssh and rsync, and the one
 * function that quotes a value for a remote shell.
 *
 * Everything is an argv; no local shell ever parses a string. The only
 * strings a shell parses are the command ssh hands to the worker's shell
 * - the call of a verb of the agent (agent.h), every value quoted once by
 * shell_quote, rsync's --rsync-path among them. */
#ifndef SHARDCAP_REMOTE_H
#define SHARDCAP_REMOTE_H

#include "config.h"
#include "error.h"
#include "strbuf.h"
#include "strvec.h"

/* Each file rsync sends is reported on a line of its standard output:
 * this prefix, the file name, its length and the bytes sent for it. */
#define REMOTE_SENT_PREFIX "shardcap-sent "
/* The file named by such a line (its length in *len, the rest of the line
 * after it in *rest), or NULL when the line is not one or names a
 * directory. */
const char *remote_sent_file(const char *line, size_t *len,
    const char **rest);

/* The files an rsync reported sending, from its REMOTE_SENT_PREFIX lines. */
struct remote_sent {
	char **files;
	uint64_t *bytes;        /* what rsync sent for each (its %b) */
	size_t n, alloc;
};
/* Records the file a line of rsync's output names, if it names one, and
 * returns 1 (the rest of the line after the name in *rest when rest is not
 * NULL); 0 for any other line. */
int remote_sent_add(struct remote_sent *s, const char *line,
    const char **rest);
int remote_sent_has(const struct remote_sent *s, const char *file);
/* The bytes rsync sent for file (0 when it did not list it). */
uint64_t remote_sent_bytes(const struct remote_sent *s, const char *file);
void remote_sent_release(struct remote_sent *s);

/* Appends s quoted for a POSIX shell ('...' with '\'' for quotes). */
struct strvec;

void shell_quote(struct strbuf *sb, const char *s);
/* The words of s, written by shell_quote and a space between them,
 * pushed on words. Returns 0, or -1 when s is not such words. */
int shell_unquote(const char *s, struct strvec *words);

/* Where the ssh control sockets of a cluster live: its ssh/ directory, or
 * (when that path is too long for a socket) a private directory under
 * /tmp named after it. Creates it, mode 0700. */
int remote_control_dir(const char *cluster_dir, char **out, struct sc_err *e);

/* ssh and the options every connection gets (batch mode, the control
 * master, timeouts, the worker's port, user and key, the configured
 * extras), then the host: what a remote command is appended to. */
void remote_ssh_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir);
/* Seconds without a byte from the other side after which either end of a
 * connection to a worker gives up: at least as long as ssh's keep-alives
 * take (ssh.alive-interval x ssh.alive-count), and three intervals. */
unsigned remote_silence(const struct config *cfg);
/* The argv that runs script on worker w: ssh ... HOST -- SCRIPT, or for a
 * local worker sh -c SCRIPT. */
void remote_script_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *script);
/* The argv of rsync copying the files listed (NUL-separated, relative to
 * src_dir) in files_from into dest_subdir of worker w's directory: over
 * the same ssh for a remote worker, directly for a local one. Extra
 * rsync options may follow in extra (NULL-terminated, may be NULL).
 * A copy that should end with shardcap: agent_rsync_argv.
 * Returns SC_ERR_CONFIG when an ssh argument cannot be given to rsync. */
int remote_rsync_argv(struct strvec *av, const struct config *cfg,
    const struct config_worker *w, const char *control_dir,
    const char *src_dir, const char *files_from, const char *dest_subdir,
    const char *const *extra, struct sc_err *e);
/* "user@host:port" or "local:/dir", for messages. */
void remote_describe(struct strbuf *sb, const struct config_worker *w);

#endif
