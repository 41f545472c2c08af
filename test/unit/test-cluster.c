/* test-cluster.c - the config parser, remote quoting and the catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "catalog.h"
#include "cut.h"
#include "config.h"
#include "file.h"
#include "remote.h"
#include "run.h"
#include "slot.h"
#include "split.h"
#include "strbuf.h"
#include "strvec.h"
#include "tap.h"
#include "unit.h"
#include "util.h"
#include "xalloc.h"

static char *
write_config(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tap_tmpdir(), name);
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

static void
config_fails(const char *text, const char *want, const char *what)
{
	char *path = write_config("bad.conf", text);
	struct config cfg;
	struct sc_err e;
	int r;

	config_init(&cfg);
	r = config_load(&cfg, path, &e);
	if (!ok(r == SC_ERR_CONFIG && strstr(e.msg, want) != NULL, "%s", what))
		printf("#   code %d: %s\n#   wanted: %s\n", r, e.msg, want);
	config_release(&cfg);
	free(path);
}

void
test_config(void)
{
	char *path;
	struct config cfg;
	struct config_worker w;
	struct strbuf text = STRBUF_INIT;
	struct sc_err e;

	path = write_config("good.conf",
	    "# a comment\n"
	    "[cluster]\n"
	    "\tchunk-size = 10MB ; inline comment\n"
	    "\tReplicas = 2\n"
	    "\tthreshold = 15%\n"
	    "\tdigest = sha256\n"
	    "[SSH]\n"
	    "\toptions = -o Compression=no\n"
	    "\tconnect-timeout = 2m\n"
	    "[worker \"w1\"]\n"
	    "\thost = 10.0.0.1\n"
	    "\tport = 2222\n"
	    "\tuser = analyst\n"
	    "\tdir = \"/srv/with space/and \\\"quote\\\"\"\n"
	    "\tjobs = 4\n"
	    "[worker \"here\"]\n"
	    "\tlocal = true\n"
	    "\tdir = /data/here\n");
	config_init(&cfg);
	is_int(config_load(&cfg, path, &e), 0, "a full config loads");
	is_int(cfg.chunk_size, 10000000, "chunk-size in MB");
	is_int(cfg.replicas, 2, "keys are case-insensitive");
	ok(cfg.threshold > 0.1499 && cfg.threshold < 0.1501, "threshold 15%%");
	is_int(cfg.digest, DIGEST_SHA256, "digest");
	is_int(cfg.connect_timeout, 120, "2m is 120 s");
	is_str(cfg.ssh_options, "-o Compression=no", "ssh options");
	is_int(cfg.n_workers, 2, "two workers");
	is_str(cfg.workers[0].dir, "/srv/with space/and \"quote\"",
	    "quoted value with escapes");
	is_int(cfg.workers[0].port, 2222, "port");
	ok(cfg.workers[1].local && cfg.workers[1].host == NULL, "local worker");
	config_release(&cfg);

	/* worker add and rm edit only their section */
	memset(&w, 0, sizeof(w));
	w.name = (char *)"w2";
	w.host = (char *)"example.org";
	w.dir = (char *)"/srv/x";
	w.jobs = 3;
	is_int(config_add_worker(path, &w, &e), 0, "add a worker section");
	config_init(&cfg);
	is_int(config_load(&cfg, path, &e), 0, "and it still loads");
	ok(config_worker(&cfg, "w2") != NULL &&
	    config_worker(&cfg, "w2")->jobs == 3, "with the new worker");
	config_release(&cfg);
	is_int(config_remove_worker(path, "w1", &e), 0, "remove a worker");
	file_read(path, 1 << 20, &text, &e);
	ok(strstr(text.buf, "w1") == NULL && strstr(text.buf, "# a comment") &&
	    strstr(text.buf, "inline comment") && strstr(text.buf, "\"w2\"") &&
	    strstr(text.buf, "\"here\""), "its section alone is gone");
	is_int(config_remove_worker(path, "w1", &e), SC_ERR_NOT_FOUND,
	    "removing it twice");
	strbuf_release(&text);
	free(path);

	config_fails("[cluster]\n\tchunk-sise = 3M\n",
	    "line 2: unknown key 'cluster.chunk-sise'", "unknown key");
	config_fails("[cluster]\n\treplicas = 0\n", "line 2: bad value '0'",
	    "value out of range");
	config_fails("[nonsense]\n", "line 1: unknown section", "unknown section");
	config_fails("chunk-size = 1M\n", "outside any section", "no section");
	config_fails("[cluster\n", "cannot parse", "broken header");
	config_fails("[worker]\n\tdir = /x\n", "needs a valid name",
	    "worker without a name");
	config_fails("[worker \"a\"]\n\tdir = /x\n[worker \"a\"]\n\tdir = /y\n",
	    "defined twice", "the same worker twice");
	config_fails("[worker \"a\"]\n\thost = h\n", "has no dir", "no dir");
	config_fails("[worker \"a\"]\n\tdir = /x\n", "neither host nor local",
	    "neither host nor local");
	config_fails("[worker \"a\"]\n\thost = -oProxyCommand=sh\n\tdir = /x\n",
	    "bad host", "a host that is an option");
	config_fails("[worker \"a\"]\n\thost = h\n\tdir = /x/../y\n", "bad dir",
	    "a dir with ..");
	config_fails("[worker \"a\"]\n\thost = h\n\tdir = relative\n",
	    "absolute path", "a relative dir");
	config_fails("[worker \"a\"]\n\thost = h\n\tuser = -l\n\tdir = /x\n",
	    "bad user", "a user that is an option");
	config_fails("[worker \"a b\"]\n\tdir = /x\n", "needs a valid name",
	    "a worker name with a space");
	config_fails("[worker \"a\"]\n\tlocal = true\n\thost = h\n\tdir = /x\n",
	    "is local", "local with a host");
}

