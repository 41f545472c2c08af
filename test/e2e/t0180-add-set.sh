#!/bin/sh
# shardcap add of many files (rotated files of a sensor, a directory, a
# glob): one capture whose chunks hold the packets of the files in the
# order of their first time stamps, byte for byte; queries equal the tool
# over the files merged in that order; adding the set again splits and
# sends only what is new or changed, and the chunks of a file taken out
# leave the workers; bad input is refused with one line naming the file,
# a status of its own, and the catalog unchanged.
. "$(dirname "$0")/../lib.sh"

export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c" "$TRASH/rot"
# two hours of packets in about 200 files of 52 packets, pcap
$GENCAP mixed --size 6M -o "$TRASH/m.pcap" &&
python3 "$TOP/test/respan.py" "$TRASH/m.pcap" "$TRASH/hours.pcap" \
    1431388800 7200 &&
editcap -F pcap -c 52 "$TRASH/hours.pcap" "$TRASH/rot/trace.pcap" || exit 1
$SHARDCAP -C "$TRASH/c" init --local 3 > /dev/null || exit 1
ROT=$TRASH/rot
FIELDS="-T fields -e frame.time_epoch -e ip.src -e ip.dst -e frame.len -e tcp.srcport -e udp.srcport"

# in_time_order DIR: DIR's files (little-endian pcap), by the time of
# their first packet
in_time_order() {
	python3 - "$1" <<-\EOF
	import os, struct, sys
	d = sys.argv[1]
	def first(name):
	    with open(os.path.join(d, name), "rb") as f:
	        f.seek(24)
	        return struct.unpack("<II", f.read(8))
	for name in sorted(os.listdir(d), key=lambda n: (first(n), n)):
	    print(os.path.join(d, name))
	EOF
}

# chunks_in_order NAME: the store's chunk files of NAME, by seq
chunks_in_order() {
	$SHARDCAP status "$1" --json | python3 -c "
import json, sys
for c in json.load(sys.stdin)['chunks']:
    print('$SHARDCAP_DIR/store/$1/' + c['file'])"
}

test_expect_success 'a directory of 200 files: one capture, the files'"'"' packets in time order, byte for byte' '
	n=$(ls "$ROT" | wc -l) && echo "$n files" && test "$n" -ge 190 &&
	$SHARDCAP add -s 256K --json "$ROT" > add.json &&
	python3 -c "
