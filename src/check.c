/* check.c - asking every worker whether it is usable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "check.h"
#include "child.h"
#include "remote.h"
#include "run.h"
#include "slot.h"
#include "strvec.h"
#include "util.h"
#include "xalloc.h"
#include "banned.h"

const char *const check_tool_names[CHECK_TOOLS] = {
	"tshark", "tcpdump", "ngrep", "editcap", "mergecap", "rsync",
};

static const char *const required_default[] = { CHECK_REQUIRED_DEFAULT };

int
check_tool_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > CHECK_TOOL_NAME_MAX || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    strchr("._+-", name[i]) != NULL))
			return 0;
	return 1;
}

struct check_job {
	struct check_result *res;
	/* per required tool: the worker has it */
	unsigned char has[CHECK_REQUIRED_MAX];
	const char *const *required;
	size_t n_required;
	struct strvec argv;
	struct child child;
	double start;
};

static void
on_line(struct child *c, const char *line, void *ctx)
{
	struct check_job *j = ctx;
	struct check_result *res = j->res;
	const char *v = strchr(line, '=');
	size_t i;

	(void)c;
	if (v == NULL)
		return;
	v++;
	if (strncmp(line, "writable=", 9) == 0) {
		res->writable = strcmp(v, "1") == 0;
	} else if (strncmp(line, "zone=", 5) == 0) {
		res->no_zone = strcmp(v, "0") == 0;
	} else if (strncmp(line, "warm=", 5) == 0) {
		res->warm = strcmp(v, "1") == 0;
	} else if (strncmp(line, "cores=", 6) == 0) {
		res->cores = (unsigned)strtoul(v, NULL, 10);
	} else if (strncmp(line, "free=", 5) == 0) {
		res->free_bytes = strtoull(v, NULL, 10);
	} else if (strncmp(line, "tool.", 5) == 0) {
		/* "tool.NAME=VERSION", only for a tool that is there */
		const char *name = line + 5;
		size_t len = (size_t)(v - 1 - name);

		for (i = 0; i < j->n_required; i++)
			if (strlen(j->required[i]) == len &&
			    memcmp(name, j->required[i], len) == 0)
				j->has[i] = 1;
		for (i = 0; i < CHECK_TOOLS; i++)
			if (strlen(check_tool_names[i]) == len &&
			    memcmp(name, check_tool_names[i], len) == 0)
				snprintf(res->tools[i], sizeof(res->tools[i]),
				    "%s", *v ? v : "?");
	}
}

int
check_workers(struct cluster *cl, const char *const *required,
    size_t n_required, const char *zone, volatile sig_atomic_t *interrupted,
    struct check_result **results, size_t *n, struct sc_err *e)
{
	size_t W = cl->cfg.n_workers, k, n_running = 0;
	struct check_result *res = xcalloc(W ? W : 1, sizeof(*res));
	struct check_job *jobs = xcalloc(W ? W : 1, sizeof(*jobs));
	struct child **running = xcalloc(W ? W : 1, sizeof(*running));
	char *lib = run_warm_lib();
	const char *args[3 + CHECK_REQUIRED_MAX];
	size_t i;
	int r;

	if (required == NULL) {
		required = required_default;
		n_required = ARRAY_SIZE(required_default);
	}
	if (n_required > CHECK_REQUIRED_MAX)
		n_required = CHECK_REQUIRED_MAX;
	/* the agent's check (src/agent.sh): its directory, the warm-start
	 * library's path here ("" for none), the zone ("" for none), the
	 * tools to look for besides its own list */
	args[2] = zone != NULL ? zone : "";
	for (i = 0; i < n_required; i++)
		args[3 + i] = required[i];

	for (k = 0; k < W; k++) {
		const struct config_worker *w = &cl->cfg.workers[k];
		struct check_job *j = &jobs[k];
		struct strbuf sb = STRBUF_INIT;

		args[0] = w->dir;
		args[1] = lib ? lib : "";
		j->res = &res[k];
		j->required = required;
		j->n_required = n_required;
		snprintf(res[k].name, sizeof(res[k].name), "%s", w->name);
		remote_describe(&sb, w);
		snprintf(res[k].where, sizeof(res[k].where), "%s", sb.buf);
		strbuf_release(&sb);
		strvec_init(&j->argv);
		child_init(&j->child, NULL);
		j->start = monotonic_seconds();
		/* the agent goes with the call: a worker without it (or with
		 * another version) takes it */
		if (agent_argv(&j->argv, &cl->cfg, w, cl->control_dir, 1,
		    "check", args, 3 + n_required, e) != 0) {
			snprintf(res[k].error, sizeof(res[k].error), "%s", e->msg);
			continue;
		}
		agent_child_init(&j->child, j->argv.v, w);
		j->child.on_line = on_line;
		j->child.ctx = j;
		if (child_start(&j->child, e) != 0) {
			snprintf(res[k].error, sizeof(res[k].error), "%s", e->msg);
			continue;
		}
		agent_send(&j->child);
		running[n_running++] = &j->child;
	}
	r = child_wait_all(running, n_running, interrupted, e);
	for (k = 0; k < W; k++) {
		struct check_job *j = &jobs[k];
		int code = child_exit_code(&j->child);

		res[k].seconds = monotonic_seconds() - j->start;
		if (j->child.pid < 0)
			continue;
		res[k].reachable = code == 0;
		if (code == 0)
			agent_mark_sent(cl->control_dir, &cl->cfg.workers[k]);
		for (i = 0; code == 0 && i < n_required; i++)
			if (!j->has[i])
				res[k].missing[res[k].n_missing++] = required[i];
		if (code != 0 && res[k].error[0] == '\0') {
			const char *msg = child_last_error(&j->child);

			snprintf(res[k].error, sizeof(res[k].error), "%s",
			    *msg ? msg : "the check failed");
		}
		child_release(&j->child);
		strvec_release(&j->argv);
	}
	free(lib);
	free(jobs);
	free(running);
	*results = res;
	*n = W;
	return r;
}
