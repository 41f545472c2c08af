#!/bin/sh
# Replicas kept on local workers: repair after a worker is lost, verify
# finding damaged and missing copies and making them again, worker rm
# draining a worker first; and runs that recover from a missing or damaged
# copy, and from a straggler, with the result unchanged.
. "$(dirname "$0")/../lib.sh"

dns_capture 8M || exit 1

# lose W: local worker W can no longer be used: its directory is a file.
lose() {
	mv .shardcap/workers/$1 .shardcap/workers/$1.gone &&
	echo "not a directory" > .shardcap/workers/$1
}

query() {
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" 2>err |
	    sort > got
}

# copies_ok R: every chunk has R current copies, each on a worker whose
# directory holds that file with the store's bytes, and no file on a
# worker the catalog does not list.
copies_ok() {
	$SHARDCAP status dns --json > st.json &&
	python3 - "$PWD/.shardcap" st.json "$1" <<-'EOF'
	import json, os, sys, filecmp
	top, st, r = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
	want, have = set(), set()
	for c in st["chunks"]:
	    if len(c["workers"]) != r:
	        sys.exit("chunk %s on %r, want %d" % (c["file"], c["workers"], r))
	    for w in c["workers"]:
	        want.add((w, c["file"]))
	        p = os.path.join(top, "workers", w, "dns", c["file"])
	        s = os.path.join(top, "store", "dns", c["file"])
	        if not os.path.exists(p) or not filecmp.cmp(p, s, shallow=False):
	            sys.exit("%s on %s differs from the store" % (c["file"], w))
	for w in os.listdir(os.path.join(top, "workers")):
	    d = os.path.join(top, "workers", w, "dns")
	    for f in os.listdir(d) if os.path.isdir(d) else []:
	        if not f.startswith("."):
	            have.add((w, f))
	if want - have:
	    sys.exit("catalog only: %s" % sorted(want - have))
	EOF
}

test_expect_success 'repair: nothing to do on a sound cluster' '
	new_cluster c 2 && cd c &&
	$SHARDCAP repair > out && grep -q "every chunk has its copies" out &&
	$SHARDCAP repair --json > out.json &&
	python3 -c "
