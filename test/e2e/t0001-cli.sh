#!/bin/sh
# The command line: help, version, usage errors.
. "$(dirname "$0")/../lib.sh"

test_expect_success '--help lists the commands' '
	$SHARDCAP --help > out &&
	grep -q "^usage: shardcap" out &&
	grep -q "^  split " out &&
	grep -q "^  inspect " out
'

test_expect_success '--version prints the version' '
	$SHARDCAP --version > out &&
	expect_eq "$(cat out)" "shardcap $(cat $TOP/VERSION)"
'

test_expect_success 'help COMMAND and COMMAND --help agree' '
	for c in split inspect help; do
		$SHARDCAP help $c > a &&
		$SHARDCAP $c --help > b &&
		cmp a b &&
		grep -q "^usage: shardcap $c" a || exit 1
	done
'

test_expect_success 'no command: usage on stderr, status 2' '
	expect_status 2 $SHARDCAP &&
	grep -q "^usage:" .err
'

test_expect_success 'unknown command: status 2, one line' '
	expect_status 2 $SHARDCAP frobnicate &&
	grep -q "not a shardcap command" .err &&
	expect_eq "$(wc -l < .err)" 1
'

test_expect_success 'bad option: status 2' '
	expect_status 2 $SHARDCAP split --no-such-option x.pcap &&
	grep -q "usage: shardcap split" .err
'

test_expect_success 'bad --size: status 2 with the value quoted' '
	expect_status 2 $SHARDCAP split --size 25Q x.pcap &&
	grep -q "bad --size '"'"'25Q'"'"'" .err
'

test_expect_success 'names that could escape are refused' '
	$GENCAP pcap-le-us -o in.pcap &&
	for n in "../x" "a b" "\$(id)" "a;b" ".." "-x" "a/b"; do
		expect_status 2 $SHARDCAP split --name "$n" in.pcap || exit 1
	done &&
	expect_eq "$(ls)" "in.pcap"
'

test_expect_success 'a file name that is no valid name needs --name' '
	$GENCAP pcap-le-us -o "my trace.pcap" &&
	expect_status 2 $SHARDCAP split "my trace.pcap" &&
	grep -q -- "--name" .err &&
	$SHARDCAP split -q --name trace -o out "my trace.pcap" >/dev/null &&
	test -f out/trace-000001.pcap
'

test_expect_success 'missing file: one line naming it, status 1' '
	expect_status 1 $SHARDCAP split nosuch.pcap &&
	grep -q "cannot open '"'"'nosuch.pcap'"'"': No such file or directory" .err &&
	expect_eq "$(wc -l < .err)" 1
'

test_expect_success 'a directory is not a capture' '
	mkdir d.pcap &&
	expect_status 1 $SHARDCAP inspect d.pcap &&
	grep -q "Is a directory" .err
'

test_expect_success 'the man page renders and names every command' '
	man -l $TOP/docs/shardcap.1 > man.txt 2>/dev/null ||
	    groff -man -Tascii $TOP/docs/shardcap.1 > man.txt &&
	grep -q "split" man.txt &&
	grep -q "inspect" man.txt &&
	grep -q "balance" man.txt &&
	grep -q "EXIT STATUS" man.txt
'

test_done
