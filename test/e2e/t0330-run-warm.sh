#!/bin/sh
# shardcap run with tshark started warm (src/warm.c): each slot starts the
# tool once and forks it for each chunk. The output is tshark's over each
# chunk - per-chunk options, two passes, merged captures and all - and the
# whole file's; the tool starts once per slot; one that will not start
# warm, or a library that cannot be loaded, runs as without; an interrupt
# leaves neither a process nor a file behind.
. "$(dirname "$0")/../lib.sh"

export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c"
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 12M -o "$DNS" || exit 1
$SHARDCAP -C "$TRASH/c" init --local 2 > /dev/null || exit 1
$SHARDCAP add -q -s 1M "$DNS" > /dev/null || exit 1
N=$($SHARDCAP status dns --json | python3 -c \
    'import json, sys; print(len(json.load(sys.stdin)["chunks"]))')
export DNS N

if [ ! -r "$BUILD/shardcap-warm.so" ]; then
	test_skip 'warm start' "no $BUILD/shardcap-warm.so"
	test_done
	exit
fi

test_expect_success 'tshark fields warm: the whole file'"'"'s lines, and --no-warm'"'"'s' '
	Q="-Y dns.flags.response==1 -T fields -e dns.qry.name -e frame.time_epoch" &&
	$SHARDCAP run -q dns -- tshark -r {} $Q 2>/dev/null | sort > got &&
	$SHARDCAP run -q --no-warm dns -- tshark -r {} $Q 2>/dev/null |
	    sort > cold &&
	tshark_q -r "$DNS" $Q | sort > want &&
	test -s want && cmp want got && cmp want cold
'

test_expect_success 'per-chunk options (-2, -c, -z) and --ordered: as tshark over each chunk' '
	for q in "-2 -T fields -e frame.number -e dns.time" "-c 7 -T fields -e frame.len" \
	    "-q -z conv,udp"; do
		$SHARDCAP run -q --ordered dns -- tshark -r {} $q 2>/dev/null > got &&
		for f in "$TRASH"/c/.shardcap/store/dns/*; do
			tshark_q -r "$f" $q || exit 1
		done > want &&
		test -s want && cmp want got || { echo "differs: $q"; exit 1; }
	done
'

test_expect_success '--pcap-out with tshark -w -: the packets it selects' '
	$SHARDCAP run -q dns --pcap-out sel.pcap -- tshark -r {} -w - -Y dns 2>/dev/null &&
	tshark_q -r "$DNS" -w want.pcap -Y dns &&
	$PCAPDUMP sel.pcap > got && $PCAPDUMP want.pcap > want &&
	test -s want && cmp want got
'

fake_tshark 30.5 || exit 1
FAKE=$TRASH/bin/tshark
export FAKE
bytes_of_chunks() {
	cat "$TRASH"/c/.shardcap/store/dns/* | wc -c
}

test_expect_success 'the tool starts once per slot, every chunk its own process, named' '
	rm -f "$TRASH/starts" &&
	$SHARDCAP run -q --batch 1 dns -- "$FAKE" -r {} > sizes 2> err &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(sum_lines sizes)" "$(bytes_of_chunks)" &&
	starts=$(wc -l < "$TRASH/starts") &&
	test "$starts" -ge 1 && test "$starts" -le 4 &&
	echo "messages name the chunk read, not the placeholder:" &&
	! grep shardcap-warm err &&
	expect_eq "$(grep -c "^\[dns-0000[0-9][0-9].pcap local[12]\] read /.*/local[12]/dns/dns-0000[0-9][0-9].pcap$" err)" "$N" &&
	rm -f "$TRASH/starts" &&
	$SHARDCAP run -q --no-warm --batch 1 dns -- "$FAKE" -r {} > sizes &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(wc -l < "$TRASH/starts")" "$N"
'

test_expect_success 'a tool that will not start warm: each chunk started as without' '
	rm -f "$TRASH/starts" && : > "$TRASH/no-warm" &&
	$SHARDCAP run -q --batch 1 dns -- "$FAKE" -r {} > sizes &&
	rm -f "$TRASH/no-warm" &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(sum_lines sizes)" "$(bytes_of_chunks)" &&
	test "$(wc -l < "$TRASH/starts")" -gt "$N"
'

test_expect_success 'a library that cannot be loaded: as without' '
	: > empty.so &&
	SHARDCAP_WARM_LIB=$PWD/empty.so $SHARDCAP run -q --batch 1 dns -- \
	    "$FAKE" -r {} > sizes 2> err &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(sum_lines sizes)" "$(bytes_of_chunks)" &&
	! grep -q preload err
'

test_expect_success 'check says where tshark can start warm' '
	$SHARDCAP check --json > on.json &&
	SHARDCAP_WARM_LIB= $SHARDCAP check --json > off.json &&
	python3 - <<-EOF
	import json
	on, off = json.load(open("on.json")), json.load(open("off.json"))
	assert len(on) == 2 and all(w["warm"] is True for w in on), on
	assert all(w["warm"] is False for w in off), off
	EOF
'

test_expect_success 'Ctrl-C: no tool, no fork of it, no file of it left' '
	: > "$TRASH/slow" &&
	$SHARDCAP run -q dns -- "$FAKE" -r {} > /dev/null 2>&1 &
	pid=$! &&
	i=0 && while ! pgrep -f "sleep 30.5" > /dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1)); done &&
	pgrep -f "sleep 30.5" > /dev/null &&
	kill -INT $pid && { wait $pid || true; } &&
	rm -f "$TRASH/slow" && sleep 0.3 &&
	! pgrep -af "sleep 30.5" &&
	! pgrep -af "$FAKE" &&
	! find "$TRASH/c/.shardcap" -name ".shardcap-warm-*" | grep .
'

test_done
