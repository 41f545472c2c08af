#!/bin/sh
# Three real sshd workers on the loopback (generated keys, private
# known_hosts): add pushes over ssh with rsync, the control connection is
# shared, re-adding sends nothing, an unreachable worker gets a clear error
# and the catalog stays true, and names cannot inject commands.
. "$(dirname "$0")/../lib.sh"
. "$TOP/test/sshd.sh"

if [ "$(id -u)" != 0 ] || ! command -v "$SSHD" > /dev/null; then
	test_skip "ssh workers" "needs root and sshd"
	test_done
	exit
fi

sshd_setup || { echo "Bail out! ssh setup"; exit 1; }
P1=$(free_port 1); P2=$(free_port 2); P3=$(free_port 3); DEAD=$(free_port 4)
for i in 1 2 3; do
	eval "p=\$P$i"
	sshd_start w$i $p || { echo "Bail out! sshd w$i"; exit 1; }
done
export SHARDCAP_DIR=$TRASH/c/.shardcap P1 P2 P3 DEAD
mkdir -p "$TRASH/c"
$SHARDCAP -C "$TRASH/c" init --local 0 > /dev/null || exit 1
cluster_use_sshd "$SHARDCAP_DIR/config" || exit 1
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 30M -o "$DNS" || exit 1
export DNS

test_expect_success 'three ssh workers are added' '
	$SHARDCAP worker add w1 root@127.0.0.1:$P1:$TRASH/w1 &&
	$SHARDCAP worker add w2 root@127.0.0.1:$P2:$TRASH/w2 --jobs 2 &&
	$SHARDCAP worker add w3 127.0.0.1:$P3:$TRASH/w3 &&
	$SHARDCAP worker list > wl &&
	grep -q "^w1  *ssh  *root@127.0.0.1:$P1:$TRASH/w1 " wl &&
	grep -q "^w3  *ssh  *127.0.0.1:$P3:$TRASH/w3 " wl
'

test_expect_success 'check reaches every worker over ssh' '
	$SHARDCAP check --json > ck.json &&
	python3 -c "
