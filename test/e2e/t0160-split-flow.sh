#!/bin/sh
# The flow layout (split --layout flow): every packet in exactly one
# chunk, in capture order within it, no flow in two chunks, and queries
# that follow TCP streams (HTTP requests, TLS server names, DNS over TCP)
# give over the chunks the lines they give over the whole capture - where
# the time layout of the same capture does not.
# test-slow
. "$(dirname "$0")/../lib.sh"

FLOWCHECK="python3 $TOP/test/flowcheck.py"
# json_field FILE KEY: a top-level field of a JSON document
json_field() {
	python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"
}
# the three stateful queries at once, one tshark a file; lines sorted
stateful() {
	for f in "$@"; do
		tshark_q -r "$f" -Y 'http.request || tls.handshake.type == 1 ||
		    (dns.flags.response == 1 && tcp)' -T fields -e http.host \
		    -e http.request.uri -e tls.handshake.extensions_server_name \
		    -e dns.qry.name || return 1
	done | LC_ALL=C sort
}

test_expect_success 'streams crossing every cut: whole in one chunk each, the whole-file lines' '
	$GENCAP flows --size 12M --streams 1200 -o in.pcap &&
	$SHARDCAP split -q --layout flow --json -s 2M -o flow in.pcap > m.json &&
	$SHARDCAP split -q --json -s 2M -o time in.pcap > t.json &&
	flows=$(json_field m.json flows) && cut=$(json_field t.json cut_flows) &&
	echo "$flows flows, $cut cut in time" &&
	test "$flows" -ge 1200 && expect_eq "$(json_field t.json flows)" "$flows" &&
	test "$cut" -gt 1000 && expect_eq "$(json_field m.json cut_flows)" 0 &&
	n=$(ls flow | wc -l) && echo "$n chunks" && test "$n" -ge 6 &&
	$FLOWCHECK in.pcap flow/* &&
	within_size flow 2097152 &&
	manifest_matches flow m.json &&
	grep -q "\"layout\": \"flow\"" m.json &&
	stateful in.pcap > want &&
	stateful flow/* > got-flow &&
	stateful time/* > got-time &&
	wc -l want got-flow got-time &&
	test "$(grep -c . want)" -ge 3000 &&
	cmp want got-flow &&
	! cmp -s want got-time &&
	! $FLOWCHECK in.pcap time/* > time.check &&
	grep -q "a flow in" time.check
'

test_expect_success 'pcapng on four interfaces of three link types: the paper query, exact' '
	$GENCAP mixed --size 6M --pcapng --interfaces 4 -o in.pcapng &&
	$SHARDCAP split -q --layout flow -s 1M -o flow in.pcapng > /dev/null &&
	$FLOWCHECK in.pcapng flow/* &&
	opens_cleanly flow/* &&
	tshark_q -r in.pcapng -Y "dns.flags.response == 1" -T fields \
	    -e dns.qry.name | LC_ALL=C sort > want &&
	for c in flow/*; do
		tshark_q -r $c -Y "dns.flags.response == 1" -T fields \
		    -e dns.qry.name || exit 1
	done | LC_ALL=C sort > got &&
	test -s want && cmp want got
'

for v in pcap-sll pcap-null pcap-raw pcap-be-ns pcapng-multi-if \
    pcapng-sections pcapng-nrb pcapng-dsb pcapng-isb pcapng-custom \
    pcapng-spb pcapng-all; do
	test_expect_success "every record kept: $v" '
		$GENCAP '$v' -n 300 -o in.cap &&
		$SHARDCAP split -q --layout flow -s 8K -o out in.cap > /dev/null &&
		$FLOWCHECK in.cap out/* &&
		for c in out/*; do
			capinfos $c > /dev/null 2> err && ! test -s err ||
			    { cat err; exit 1; }
		done
	'
done

test_expect_success 'an empty capture: one chunk, its header alone' '
	$GENCAP pcapng-empty -o in.pcapng &&
	$SHARDCAP split -q --layout flow -o out in.pcapng > /dev/null &&
	expect_eq "$(ls out)" in-000001.pcapng &&
	opens_cleanly out/*
'

test_expect_success 'a flow larger than a chunk: a group of chunks within the size' '
	$GENCAP flows --size 3M --streams 1 --exchanges 100000 -o in.pcap &&
	$SHARDCAP split -q --layout flow --json -s 1M -o out in.pcap > m.json &&
	$FLOWCHECK in.pcap m.json > check && cat check &&
	grep -q "^[0-9]* packets, 1 flows, [3-9] chunks, 0 faults" check &&
	within_size out 1048576 &&
	expect_eq "$(python3 -c "import json; print(sorted(set(c[\"group\"] for c in json.load(open(\"m.json\"))[\"chunks\"])))")" "[1]"
'

test_expect_success 'a flow whose packets are near a chunk'"'"'s size: one chunk of its own, larger' '
	$GENCAP flows --size 300K --streams 1 -o in.pcap &&
	$SHARDCAP split -q --layout flow --json -s 2K -o out in.pcap > m.json &&
	$FLOWCHECK in.pcap out/* > check && cat check &&
	grep -q "^[0-9]* packets, [0-9]* flows, [0-9]* chunks, 0 faults" check &&
	expect_eq "$(python3 -c "import json; m = json.load(open(\"m.json\")); print(sum(c[\"group\"] for c in m[\"chunks\"]), max(c[\"bytes\"] for c in m[\"chunks\"]) > 2048)")" "0 True"
'

test_expect_success 'the same input, the same chunks' '
	$GENCAP flows --size 2M -o in.pcap &&
	$SHARDCAP split -q --layout flow -s 256K -o a in.pcap > /dev/null &&
	$SHARDCAP split -q --layout flow -s 256K -o b in.pcap > /dev/null &&
	diff -r a b
'

test_expect_success 'damage: the status and the packets kept as in the time layout' '
	$GENCAP pcap-trunc-record -n 300 -o in.cap --expect > expect &&
	eval "$(sed "s/ /; /g" expect)" &&
	expect_status $exit $SHARDCAP split -q --layout flow -s 8K -o out in.cap &&
	expect_eq "$(grep -c . .err)" 1 "stderr lines" &&
	grep -q "at byte $offset:" .err &&
	$PCAPDUMP $(ls out/*) > got &&
	expect_eq "$(wc -l < got)" "$packets" "packets kept"
'

test_expect_success 'standard input is refused: the flow layout reads twice' '
	$GENCAP pcap-le-us -o in.pcap &&
	cat in.pcap | expect_status 2 $SHARDCAP split -q --layout flow --name in -o out - &&
	grep -q "reads its input twice" .err &&
	expect_eq "$(grep -c . .err)" 1 &&
	test ! -e out
'

test_expect_success 'a bad layout is a usage error' '
	expect_status 2 $SHARDCAP split --layout space x.pcap &&
	grep -q "bad --layout" .err
'

test_expect_success 'add --layout flow on local workers: the stateful queries, exact' '
	export SHARDCAP_DIR=$PWD/c/.shardcap &&
	mkdir c && $SHARDCAP -C c init --local 2 > /dev/null &&
	$GENCAP flows --size 6M -o in.pcap &&
	$SHARDCAP add -q --layout flow -s 1M --name f in.pcap > /dev/null &&
	$SHARDCAP status --json f > s.json &&
	grep -q "\"layout\": \"flow\"" s.json &&
	expect_eq "$(json_field s.json cut_flows)" 0 &&
	test "$(json_field s.json flows)" -ge 1000 &&
	$SHARDCAP status f | grep -q "chunks by flow" &&
	$SHARDCAP run -q f -- tshark -r {} -Y "http.request || tls.handshake.type == 1" \
	    -T fields -e http.host -e http.request.uri \
	    -e tls.handshake.extensions_server_name 2>/dev/null |
	    LC_ALL=C sort > got &&
	tshark_q -r in.pcap -Y "http.request || tls.handshake.type == 1" \
	    -T fields -e http.host -e http.request.uri \
	    -e tls.handshake.extensions_server_name | LC_ALL=C sort > want &&
	test -s want && cmp want got &&
	$SHARDCAP add --json --name f in.pcap > again.json &&
	grep -q "\"source_unchanged\": true" again.json &&
	$SHARDCAP add -q --layout time --name f in.pcap > /dev/null &&
	$SHARDCAP status --json f > s.json &&
	grep -q "\"layout\": \"time\"" s.json &&
	test "$(json_field s.json cut_flows)" -gt 0 &&
	$SHARDCAP run -q --stats f -- true {} 2> stats &&
	grep "^flows cut by chunk boundaries: [1-9][0-9]* of [0-9]* (a query" stats
'

test_done