/* Runs sh -c CMD and returns its stdout (first line). */
static char *
sh_out(const char *cmd)
{
	char buf[4096];
	int fds[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0)
		return xstrdup("");
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	waitpid(pid, &st, 0);
	buf[n > 0 ? n : 0] = '\0';
	return xstrdup(buf);
}

void
test_remote(void)
{
	static const char *nasty[] = {
		"plain", "with space", "it's", "$(touch /tmp/x)", "`id`",
		"a;b", "back\\slash", "\"dq\"", "'", "", "tab\there",
		"new\nline", "*", "-rf",
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int all = 1;

	/* a shell gets back exactly the string that was quoted */
	for (i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		char *out, *want;

		strbuf_reset(&sb);
		strbuf_addstr(&sb, "printf '%s|' ");
		shell_quote(&sb, nasty[i]);
		out = sh_out(sb.buf);
		want = xasprintf("%s|", nasty[i]);
		if (strcmp(out, want) != 0) {
			all = 0;
			printf("#   '%s' came back as '%s'\n", nasty[i], out);
		}
		free(out);
		free(want);
	}
	ok(all, "shell_quote: a shell reads every nasty string back unchanged");

	/* shell_unquote reads the words back, as the catalog keeps them */
	{
		struct strvec words = STRVEC_INIT;
		size_t n = sizeof(nasty) / sizeof(nasty[0]);

		strbuf_reset(&sb);
		for (i = 0; i < n; i++) {
			if (i > 0)
				strbuf_addch(&sb, ' ');
			shell_quote(&sb, nasty[i]);
		}
		all = shell_unquote(sb.buf, &words) == 0 && words.n == n;
		for (i = 0; all && i < n; i++)
			all = strcmp(words.v[i], nasty[i]) == 0;
		ok(all, "shell_unquote: the quoted words come back unchanged");
		strvec_release(&words);
		ok(shell_unquote("'a' b", &words) != 0 &&
		    shell_unquote("'open", &words) != 0,
		    "shell_unquote: words not written by shell_quote refused");
		strvec_release(&words);
	}


	{
		struct config cfg;
		struct config_worker w;
		struct strvec av = STRVEC_INIT;
		struct sc_err e;
		int batch = 0, host_after_dashes = 0;

		config_init(&cfg);
		memset(&w, 0, sizeof(w));
		w.name = (char *)"w";
		w.host = (char *)"h.example";
		w.port = 2200;
		w.user = (char *)"u";
		w.dir = (char *)"/d";
		remote_script_argv(&av, &cfg, &w, "/tmp/ctl", "echo hi");
		for (i = 0; i < av.n; i++) {
			if (strcmp(av.v[i], "BatchMode=yes") == 0)
				batch = 1;
			if (strcmp(av.v[i], "--") == 0 && i + 2 < av.n &&
			    strcmp(av.v[i + 1], "h.example") == 0 &&
			    strcmp(av.v[i + 2], "echo hi") == 0)
				host_after_dashes = 1;
		}
		ok(strcmp(av.v[0], "ssh") == 0 && batch && host_after_dashes,
		    "ssh argv: batch mode, -- host, one command string");
		strvec_release(&av);
		w.local = 1;
		w.host = NULL;
		remote_script_argv(&av, &cfg, &w, "/tmp/ctl", "echo hi");
		ok(av.n == 3 && strcmp(av.v[0], "sh") == 0 &&
		    strcmp(av.v[2], "echo hi") == 0, "a local worker: sh -c");
		strvec_release(&av);
		w.local = 0;
		w.host = (char *)"h";
		free(cfg.ssh_config);
		cfg.ssh_config = xstrdup("/with space/cfg");
		{
			static const char *const extra[] = { "-c", "-n", NULL };

			is_int(remote_rsync_argv(&av, &cfg, &w, "/tmp/c tl",
			    "/store/x", "/tmp/list", "x", extra, &e), 0,
			    "rsync argv");
		}
		for (i = 0; i < av.n; i++)
			if (strcmp(av.v[i], "-c") == 0)
				break;
		ok(i + 1 < av.n && strcmp(av.v[i + 1], "-n") == 0 &&
		    i + 2 < av.n - 2, "extra options before the source and dest");
		for (i = 0; i < av.n; i++)
			if (strcmp(av.v[i], "-e") == 0)
				break;
		ok(i + 1 < av.n && strstr(av.v[i + 1], "'/with space/cfg'") &&
		    strstr(av.v[i + 1], "'ControlPath=/tmp/c tl/%C'"),
		    "rsync -e keeps words with spaces whole: %s",
		    i + 1 < av.n ? av.v[i + 1] : "(none)");
		ok(strcmp(av.v[av.n - 1], "h:/d/x/") == 0 &&
		    strcmp(av.v[av.n - 2], "/store/x/") == 0, "source and dest");
		strvec_release(&av);
		cfg.alive_interval = 2;
		cfg.alive_count = 1;
		ok(remote_silence(&cfg) == 6, "silence: three intervals at least");
		cfg.alive_count = 4;
		ok(remote_silence(&cfg) == 8, "silence: interval x count");
		cfg.alive_interval = 5;
		cfg.alive_count = 3;
		free(cfg.ssh_config);
		cfg.ssh_config = xstrdup("/a'b\"c");
		is_int(remote_rsync_argv(&av, &cfg, &w, "/tmp/ctl", "/s", "/l",
		    "x", NULL, &e), SC_ERR_CONFIG, "a path with both quotes is refused");
		strvec_release(&av);
		free(cfg.ssh_config);
		cfg.ssh_config = NULL;
		{
			struct config_worker from = w;
			static const char *const files[] = { "a b.pcap", "c'd" };

			from.host = (char *)"src";
			from.dir = (char *)"/w d";
			struct strvec args = STRVEC_INIT;
			size_t k, ok_words = 1;

			is_int(agent_peer_args(&args, &cfg, &w, "cap", files, 2,
			    NULL, &e), 0, "peer arguments");
			ok(args.n > 4 && strcmp(args.v[0], "2") == 0 &&
			    strcmp(args.v[1], "a b.pcap") == 0 &&
			    strcmp(args.v[2], "c'd") == 0 &&
			    strtoul(args.v[3], NULL, 10) == args.n - 4,
			    "peer: the files' count and names, then the rsync's "
			    "count and words");
			for (k = 4; k < args.n; k++)
				if (strstr(args.v[k], "ControlPath") != NULL ||
				    strstr(args.v[k], "out-format") != NULL)
					ok_words = 0;
			for (k = 4; k < args.n; k++)
				if (strcmp(args.v[k], "--files-from=-") == 0)
					break;
			ok(ok_words && k < args.n, "peer: rsync reads the list, "
			    "no control socket, no report");
			ok(strcmp(args.v[args.n - 1], "h:/d/cap/") == 0,
			    "peer: to the other worker: %s", args.v[args.n - 1]);
			(void)from;
			strvec_release(&args);
		}
		config_release(&cfg);
	}
	strbuf_release(&sb);
}

void
test_catalog(void)
{
	char *path = xasprintf("%s/catalog.db", tap_tmpdir());
	struct catalog *c;
	struct cat_capture cap, got;
	struct cat_chunk set[3], *chunks;
	struct cat_placement *pl;
	struct cat_worker *ws;
	struct sc_err e;
	size_t n, n_pl, n_ws;
	int64_t w1, w2;
	int i;

	is_int(catalog_open(&c, path, &e), 0, "a new catalog opens");
	is_int(catalog_schema_version(c), CATALOG_SCHEMA_VERSION,
	    "at the current schema version");
	is_int(catalog_worker_ensure(c, "w1", &w1, &e), 0, "worker row");
	is_int(catalog_worker_ensure(c, "w2", &w2, &e), 0, "another");
	catalog_worker_ensure(c, "w1", &w1, &e);
	ok(w1 != w2 && w1 > 0, "ensure is idempotent");

	memset(&cap, 0, sizeof(cap));
	snprintf(cap.name, sizeof(cap.name), "dns");
	snprintf(cap.source, sizeof(cap.source), "/data/dns.pcap");
	snprintf(cap.format, sizeof(cap.format), "pcap");
	snprintf(cap.digest_algo, sizeof(cap.digest_algo), "xxh128");
	cap.chunk_size = 1000;
	cap.replicas = 1;
	cap.packets = 10;
	is_int(catalog_capture_save(c, &cap, &e), 0, "save a capture");
	for (i = 0; i < 3; i++) {
		memset(&set[i], 0, sizeof(set[i]));
		snprintf(set[i].file, sizeof(set[i].file), "dns-%06d.pcap",
		    i + 1);
		snprintf(set[i].digest, sizeof(set[i].digest), "d%d", i + 1);
		set[i].bytes = 100;
	}
	is_int(catalog_chunks_replace(c, cap.id, set, 3, &e), 0,
	    "three chunks saved");
	for (i = 0; i < 3; i++)
		catalog_placement_set(c, set[i].id, i % 2 ? w2 : w1,
		    set[i].digest, &e);
	is_int(catalog_chunks(c, cap.id, &chunks, &n, &e), 0, "list chunks");
	ok(n == 3 && chunks[2].seq == 3 && chunks[2].id == set[2].id &&
	    strcmp(chunks[2].file, "dns-000003.pcap") == 0,
	    "three chunks, numbered in order");
	free(chunks);
	catalog_workers(c, &ws, &n_ws, &e);
	ok(n_ws == 2 && ws[0].chunks == 2 && ws[1].chunks == 1 &&
	    ws[0].bytes == 200, "workers count their current copies");
	free(ws);

	/* chunk 2 changes: its copy on w2 becomes stale */
	snprintf(set[1].digest, sizeof(set[1].digest), "new");
	is_int(catalog_chunks_replace(c, cap.id, set, 3, &e), 0,
	    "update a chunk in place");
	catalog_placements(c, cap.id, &pl, &n_pl, &e);
	ok(n_pl == 3 && pl[0].current && !pl[1].current && pl[2].current,
	    "the old copy is stale, the others current");
	free(pl);
	catalog_workers(c, &ws, &n_ws, &e);
	ok(ws[1].chunks == 0, "and no longer counts");
	free(ws);

	/* chunk 2 cut in two: the others keep their rows, renumbered */
	{
		struct cat_chunk cut[4];
		int64_t id1 = set[0].id, id3 = set[2].id;

		cut[0] = set[0];
		memset(&cut[1], 0, sizeof(cut[1]));
		snprintf(cut[1].file, sizeof(cut[1].file),
		    "dns-000002-000001.pcap");
		cut[2] = cut[1];
		snprintf(cut[2].file, sizeof(cut[2].file),
		    "dns-000002-000002.pcap");
		cut[3] = set[2];
		is_int(catalog_chunks_replace(c, cap.id, cut, 4, &e), 0,
		    "a chunk replaced by two parts");
		ok(cut[0].id == id1 && cut[3].id == id3 && cut[3].seq == 4 &&
		    cut[1].seq == 2 && cut[2].seq == 3,
		    "the parts take its place, the next chunk moves up");
		catalog_placements(c, cap.id, &pl, &n_pl, &e);
		ok(n_pl == 2 && pl[0].chunk_id == id1 && pl[1].chunk_id == id3 &&
		    pl[1].seq == 4 && pl[1].current,
		    "its copies are gone, the others' kept");
		free(pl);
		is_int(catalog_placement_set(c, set[1].id, w1, "x", &e), 0,
		    "a copy of a chunk that is gone");
		catalog_placements(c, cap.id, &pl, &n_pl, &e);
		is_int(n_pl, 2, "is not recorded");
		free(pl);
	}

	ok(split_is_part("dns-000002-000001.pcap", "dns-000002.pcap") &&
	    split_is_part("dns-000002-000003-000001.pcapng",
	    "dns-000002.pcapng") &&
	    split_is_part("dns-000002-000003-000001.pcap",
	    "dns-000002-000003.pcap"),
	    "parts (and parts of parts) are known by their names");
	ok(!split_is_part("dns-000020.pcap", "dns-000002.pcap") &&
	    !split_is_part("dns-000002.pcap", "dns-000002.pcap") &&
	    !split_is_part("dnsx-000002-000001.pcap", "dns-000002.pcap") &&
	    !split_is_part("dns-000003-000001.pcap", "dns-000002.pcap"),
	    "other chunks are not parts");

	{
		/* a command of 3,000 bytes keeps its history: its runs are
		 * matched whole, not by the start a cat_run holds; another
		 * command with the same start is another's */
		struct cat_job *jobs;
		struct cat_run *runs;
		struct strbuf cmd = STRBUF_INIT, other = STRBUF_INIT;
		int64_t r1, r2, r3, r4;
		size_t n_jobs, n_runs;

		strbuf_addstr(&cmd, "tshark -r {} -Y '");
		for (i = 0; i < 300; i++)
			strbuf_addf(&cmd, "ip.addr==%d or ", i);
		strbuf_addstr(&other, cmd.buf);
		strbuf_addstr(&cmd, "dns'");
		strbuf_addstr(&other, "http'");
		catalog_run_add(c, cap.id, cmd.buf, "", 1, 2, 0, &r1, &e);
		catalog_job_add(c, r1, set[0].id, w1, 0, 10, 0, 0, &e);
		catalog_run_add(c, cap.id, other.buf, "", 3, 4, 0, &r2, &e);
		catalog_job_add(c, r2, set[0].id, w2, 0, 20, 0, 0, &e);
		catalog_run_add(c, cap.id, cmd.buf, "", 5, 6, 0, &r3, &e);
		catalog_job_add(c, r3, set[2].id, w1, 0, 30, 0, 0, &e);
		/* a run of some chunks only: not the last whole run, and its
		 * times in no history */
		catalog_run_add(c, cap.id, cmd.buf, "--chunks 1", 7, 8, 0, &r4,
		    &e);
		catalog_job_add(c, r4, set[0].id, w1, 0, 99, 0, 0, &e);
		is_int(catalog_runs(c, "dns", 1, 0, &runs, &n_runs, &e), 0,
		    "the last run");
		ok(n_runs == 1 && runs[0].id == r4 &&
		    strcmp(runs[0].selection, "--chunks 1") == 0,
		    "is the fourth, of some chunks");
		free(runs);
		is_int(catalog_runs(c, "dns", 1, 1, &runs, &n_runs, &e), 0,
		    "the last run over every chunk");
		ok(n_runs == 1 && runs[0].id == r3 && runs[0].selection[0] == 0,
		    "is the third");
		is_int(catalog_jobs_history(c, cap.id, runs[0].id, 10, &jobs,
		    &n_jobs, &e), 0, "its command's history");
		ok(n_jobs == 2 && jobs[0].wall_ms == 10 && jobs[1].wall_ms == 30,
		    "a %zu-byte command's two runs, not the other's (%zu jobs)",
		    cmd.len, n_jobs);
		free(jobs);
		free(runs);
		strbuf_release(&cmd);
		strbuf_release(&other);
	}
	{
		/* a source path longer than 1 KiB comes back whole */
		struct strbuf src = STRBUF_INIT;

		for (i = 0; i < 200; i++)
			strbuf_addstr(&src, "/directory");
		strbuf_addstr(&src, "/dns.pcap");
		snprintf(cap.source, sizeof(cap.source), "%s", src.buf);
		catalog_capture_save(c, &cap, &e);
		memset(&got, 0, sizeof(got));
		is_int(catalog_capture_get(c, "dns", &got, &e), 0, "get");
		ok(strcmp(got.source, src.buf) == 0,
		    "a %zu-byte source path is kept whole", src.len);
		strbuf_release(&src);
	}
	ok(strcmp(got.layout, "time") == 0 && got.flows == 0 &&
	    got.cut_flows == 0, "a capture saved without a layout is 'time'");
	snprintf(cap.layout, sizeof(cap.layout), "flow");
	cap.flows = 12;
	cap.cut_flows = -1;
	catalog_capture_save(c, &cap, &e);
	memset(&got, 0, sizeof(got));
	catalog_capture_get(c, "dns", &got, &e);
	ok(strcmp(got.layout, "flow") == 0 && got.flows == 12 &&
	    got.cut_flows == -1, "layout and flows kept; not known is NULL");

	is_int(catalog_chunks_replace(c, cap.id, set, 1, &e), 0,
	    "down to one chunk");
	catalog_placements(c, cap.id, &pl, &n_pl, &e);
	is_int(n_pl, 1, "placements go with their chunks");
	free(pl);
	is_int(catalog_capture_get(c, "nope", &got, &e), SC_ERR_NOT_FOUND,
	    "no such capture");
	is_int(catalog_capture_delete(c, cap.id, &e), 0, "delete the capture");
	catalog_chunks(c, cap.id, &chunks, &n, &e);
	is_int(n, 0, "its chunks are gone");
	free(chunks);
	catalog_close(c);

	/* a catalog from a newer shardcap is refused */
	is_int(catalog_open(&c, path, &e), 0, "reopen");
	catalog_close(c);
	{
		char *cmd = xasprintf("sqlite3 '%s' \"UPDATE meta SET value = "
		    "'99' WHERE key = 'schema_version'\" 2>/dev/null", path);
		char *out = sh_out(cmd);

		free(out);
		free(cmd);
	}
	if (catalog_open(&c, path, &e) == SC_ERR_CATALOG)
		ok(strstr(e.msg, "upgrade shardcap") != NULL,
		    "a newer schema is refused: %s", e.msg);
	else
		ok(0, "a newer schema is refused");
	free(path);
}

/* What a job of a run with these options runs. */
static struct job_command
jc_of(const struct run_options *opt)
{
	struct job_command jc;

	jc.argv = opt->command;
	jc.argc = opt->n_command;
	jc.use_stdin = opt->use_stdin;
	jc.stream_arg = opt->stream_arg;
	jc.warm_lib = opt->warm_lib;
	return jc;
}

/* The agent as a local worker calls it: "sh PATH". Allocated. */
static char *
agent_file(void)
{
	struct config cfg;
	struct config_worker w;
	struct strvec av = STRVEC_INIT;
	struct sc_err e;
	char *path;

	config_init(&cfg);
	memset(&w, 0, sizeof(w));
	w.name = (char *)"w";
	w.dir = (char *)"/tmp";
	w.local = 1;
	if (agent_argv(&av, &cfg, &w, NULL, 0, "version", NULL, 0, &e) != 0 ||
	    av.n < 2)
		path = xstrdup("/nonexistent");
	else
		path = xstrdup(av.v[1]);
	strvec_release(&av);
	config_release(&cfg);
	return path;
}

/* Runs the agent's slot for a run with these options (token T) on one
 * job, number 7, of the n chunks; returns its stdout and stderr, in
 * the order written, without its started and ready records. */
static char *
job_out(const struct run_options *opt, char **paths, const uint64_t *sizes,
    size_t n)
{
	struct strbuf call = STRBUF_INIT, cmd = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	struct job_command jc = jc_of(opt);
	char *agent = agent_file(), *out, *zone = run_local_zone();
	size_t i;

	if (opt->warm_lib != NULL) {
		/* (a library that is not there: no warm tool) */
		struct run_warm warm;

		memset(&warm, 0, sizeof(warm));
		warm.lib = opt->warm_lib;
		warm.placeholder = "/nonexistent/placeholder";
		warm.template = paths[0];
		run_slot_args(&args, 0, NULL, &warm, zone, &jc);
	} else {
		run_slot_args(&args, 0, NULL, NULL, zone, &jc);
	}
	run_job_call(&call, 7, paths, sizes, n, 0, NULL, NULL);
	/* its stdin ends once the job's ends are there (10 s at most) */
	strbuf_addstr(&cmd, "f=$(mktemp) && { echo T; printf '%s' ");
	shell_quote(&cmd, call.buf);
	strbuf_addstr(&cmd, "; i=0; while [ $i -lt 100 ] && ! grep -q "
	    "'^T done 7$' \"$f\"; do sleep 0.1; i=$((i + 1)); done; } | "
	    "sh ");
	shell_quote(&cmd, agent);
	strbuf_addstr(&cmd, " slot");
	for (i = 0; i < args.n; i++) {
		strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, args.v[i]);
	}
	/* all of it in one write, for sh_out's one read */
	strbuf_addstr(&cmd, " > \"$f\" 2>&1; o=$(grep -v '^T started \\|^T ready' "
	    "\"$f\"); rm -f \"$f\"; printf '%s\\n' \"$o\"");
	out = sh_out(cmd.buf);
	strvec_release(&args);
	strbuf_release(&call);
	strbuf_release(&cmd);
	free(agent);
	free(zone);
	return out;
}

