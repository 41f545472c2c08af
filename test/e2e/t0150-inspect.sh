#!/bin/sh
# inspect: what it says agrees with capinfos and with how the capture was
# made.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'pcap: format, link type, counts and times' '
	$GENCAP pcap-be-ns -n 250 -o in.pcap &&
	$SHARDCAP inspect in.pcap > out &&
	grep -q "^format: *pcap 2.4, big-endian, nanosecond time stamps$" out &&
	grep -q "^packets: *250$" out &&
	grep -q "ETHERNET (1)  snaplen 262144  ns  250 packets" out &&
	grep -q "^damage: *none$" out &&
	capinfos -a -e -S in.pcap > ci &&
	first=$(sed -n "s/^First packet time: *//p" ci) &&
	last=$(sed -n "s/^Last packet time: *//p" ci) &&
	$SHARDCAP inspect --json in.pcap > i.json &&
	python3 - "$first" "$last" <<-PY
	import json, sys
	from decimal import Decimal
	from datetime import datetime, timezone
	i = json.load(open("i.json"))
	def epoch(s):
	    d = datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
	    return Decimal(int(d.timestamp())) + Decimal("0." + s[20:29])
	assert epoch(i["earliest_time"]) == Decimal(sys.argv[1]), (i["earliest_time"], sys.argv[1])
	assert epoch(i["latest_time"]) == Decimal(sys.argv[2]), (i["latest_time"], sys.argv[2])
	assert i["packets"] == 250 and i["format"] == "pcap"
	assert i["sections"][0]["byte_order"] == "big"
	PY
'

test_expect_success 'pcapng: sections, interfaces, blocks' '
	$GENCAP pcapng-all -n 200 -o in.pcapng &&
	$SHARDCAP inspect --json in.pcapng > i.json &&
	python3 - <<-PY
	import json
	i = json.load(open("i.json"))
	assert [s["byte_order"] for s in i["sections"]] == ["little", "big"]
	lts = [[f["linktype"] for f in s["interfaces"]] for s in i["sections"]]
	assert lts == [[1, 101, 113], [1, 101, 113]], lts
	b = i["blocks"]
	assert b["shb"] == 2 and b["idb"] == 6 and b["dsb"] == 2, b
	assert b["custom"] == 4 and b["unknown"] == 2 and b["isb"] == 2, b
	assert b["epb"] + b["spb"] + b["pb"] == i["packets"] == 200, b
	assert sum(f["packets"] for s in i["sections"] for f in s["interfaces"]) == 200
	PY
'

test_expect_success 'inspect of chunks adds up to inspect of the whole' '
	$GENCAP pcapng-multi-if -n 400 -o in.pcapng &&
	$SHARDCAP split -q -s 8K -o out in.pcapng > /dev/null &&
	$SHARDCAP inspect --json in.pcapng > whole.json &&
	for c in out/*; do $SHARDCAP inspect --json $c; done > parts.json &&
	python3 - <<-PY
	import json
	w = json.load(open("whole.json"))
	dec = json.JSONDecoder(); txt = open("parts.json").read(); parts = []; i = 0
	while i < len(txt):
	    while i < len(txt) and txt[i].isspace(): i += 1
	    if i >= len(txt): break
	    o, i = dec.raw_decode(txt, i); parts.append(o)
	assert sum(p["packets"] for p in parts) == w["packets"]
	assert sum(p["captured_bytes"] for p in parts) == w["captured_bytes"]
	assert min(p["earliest_time"] for p in parts) == w["earliest_time"]
	assert max(p["latest_time"] for p in parts) == w["latest_time"]
	PY
'

test_expect_success 'inspect reads compressed files and pipes' '
	$GENCAP pcap-le-us -n 100 -o in.pcap &&
	zstd -q -c in.pcap > in.zst &&
	$SHARDCAP inspect in.zst > a &&
	grep -q "^compression: *zstd$" a &&
	grep -q "^packets: *100$" a &&
	cat in.pcap | $SHARDCAP inspect - > b &&
	grep -q "^packets: *100$" b
'

test_expect_success 'empty and garbage files: one line, documented status' '
	: > empty.pcap &&
	expect_status 3 $SHARDCAP inspect empty.pcap &&
	grep -q "the file is empty" .err &&
	echo "hello world, not a capture" > text.pcap &&
	expect_status 4 $SHARDCAP inspect text.pcap &&
	grep -q "not a pcap or pcapng file" .err
'

test_done
