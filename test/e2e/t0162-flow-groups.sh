#!/bin/sh
# Flows larger than a chunk in the flow layout: each gets consecutive
# chunks of its own (a group), no larger than the size; a query reads a
# group as one stream, so stateful results (TCP sequence numbers relative
# to the handshake, HTTP and TLS reassembled, conversations) are the whole
# file's; a cluster places a group on one worker and a balance neither
# moves nor cuts it.
# test-slow
. "$(dirname "$0")/../lib.sh"

# four streams of 2 MB each: every one larger than a chunk of 1 MB
$GENCAP flows --size 8M --streams 4 --exchanges 2000 -o "$TRASH/ele.pcap" ||
    exit 1
ELE=$TRASH/ele.pcap
C=$TRASH/c   # the cluster of the last tests
FLOWCHECK="python3 $TOP/test/flowcheck.py"
STATEFUL='-Y http.request||tls.handshake.type==1||tcp.flags.syn==1 -T fields -e tcp.srcport -e tcp.seq -e tcp.ack -e http.request.uri -e tls.handshake.extensions_server_name'

json_groups() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(str(c["group"]) for c in m["chunks"]))' "$1"
}

test_expect_success 'split: a flow larger than a chunk gets a group of consecutive chunks within the size' '
	$SHARDCAP split --layout flow --json --size 1M -o g "$ELE" > m.json &&
	$SHARDCAP split --layout flow --size 1M -o g2 "$ELE" > out &&
	grep "4 larger than a chunk, each in a group of consecutive chunks" out &&
	groups=$(json_groups m.json) && echo "groups: $groups" &&
	test "$(echo $groups | tr " " "\n" | sort -u | grep -vc "^0$")" -eq 4 &&
	$FLOWCHECK "$ELE" m.json &&
	within_size g 1048576 &&
	! $FLOWCHECK "$ELE" g/* > /dev/null
'

test_expect_success 'run: each group one stream: the whole file'"'"'s stateful lines, tcpdump'"'"'s too' '
	tshark_q -r "$ELE" $STATEFUL | sort > want &&
	test "$(wc -l < want)" -gt 100 &&
	for warm in "" --no-warm; do
		$SHARDCAP run -q $warm "$ELE" --layout flow --size 1M -- \
		    tshark -r {} $STATEFUL 2> err | sort > got &&
		cmp want got && ! grep "chunk by chunk" err || exit 1
	done &&
	$SHARDCAP run -q "$ELE" --layout flow --size 1M --stdin -- \
	    tshark -r - $STATEFUL 2> /dev/null | sort > got &&
	cmp want got &&
	tcpdump -nr "$ELE" 2> /dev/null | sort > want &&
	$SHARDCAP run -q "$ELE" --layout flow --size 1M -- tcpdump -nr {} \
	    2> /dev/null | sort > got &&
	cmp want got
'

test_expect_success 'run: conversations merged over groups: the whole file'"'"'s table' '
	tshark_q -r "$ELE" -q -z conv,tcp > want &&
	$SHARDCAP run -q "$ELE" --layout flow --size 1M -- tshark -r {} -q \
	    -z conv,tcp > got 2> /dev/null &&
	cmp want got
'

test_expect_success 'run: a command that reads no stream runs a group chunk by chunk, and says so' '
	$SHARDCAP run -q "$ELE" --layout flow --size 1M -- sh -c \
	    "tshark -r \"\$1\" -T fields -e frame.len 2> /dev/null" sh {} \
	    > lens 2> err &&
	expect_eq "$(wc -l < lens)" "$(tshark_q -r "$ELE" -T fields -e frame.len | wc -l)" &&
	grep "4 flows larger than a chunk ran chunk by chunk" err
'

test_expect_success 'cluster: a group on one worker, read whole; balance leaves it there' '
	mkdir -p "$C" && $SHARDCAP -C "$C" init --local 3 > /dev/null &&
	(cd "$C" && $SHARDCAP add -q -s 1M --layout flow "$ELE" --name ele) &&
	sqlite3 "$C"/.shardcap/catalog.db "SELECT count(DISTINCT p.worker_id)
	    FROM chunks c JOIN placements p ON p.chunk_id = c.id
	    WHERE c.flow_part > 0 GROUP BY c.seq - c.flow_part" > spread &&
	expect_eq "$(sort -u spread)" 1 &&
	expect_eq "$(wc -l < spread)" 4 &&
	(cd "$C" && $SHARDCAP status ele --json) | grep -c "\"flow_part\": [1-9]" > n &&
	test "$(cat n)" -ge 8 &&
	tshark_q -r "$ELE" $STATEFUL | sort > want &&
	(cd "$C" && $SHARDCAP run -q ele -- tshark -r {} $STATEFUL) 2> /dev/null |
	    sort > got &&
	cmp want got &&
	sqlite3 "$C"/.shardcap/catalog.db "SELECT c.file, p.worker_id FROM chunks c
	    JOIN placements p ON p.chunk_id = c.id ORDER BY 1" > before &&
	(cd "$C" && $SHARDCAP balance ele --threshold 0) > bal 2>&1 &&
	grep "0 moves, 0 cuts" bal &&
	sqlite3 "$C"/.shardcap/catalog.db "SELECT c.file, p.worker_id FROM chunks c
	    JOIN placements p ON p.chunk_id = c.id ORDER BY 1" > after &&
	cmp before after
'

test_expect_success 'cluster: a group'"'"'s copy lost on its worker: fetched there, the group still read whole' '
	f=$(sqlite3 "$C"/.shardcap/catalog.db "SELECT file FROM chunks
	    WHERE flow_part = 2 ORDER BY seq LIMIT 1") &&
	rm "$C"/.shardcap/workers/*/ele/"$f" &&
	tshark_q -r "$ELE" $STATEFUL | sort > want &&
	(cd "$C" && expect_status 23 $SHARDCAP run -q ele -- tshark -r {} \
	    $STATEFUL > "$TRASH/out") &&
	sort "$TRASH/out" > got &&
	cmp want got &&
	grep "1 copy made from the store" "$C"/.err &&
	! grep "chunk by chunk" "$C"/.err
'

test_expect_success 'cluster: a worker drained: each group'"'"'s chunks go together' '
	(cd "$C" && $SHARDCAP worker rm local3) \
	    > /dev/null &&
	sqlite3 "$C"/.shardcap/catalog.db "SELECT count(DISTINCT p.worker_id)
	    FROM chunks c JOIN placements p ON p.chunk_id = c.id
	    WHERE c.flow_part > 0 GROUP BY c.seq - c.flow_part" > spread &&
	expect_eq "$(sort -u spread)" 1 &&
	tshark_q -r "$ELE" $STATEFUL | sort > want &&
	(cd "$C" && $SHARDCAP run -q ele -- tshark -r {} $STATEFUL) \
	    2> err | sort > got &&
	cmp want got && ! grep "chunk by chunk" err
'

test_done