void
test_run_script(void)
{
	char dir[] = "/tmp/shardcap-unit-XXXXXX";
	char cat[] = "cat", ph[] = "{}";
	char *cat_cmd[] = { cat, ph };
	char *a, *b, *paths[2], *out;
	uint64_t sizes[2] = { 6, 4 };
	struct run_options opt;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	a = xasprintf("%s/a b", dir);
	b = xasprintf("%s/it's", dir);
	if ((f = fopen(a, "w")) != NULL) {
		fputs("hello\n", f);
		fclose(f);
	}
	memset(&opt, 0, sizeof(opt));
	opt.command = cat_cmd;
	opt.n_command = 2;
	opt.stream_arg = -1;
	paths[0] = a;
	paths[1] = b;

	out = job_out(&opt, paths, sizes, 1);
	ok(strcmp(out, "hello\nT 7 0\nT done 7\n") == 0,
	    "job script: a sound chunk runs, its end marked");
	free(out);
	sizes[0] = 5;
	out = job_out(&opt, paths, sizes, 1);
	ok(strcmp(out, "T bad 7 0\nT 7 125\nT done 7\n")
	    == 0, "job script: a chunk of the wrong size is reported, not read");
	free(out);
	sizes[0] = 6;
	out = job_out(&opt, paths, sizes, 2);
	ok(strncmp(out, "T bad 7 1\n", 10) == 0,
	    "job script: a missing chunk is named by its index");
	free(out);
	if ((f = fopen(b, "w")) != NULL) {
		fputs("bye\n", f);
		fclose(f);
	}
	out = job_out(&opt, paths, sizes, 2);
	ok(strstr(out, "T bad") == NULL && strstr(out, "T 7 0\n"),
	    "job script: every chunk there, the command runs");
	free(out);
	{
		/* sizes checked by the caller (a local worker's copies):
		 * the call asks for no check, the command runs as it is */
		struct strbuf call = STRBUF_INIT;

		run_job_call(&call, 7, paths, NULL, 2, 0, NULL, NULL);
		ok(strncmp(call.buf, "start 7 0 2 ", 12) == 0,
		    "job call, sizes checked already: no check");
		strbuf_release(&call);
		sizes[0] = 5;
		out = job_out(&opt, paths, NULL, 1);
		ok(strcmp(out, "hello\nT 7 0\nT done 7\n") == 0,
		    "job script, sizes checked already: the chunk is read");
		free(out);
		sizes[0] = 6;
	}
	/* started warm: with no warm tool ($3 empty), or one whose fifo is
	 * not there (fd 6 closed), the command runs as it would without */
	opt.warm_lib = "/nonexistent/shardcap-warm.so";
	out = job_out(&opt, paths, sizes, 1);
	ok(strcmp(out, "hello\nT 7 0\nT done 7\n") == 0,
	    "job script, warm: no warm tool, the command runs");
	free(out);
	{
		/* the job itself, told of a warm tool (pid 4242) whose
		 * requests' fifo (fd 6) is not there */
		struct strbuf cmd = STRBUF_INIT;
		char *agent = agent_file();

		strbuf_addstr(&cmd, "o=$(echo T | sh ");
		shell_quote(&cmd, agent);
		strbuf_addstr(&cmd, " job 0 0 4242 0 '' '' 7 1 1 ");
		shell_quote(&cmd, a);
		strbuf_addstr(&cmd, " 6 -- cat {} 2>&1 6>&-; echo \"s=$?\"); "
		    "printf '%s\\n' \"$o\"");
		out = sh_out(cmd.buf);
		ok(strcmp(out, "hello\ns=0\n") == 0,
		    "job, warm: a warm tool that cannot be reached, the "
		    "command runs");
		free(out);
		free(agent);
		strbuf_release(&cmd);
	}
	{
		/* a job whose shell is killed, or its group, ends as any
		 * other: its ends come, with its status; nothing it left
		 * running writes after them */
		static const char *const killers[] = {
			"printf partial; kill -9 $PPID",
			"printf partial; kill -9 0",
			"(sleep 0.3; echo late) & printf partial; kill -9 $PPID",
		};
		char sh[] = "sh", dash_c[] = "-c", x[] = "x";
		size_t k;

		for (k = 0; k < ARRAY_SIZE(killers); k++) {
			char *kill_cmd[] = { sh, dash_c, (char *)killers[k], x,
			    ph };
			char *cmd_out;

			opt.command = kill_cmd;
			opt.n_command = 5;
			out = job_out(&opt, paths, NULL, 1);
			cmd_out = sh_out("sleep 0.5");
			ok(strncmp(out, "partial", 7) == 0 &&
			    strstr(out, "T 7 137\n") != NULL &&
			    strstr(out, "T done 7\n") != NULL &&
			    strstr(out, "late") == NULL,
			    "job: '%s' ends the job, status 137",
			    killers[k]);
			if (strstr(out, "T done 7\n") == NULL)
				printf("#   got: %s\n", out);
			free(cmd_out);
			free(out);
		}
		opt.command = cat_cmd;
		opt.n_command = 2;
	}
	opt.warm_lib = NULL;
	{
		char ts[] = "tshark", tsp[] = "/usr/bin/tshark", td[] = "tcpdump";
		char r[] = "-r", y[] = "-Y", w[] = "-w", dns[] = "dns";
		char ph2[] = "{}.out", ph3[] = "x{}";
		char *c1[] = { ts, r, ph };
		char *c2[] = { tsp, y, dns, r, ph };
		char *c3[] = { td, r, ph };
		char *c4[] = { ts, r, ph, w, ph2 };
		char *c5[] = { ts, y, ph };
		char *c6[] = { ts, r, ph3 };

		ok(run_warm_command(c1, 3) && run_warm_command(c2, 5) &&
		    !run_warm_command(c3, 3) && !run_warm_command(c4, 5) &&
		    !run_warm_command(c5, 3) && !run_warm_command(c6, 3),
		    "warm: tshark reading -r {}, {} nowhere else");
	}
	(void)unlink(a);
	(void)unlink(b);
	(void)rmdir(dir);
	free(a);
	free(b);
}