import json
d = json.load(open(\"add.json\"))
assert d[\"name\"] == \"rot\" and not d[\"existed\"], d[\"name\"]
assert [f[\"state\"] for f in d[\"files\"]] == [\"new\"] * $n
assert d[\"overlaps\"] == 0
" &&
	$PCAPDUMP $(in_time_order "$ROT") > want &&
	$PCAPDUMP $(chunks_in_order rot) > got &&
	test -s want && cmp want got
'

test_expect_success 'the files in time order, not by name: a query equals the tool over mergecap -a' '
	mkdir -p "$TRASH/shuffled" &&
	i=0 && for f in $(ls "$ROT" | sort -r); do
		cp "$ROT/$f" "$TRASH/shuffled/n$i.pcap" && i=$((i + 1)) || exit 1
	done &&
	$SHARDCAP add -q -s 256K "$TRASH/shuffled" > /dev/null &&
	expect_eq "$(chunks_in_order shuffled | sed -n 1p)" \
	    "$SHARDCAP_DIR/store/shuffled/n$((i - 1))-000001.pcap" &&
	mergecap -F pcap -a -w merged.pcap $(in_time_order "$TRASH/shuffled") &&
	$SHARDCAP run -q shuffled --ordered -- tshark -r {} $FIELDS \
	    2>/dev/null > got &&
	tshark_q -r merged.pcap $FIELDS > want &&
	test -s want && cmp want got
'

test_expect_success 'status lists the files, in capture order, with their times' '
	$SHARDCAP status rot > st &&
	grep "^[0-9]* files, in capture order" st &&
	expect_eq "$(grep -c "^$ROT/trace_" st)" "$(ls "$ROT" | wc -l)" &&
	$SHARDCAP status rot --json > st.json &&
	python3 -c "
import json
d = json.load(open(\"st.json\"))
times = [f[\"min_time\"] for f in d[\"files\"]]
assert times == sorted(times) and len(times) == len(d[\"chunks\"]), times[:3]
assert all(f[\"chunks\"] == 1 and f[\"format\"] == \"pcap\" for f in d[\"files\"])
"
'

test_expect_success 'adding it again: nothing split, nothing sent' '
	$SHARDCAP add -s 256K --json "$ROT" > again.json &&
	python3 -c "
import json
d = json.load(open(\"again.json\"))
assert d[\"source_unchanged\"] and d[\"chunks_new\"] == 0, d
assert set(f[\"state\"] for f in d[\"files\"]) == {\"unchanged\"}
assert sum(w[\"files_sent\"] for w in d[\"workers\"]) == 0
"
'

test_expect_success 'one new file: only its chunks are sent; a file taken out leaves the workers' '
	cp "$TRASH/hours.pcap" "$ROT/zlast.pcap" &&
	editcap -F pcap -t 7200 "$ROT/zlast.pcap" "$ROT/zlast.pcap.tmp" &&
	mv "$ROT/zlast.pcap.tmp" "$ROT/zlast.pcap" &&
	$SHARDCAP add -s 256K --json "$ROT" > grow.json &&
	python3 -c "
import json, os
d = json.load(open(\"grow.json\"))
new = [f for f in d[\"files\"] if f[\"state\"] != \"unchanged\"]
assert [f[\"state\"] for f in new] == [\"new\"], new
sent = sum(w[\"files_sent\"] for w in d[\"workers\"])
assert sent == d[\"chunks_new\"] and sent >= 20, (sent, d[\"chunks_new\"])
size = sum(w[\"file_bytes_sent\"] for w in d[\"workers\"])
assert abs(size - os.path.getsize(\"$ROT/zlast.pcap\")) < sent * 24 + 24, size
" &&
	first=$(ls "$ROT" | sed -n 1p) &&
	rm "$ROT/$first" &&
	$SHARDCAP add -s 256K --json "$ROT" > shrink.json &&
	python3 -c "
import json
d = json.load(open(\"shrink.json\"))
gone = [f for f in d[\"files\"] if f[\"state\"] == \"removed\"]
assert len(gone) == 1 and gone[0][\"path\"].endswith(\"/$first\"), gone
assert d[\"chunks_removed\"] == 1, d[\"chunks_removed\"]
" &&
	! ls "$SHARDCAP_DIR"/workers/*/rot "$SHARDCAP_DIR/store/rot" |
	    grep "^${first%.pcap}-" &&
	cd "$TRASH/c" && placed_as_catalog rot
'

test_expect_success 'pcap, pcapng and gzip mixed; files that overlap in time are said to' '
	mkdir mix &&
	editcap -F pcap -A 2015-05-12T00:00:00Z -B 2015-05-12T00:20:00Z \
	    "$TRASH/hours.pcap" mix/a.pcap &&
	editcap -F pcapng -A 2015-05-12T00:20:00Z -B 2015-05-12T00:40:00Z \
	    "$TRASH/hours.pcap" mix/b.pcapng &&
	editcap -F pcap -A 2015-05-12T00:30:00Z -B 2015-05-12T01:00:00Z \
	    "$TRASH/hours.pcap" c.pcap && gzip -c c.pcap > mix/c.pcap.gz &&
	$SHARDCAP add -s 256K mix > out 2> err &&
	grep "1 file of .mix. overlaps the one before in time: .*/c.pcap.gz. (from 2015-05-12T00:30" err &&
	$SHARDCAP status mix | grep "^mix: mixed from $PWD/mix," &&
	$SHARDCAP run -q mix --ordered -- tshark -r {} $FIELDS 2>/dev/null > got &&
	for f in mix/a.pcap mix/b.pcapng c.pcap; do
		tshark_q -r $f $FIELDS || exit 1
	done > want && cmp want got
'

test_expect_success 'bad input: one line naming the file, a status of its own, the catalog unchanged' '
	sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT * FROM chunks ORDER BY id; SELECT * FROM sources ORDER BY id" > before &&
	(cd "$SHARDCAP_DIR/store/rot" && ls && cat *) | md5sum > store.before &&
	mkdir bad empty d1 d2 &&
	cp "$ROT"/trace_00003_* "$ROT"/trace_00004_* bad/ &&
	echo "not a capture" > bad/zz.pcap &&
	expect_status 4 $SHARDCAP add --name rot -s 256K bad &&
	grep "/bad/zz.pcap. at byte 0: not a pcap or pcapng file" .err &&
	expect_eq "$(wc -l < .err)" 1 &&
	expect_status 3 $SHARDCAP add --name rot empty &&
	grep "holds no files" .err &&
	cp "$ROT"/trace_00005_* d1/x.pcap && cp "$ROT"/trace_00006_* d2/x.pcap &&
	expect_status 2 $SHARDCAP add --name rot d1/x.pcap d2/x.pcap &&
	grep "d1/x.pcap. and .*d2/x.pcap. have one name" .err &&
	expect_status 1 $SHARDCAP add --name rot d1/x.pcap gone.pcap &&
	grep "cannot open .gone.pcap." .err &&
	expect_status 2 $SHARDCAP add d1/x.pcap d2/x.pcap &&
	grep "needs --name" .err &&
	sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT * FROM chunks ORDER BY id; SELECT * FROM sources ORDER BY id" > after &&
	cmp before after &&
	(cd "$SHARDCAP_DIR/store/rot" && ls && cat *) | md5sum > store.after &&
	cmp store.before store.after &&
	! ls -a "$SHARDCAP_DIR/store" | grep incoming
'

test_expect_success 'a file written to while it is split: status 25, named, nothing changed' '
	mkdir busy && cp "$ROT"/trace_00030_* busy/ &&
	# (90 MB: its split lasts long enough for the writer to be seen)
	tail -c +25 "$TRASH/hours.pcap" > body &&
	{ cat "$TRASH/hours.pcap"; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		cat body; done; } > busy/growing.pcap &&
	tail -c +25 "$(ls "$ROT"/trace_00031_*)" > records &&
	{ while :; do cat records >> busy/growing.pcap; sleep 0.01; done & } &&
	writer=$! &&
	sleep 0.2 &&
	st=0 && { $SHARDCAP add -q --name busy busy > out 2> err || st=$?; } &&
	kill $writer && { wait $writer 2>/dev/null || true; } &&
	cat err && test "$st" = 25 &&
	grep "growing.pcap. changed while it was added" err &&
	expect_eq "$(wc -l < err)" 1 &&
	expect_status 15 $SHARDCAP status busy &&
	! ls -a "$SHARDCAP_DIR/store" | grep "busy"
'

test_expect_success '--settle: a file still being written waits; one added before keeps its chunks' '
	mkdir live &&
	cp "$ROT"/trace_00010_* "$ROT"/trace_00011_* live/ &&
	touch -d "-1 hour" live/* &&
	$SHARDCAP add -q --settle 30s live > out &&
	grep "2 new, 0 changed" out &&
	cp "$ROT"/trace_00012_* live/ &&
	$SHARDCAP add -q --settle 30s --json live > a.json &&
	python3 -c "
import json
d = json.load(open(\"a.json\"))
assert len(d[\"files\"]) == 2 and d[\"chunks\"] == 2, d[\"files\"]
" &&
	grown=$(ls live/trace_00011_*) &&
	tail -c +25 "$(ls "$ROT"/trace_00013_*)" >> "$grown" &&
	$SHARDCAP add -q --settle 30s --json live > b.json &&
	python3 -c "
import json
d = json.load(open(\"b.json\"))
assert [f[\"state\"] for f in d[\"files\"]] == [\"unchanged\"] * 2, d
" &&
	touch -d "-1 hour" "$grown" live/trace_00012_* &&
	$SHARDCAP add -q --settle 30s live > out 2> err &&
	grep "overlaps the one before" err &&
	cat out && grep "3 files: 1 new, 1 changed, 0 removed, 1 unchanged" out
'

test_expect_success '--follow: new files are added as they are completed, until Ctrl-C' '
	mkdir watched &&
	cp "$ROT"/trace_00020_* watched/ && touch -d "-1 hour" watched/* &&
	$SHARDCAP add --follow --every 1 --settle 2 watched > follow.out 2>&1 &
	pid=$! &&
	i=0 && until grep -q "1 new" follow.out; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || exit 1
	done &&
	cp "$ROT"/trace_00021_* watched/ &&
	i=0 && until grep -q "2 files: 1 new" follow.out; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || exit 1
	done &&
	kill -INT $pid && wait $pid; st=$? &&
	cat follow.out && test $st = 130 &&
	expect_eq "$(grep -c "UTC .watched.: " follow.out)" 2 &&
	$SHARDCAP status watched --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert len(d[\"files\"]) == 2 and len(d[\"chunks\"]) == 2, d[\"files\"]
"
'

test_expect_success 'a 10-minute window of the set: only the files'"'"' chunks that reach into it' '
	$SHARDCAP run shuffled --stats --since 2015-05-12T00:50:00Z \
	    --until 2015-05-12T01:00:00Z -- tshark -r {} $FIELDS \
	    2> err | sort > got &&
	editcap -A 2015-05-12T00:50:00Z -B 2015-05-12T01:00:00Z \
	    "$TRASH/hours.pcap" cut.pcap &&
	tshark_q -r cut.pcap $FIELDS | sort > want &&
	test -s want && cmp want got &&
	n=$(sed -n "s/^selected: \([0-9]*\) of \([0-9]*\) chunks.*/\1 \2/p" err) &&
	echo "$n" && test "${n% *}" -le 20 && test "${n#* }" -ge 190
'

test_expect_success 'add NAME FILE...: a first word that names no file is the name; a mistyped file is not' '
	$SHARDCAP add -q sensor1 "$ROT"/trace_0004[0-4]_* > out &&
	grep "^added .sensor1.: 5 chunks" out &&
	expect_status 2 $SHARDCAP add -q tarce.pcap "$ROT"/trace_00045_* &&
	grep "needs --name" .err &&
	expect_status 15 $SHARDCAP status tarce
'

test_done
