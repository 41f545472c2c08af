#!/bin/sh
# run --since/--until, --chunks and --sample: only the chunks that can
# hold what is asked for run, those holding packets outside the window
# are cut to it on the worker, and the lines equal the tool's over the
# capture cut to the window (editcap -A/-B) or over the chunks named; the
# catalog keeps each chunk's earliest and latest time stamps, and a run of
# some chunks is no measure for balance.
. "$(dirname "$0")/../lib.sh"

export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c"
# two hours of packets, evenly; TWO: the same with packet 100 (in the
# first chunk) stamped at the middle, 01:00:00, out of order
$GENCAP mixed --size 6M -o "$TRASH/m.pcap" &&
python3 "$TOP/test/respan.py" "$TRASH/m.pcap" "$TRASH/hours.pcap" \
    1431388800 7200 &&
python3 "$TOP/test/respan.py" "$TRASH/m.pcap" "$TRASH/stray.pcap" \
    1431388800 7200 100 || exit 1
HOURS=$TRASH/hours.pcap
$SHARDCAP -C "$TRASH/c" init --local 2 > /dev/null &&
$SHARDCAP add -q -s 512K "$HOURS" > /dev/null &&
$SHARDCAP add -q -s 512K "$TRASH/stray.pcap" > /dev/null || exit 1
FIELDS="-T fields -e frame.time_epoch -e ip.src -e ip.dst -e frame.len -e tcp.srcport -e udp.srcport"

# want_window A B CAPTURE: tshark's fields over CAPTURE cut to [A, B)
want_window() {
	editcap -A "$1" -B "$2" "$3" cut.pcap &&
	tshark_q -r cut.pcap $FIELDS | sort
}

test_expect_success 'a 10-minute window of 2 hours: only its chunks, the whole file'"'"'s lines' '
	$SHARDCAP run hours --stats --since 2015-05-12T00:50:00Z \
	    --until 2015-05-12T01:00:00Z -- tshark -r {} $FIELDS \
	    2> err | sort > got &&
	want_window 2015-05-12T00:50:00Z 2015-05-12T01:00:00Z "$HOURS" > want &&
	test "$(wc -l < want)" -gt 500 && cmp want got &&
	n=$(sed -n "s/^selected: \([0-9]*\) of 13 chunks, \([0-9]*\) cut.*/\1 \2/p" err) &&
	echo "chunks run, cut: $n" && test -n "$n" &&
	test "${n% *}" -le 3 && test "${n#* }" -ge 1 &&
	grep "^run of ${n% *} chunks" err
'

test_expect_success 'the same window in epoch seconds, with an offset, and by tcpdump' '
	$SHARDCAP run -q hours --since 1431391800 --until "2015-05-12T03:00:00+02:00" \
	    -- tcpdump -nSr {} -tt 2>/dev/null | sort > got &&
	editcap -A 2015-05-12T00:50:00Z -B 2015-05-12T01:00:00Z "$HOURS" cut.pcap &&
	tcpdump -nSr cut.pcap -tt 2>/dev/null | sort > want &&
	test -s want && cmp want got
'

test_expect_success 'only --since, only --until: the ends of the capture' '
	$SHARDCAP run -q hours --since 2015-05-12T01:55:00Z -- tshark -r {} \
	    $FIELDS 2>/dev/null | sort > got &&
	want_window 2015-05-12T01:55:00Z 2015-05-12T03:00:00Z "$HOURS" > want &&
	test -s want && cmp want got &&
	$SHARDCAP run -q hours --until 2015-05-12T00:04:00.5Z -- tshark -r {} \
	    $FIELDS 2>/dev/null | sort > got &&
	want_window 2015-05-12T00:00:00Z 2015-05-12T00:04:00.5Z "$HOURS" > want &&
	test -s want && cmp want got
'

test_expect_success 'a packet out of order: its chunk runs, by its earliest and latest stamps' '
	$SHARDCAP status stray --json > st.json &&
	python3 -c "
