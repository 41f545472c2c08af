#!/bin/sh
# A cluster of local workers (no ssh): init, config, the catalog, add,
# re-add, a grown capture, status, check, rm.
. "$(dirname "$0")/../lib.sh"

export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c"
# inputs shared by the tests below (each test runs in a directory of its own)
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 40M -o "$DNS" || exit 1
export DNS

# every chunk in status --json sits on its worker's disk, identical to the
# store's copy, and the worker holds no other chunk of the capture
on_disk_as_status_says() {
	$SHARDCAP status --json "$1" > st.json || return 1
	$SHARDCAP worker list --json > wl.json || return 1
	python3 - "$1" "$SHARDCAP_DIR" <<-'PY'
	import filecmp, json, os, sys
	name, cdir = sys.argv[1], sys.argv[2]
	st = json.load(open("st.json"))
	dirs = {w["name"]: w["dir"] for w in json.load(open("wl.json"))}
	where = {}
	for c in st["chunks"]:
	    assert c["workers"], ("no worker holds", c["file"])
	    for w in c["workers"]:
	        p = os.path.join(dirs[w], name, c["file"])
	        assert filecmp.cmp(p, os.path.join(cdir, "store", name, c["file"]),
	                           shallow=False), p
	        where.setdefault(w, set()).add(c["file"])
	for w, d in dirs.items():
	    have = set(f for f in os.listdir(os.path.join(d, name))
	               if not f.startswith(".")) if os.path.isdir(os.path.join(d, name)) else set()
	    assert have == where.get(w, set()), (w, have, where.get(w))
	PY
}

test_expect_success 'init makes a cluster with local workers' '
	$SHARDCAP -C "$TRASH/c" init --local 3 > out &&
	grep -q "with 3 local workers" out &&
	test -f "$SHARDCAP_DIR/config" &&
	test -f "$SHARDCAP_DIR/catalog.db" &&
	test -d "$SHARDCAP_DIR/store" &&
	expect_eq "$(stat -c %a "$SHARDCAP_DIR/ssh")" 700 &&
	expect_status 11 $SHARDCAP -C "$TRASH/c" init
'

test_expect_success 'the catalog is WAL SQLite at schema version 7' '
	expect_eq "$(sqlite3 "$SHARDCAP_DIR/catalog.db" "PRAGMA journal_mode")" wal &&
	expect_eq "$(sqlite3 "$SHARDCAP_DIR/catalog.db" \
	    "SELECT value FROM meta WHERE key = '"'"'schema_version'"'"'")" 7 &&
	for t in captures chunks workers placements runs run_workers jobs moves cuts; do
		sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM $t" > /dev/null || exit 1
	done
'

test_expect_success 'a version 1 catalog is migrated to version 7 on opening' '
	cp -r "$SHARDCAP_DIR" old &&
	sqlite3 old/catalog.db "DROP TABLE cuts; ALTER TABLE captures DROP COLUMN layout; ALTER TABLE captures DROP COLUMN flows; ALTER TABLE captures DROP COLUMN cut_flows; ALTER TABLE captures DROP COLUMN backwards; ALTER TABLE chunks DROP COLUMN flow_part; ALTER TABLE chunks DROP COLUMN min_time; ALTER TABLE chunks DROP COLUMN max_time; ALTER TABLE runs DROP COLUMN selection; ALTER TABLE runs DROP COLUMN stdin; ALTER TABLE runs DROP COLUMN since; ALTER TABLE runs DROP COLUMN until; DROP TABLE run_left; DROP TABLE sources; DROP INDEX chunks_file; CREATE TABLE j4 AS SELECT * FROM jobs; DROP TABLE jobs; CREATE TABLE jobs (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE, worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE, started_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL, exit_status INTEGER NOT NULL, bytes_out INTEGER NOT NULL); INSERT INTO jobs SELECT * FROM j4; DROP TABLE j4; CREATE INDEX jobs_run ON jobs(run_id); UPDATE meta SET value = '"'"'1'"'"' WHERE key = '"'"'schema_version'"'"'" &&
	SHARDCAP_DIR=$PWD/old $SHARDCAP worker list > /dev/null &&
	expect_eq "$(sqlite3 old/catalog.db \
	    "SELECT value FROM meta WHERE key = '"'"'schema_version'"'"'")" 7 &&
	sqlite3 old/catalog.db "SELECT count(*) FROM cuts" > /dev/null &&
	sqlite3 old/catalog.db "SELECT count(*), count(stdin), count(since) FROM run_left JOIN runs ON runs.id = run_id" > /dev/null &&
	sqlite3 old/catalog.db "SELECT count(layout), count(flows), count(cut_flows) FROM captures" > /dev/null &&
	expect_eq "$(sqlite3 old/catalog.db "SELECT count(*) FROM captures WHERE backwards IS NOT NULL")" 0 &&
	expect_eq "$(sqlite3 old/catalog.db "SELECT count(*) FROM chunks WHERE flow_part != 0")" 0 &&
	expect_eq "$(sqlite3 old/catalog.db "SELECT count(*) FROM chunks WHERE min_time != '"''"' OR max_time != '"''"'")" 0
