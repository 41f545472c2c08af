/* test-main.c - runs the unit tests: all, or those named on the command
 * line. Output is TAP. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "unit.h"

static const struct {
	const char *name;
	unit_fn fn;
} tests[] = {
	{ "strbuf", test_strbuf },
	{ "util", test_util },
	{ "json", test_json },
	{ "capture_pcap", test_capture_pcap },
	{ "capture_pcapng", test_capture_pcapng },
	{ "capture_damage", test_capture_damage },
	{ "capture_trickle", test_capture_trickle },
	{ "capture_regress", test_capture_regress },
	{ "source", test_source },
	{ "split", test_split },
	{ "split_damage", test_split_damage },
	{ "split_flow", test_split_flow },
	{ "config", test_config },
	{ "remote", test_remote },
	{ "run_script", test_run_script },
	{ "slot_script", test_slot_script },
	{ "rsync_watch", test_rsync_watch },
	{ "slot_forgets", test_slot_forgets },
	{ "local_zone", test_local_zone },
	{ "catalog", test_catalog },
	{ "balance", test_balance },
	{ "flow", test_flow },
	{ "zmerge", test_zmerge },
};

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	size_t i;
	int a, ran = 0;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int want = argc < 2;

		for (a = 1; a < argc; a++)
			if (strcmp(argv[a], tests[i].name) == 0)
				want = 1;
		if (!want)
			continue;
		printf("# %s\n", tests[i].name);
		tests[i].fn();
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "unit-tests: no test named so\n");
		return 2;
	}
	printf("1..%d\n", tap_count());
	if (strlen(tap_tmpdir()) > 0)
		nftw(tap_tmpdir(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_failures() ? 1 : 0;
}