/* Runs a slot's script (silence seconds) with sh, its stdin what feed (a
 * shell command) writes after a first job, which writes its pid to a file
 * and sleeps; feed may call early to note whether the job is gone by then.
 * Returns "STATUS JOB-GONE FILES-LEFT [EARLY]". */
static char *
slot_out(unsigned silence, const char *feed)
{
	char dir[] = "/tmp/shardcap-unit-XXXXXX";
	struct strbuf cmd = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	char *out, *mark, *agent = agent_file();
	size_t i;

	if (mkdtemp(dir) == NULL)
		return xstrdup("mkdtemp failed");
	mark = xasprintf("%s/t/.mark", dir);
	run_slot_args(&args, silence, mark, NULL, NULL, NULL);
	free(mark);
	/* a process killed is gone, or a zombie not reaped yet */
	strbuf_addf(&cmd, "cd %s && mkdir t && gone() { "
	    "case $(ps -o stat= -p $(cat pid)) in ''|Z*) echo 1;; "
	    "*) echo 0;; esac; }; early() { gone > early; }; "
	    "{ echo T; echo 'setsid sh -c \"echo \\$$ > pid; exec sleep 30\" "
	    "< /dev/null & p=$!'; %s; } | sh ", dir, feed);
	shell_quote(&cmd, agent);
	strbuf_addstr(&cmd, " slot");
	for (i = 0; i < args.n; i++) {
		strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, args.v[i]);
	}
	strbuf_addstr(&cmd, " 2> /dev/null; s=$?; sleep 0.2; "
	    "echo $s $(gone) $(ls -A t | wc -l) $(cat early 2> /dev/null); "
	    "cd / && rm -rf \"$OLDPWD\"");
	out = sh_out(cmd.buf);
	out[strcspn(out, "\n")] = '\0';
	strvec_release(&args);
	strbuf_release(&cmd);
	free(agent);
	return out;
}

