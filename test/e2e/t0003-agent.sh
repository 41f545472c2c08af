#!/bin/sh
# src/agent.sh, the worker-side agent: shellcheck finds nothing in it, the
# copy built into shardcap is that file, and its verbs answer as their
# callers read them (the slot's are run by test-cluster.c's unit tests and
# by every run of the e2e tests).
. "$(dirname "$0")/../lib.sh"

test_expect_success 'shellcheck: the agent is clean' '
	shellcheck -s sh "$TOP/src/agent.sh"
'

test_expect_success 'the agent a local worker runs is src/agent.sh, byte for byte' '
	$SHARDCAP run -q --workers 1 --size 1M "$(dns_capture 1M >/dev/null; echo "$TRASH/dns.pcap")" -- true {} &&
	same=0 &&
	for f in /tmp/shardcap-$(id -u)/.shardcap-agent-*.sh; do
		if cmp -s "$TOP/src/agent.sh" "$f"; then same=1; fi
	done &&
	expect_eq $same 1 "an agent equal to src/agent.sh"
'

test_expect_success 'check: the keys worker check reads' '
	sh "$TOP/src/agent.sh" check "$PWD/d" /nonexistent "" > out &&
	test -d d &&
	grep -qx "warm=0" out && grep -qx "writable=1" out &&
	grep -q "^cores=[1-9]" out && grep -q "^free=[0-9]" out &&
	grep -q "^tool.tshark=[0-9]" out && grep -q "^tool.rsync=[0-9]" out &&
	grep -q "^tool.ngrep=" out && ! grep -q "^zone=" out &&
	sh "$TOP/src/agent.sh" check "$PWD/d" "" Asia/Kolkata > out &&
	grep -qx "zone=1" out &&
	sh "$TOP/src/agent.sh" check "$PWD/d" "" No/Such_Zone > out &&
	grep -qx "zone=0" out
'

test_expect_success 'list: plain files only, names with spaces and quotes whole; none for a directory not there' '
	mkdir -p d/sub && : > "d/a b" && : > "d/it'"'"'s" && : > d/.hidden &&
	sh "$TOP/src/agent.sh" list "$PWD/d" | sort > got &&
	printf "%s\n" "a b" "it'"'"'s" > want && cmp want got &&
	sh "$TOP/src/agent.sh" list "$PWD/nothere" > none && test ! -s none
'

test_expect_success 'remove: a directory and all it holds' '
	mkdir -p "x y/z" && : > "x y/z/f" &&
	sh "$TOP/src/agent.sh" remove "$PWD/x y" && test ! -e "x y"
'

test_expect_success 'peer: each command reads its files NUL-separated, in the directory, one group after the other' '
	mkdir d &&
	cat > take.sh <<-\EOF &&
	tr "\0" "\n" > "$1"; pwd >> "$1"
	EOF
	sh "$TOP/src/agent.sh" peer "$PWD/d" 2 "a b" "c'"'"'d" 3 sh "$PWD/take.sh" "$PWD/one" \
	    1 "x y" 3 sh "$PWD/take.sh" "$PWD/two" &&
	printf "%s\n" "a b" "c'"'"'d" "$PWD/d" > want1 && cmp want1 one &&
	printf "%s\n" "x y" "$PWD/d" > want2 && cmp want2 two &&
	expect_status 7 sh "$TOP/src/agent.sh" peer "$PWD/d" 1 a 3 sh -c "exit 7" \
	    1 b 3 sh "$PWD/take.sh" "$PWD/three" &&
	test ! -e three
'

test_expect_success 'an unknown verb is refused, status 2' '
	expect_status 2 sh "$TOP/src/agent.sh" frobnicate &&
	grep -q "unknown verb" .err
'

test_done