import json, sys
c = json.load(open(\"st.json\"))[\"chunks\"][0]
assert c[\"first_time\"] == \"2015-05-12T00:00:00.000000000Z\", c
assert c[\"min_time\"] == c[\"first_time\"], c
assert c[\"max_time\"] == \"2015-05-12T01:00:00.000000000Z\", c
assert c[\"last_time\"] < c[\"max_time\"], c
" &&
	$SHARDCAP run -q stray --since 2015-05-12T00:59:59Z \
	    --until 2015-05-12T01:00:01Z --stats -- tshark -r {} $FIELDS \
	    2> err | sort > got &&
	want_window 2015-05-12T00:59:59Z 2015-05-12T01:00:01Z \
	    "$TRASH/stray.pcap" > want &&
	test "$(wc -l < want)" -ge 2 && cmp want got &&
	grep "^selected: 2 of 13 chunks, 2 cut to the window" err
'

test_expect_success 'pcapng of three interfaces: cut in its own format' '
	$GENCAP mixed --size 3M --pcapng --interfaces 3 -o multi.pcapng &&
	$SHARDCAP add -q -s 256K multi.pcapng > /dev/null &&
	$SHARDCAP run -q multi --since 1431388800.02 --until 1431388800.03 \
	    -- tshark -r {} -T fields -e frame.time_epoch -e frame.interface_id \
	    -e frame.len 2>/dev/null | sort > got &&
	editcap -A 2015-05-12T00:00:00.02Z -B 2015-05-12T00:00:00.03Z \
	    multi.pcapng cut.pcapng &&
	tshark_q -r cut.pcapng -T fields -e frame.time_epoch \
	    -e frame.interface_id -e frame.len | sort > want &&
	test "$(cut -f2 want | sort -u | wc -l)" -eq 3 && cmp want got
'

test_expect_success 'a capture file, ad hoc: the same window' '
	$SHARDCAP run -q "$HOURS" --size 512K --since 2015-05-12T00:50:00Z \
	    --until 2015-05-12T01:00:00Z -- tshark -r {} $FIELDS \
	    2>/dev/null | sort > got &&
	want_window 2015-05-12T00:50:00Z 2015-05-12T01:00:00Z "$HOURS" > want &&
	test -s want && cmp want got
'

test_expect_success 'a window no chunk reaches: nothing runs, a warning, status 0' '
	$SHARDCAP run hours --since 2016-01-01 -- tcpdump -nr {} > out 2> err &&
	test ! -s out && grep "no chunk of .hours. is in the window" err &&
	test "$($SHARDCAP stats hours --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 4
'

test_expect_success 'bad windows and commands that cannot take one: status 2, nothing run' '
	expect_status 2 $SHARDCAP run hours --since yesterday -- tcpdump -nr {} &&
	grep "bad --since .yesterday." .err &&
	expect_status 2 $SHARDCAP run hours --since 2015-05-12T01:00Z \
	    --until 2015-05-12T00:00Z -- tcpdump -nr {} &&
	grep "the window is empty" .err &&
	expect_status 2 $SHARDCAP run hours --since -1h -- sh -c "tcpdump -r \$1" sh {} &&
	grep "must read -r {}" .err &&
	expect_status 2 $SHARDCAP run hours --since 2015-05-12 -- tshark -r {} \
	    -q -z conv,udp &&
	grep "cannot be merged" .err &&
	expect_status 2 $SHARDCAP run hours --since 2015-05-12 --balance -- \
	    tcpdump -nr {}
'

test_expect_success '--chunks: those chunks, the lines of their files' '
	$SHARDCAP run -q hours --chunks 2-3,13 --tag -- tshark -r {} $FIELDS \
	    2>/dev/null > got &&
	expect_eq "$(cut -f1 got | sort -u | tr "\n" " ")" \
	    "hours-000002.pcap hours-000003.pcap hours-000013.pcap " &&
	store=$SHARDCAP_DIR/store/hours &&
	for f in 2 3 13; do
		tshark_q -r $store/hours-$(printf %06d $f).pcap $FIELDS || exit 1
	done | sort > want &&
	cut -f3- got | sort > got.lines && cmp want got.lines &&
	expect_status 2 $SHARDCAP run hours --chunks 14 -- tcpdump -nr {} &&
	grep "has 13 chunks" .err &&
	expect_status 2 $SHARDCAP run hours --chunks 3-1 -- tcpdump -nr {} &&
	expect_status 2 $SHARDCAP run hours --chunks x -- tcpdump -nr {}
'

test_expect_success '--sample: N chunks spread over the capture, the same for the same seed' '
	for s in 1 1 9; do
		$SHARDCAP run -q hours --sample 4 --seed $s --tag -- \
		    tcpdump -nr {} 2>/dev/null | cut -f1 | sort -u | tr "\n" " "
		echo
	done > picks &&
	cat picks &&
	test "$(sed -n 1p picks)" = "$(sed -n 2p picks)" &&
	test "$(sed -n 1p picks | wc -w)" -eq 4 &&
	test "$(sed -n 3p picks | wc -w)" -eq 4 &&
	# one in each quarter: 1-3, 4-6, 7-9, 10-13
	set -- $(sed -n 1p picks | sed "s/hours-0*\([0-9]*\).pcap/\1/g") &&
	test "$1" -le 3 && test "$2" -ge 4 && test "$2" -le 6 &&
	test "$3" -ge 7 && test "$3" -le 9 && test "$4" -ge 10
'

test_expect_success 'a run of some chunks is recorded as such; balance measures by a whole run' '
	$SHARDCAP run -q hours -- tcpdump -nr {} > /dev/null 2>&1 &&
	$SHARDCAP run -q hours --chunks 1 -- tcpdump -nr {} > /dev/null 2>&1 &&
	$SHARDCAP stats hours --last 2 --json > s.json &&
	whole=$(python3 -c "
import json
a, b = json.load(open(\"s.json\"))
assert a[\"selection\"] == \"--chunks 1\" and a[\"jobs\"] == 1, a
assert b[\"selection\"] is None and b[\"jobs\"] == 13, b
print(b[\"run\"])") &&
	$SHARDCAP stats hours --last 1 > s && grep "^  of --chunks 1$" s &&
	# (local workers may run each other'"'"'s chunks, which balance
	# refuses to measure by: either way, by the whole run)
	{ $SHARDCAP balance hours --dry-run > plan 2>&1 || true; } &&
	cat plan && ! grep "did not run" plan &&
	{ grep "^ideal" plan || grep "(run $whole: " plan; }
'

test_done