void
test_slot_script(void)
{
	char *out;

	out = slot_out(1, "sleep 3; early");
	ok(strcmp(out, "143 1 0 1") == 0,
	    "slot: its stdin silent for its silence, it kills its job and "
	    "ends, within twice that (%s)", out);
	free(out);
	out = slot_out(1, "i=0; while [ $i -lt 12 ]; do echo; sleep 0.2; "
	    "i=$((i + 1)); done; early");
	ok(strcmp(out, "0 1 0 0") == 0,
	    "slot: beats keep it and its job going past its silence; the end "
	    "of its stdin ends both (%s)", out);
	free(out);
	out = slot_out(1, "printf '%s' '" RUN_SLOT_PAUSE "'; sleep 2.5; early; "
	    "printf '%s' '" RUN_SLOT_RESUME "'; sleep 3");
	ok(strcmp(out, "143 1 0 0") == 0,
	    "slot: paused, its watchdog waits; resumed, it watches again "
	    "(%s)", out);
	free(out);
	out = slot_out(0, "sleep 1.5; early");
	ok(strcmp(out, "0 1 0 0") == 0,
	    "slot: without a silence it waits for its stdin's end (%s)", out);
	free(out);
}

/* The --rsync-path of a copy to a remote worker whose directory is dir,
 * watched by mark. */