'

test_expect_success 'the cluster is found from a subdirectory, by -C and by SHARDCAP_DIR' '
	mkdir -p "$TRASH/c/a/b" &&
	(unset SHARDCAP_DIR; cd "$TRASH/c/a/b" && $SHARDCAP worker list) > l1 &&
	(unset SHARDCAP_DIR; $SHARDCAP -C "$TRASH/c/a" worker list) > l2 &&
	$SHARDCAP worker list > l3 &&
	cmp l1 l2 && cmp l1 l3 &&
	expect_eq "$(grep -c "^local" l1)" 3 &&
	(unset SHARDCAP_DIR; cd / && expect_status 14 $SHARDCAP status)
'

test_expect_success 'add splits, places round-robin and pushes' '
	$SHARDCAP add --json -s 4M "$DNS" > add.json &&
	$SHARDCAP split -q --json -s 4M -o want "$DNS" > want.json &&
	python3 - <<-PY
	import json
	a, w = json.load(open("add.json")), json.load(open("want.json"))
	n = len(w["chunks"])
	assert a["chunks"] == n and not a["existed"], a
	per = [len(range(k, n, 3)) for k in range(3)]
	assert [x["chunks"] for x in a["workers"]] == per, a["workers"]
	assert all(x["ok"] and x["files_sent"] == x["chunks"] for x in a["workers"])
	PY
	on_disk_as_status_says dns &&
	$SHARDCAP status --json dns > s.json &&
	python3 -c "