import json; r = json.load(open(\"out.json\"))
assert r[\"captures\"][0][\"copies_missing\"] == 0, r
assert r[\"down\"] == [], r"
'

test_expect_success 'a lost worker: repair makes its copies on the others' '
	new_cluster c 2 && cd c &&
	lose local3 &&
	$SHARDCAP repair -n > plan &&
	grep -q "does not answer" plan && grep -q "^would make" plan &&
	$SHARDCAP repair > out &&
	grep -q "worker .local3. does not answer" out &&
	grep -q "^made \([0-9]*\) of \1 missing" out &&
	$SHARDCAP status dns --json > st.json &&
	python3 -c "
import json
for c in json.load(open(\"st.json\"))[\"chunks\"]:
    live = [w for w in c[\"workers\"] if w != \"local3\"]
    assert sorted(live) == [\"local1\", \"local2\"], c" &&
	query && cmp "$TRASH/want" got
'

test_expect_success 'a worker back after repair: the copies beyond the replicas go' '
	new_cluster c 1 && cd c &&
	n3=$(ls .shardcap/workers/local3/dns | wc -l) &&
	lose local3 &&
	$SHARDCAP repair > /dev/null &&
	rm .shardcap/workers/local3 &&
	mv .shardcap/workers/local3.gone .shardcap/workers/local3 &&
	$SHARDCAP repair -n > plan &&
	grep -q "^would remove $n3 copies beyond the replicas" plan &&
	$SHARDCAP status dns --json > st.json &&
	python3 -c "
import json
c = json.load(open(\"st.json\"))[\"chunks\"]
assert sum(len(x[\"workers\"]) for x in c) == len(c) + $n3, c" &&
	$SHARDCAP repair --json > r.json &&
	python3 -c "
import json
r = json.load(open(\"r.json\"))[\"captures\"][0]
assert r[\"copies_extra\"] == $n3 and r[\"copies_removed\"] == $n3, r
assert r[\"copies_missing\"] == 0, r" &&
	copies_ok 1 && placed_as_catalog &&
	query && cmp "$TRASH/want" got &&
	$SHARDCAP repair > again &&
	! grep -q "beyond the replicas" again
'

test_expect_success 'too few workers for the replicas: exit 20, says so' '
	new_cluster c 3 && cd c &&
	lose local2 &&
	expect_status 20 $SHARDCAP repair &&
	grep -q "fewer copies than their replicas" .err
'

test_expect_success 'verify: a deleted and a damaged copy are found and made again' '
	new_cluster c 2 && cd c &&
	f1=$(ls .shardcap/workers/local1/dns | head -1) &&
	f2=$(ls .shardcap/workers/local2/dns | sed -n 2p) &&
	rm .shardcap/workers/local1/dns/$f1 &&
	printf XXXX | dd of=.shardcap/workers/local2/dns/$f2 bs=1 seek=200 \
	    conv=notrunc 2>/dev/null &&
	$SHARDCAP verify > out &&
	grep -q "damaged or missing: local1:$f1" out &&
	grep -q "damaged or missing: local2:$f2" out &&
	grep -q "^made 2 of 2 missing" out &&
	! grep -q "claimed by no chunk" out &&
	copies_ok 2 &&
	$SHARDCAP verify --json > v.json &&
	python3 -c "
import json; v = json.load(open(\"v.json\"))
assert all(w[\"damaged\"] == 0 for w in v[\"workers\"]), v
assert v[\"store_damaged\"] == 0, v"
'

test_expect_success 'verify: files named as chunks, claimed by none, are removed' '
	new_cluster c 1 && cd c &&
	f=$(ls .shardcap/workers/local1/dns | head -1) &&
	w=.shardcap/workers &&
	mkdir -p $w/local3/dns &&
	cp $w/local1/dns/$f $w/local2/dns/$f &&
	echo junk > $w/local3/dns/dns-000999.pcap &&
	echo junk > $w/local3/dns/dns-000999-000002.pcapng &&
	echo notes > $w/local2/dns/notes.txt &&
	echo junk > $w/local2/dns/.hidden &&
	echo junk > $w/local2/dns/dns-1.pcap &&
	echo junk > $w/local2/dns/other-000001.pcap &&
	$SHARDCAP verify > out &&
	grep -q "^removed, claimed by no chunk: local2:dns/$f$" out &&
	grep -q "^removed, claimed by no chunk: local3:dns/dns-000999.pcap$" out &&
	grep -q "claimed by no chunk: local3:dns/dns-000999-000002.pcapng$" out &&
	test "$(grep -c "claimed by no chunk" out)" = 3 &&
	test ! -e $w/local2/dns/$f && test ! -e $w/local3/dns/dns-000999.pcap &&
	test -f $w/local1/dns/$f &&
	test -f $w/local2/dns/notes.txt && test -f $w/local2/dns/.hidden &&
	test -f $w/local2/dns/dns-1.pcap &&
	test -f $w/local2/dns/other-000001.pcap &&
	copies_ok 1 &&
	query && cmp "$TRASH/want" got &&
	$SHARDCAP verify --json > v.json &&
	python3 -c "
import json; v = json.load(open(\"v.json\"))
assert v[\"unclaimed\"] == [], v
assert all(w[\"unclaimed\"] == 0 for w in v[\"workers\"]), v"
'

test_expect_success 'verify: a damaged chunk in the store is exit 22, named' '
	new_cluster c 1 && cd c &&
	f=$(ls .shardcap/store/dns | head -1) &&
	printf XXXX | dd of=.shardcap/store/dns/$f bs=1 seek=300 conv=notrunc \
	    2>/dev/null &&
	expect_status 22 $SHARDCAP verify &&
	grep -q "in the store differs" .err &&
	$SHARDCAP verify 2>/dev/null | grep -q "damaged or missing: store:$f"
'

test_expect_success 'worker rm drains a worker first, the result is unchanged' '
	new_cluster c 1 && cd c &&
	$SHARDCAP worker rm local2 > out &&
	grep -q "drained worker .local2." out &&
	grep -q "removed worker .local2. (drained)" out &&
	test -z "$(ls .shardcap/workers/local2/dns 2>/dev/null)" &&
	copies_ok 1 && query && cmp "$TRASH/want" got
'

test_expect_success 'worker rm of the last worker holding copies: refused' '
	mkdir c && $SHARDCAP -C c init --local 1 > /dev/null && cd c &&
	$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null &&
	expect_status 20 $SHARDCAP worker rm local1 &&
	grep -q "cannot drain" .err &&
	$SHARDCAP worker rm --force local1 > out &&
	grep -q "forgot its chunks" out
'

# A damaged copy below is the first record's captured length made
# impossible (byte 32 of a pcap file): tcpdump fails on it, streamed or
# not.

# run_status: the query's exit status, its sorted output in got
run_status() {
	set +e
	$SHARDCAP run -q dns "$@" > out 2> err
	st=$?
	set -e
	sort out > got
	return 0
}

test_expect_success 'run: a deleted copy runs from the store, exit 23, the catalog learns' '
	new_cluster c 1 && cd c &&
	f=$(ls .shardcap/workers/local2/dns | head -1) &&
	rm .shardcap/workers/local2/dns/$f &&
	run_status -- tcpdump -nS -tt -r {} "udp port 53" &&
	expect_eq $st 23 && cmp "$TRASH/want" got &&
	grep -q "recovered: .* 1 cop\(y\|ies\) made from the store; 1 bad copy" err &&
	copies_ok 1 &&
	run_status -- tcpdump -nS -tt -r {} "udp port 53" &&
	expect_eq $st 0 && cmp "$TRASH/want" got
'

test_expect_success 'run: a damaged copy of the right size is found and replaced' '
	new_cluster c 1 && cd c &&
	f=$(ls .shardcap/workers/local3/dns | sed -n 2p) &&
	printf "\377\377\377\377" | dd of=.shardcap/workers/local3/dns/$f bs=1 \
	    seek=32 conv=notrunc 2>/dev/null &&
	run_status -- tcpdump -nS -tt -r {} "udp port 53" &&
	expect_eq $st 23 && cmp "$TRASH/want" got &&
	grep -q "1 bad copy" err && copies_ok 1
'

test_expect_success 'run: a command failing by itself is exit 21, copies kept' '
	new_cluster c 1 && cd c &&
	run_status -- sh -c "case {} in *-000002.pcap) exit 3;; esac; true" &&
	expect_eq $st 21 && grep -q "dns-000002.pcap (exit 3)" err &&
	! grep -q recovered err && copies_ok 1
'

test_expect_success 'run: a replica stands in for a lost worker, no copy needed' '
	new_cluster c 2 && cd c && lose local1 &&
	run_status -- tcpdump -nS -tt -r {} "udp port 53" &&
	expect_eq $st 23 && cmp "$TRASH/want" got &&
	grep -q "0 copies made from the store" err
'

test_expect_success 'run --timeout: stragglers start again elsewhere, first wins' '
	new_cluster c 1 && cd c &&
	SLOW="case {} in */local1/*) sleep 30.3;; esac; exec tcpdump -nS -tt -r {} \"udp port 53\"" &&
	run_status --timeout 1s -- sh -c "$SLOW" &&
	expect_eq $st 0 && cmp "$TRASH/want" got &&
	grep -q "straggling jobs\?: \([0-9]*\) chunks\? started again elsewhere, \1 of them finished there first" err &&
	! pgrep -f "sleep 30.3" > /dev/null
'

test_expect_success 'run --timeout: relative to the median job' '
	new_cluster c 1 && cd c &&
	SLOW="case {} in */local2/*-000002.pcap) sleep 30.3;; esac; exec tcpdump -nS -tt -r {} \"udp port 53\"" &&
	run_status --timeout 5x -- sh -c "$SLOW" &&
	expect_eq $st 0 && cmp "$TRASH/want" got &&
	grep -q "1 straggling job" err &&
	! pgrep -f "sleep 30.3" > /dev/null
'

test_expect_success 'run --timeout: usage errors' '
	new_cluster c 1 && cd c &&
	expect_status 2 $SHARDCAP run dns --timeout soon -- true {} &&
	grep -q "bad --timeout" .err &&
	expect_status 2 $SHARDCAP run dns --timeout 0.5x -- true {} &&
	expect_status 2 $SHARDCAP run dns --timeout -3s -- true {}
'

test_done