static char *
watched_rsync_path(const char *dir, const char *mark)
{
	struct config cfg;
	struct config_worker w;
	struct strvec av = STRVEC_INIT;
	struct sc_err e;
	char *path = NULL;
	size_t i;

	config_init(&cfg);
	/* a silence of 3 s */
	cfg.alive_interval = 1;
	cfg.alive_count = 3;
	memset(&w, 0, sizeof(w));
	w.name = (char *)"w";
	w.host = (char *)"h";
	w.dir = (char *)dir;
	if (agent_rsync_argv(&av, &cfg, &w, "/tmp/ctl", "/s", "/l", "x", NULL,
	    mark, &e) == 0)
		for (i = 0; i < av.n; i++)
			if (strncmp(av.v[i], "--rsync-path=", 13) == 0)
				path = xstrdup(av.v[i] + 13);
	strvec_release(&av);
	config_release(&cfg);
	return path;
}

void
test_rsync_watch(void)
{
	static const char *const cases[] = { "keep", "gone", "never", "quick",
		"bare" };
	char dir[] = "/tmp/shardcap-unit-XXXXXX";
	struct strbuf cmd = STRBUF_INIT;
	struct config cfg;
	struct config_worker w;
	struct strvec av = STRVEC_INIT;
	struct sc_err e;
	char *out, *path, *agent;
	size_t i;

	ok(watched_rsync_path("/d", NULL) == NULL,
	    "rsync: no mark, no wrapper");
	config_init(&cfg);
	memset(&w, 0, sizeof(w));
	w.name = (char *)"w";
	w.dir = (char *)"/d";
	w.local = 1;
	is_int(agent_rsync_argv(&av, &cfg, &w, NULL, "/s", "/l", "x", NULL,
	    "/d/m", &e), 0, "rsync argv, local");
	for (i = 0; i < av.n && strncmp(av.v[i], "--rsync-path", 12); i++)
		;
	ok(i == av.n, "a local worker's rsync is not watched: no link");
	strvec_release(&av);
	config_release(&cfg);
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	/*
	 * The wrapper run as the worker's shell would run it, in a worker's
	 * directory that holds the agent, with an rsync that notes its pid
	 * and sleeps ("quick": exits 7 at once), each in a session of its
	 * own, with a silence of 3 s: its mark kept; removed 1.5 s in; never
	 * made; rsync ending by itself; and, from a directory without the
	 * agent, its mark removed too (an rsync not watched, but run). 5.5 s
	 * later: the status of "quick", then whether each sleeping rsync is
	 * still there.
	 */
	agent = agent_file();
	strbuf_addf(&cmd, "cd %s && cp ", dir);
	shell_quote(&cmd, agent);
	strbuf_addf(&cmd, " .shardcap-agent-%s.sh && mkdir bin && "
	    "printf '#!/bin/sh\\n"
	    "echo $$ > pid.$1; [ $1 = quick ] && exit 7; exec sleep 30\\n' "
	    "> bin/rsync && chmod +x bin/rsync && PATH=$PWD/bin:$PATH && "
	    ": > m.keep && : > m.gone && : > m.quick && : > m.bare && ",
	    agent_version());
	free(agent);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *mark = xasprintf("%s/m.%s", dir, cases[i]);
		char *wdir = strcmp(cases[i], "bare") == 0 ?
		    xasprintf("%s/none", dir) : xstrdup(dir);

		path = watched_rsync_path(wdir, mark);
		free(wdir);
		free(mark);
		if (path == NULL)
			break;
		strbuf_addstr(&cmd, "printf '%s\\n' ");
		shell_quote(&cmd, path);
		strbuf_addf(&cmd, " | sed 's/$/ %s/' > c.%s && ", cases[i],
		    cases[i]);
		free(path);
	}
	ok(i == ARRAY_SIZE(cases), "rsync: a mark, a wrapper");
	strbuf_addstr(&cmd, "for c in keep gone never bare; do setsid sh -c "
	    "'echo $$ > w.$1; exec sh c.$1' sh $c < /dev/null > /dev/null "
	    "2>&1 & done; setsid -w sh c.quick < /dev/null > /dev/null 2>&1; "
	    "q=$?; sleep 1.5; rm m.gone m.bare; sleep 4; there() { "
	    "case $(ps -o stat= -p $(cat pid.$1)) in ''|Z*) echo 0;; "
	    "*) echo 1;; esac; }; echo $q $(there keep) $(there gone) "
	    "$(there never) $(there bare); for c in keep gone never bare; do "
	    "kill -TERM -$(cat w.$c) 2>/dev/null; done; "
	    "cd / && rm -rf \"$OLDPWD\"");
	out = sh_out(cmd.buf);
	out[strcspn(out, "\n")] = '\0';
	ok(strcmp(out, "7 1 0 1 1") == 0,
	    "rsync watched by the agent: its status passed on; kept while its "
	    "mark is, ended once it is gone, not armed by a mark never made; "
	    "without the agent, run unwatched (%s)", out);
	free(out);
	strbuf_release(&cmd);
}

