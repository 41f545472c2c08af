#!/bin/sh
# Compressed captures and standard input: the same chunks as from the
# plain file, whatever the way in.
. "$(dirname "$0")/../lib.sh"

for v in pcap-le-us pcap-be-ns pcapng-all pcapng-sections; do
	test_expect_success "$v: .gz, .zst and a pipe give the plain file's chunks" '
		$GENCAP $v -n 400 -o in.cap &&
		gzip -k -c in.cap > in.cap.gz &&
		zstd -q -c in.cap > in.cap.zst &&
		cat in.cap in.cap > /dev/null &&
		$SHARDCAP split -q --json -s 16K -o plain in.cap > plain.json &&
		$SHARDCAP split -q -s 16K -o gz in.cap.gz > /dev/null &&
		$SHARDCAP split -q -s 16K -o zst in.cap.zst > /dev/null &&
		cat in.cap | $SHARDCAP split -q -s 16K --name in -o pipe - > /dev/null &&
		zstd -q -dc in.cap.zst | $SHARDCAP split -q -s 16K --name in -o zpipe - > /dev/null &&
		for d in gz zst pipe zpipe; do
			diff -r plain $d || exit 1
		done &&
		same_records in.cap plain
	'
done

test_expect_success 'a misleading extension does not matter' '
	$GENCAP pcapng-le -o trace.pcap &&
	gzip -c trace.pcap > trace.zst &&
	$SHARDCAP split -q --json -s 8K -o out --name t trace.zst > m.json &&
	ls out | grep -q "^t-000001.pcapng$" &&
	grep -q "\"compression\": \"gzip\"" m.json
'

test_expect_success 'multi-member gzip and multi-frame zstd' '
	$GENCAP pcap-le-us -n 300 -o in.pcap &&
	head -c 30000 in.pcap | gzip > m.gz &&
	tail -c +30001 in.pcap | gzip >> m.gz &&
	head -c 20000 in.pcap | zstd -q > m.zst &&
	tail -c +20001 in.pcap | zstd -q >> m.zst &&
	$SHARDCAP split -q -s 16K -o a m.gz > /dev/null &&
	$SHARDCAP split -q -s 16K -o b m.zst > /dev/null &&
	same_records in.pcap a &&
	same_records in.pcap b
'

test_expect_success 'a truncated .gz keeps the packets before the cut' '
	$GENCAP pcap-le-us -n 400 -o in.pcap &&
	gzip -c in.pcap > full.gz &&
	head -c $(( $(stat -c %s full.gz) / 2 )) full.gz > half.gz &&
	expect_status 10 $SHARDCAP split -q -s 16K -o out half.gz &&
	grep -q "gzip stream ends early" .err &&
	grep -q "warning" .err &&
	expect_eq "$(grep -c . .err)" 1 &&
	$PCAPDUMP out/* > got &&
	$PCAPDUMP in.pcap | head -n $(wc -l < got) > want &&
	cmp want got &&
	test "$(wc -l < got)" -gt 50
'

test_expect_success 'a corrupted .zst is reported as such' '
	$GENCAP pcap-le-us -n 400 -o in.pcap &&
	zstd -q -c in.pcap > in.zst &&
	python3 -c "
import sys; b = bytearray(open(\"in.zst\", \"rb\").read())
for i in range(len(b) // 2, len(b) // 2 + 64): b[i] ^= 0x5a
open(\"bad.zst\", \"wb\").write(b)" &&
	expect_status 10 $SHARDCAP split -q -s 16K -o out bad.zst &&
	grep -q "damaged zstd data" .err
'

test_expect_success 'garbage after a gzip stream is reported, packets kept' '
	$GENCAP pcap-le-us -n 100 -o in.pcap &&
	gzip -c in.pcap > g.gz &&
	echo "trailing junk" >> g.gz &&
	expect_status 10 $SHARDCAP split -q -o out g.gz &&
	grep -q "trailing data after the gzip stream" .err &&
	same_records in.pcap out
'

test_done
