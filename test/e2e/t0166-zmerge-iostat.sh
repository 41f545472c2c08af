#!/bin/sh
# tshark's -z io,stat over the chunks merged into the table tshark prints
# for the whole capture, byte for byte: in the flow layout with filters
# and fields, in the time layout for frames and bytes; refused where a
# packet goes back in time across chunks (unless the interval is longer
# than the capture), where flows are cut and a
# column filters, and for MIN, AVG and LOAD.
# test-slow
. "$(dirname "$0")/../lib.sh"

$GENCAP flows --size 6M --streams 1000 -o "$TRASH/in.pcap" || exit 1
IN=$TRASH/in.pcap
# BACK: its second half, then its first: packets that go back in time
n=$(tshark_q -r "$IN" -T fields -e frame.number | tail -1)
(cd "$TRASH" &&
editcap -F pcap -r "$IN" late.pcap 1-$((n / 2)) 2> /dev/null &&
editcap -F pcap -r "$IN" early.pcap $((n / 2 + 1))-$n 2> /dev/null &&
mergecap -a -F pcap -w back.pcap early.pcap late.pcap &&
# SWAP: its quarters 1, 3, 2, 4: back in time, none before the first
editcap -F pcap -r "$IN" q1.pcap 1-$((n / 4)) 2> /dev/null &&
editcap -F pcap -r "$IN" q2.pcap $((n / 4 + 1))-$((n / 2)) 2> /dev/null &&
editcap -F pcap -r "$IN" q3.pcap $((n / 2 + 1))-$((3 * n / 4)) 2> /dev/null &&
editcap -F pcap -r "$IN" q4.pcap $((3 * n / 4 + 1))-$n 2> /dev/null &&
mergecap -a -F pcap -w swap.pcap q1.pcap q3.pcap q2.pcap q4.pcap) || exit 1
BACK=$TRASH/back.pcap
SWAP=$TRASH/swap.pcap

# same_io LAYOUT Z [CAPTURE [SIZE]]: run -z Z over CAPTURE's chunks in
# LAYOUT; the whole file's table, with rows
same_io() {
	$SHARDCAP run -q "${3:-$IN}" --layout "$1" --size "${4:-1M}" -- \
	    tshark -r {} -q -z "$2" > got 2> err &&
	tshark_q -r "${3:-$IN}" -q -z "$2" > want &&
	grep -q "<>" want &&
	{ cmp want got || { diff want got | head; cat err; false; }; }
}

test_expect_success 'io,stat over the flow layout: the whole file'"'"'s tables' '
	mkdir tmp &&
	for z in io,stat,1 io,stat,0 io,stat,0.1 io,stat,0.010,tcp \
	    "io,stat,0.001,COUNT(tcp.len)tcp.len,SUM(tcp.len)tcp.len,MAX(frame.len)frame.len" \
	    "io,stat,0.05,FRAMES()tcp.flags.syn==1,BYTES()udp,,frame" \
	    "io,stat,0.02,http.request,tls.handshake.type==1,dns"; do
		TMPDIR=$PWD/tmp same_io flow "$z" ||
		    { echo "differs: $z"; exit 1; }
	done &&
	test "$(grep -c "<>" want)" -ge 20 &&
	# chunks of more than 1 MiB: the file of two records begins with
	# the first one'"'"'s header
	TMPDIR=$PWD/tmp same_io flow "io,stat,0.05,http.request" "$IN" 3M &&
	# the file of two records run here is gone, and so is its tshark
	test -z "$(ls tmp)" &&
	! pgrep -f "shardcap-io-" > /dev/null
'

test_expect_success 'io,stat in the time layout: frames and bytes, flows cut or not' '
	for z in io,stat,1 io,stat,0 io,stat,0.1 io,stat,0.003 \
	    "io,stat,0.05,,FRAMES()"; do
		same_io time "$z" || { echo "differs: $z"; exit 1; }
		same_io time "$z" "$IN" 300K || { echo "differs: $z"; exit 1; }
	done
'

test_expect_success 'pcapng of three interfaces: the whole file'"'"'s io,stat' '
	$GENCAP mixed --size 4M --pcapng --interfaces 3 -o multi.pcapng &&
	same_io flow "io,stat,0.01,udp,tcp" multi.pcapng 500K &&
	same_io time io,stat,0.005 multi.pcapng 500K
'

test_expect_success 'io,stat where it cannot be merged: refused before the run' '
	expect_status 2 $SHARDCAP run -q "$IN" --size 1M -- tshark -r {} -q \
	    -z io,stat,1,tcp &&
	grep "flows cut by the chunks" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" --layout flow --size 1M -- \
	    tshark -r {} -q -z "io,stat,1,AVG(tcp.len)tcp.len" &&
	grep "MIN, AVG and LOAD columns do not add up" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" --layout flow --size 1M -- \
	    tshark -r {} -q -z io,stat,1 -z io,stat,2 &&
	grep "two -z io,stat tables" .err &&
	expect_status 2 $SHARDCAP run -q "$IN" --layout flow --size 1M -- \
	    tshark -r {} -q -z io,stat,1 -z io,phs &&
	grep "one at a time" .err
'

test_expect_success 'packets that go back in time: refused, the reason said' '
	expect_status 2 $SHARDCAP run -q "$BACK" --layout flow --size 1M -- \
	    tshark -r {} -q -z io,stat,1 &&
	grep "earlier than one before them" .err &&
	expect_status 2 $SHARDCAP run -q "$BACK" --size 1M -- \
	    tshark -r {} -q -z io,stat,0.01 &&
	grep "has packets earlier than the latest of" .err &&
	expect_status 2 $SHARDCAP run -q "$SWAP" --size 1M -- \
	    tshark -r {} -q -z io,stat,0.01 &&
	grep "has packets earlier than the latest of" .err &&
	# an interval longer than the capture: one row, in any order but
	# none before the first packet
	same_io time io,stat,0 "$SWAP" &&
	same_io time io,stat,1 "$SWAP" &&
	expect_status 2 $SHARDCAP run -q "$BACK" --size 1M -- \
	    tshark -r {} -q -z io,stat,0 &&
	grep "has packets earlier than the latest of" .err
'

test_expect_success 'a cluster'"'"'s captures: io,stat merged, the order noted in the catalog' '
	mkdir -p c && $SHARDCAP -C c init --local 2 > /dev/null &&
	(cd c && $SHARDCAP add -q -s 1M --layout flow "$IN" --name flows &&
	    $SHARDCAP add -q -s 1M --layout flow "$BACK" --name back) &&
	expect_eq "$(sqlite3 c/.shardcap/catalog.db \
	    "SELECT backwards FROM captures WHERE name = '"'"'flows'"'"'")" 0 &&
	test "$(sqlite3 c/.shardcap/catalog.db \
	    "SELECT backwards FROM captures WHERE name = '"'"'back'"'"'")" -gt 0 &&
	z="io,stat,0.01,tcp,COUNT(tcp.len)tcp.len" &&
	(cd c && $SHARDCAP run -q flows -- tshark -r {} -q -z "$z") > got \
	    2> /dev/null &&
	tshark_q -r "$IN" -q -z "$z" > want &&
	cmp want got &&
	(cd c && expect_status 2 $SHARDCAP run -q back -- tshark -r {} -q \
	    -z io,stat,1) &&
	grep "earlier than one before them" c/.err
'

test_done