/* Runs a slot's script whose first job ends at once; feed follows.
 * Returns what the slot asked kill to do when its stdin ended. */
static char *
slot_kills(const char *feed)
{
	char dir[] = "/tmp/shardcap-unit-XXXXXX";
	struct strbuf cmd = STRBUF_INIT;
	char *out, *agent = agent_file();

	if (mkdtemp(dir) == NULL)
		return xstrdup("mkdtemp failed");
	/* kill noted, then done as the shell would: the first call */
	strbuf_addf(&cmd, "cd %s && { echo T; echo 'kill() { echo \"$*\" "
	    ">> kills; command kill \"$@\"; }'; echo 'setsid sh -c \"exit 0\" "
	    "< /dev/null & p=$!'; sleep 0.3; %s } | sh ", dir, feed);
	shell_quote(&cmd, agent);
	strbuf_addstr(&cmd, " slot -- : 2> /dev/null; cat kills 2> /dev/null | "
	    "tr '\\n' ' '; cd / && rm -rf \"$OLDPWD\"");
	out = sh_out(cmd.buf);
	strbuf_release(&cmd);
	free(agent);
	return out;
}

void
test_slot_forgets(void)
{
	char *out = slot_kills("");

	ok(strncmp(out, "-TERM -", 7) == 0,
	    "slot: at its end it kills its last job's group, ended or not "
	    "(%s)", out);
	free(out);
	out = slot_kills("echo forget;");
	ok(strcmp(out, "") == 0,
	    "slot: told its job ended (forget), it kills nothing at its end: the "
	    "pid may be another process's by then (%s)", out);
	free(out);
}

