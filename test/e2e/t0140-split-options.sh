#!/bin/sh
# split's options and its behaviour around existing files, interruption and
# terminals.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'chunks are named NAME-NNNNNN and sort in capture order' '
	$GENCAP pcap-le-us -n 600 -o in.pcap &&
	$SHARDCAP split -q -s 2K --name dns.2015 -o out in.pcap > /dev/null &&
	n=$(ls out | wc -l) && test "$n" -gt 20 &&
	ls out | head -1 | grep -qx "dns.2015-000001.pcap" &&
	ls out | tail -1 | grep -qx "dns.2015-$(printf %06d $n).pcap" &&
	same_records in.pcap out
'

test_expect_success 'existing chunks are refused without --force' '
	$GENCAP pcap-le-us -o in.pcap &&
	$SHARDCAP split -q -s 8K -o out in.pcap > /dev/null &&
	ls -l --time-style=+%s.%N out > before &&
	expect_status 11 $SHARDCAP split -q -s 4K -o out in.pcap &&
	grep -q "use --force" .err &&
	ls -l --time-style=+%s.%N out > after &&
	cmp before after
'

test_expect_success '--force replaces chunks and removes stale ones' '
	$GENCAP pcap-le-us -o in.pcap &&
	$SHARDCAP split -q -s 4K -o out in.pcap > /dev/null &&
	touch out/unrelated.txt out/in-extra.pcap &&
	$SHARDCAP split -q -f -s 40K -o out in.pcap > /dev/null &&
	expect_eq "$(ls out | tr "\n" " ")" \
	    "in-000001.pcap in-000002.pcap in-extra.pcap unrelated.txt " &&
	mkdir chunks && mv out/in-00000* chunks &&
	same_records in.pcap chunks
'

test_expect_success 'the JSON manifest is complete and valid' '
	$GENCAP pcapng-sections -n 300 -o in.pcapng &&
	$SHARDCAP split -q --json -s 16K -o out in.pcapng > m.json &&
	manifest_matches out m.json &&
	python3 - <<-PY
	import json
	m = json.load(open("m.json"))
	assert m["format"] == "pcapng" and m["compression"] == "none"
	assert m["name"] == "in" and m["size_limit"] == 16384
	assert m["damage"] is None
	for c in m["chunks"]:
	    assert c["first_time"] <= c["last_time"], c
	    assert c["path"] == "out/" + c["file"]
	PY
'

test_expect_success '--digest sha256 is what sha256sum says' '
	$GENCAP pcap-le-us -n 300 -o in.pcap &&
	$SHARDCAP split -q --json --digest sha256 -s 16K -o out in.pcap > m.json &&
	grep -q "\"digest_algorithm\": \"sha256\"" m.json &&
	manifest_matches out m.json &&
	$SHARDCAP split -q -s 16K -o out2 in.pcap > table &&
	(cd out && sha256sum *) | awk "{print \$1}" > sha &&
	(cd out2 && xxhsum -H2 *) | awk "{print \$1}" > xxh &&
	head -1 table | grep -q xxh128 &&
	for h in $(cat xxh); do grep -q "$h" table || exit 1; done
'

test_expect_success 'the table has a header, a row per chunk and a summary' '
	$GENCAP pcap-le-us -n 300 -o in.pcap &&
	$SHARDCAP split -s 16K -o out in.pcap > table 2> err &&
	head -1 table | grep -q "^file  *bytes  *packets  *first (UTC)  *last (UTC)  *xxh128$" &&
	expect_eq "$(wc -l < table)" $(( $(ls out | wc -l) + 2 )) &&
	tail -1 table | grep -q "^$(ls out | wc -l) chunks of pcap in .out.: 300 packets" &&
	test ! -s err
'

test_expect_success 'output directory is created; a file in its way is an error' '
	$GENCAP pcap-le-us -o in.pcap &&
	$SHARDCAP split -q -o a/b/../c in.pcap > /dev/null 2>&1 ||
	$SHARDCAP split -q -o newdir in.pcap > /dev/null &&
	test -d newdir &&
	touch afile &&
	expect_status 1 $SHARDCAP split -q -o afile in.pcap &&
	grep -q "afile" .err
'

# A signal while the input stalls (a pipe with nothing more yet), plain
# and through the decompressor thread: the status says which signal, and
# nothing is left behind.
for c in "INT 130 cat" "TERM 143 gzip -c" "HUP 129 zstd -q -c"; do
	set -- $c
	export sig=$1 want=$2
	shift 2
	export filter="$*"
	test_expect_success "SIG$sig while a '$1' pipe stalls: status $want, nothing left" '
		$GENCAP pcap-le-us -n 2000 -o in.pcap &&
		mkfifo fifo
		( $filter < in.pcap && sleep 5 ) > fifo &
		$SHARDCAP split -q -s 16K --name x -o out - < fifo > /dev/null 2>&1 &
		pid=$! &&
		sleep 1 &&
		kill -$sig $pid &&
		set +e && wait $pid; st=$? && set -e &&
		expect_eq $st $want &&
		test ! -e out &&
		kill %1 2>/dev/null; true
	'
done

test_expect_success 'SIGINT in the middle of a large split removes every chunk' '
	$GENCAP mixed --size 300M -o big.pcap &&
	mkdir out
	$SHARDCAP split -q -s 1M -o out big.pcap > /dev/null 2>&1 &
	pid=$! &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ "$(ls -A out | wc -l)" -gt 3 ] && break
		sleep 0.05
	done &&
	kill -INT $pid &&
	set +e && wait $pid; st=$? && set -e &&
	expect_eq $st 130 &&
	expect_eq "$(ls -A out | wc -l)" 0 "files left"
'

test_expect_success 'a full disk is an error, and leaves nothing' '
	if [ "$(id -u)" != 0 ] || ! mkdir mnt || ! mount -t tmpfs -o size=300k tmpfs mnt; then
		echo "needs root for a small tmpfs; skipped"; exit 0
	fi
	$GENCAP pcap-le-us -n 2000 -o in.pcap &&
	set +e &&
	$SHARDCAP split -q -s 64K -o mnt/out in.pcap > /dev/null 2> err
	st=$? &&
	set -e &&
	ls -A mnt/out > left 2>/dev/null || true &&
	umount mnt &&
	expect_eq $st 1 &&
	grep -q "No space left on device" err &&
	expect_eq "$(grep -c . err)" 1 &&
	test ! -s left
'

test_expect_success 'progress appears on a terminal only' '
	$GENCAP mixed --size 40M -o big.pcap &&
	$SHARDCAP split -s 4M -o out big.pcap > /dev/null 2> err &&
	test ! -s err &&
	if command -v script > /dev/null; then
		script -qec "$SHARDCAP split -f -s 4M -o out big.pcap > /dev/null" /dev/null > tty.out &&
		grep -q "split:.*chunks" tty.out
	fi
'

test_done
