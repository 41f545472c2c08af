#!/bin/sh
# tshark's -z tables over the chunks merged into the table tshark prints
# for the whole capture: conversations and the protocol hierarchy in the
# flow layout, byte for byte, the hierarchy in the time layout where no
# flow is cut; what cannot be merged
# exactly is refused with a clear message, before the run when it can be
# told then; --per-chunk prints each chunk's table.
# test-slow
. "$(dirname "$0")/../lib.sh"

$GENCAP flows --size 6M --streams 1000 -o "$TRASH/in.pcap" || exit 1
IN=$TRASH/in.pcap
# BOTH: its TCP streams, then another capture's UDP: two chunks of
# --size $BOTH_SIZE, no flow in both
(cd "$TRASH" &&
tshark_q -r "$IN" -Y tcp -w tcp.pcap -F pcap &&
$GENCAP mixed --size 600K -o mixed.pcap &&
tshark_q -r mixed.pcap -Y udp -w udp.pcap -F pcap &&
mergecap -a -F pcap -w both.pcap tcp.pcap udp.pcap) || exit 1
BOTH=$TRASH/both.pcap
BOTH_SIZE=$(stat -c %s "$TRASH/tcp.pcap")

# same_table LAYOUT Z [CAPTURE]: run -z Z over CAPTURE's chunks of 1 MB in
# LAYOUT; the whole file's table, not empty
same_table() {
	$SHARDCAP run -q "${3:-$IN}" --layout "$1" --size 1M -- \
	    tshark -r {} -q -z "$2" > got 2> err &&
	tshark_q -r "${3:-$IN}" -q -z "$2" > want &&
	grep -q "<->\|frames:" want &&
	{ cmp want got || { diff want got | head; cat err; false; }; }
}

test_expect_success 'conversations over the flow layout: the whole file'"'"'s tables' '
	for z in conv,tcp conv,ip "conv,tcp,http.request"; do
		same_table flow "$z" || { echo "differs: $z"; exit 1; }
	done &&
	n=$(tshark_q -r "$IN" -q -z conv,tcp | grep -c "<->") &&
	echo "$n TCP conversations" && test "$n" -ge 1000
'

test_expect_success 'a conversation cut by a chunk boundary: refused after the run, nothing printed' '
	expect_status 24 $SHARDCAP run -q "$IN" --size 1M -- tshark -r {} -q \
	    -z conv,tcp > out &&
	test ! -s out &&
	grep "cannot merge -z conv exactly: .* <-> .* has packets in chunks" .err
'

test_expect_success 'pcapng of three interfaces in the flow layout: the whole file'"'"'s table' '
	$GENCAP mixed --size 4M --pcapng --interfaces 3 -o multi.pcapng &&
	same_table flow conv,udp multi.pcapng &&
	same_table flow conv,tcp multi.pcapng
'

test_expect_success 'the protocol hierarchy where no flow is cut: the whole file'"'"'s table' '
	for z in io,phs io,phs,udp; do
		$SHARDCAP run -q --stats "$BOTH" --size $BOTH_SIZE -- \
		    tshark -r {} -q -z $z > got 2> err &&
		tshark_q -r "$BOTH" -q -z $z > want &&
		grep -q "udp  *frames:" want && cmp want got &&
		grep "flows cut by chunk boundaries: 0 of" err &&
		grep "^run of 2 chunks" err || { cat err; exit 1; }
	done
'

test_expect_success 'the protocol hierarchy over the flow layout: the whole file'"'"'s table' '
	mkdir tmp &&
	for z in io,phs io,phs,tcp "io,phs,tls || http"; do
		TMPDIR=$PWD/tmp same_table flow "$z" ||
		    { echo "differs: $z"; exit 1; }
		! grep "pairs of neighbouring rows" err || exit 1
	done &&
	grep -q "^        tcp.segments  *frames:" want &&
	# the prefix and the run'"'"'s chunks are gone, and so is its tshark
	test -z "$(ls tmp)" &&
	! pgrep -f "shardcap-phs-" > /dev/null
'

test_expect_success 'the flow layout'"'"'s hierarchy: an order the chunks do not say is told, or said unknown' '
	tshark_q -r "$IN" -q -z io,phs > want &&
	SHARDCAP_PHS_PREFIX=0 $SHARDCAP run -q "$IN" --layout flow --size 1M -- \
	    tshark -r {} -q -z io,phs > got 2> err &&
	grep "pairs of neighbouring rows of the merged protocol hierarchy" err &&
	sort want > want.s && sort got > got.s && cmp want.s got.s &&
	for limit in 300K 1M; do
		SHARDCAP_PHS_PREFIX=$limit $SHARDCAP run -q "$IN" --layout flow \
		    --size 1M -- tshark -r {} -q -z io,phs > got 2> err || exit 1
		cmp -s want got || grep "pairs of neighbouring rows" err ||
		    { diff want got; exit 1; }
	done
'

test_expect_success 'the protocol hierarchy where it cannot be merged: refused before the run' '
	expect_status 2 $SHARDCAP run -q "$IN" --size 1M -- tshark -r {} -q -z io,phs &&
	grep "flows cut by the chunks" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" --layout flow --size 1M -- \
	    tshark -r {} -q -z io,phs -z io,phs,udp &&
	grep "two -z io,phs tables" .err
'

test_expect_success 'tables that are no sums, no -q, two kinds at once: refused before the run' '
	expect_status 2 $SHARDCAP run -q "$IN" -- tshark -r {} -q -z endpoints,tcp &&
	grep "merges only -z conv,TYPE, io,phs and io,stat" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" -- tshark -r {} -z conv,tcp &&
	grep "needs tshark.s -q" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" --layout flow -- tshark -nqr {} \
	    -z conv,tcp &&
	grep "needs the chunk read as tshark -r {}" .err &&
	expect_status 2 $SHARDCAP run -q "$BOTH" --size $BOTH_SIZE -- \
	    tshark -r {} -q -z conv,tcp -z io,phs &&
	grep "one at a time" .err
'

test_expect_success '--per-chunk: each chunk'"'"'s table, as tshark over each chunk' '
	$SHARDCAP split --size 1M -o parts "$IN" > /dev/null &&
	$SHARDCAP run -q --ordered --per-chunk "$IN" --size 1M -- tshark -r {} -q \
	    -z io,stat,0 > got 2> /dev/null &&
	for f in parts/*; do tshark_q -r "$f" -q -z io,stat,0 || exit 1; done \
	    > want &&
	test "$(grep -c "IO Statistics" got)" -ge 6 && cmp want got
'

test_expect_success 'a cluster'"'"'s capture in the flow layout: the whole file'"'"'s conversations' '
	mkdir -p c && $SHARDCAP -C c init --local 2 > /dev/null &&
	(cd c && $SHARDCAP add -q -s 1M --layout flow "$IN" --name flows) &&
	(cd c && $SHARDCAP run -q flows -- tshark -r {} -q -z conv,tcp) > got \
	    2> /dev/null &&
	tshark_q -r "$IN" -q -z conv,tcp > want &&
	cmp want got &&
	(cd c && $SHARDCAP run -q flows -- tshark -r {} -q -z io,phs) > got \
	    2> /dev/null &&
	tshark_q -r "$IN" -q -z io,phs > want &&
	cmp want got
'

test_done