/* run_local_zone: TZ's value as a worker can look it up, a zone file's
 * path as its name, or NULL where there is no name to give. */
void
test_local_zone(void)
{
	static const struct {
		const char *tz, *want;  /* tz NULL: unset */
	} cases[] = {
		{ "Europe/Paris", "Europe/Paris" },
		{ ":Europe/Paris", "Europe/Paris" },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", "CET-1CEST,M3.5.0,M10.5.0/3" },
		{ "", "UTC0" },
		{ ":", "UTC0" },
		{ "/usr/share/zoneinfo/Asia/Kolkata", "Asia/Kolkata" },
		{ ":/usr/share/zoneinfo/Asia/Kolkata", "Asia/Kolkata" },
		{ "/nonexistent/zoneinfo", NULL },
		{ "/usr/share/zoneinfo/", NULL },
	};
	char *saved = getenv("TZ") != NULL ? xstrdup(getenv("TZ")) : NULL;
	char *copy = xasprintf("%s/localtime", tap_tmpdir()), *got, *real;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *what = xasprintf("TZ='%s'", cases[i].tz);

		setenv("TZ", cases[i].tz, 1);
		got = run_local_zone();
		if (cases[i].want == NULL)
			ok(got == NULL, "%s: no name (%s)", what,
			    got != NULL ? got : "none");
		else
			is_str(got, cases[i].want, what);
		free(got);
		free(what);
	}
	/* a copy of a zone file has no name a worker could look up */
	{
		FILE *f = fopen(copy, "w");

		fputs("TZif", f);
		fclose(f);
		setenv("TZ", copy, 1);
		got = run_local_zone();
		ok(got == NULL, "a zone file outside zoneinfo: no name");
		free(got);
	}
	/* unset: /etc/localtime's target, or UTC0 without one */
	unsetenv("TZ");
	got = run_local_zone();
	real = realpath("/etc/localtime", NULL);
	if (real == NULL)
		is_str(got, "UTC0", "TZ unset, no /etc/localtime");
	else if (strstr(real, "/zoneinfo/") != NULL)
		is_str(got, strstr(real, "/zoneinfo/") + 10,
		    "TZ unset: /etc/localtime's zone");
	else
		ok(got == NULL, "TZ unset, a copied /etc/localtime: no name");
	free(real);
	free(got);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	unlink(copy);
	free(copy);
	free(saved);
}