import json; s = json.load(open(\"s.json\"))
assert [c[\"workers\"] for c in s[\"chunks\"]][:4] == [[\"local1\"], [\"local2\"], [\"local3\"], [\"local1\"]]
assert s[\"missing\"] == 0 and s[\"complete\"] == len(s[\"chunks\"])"
'

test_expect_success 'the chunks on the workers hold the capture' '
	mkdir all &&
	for d in "$SHARDCAP_DIR"/workers/*/dns; do cp "$d"/*.pcap all/; done &&
	same_records "$DNS" all
'

test_expect_success 're-adding an unchanged capture sends nothing' '
	$SHARDCAP add --json "$DNS" > again.json &&
	python3 -c "
import json; a = json.load(open(\"again.json\"))
assert a[\"source_unchanged\"]
assert all(w[\"files_sent\"] == 0 and w[\"literal_bytes\"] == 0 for w in a[\"workers\"]), a"
'

test_expect_success 'a chunk a worker lost is sent again' '
	rm "$SHARDCAP_DIR"/workers/local2/dns/dns-000002.pcap &&
	$SHARDCAP add --json "$DNS" > lost.json &&
	python3 -c "
import json; a = json.load(open(\"lost.json\"))
assert [w[\"files_sent\"] for w in a[\"workers\"]] == [0, 1, 0], a" &&
	on_disk_as_status_says dns
'

test_expect_success 'a grown capture sends its new and changed chunks only' '
	$GENCAP mixed --size 10M --seed 9 -o more.pcap &&
	cp "$DNS" "$TRASH/grown.pcap" &&
	tail -c +25 more.pcap | head -c 6000000 >> "$TRASH/grown.pcap" &&
	set +e &&
	$SHARDCAP split -q --json -s 4M -o before "$DNS" > before.json
	$SHARDCAP split -q --json -s 4M -o after "$TRASH/grown.pcap" > after.json
	$SHARDCAP add --json --name dns "$TRASH/grown.pcap" > grown.json
	set -e &&
	python3 - <<-PY
	import json
	b, f = json.load(open("before.json")), json.load(open("after.json"))
	a = json.load(open("grown.json"))
	old = [c["digest"] for c in b["chunks"]]
	new = [c["digest"] for c in f["chunks"]]
	changed = sum(1 for i, d in enumerate(new) if i < len(old) and d != old[i])
	added = len(new) - len(old)
	assert (a["chunks_changed"], a["chunks_new"]) == (changed, added), (a, changed, added)
	assert changed >= 1 and added >= 1
	assert sum(w["files_sent"] for w in a["workers"]) == changed + added, a["workers"]
	PY
	on_disk_as_status_says dns &&
	mkdir all && for d in "$SHARDCAP_DIR"/workers/*/dns; do cp "$d"/*.pcap all/; done &&
	$PCAPDUMP all/* > got && $PCAPDUMP after/* > want && cmp got want
'

test_expect_success 'status names workers, captures and completeness' '
	$SHARDCAP status > st &&
	grep -q "3 workers, 1 capture" st &&
	n=$(sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM chunks") &&
	grep -q "^dns  *pcap  *$n " st &&
	$SHARDCAP status dns > sd &&
	expect_eq "$(grep -c "dns-0000" sd)" $n
'

test_expect_success 'check: every local worker reachable, writable, with tools' '
	$SHARDCAP check --json > ck.json &&
	python3 -c "
import json; c = json.load(open(\"ck.json\"))
assert len(c) == 3
for w in c:
    assert w[\"reachable\"] and w[\"writable\"] and w[\"cores\"] >= 1, w
    assert w[\"tools\"][\"tshark\"] and w[\"tools\"][\"tcpdump\"] and w[\"tools\"][\"rsync\"], w
    assert w[\"free_bytes\"] > 0" &&
	$SHARDCAP check > ck.txt &&
	head -1 ck.txt | grep -q "reachable  *writable  *cores  *free  *tshark"
'

test_expect_success 'replicas land on distinct workers' '
	$GENCAP pcap-le-us -n 600 -o small.pcap &&
	$SHARDCAP add -q --replicas 2 -s 16K small.pcap > /dev/null &&
	$SHARDCAP status --json small > s.json &&
	python3 -c "
import json; s = json.load(open(\"s.json\"))
for c in s[\"chunks\"]:
    assert len(set(c[\"workers\"])) == 2, c
assert s[\"complete\"] == len(s[\"chunks\"])" &&
	on_disk_as_status_says small &&
	expect_status 2 $SHARDCAP add -q --replicas 4 --name other small.pcap
'

test_expect_success 'worker add, list, rm (drained first while it holds chunks)' '
	$SHARDCAP worker add extra --local "$TRASH/extra" --jobs 2 > out &&
	grep -q "added worker .extra." out &&
	$SHARDCAP worker list > wl &&
	grep -q "^extra  *local .* 2 *0 " wl &&
	grep -q "worker \"extra\"" "$SHARDCAP_DIR/config" &&
	$GENCAP pcap-le-us -n 600 -o tiny.pcap &&
	$SHARDCAP add -q --name tiny -s 16K tiny.pcap > /dev/null &&
	test -n "$(ls "$TRASH/extra/tiny")" &&
	$SHARDCAP worker rm extra > out &&
	grep -q "drained worker .extra." out &&
	! grep -q extra "$SHARDCAP_DIR/config" &&
	test -z "$(ls "$TRASH/extra/tiny" 2>/dev/null)" &&
	$SHARDCAP status tiny | grep -q "chunks complete, 0 missing" &&
	$SHARDCAP rm tiny > /dev/null &&
	expect_status 15 $SHARDCAP worker rm nosuch &&
	expect_status 11 $SHARDCAP worker add local1 --local /tmp/x
'

test_expect_success 'config errors name the file and line' '
	cp "$SHARDCAP_DIR/config" config.saved &&
	printf "[cluster]\n\tchunk-sise = 3M\n" >> "$SHARDCAP_DIR/config" &&
	expect_status 13 $SHARDCAP status &&
	grep -q "config. line [0-9]*: unknown key .cluster.chunk-sise." .err &&
	cp config.saved "$SHARDCAP_DIR/config" &&
	printf "[cluster]\n\treplicas = many\n" >> "$SHARDCAP_DIR/config" &&
	expect_status 13 $SHARDCAP status &&
	grep -q "bad value .many. for cluster.replicas" .err &&
	cp config.saved "$SHARDCAP_DIR/config" &&
	printf "[worker \"w9\"]\n\thost = -oProxyCommand=x\n\tdir = /x\n" >> "$SHARDCAP_DIR/config" &&
	expect_status 13 $SHARDCAP status &&
	grep -q "bad host" .err &&
	cp config.saved "$SHARDCAP_DIR/config" &&
	$SHARDCAP status > /dev/null
'

test_expect_success 'rm takes a capture off every worker, the store and the catalog' '
	$SHARDCAP rm small > out &&
	grep -q "removed .small. from 3 workers" out &&
	for d in "$SHARDCAP_DIR"/workers/*; do test ! -e "$d/small" || exit 1; done &&
	test ! -e "$SHARDCAP_DIR/store/small" &&
	expect_status 15 $SHARDCAP status small &&
	expect_eq "$(sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM chunks ch JOIN captures c ON c.id = ch.capture_id WHERE c.name = '"'"'small'"'"'")" 0
'

test_expect_success 'two commands at once: the second waits for the lock' '
	$GENCAP mixed --size 60M -o big.pcap || exit 1
	$SHARDCAP add -q -s 4M big.pcap > a.out 2>&1 &
	a_pid=$!
	sleep 0.2
	set +e
	$SHARDCAP add -q --name big2 -s 4M big.pcap > b.out 2>&1
	b=$?
	wait $a_pid
	a=$?
	set -e
	cat a.out b.out &&
	expect_eq "$a $b" "0 0" "exit of the two adds" &&
	$SHARDCAP status > st &&
	cat st &&
	grep -q "^big " st && grep -q "^big2 " st
'

test_expect_success 'small captures added one by one spread: each starts on the worker holding the fewest bytes' '
	mkdir -p "$TRASH/p" && cd "$TRASH/p" &&
	SHARDCAP_DIR=$TRASH/p/.shardcap && export SHARDCAP_DIR &&
	$SHARDCAP init --local 3 > /dev/null &&
	for i in 1 2 3 4 5 6; do
		$GENCAP mixed --size 200K -s $i -o small$i.pcap &&
		$SHARDCAP add -q small$i.pcap > /dev/null || exit 1
	done &&
	$SHARDCAP worker list --json | python3 -c "
import json, sys
ws = json.load(sys.stdin)
assert sorted(w[\"chunks\"] for w in ws) == [2, 2, 2], ws
"
'

test_expect_success 'a name is not given silently to another capture: exit 11 unless --replace; a moved file is the same capture' '
	cd "$TRASH/p" && SHARDCAP_DIR=$TRASH/p/.shardcap && export SHARDCAP_DIR &&
	sqlite3 .shardcap/catalog.db "SELECT * FROM chunks ORDER BY id" > before &&
	expect_status 11 $SHARDCAP add --name small1 small2.pcap &&
	grep "capture .small1. was added from .*small1.pcap.; .*small2.pcap. is another capture" .err &&
	mkdir set && cp small3.pcap set/ &&
	expect_status 11 $SHARDCAP add --name small1 set &&
	grep "a set of files is another capture" .err &&
	sqlite3 .shardcap/catalog.db "SELECT * FROM chunks ORDER BY id" > after &&
	cmp before after &&
	mv small1.pcap moved.pcap &&
	$SHARDCAP add --name small1 moved.pcap > out && grep "0 changed" out &&
	$SHARDCAP add --name small1 --replace small2.pcap > out &&
	grep "1 changed" out &&
	expect_eq "$($SHARDCAP status small1 --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"source\"])")" "$PWD/small2.pcap"
'

test_expect_success 'a file still being written (its last record cut short): a note, exit 0; --strict: exit 6; damage elsewhere: a warning and its status' '
	cd "$TRASH/p" && SHARDCAP_DIR=$TRASH/p/.shardcap && export SHARDCAP_DIR &&
	head -c -100 small4.pcap > live.pcap &&
	$SHARDCAP add -q live.pcap > out 2> err &&
	grep "note: .live.pcap.: incomplete tail at byte [0-9]*, [0-9]* bytes left for the next add" err &&
	cp live.pcap live2.pcap &&
	expect_status 6 $SHARDCAP add -q --strict live2.pcap &&
	grep "warning: .live2.pcap. is damaged at byte" .err &&
	cat small4.pcap > live.pcap &&
	$SHARDCAP add -q live.pcap > out 2> err && test ! -s err &&
	grep "1 changed" out &&
	expect_eq "$($SHARDCAP status live --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"packets\"])")" \
	    "$(capinfos -cM small4.pcap | awk "/Number of packets/ { print \$NF }")" &&
	$GENCAP pcap-bad-caplen -o mid.pcap &&
	st=0 && { $SHARDCAP add -q mid.pcap > out 2> err || st=$?; } &&
	test "$st" = 7 && grep "warning: .mid.pcap. is damaged at byte" err
'

test_done
