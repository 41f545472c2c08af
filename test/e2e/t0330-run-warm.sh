#!/bin/sh
# shardcap run with tshark started warm (src/warm.c): the tool starts
# once for all the local slots (the hub) and is forked for each chunk.
# The output is tshark's over each chunk - per-chunk options, two passes,
# merged captures and all - and the whole file's; a tool that will not
# start warm, or a library that cannot be loaded, runs as without; an
# interrupt leaves neither a process nor a file behind.
# test-lock: fake
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
		$SHARDCAP run -q --ordered --per-chunk dns -- tshark -r {} $q \
		    2>/dev/null > got &&
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

test_expect_success 'the tool starts once for the machine, every chunk its own process, named' '
	rm -f "$TRASH/starts" &&
	$SHARDCAP run -q --batch 1 dns -- "$FAKE" -r {} > sizes 2> err &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(sum_lines sizes)" "$(bytes_of_chunks)" &&
	echo "one start, both workers warm (the hub):" &&
	expect_eq "$(wc -l < "$TRASH/starts")" 1 &&
	sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(DISTINCT worker_id)
	    FROM jobs WHERE run_id = (SELECT max(id) FROM runs)" > ran_on &&
	expect_eq "$(cat ran_on)" 2 &&
	echo "messages name the chunk read, not the placeholder:" &&
	! grep shardcap-warm err &&
	expect_eq "$(grep -c "^\[dns-0000[0-9][0-9].pcap local[12]\] read /.*/local[12]/dns/dns-0000[0-9][0-9].pcap$" err)" "$N" &&
	rm -f "$TRASH/starts" &&
	$SHARDCAP run -q --no-warm --batch 1 dns -- "$FAKE" -r {} > sizes &&
	expect_eq "$(wc -l < sizes)" "$N" &&
	expect_eq "$(wc -l < "$TRASH/starts")" "$N"
'

# A tool that takes 1.5 s to set itself up and then 0.6 s or 0.05 s for a
# chunk, by the parity of its size: each chunk's time in the catalog is its
# own plus an equal share of its slot's set-up, not its job's average, nor
# the set-up in its slot's first job.
test_expect_success 'the times of a warm slot'"'"'s chunks: their own, the set-up shared out' '
	mkdir -p "$TRASH/timed" &&
	cat > "$TRASH/timed/tshark" <<-EOF &&
	#!/bin/sh
	exec "$BUILD/test/fake-tshark" "$TRASH/timed" 0 --setup 1.5 --cost 0.6 0.05 "\$@"
	EOF
	chmod +x "$TRASH/timed/tshark" &&
	$SHARDCAP run -q --batch 2 dns -- "$TRASH/timed/tshark" -r {} &&
	sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT c.file, w.name, j.started_ms,
	    j.wall_ms FROM jobs j JOIN chunks c ON c.id = j.chunk_id
	    JOIN workers w ON w.id = j.worker_id
	    WHERE j.run_id = (SELECT max(id) FROM runs)" > times &&
	sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT w.name, r.completion_ms
	    FROM run_workers r JOIN workers w ON w.id = r.worker_id
	    WHERE r.run_id = (SELECT max(id) FROM runs)" > done &&
	python3 - "$TRASH/c/.shardcap/store/dns" <<-\EOF
	import collections, os, sys
	times = collections.defaultdict(list)
	for line in open("times"):
	    f, w, start, wall = line.strip().split("|")
	    odd = os.path.getsize(os.path.join(sys.argv[1], f)) % 2 == 1
	    times[w].append((int(start), int(wall), odd))
	for w, done in (l.strip().split("|") for l in open("done")):
	    t = sorted(times[w])
	    slow = [x[1] for x in t if x[2]]
	    fast = [x[1] for x in t if not x[2]]
	    share = 1500 / len(t)
	    print(w, t)
	    assert slow and fast, "both kinds of chunk on %s" % w
	    assert min(slow) > max(fast) + 300, "a chunk timed as another"
	    assert max(slow) < 600 + share + 400, "the set-up in one job"
	    assert min(fast) > share / 2, "no share of the set-up"
	    total = sum(x[1] for x in t)
	    assert abs(total - int(done)) < 0.1 * int(done), (total, done)
	    for a, b in zip(t, t[1:]):
	        assert a[0] + a[1] <= b[0] + 1, "overlapping times"
	EOF
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

# A pcapng chunk repeats the secrets and name resolution blocks seen
# before it (docs/formats.md), so chunks after one have a longer
# preamble than the first. wiretap reads those blocks with the packets,
# not when it opens the file: the chunks still fork from the warm tool.
test_expect_success 'secrets and name resolution blocks along the capture: still one start' '
	for v in dsb nrb; do
		$GENCAP pcapng-$v -n 3000 -o $v.pcapng &&
		$SHARDCAP add -q -s 100K --name $v $v.pcapng > /dev/null &&
		n=$(ls "$TRASH/c/.shardcap/store/$v" | wc -l) &&
		test "$n" -ge 10 &&
		rm -f "$TRASH/starts" &&
		$SHARDCAP run -q --batch 1 $v -- "$FAKE" -r {} > sizes &&
		expect_eq "$(wc -l < sizes)" "$n" &&
		expect_eq "$(sum_lines sizes)" \
		    "$(cat "$TRASH/c/.shardcap/store/$v"/* | wc -c)" &&
		expect_eq "$(wc -l < "$TRASH/starts")" 1 || exit 1
	done
'

test_expect_success 'secrets and name resolution blocks: tshark warm gives the lines of tshark over each chunk' '
	Q="-T fields -e frame.interface_id -e frame.time_epoch -e frame.len -e ip.src -e _ws.col.Protocol" &&
	for v in dsb nrb; do
		$SHARDCAP run -q --batch 1 $v -- tshark -r {} $Q 2>/dev/null |
		    sort > got &&
		for f in "$TRASH"/c/.shardcap/store/$v/*; do
			tshark_q -r "$f" $Q || exit 1
		done | sort > want &&
		test -s want && cmp want got || exit 1
	done
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