import json; c = json.load(open(\"ck.json\"))
assert [w[\"name\"] for w in c] == [\"w1\", \"w2\", \"w3\"]
for w in c:
    assert w[\"reachable\"] and w[\"writable\"], w
    assert w[\"tools\"][\"rsync\"] and w[\"tools\"][\"tshark\"], w"
'

test_expect_success 'add pushes over ssh; chunks sit where status says' '
	$SHARDCAP add --json -s 3M "$DNS" > add.json &&
	python3 -c "
import json; a = json.load(open(\"add.json\"))
assert all(w[\"ok\"] and w[\"files_sent\"] == w[\"chunks\"] > 0 for w in a[\"workers\"]), a
assert sum(w[\"chunks\"] for w in a[\"workers\"]) == a[\"chunks\"]" &&
	$SHARDCAP status --json dns > st.json &&
	python3 - <<-PY
	import filecmp, json, os
	st = json.load(open("st.json"))
	trash, cdir = os.environ["TRASH"], os.environ["SHARDCAP_DIR"]
	held = {}
	for c in st["chunks"]:
	    (w,) = c["workers"]
	    p = os.path.join(trash, w, "dns", c["file"])
	    assert filecmp.cmp(p, os.path.join(cdir, "store/dns", c["file"]), shallow=False), p
	    held.setdefault(w, set()).add(c["file"])
	for w in ("w1", "w2", "w3"):
	    assert set(f for f in os.listdir(os.path.join(trash, w, "dns"))
	               if not f.startswith(".")) == held[w], w
	PY
'

test_expect_success 'one ssh connection per worker, shared by every command' '
	ls "$SHARDCAP_DIR/ssh" > sockets &&
	expect_eq "$(wc -l < sockets)" 3 &&
	pgrep -f "^ssh: $SHARDCAP_DIR/ssh/.* \[mux\]" > masters &&
	expect_eq "$(wc -l < masters)" 3 &&
	$SHARDCAP check > /dev/null &&
	$SHARDCAP add -q "$DNS" > /dev/null &&
	pgrep -f "^ssh: $SHARDCAP_DIR/ssh/.* \[mux\]" > masters2 &&
	cmp masters masters2
'

test_expect_success 're-adding the unchanged capture sends no file data' '
	$SHARDCAP add --json "$DNS" > again.json &&
	python3 -c "
import json; a = json.load(open(\"again.json\"))
assert a[\"source_unchanged\"]
for w in a[\"workers\"]:
    assert w[\"ok\"] and w[\"files_sent\"] == 0 and w[\"literal_bytes\"] == 0, w
print(\"rsync sent\", [w[\"wire_bytes\"] for w in a[\"workers\"]], \"bytes of protocol, 0 of file data\")"
'

test_expect_success 'a grown capture sends only the new and changed chunks' '
	cp "$DNS" "$TRASH/grown.pcap" &&
	$GENCAP mixed --size 7M --seed 5 -o more.pcap &&
	tail -c +25 more.pcap >> "$TRASH/grown.pcap" &&
	$SHARDCAP add --json --name dns "$TRASH/grown.pcap" > grown.json &&
	python3 -c "
import json; a = json.load(open(\"grown.json\"))
sent = sum(w[\"files_sent\"] for w in a[\"workers\"])
assert sent == a[\"chunks_new\"] + a[\"chunks_changed\"] and a[\"chunks_new\"] >= 2, a
lit = sum(w[\"literal_bytes\"] for w in a[\"workers\"])
print(sent, \"chunks sent,\", lit, \"bytes of file data\")
assert lit < 14 * 2**20"
'

test_expect_success 'an unreachable worker: a clear error, the catalog stays true' '
	$SHARDCAP worker add dead root@127.0.0.1:$DEAD:$TRASH/dead &&
	$GENCAP pcap-le-us -n 2000 -o "$TRASH/four.pcap" &&
	set +e &&
	$SHARDCAP add --json -s 64K "$TRASH/four.pcap" > four.json 2> err
	st=$? &&
	set -e &&
	expect_eq $st 20 &&
	grep -q "worker .dead. (root@127.0.0.1:$DEAD:.*): ssh: connect to host 127.0.0.1 port $DEAD: Connection refused" err &&
	$SHARDCAP status --json four > st.json &&
	python3 -c "
import json; s = json.load(open(\"st.json\"))
for c in s[\"chunks\"]:
    assert \"dead\" not in c[\"workers\"], c
missing = [c for c in s[\"chunks\"] if not c[\"workers\"]]
assert len(missing) == s[\"missing\"] > 0, s" &&
	test ! -e "$TRASH/dead" &&
	$SHARDCAP check > ck; st=$?; expect_eq $st 20 &&
	grep -q "^dead  .* NO " ck &&
	grep -q "^dead: .*Connection refused" ck
'

test_expect_success 'once the worker is back, add sends it just its chunks' '
	sshd_start dead $DEAD &&
	$SHARDCAP add --json "$TRASH/four.pcap" > back.json &&
	python3 -c "
import json; a = json.load(open(\"back.json\"))
for w in a[\"workers\"]:
    assert w[\"ok\"], w
    assert w[\"files_sent\"] == (w[\"chunks\"] if w[\"name\"] == \"dead\" else 0), w" &&
	$SHARDCAP status --json four > st.json &&
	python3 -c "
import json; s = json.load(open(\"st.json\")); assert s[\"missing\"] == 0, s"
'

test_expect_success 'names that would inject commands are refused or quoted' '
	for n in "x\$(touch $TRASH/pwned)" "a;touch $TRASH/pwned" "../../x" "a b"; do
		expect_status 2 $SHARDCAP add --name "$n" "$TRASH/four.pcap" || exit 1
		expect_status 2 $SHARDCAP worker add "$n" --local /tmp/x || exit 1
	done &&
	odd="$TRASH/odd dir;\$(touch $TRASH/pwned);'"'"'quote" &&
	$SHARDCAP worker add odd "root@127.0.0.1:$P1:$odd" &&
	$SHARDCAP add -q --replicas 2 --name inj -s 64K "$TRASH/four.pcap" > /dev/null &&
	test ! -e "$TRASH/pwned" &&
	$SHARDCAP status --json inj > st.json &&
	python3 - "$odd" <<-PY
	import json, os, sys
	s = json.load(open("st.json"))
	on_odd = [c["file"] for c in s["chunks"] if "odd" in c["workers"]]
	assert on_odd, s
	for f in on_odd:
	    assert os.path.isfile(os.path.join(sys.argv[1], "inj", f)), f
	PY
	$SHARDCAP rm inj &&
	test ! -e "$odd/inj" &&
	test ! -e "$TRASH/pwned" &&
	$SHARDCAP worker rm odd
'

test_expect_success 'rm removes a capture from every ssh worker' '
	$SHARDCAP rm four > out &&
	for w in w1 w2 w3 dead; do test ! -e "$TRASH/$w/four" || exit 1; done &&
	expect_status 15 $SHARDCAP status four
'

test_expect_success 'rm with a worker down keeps what it still holds' '
	$SHARDCAP add -q --name five -s 64K "$TRASH/four.pcap" > /dev/null &&
	kill $(cat "$SSH_DIR/sshd_dead.pid") &&
	pkill -f "^ssh: $SHARDCAP_DIR/ssh/" ; sleep 0.3 &&
	set +e && $SHARDCAP rm five 2> err; st=$? && set -e &&
	expect_eq $st 20 &&
	grep -q "worker .dead." err &&
	$SHARDCAP status --json five > st.json &&
	python3 -c "
import json; s = json.load(open(\"st.json\"))
held = set(w for c in s[\"chunks\"] for w in c[\"workers\"])
assert held == {\"dead\"}, held" &&
	$SHARDCAP rm --force five &&
	expect_status 15 $SHARDCAP status five
'

test_done
