/*
 * fake-tshark.c - a tool the tests start as tshark: it opens the file of
 * -r through wiretap's calls (libfakewtap.so), so that shardcap starts it
 * warm as it does tshark, and prints how many bytes it read.
 *
 *   fake-tshark STATE SECONDS [--setup S] [--cost ODD EVEN] ... -r FILE ...
 *
 * Each start appends its pid to STATE/starts. Opening a warm placeholder
 * (a name with ".shardcap-warm-"), it ends with 3 while STATE/no-warm
 * exists, and otherwise sets itself up in S seconds (--setup). After
 * reading it says "read FILE" on stderr (FILE as it was opened: the
 * placeholder, in a warm tool's child), then runs `sleep SECONDS` while
 * STATE/slow exists (a process the tests find by its arguments), sleeps
 * ODD or EVEN seconds by the parity of the bytes it read (--cost), and
 * prints the bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakewtap.h"

static void
nap(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
exists(const char *state, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", state, name);
	return access(path, F_OK) == 0;
}

int
main(int argc, char **argv)
{
	const char *state, *sleep_arg, *file = NULL;
	double setup = 0, odd = 0, even = 0;
	static char buf[FAKEWTAP_PACKET];
	size_t total = 0, n;
	struct wtap *w;
	char path[4096], *err_info;
	int64_t offset;
	int i, err;
	FILE *f;

	if (argc < 3)
		return 2;
	state = argv[1];
	sleep_arg = argv[2];
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--setup") == 0 && i + 1 < argc)
			setup = atof(argv[++i]);
		else if (strcmp(argv[i], "--cost") == 0 && i + 2 < argc) {
			odd = atof(argv[++i]);
			even = atof(argv[++i]);
		} else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			file = argv[++i];
	}
	snprintf(path, sizeof(path), "%s/starts", state);
	if ((f = fopen(path, "a")) != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	if (file == NULL)
		return 2;
	if (strstr(file, ".shardcap-warm-") != NULL) {
		if (exists(state, "no-warm"))
			return 3;
		nap(setup);
	}
	if ((w = wtap_open_offline(file, 0, &err, &err_info, 0)) == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", file, strerror(err));
		return 2;
	}
	while (wtap_read(w, &n, buf, &err, &err_info, &offset))
		total += n;
	wtap_close(w);
	if (err != 0) {
		fprintf(stderr, "cannot read %s: %s\n", file, strerror(err));
		return 2;
	}
	fprintf(stderr, "read %s\n", file);
	if (exists(state, "slow")) {
		pid_t pid = fork();
		int ws;

		if (pid == 0) {
			execlp("sleep", "sleep", sleep_arg, (char *)NULL);
			_exit(127);
		}
		while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	nap(total % 2 ? odd : even);
	printf("%zu\n", total);
	return 0;
}
