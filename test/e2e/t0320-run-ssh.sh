#!/bin/sh
# shardcap run over real sshd workers: equal results, the control
# connection shared, no process left on a worker after Ctrl-C or after
# shardcap is killed, an unreachable worker named.
# test-lock: fake
. "$(dirname "$0")/../lib.sh"
. "$TOP/test/sshd.sh"

if [ "$(id -u)" != 0 ] || ! command -v "$SSHD" > /dev/null; then
	test_skip "run on ssh workers" "needs root and sshd"
	test_done
	exit
fi

sshd_setup || { echo "Bail out! ssh setup"; exit 1; }
P1=$(free_port 11); P2=$(free_port 12); P3=$(free_port 13)
sshd_start r1 $P1 && sshd_start r2 $P2 && sshd_start r3 $P3 ||
    { echo "Bail out! sshd"; exit 1; }
export SHARDCAP_DIR=$TRASH/c/.shardcap P1 P2 P3
mkdir -p "$TRASH/c"
$SHARDCAP -C "$TRASH/c" init --local 0 > /dev/null || exit 1
cluster_use_sshd "$SHARDCAP_DIR/config" || exit 1
$SHARDCAP worker add r1 root@127.0.0.1:$P1:$TRASH/r1 --jobs 2 > /dev/null &&
$SHARDCAP worker add r2 root@127.0.0.1:$P2:$TRASH/r2 > /dev/null &&
$SHARDCAP worker add r3 root@127.0.0.1:$P3:$TRASH/r3 --jobs 1 > /dev/null || exit 1
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 24M -o "$DNS" || exit 1
$SHARDCAP add -q -s 2M "$DNS" > /dev/null || exit 1
export DNS

test_expect_success 'tshark over ssh workers: the whole file'"'"'s results' '
	$SHARDCAP run -q dns -- tshark -r {} -Y "dns.flags.response==1" \
	    -T fields -e dns.qry.name -e dns.a 2>/dev/null | sort > got &&
	tshark_q -r "$DNS" -Y "dns.flags.response==1" -T fields \
	    -e dns.qry.name -e dns.a | sort > want &&
	test -s want && cmp want got
'

test_expect_success '--ordered and --pcap-out over ssh' '
	$SHARDCAP run -q --ordered dns -- tcpdump -nS -tt -r {} 2>/dev/null > got &&
	tcpdump -nS -tt -r "$DNS" 2>/dev/null > want &&
	cmp want got &&
	$SHARDCAP run -q dns --pcap-out sel.pcap -- tcpdump -r {} -w - "udp port 53" 2>/dev/null &&
	tcpdump -r "$DNS" -w want.pcap "udp port 53" 2>/dev/null &&
	$PCAPDUMP sel.pcap > a && $PCAPDUMP want.pcap > b && cmp a b
'

fake_tshark 30.7 || exit 1
FAKE=$TRASH/bin/tshark
export FAKE

test_expect_success 'tshark starts warm over ssh: once per slot, nothing left after Ctrl-C or -9' '
	rm -f "$TRASH/starts" &&
	$SHARDCAP run -q --batch 1 dns -- "$FAKE" -r {} > sizes 2>/dev/null &&
	expect_eq "$(sum_lines sizes)" \
	    "$(cat "$TRASH"/c/.shardcap/store/dns/* | wc -c)" &&
	test "$(wc -l < "$TRASH/starts")" -le 5 &&
	: > "$TRASH/slow" &&
	for sig in INT KILL; do
		$SHARDCAP run -q dns -- "$FAKE" -r {} > /dev/null 2>&1 &
		pid=$! &&
		i=0 && while [ "$(pgrep -f "sleep 30.7" | wc -l)" -lt 3 ] &&
		    [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
		test "$(pgrep -f "sleep 30.7" | wc -l)" -ge 3 &&
		kill -$sig $pid && { wait $pid || true; } &&
		i=0 && while pgrep -f "sleep 30.7|$FAKE" > /dev/null &&
		    [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
		! pgrep -af "sleep 30.7|$FAKE" &&
		! ls -a "$TRASH"/r1 "$TRASH"/r2 "$TRASH"/r3 | grep shardcap-warm ||
		    { echo "left after SIG$sig"; exit 1; }
	done &&
	rm -f "$TRASH/slow"
'

test_expect_success 'every worker runs up to its jobs at once (jobs = 0: its cores)' '
	$SHARDCAP run -q --stats dns -- sh -c "sleep 0.3; cat {} > /dev/null" 2> summary &&
	$SHARDCAP stats --json --last 1 > s.json &&
	python3 -c "
import json; (r,) = json.load(open(\"s.json\"))
w = {x[\"name\"]: x for x in r[\"workers\"]}
# r1 has 2 slots: its jobs overlap, so it is busy longer than it takes
assert w[\"r1\"][\"busy\"] > 1.5 * w[\"r1\"][\"completion\"] - 0.3, w
assert w[\"r3\"][\"busy\"] <= w[\"r3\"][\"completion\"] + 0.05, w"
'

test_expect_success 'Ctrl-C: no process of the run left on any worker' '
	$SHARDCAP run -q dns -- sh -c "sleep 51; cat {}" > /dev/null 2>&1 &
	pid=$! &&
	sleep 1.5 &&
	test "$(pgrep -f "sleep 51" | wc -l)" -ge 3 &&
	kill -INT $pid &&
	set +e && wait $pid; st=$? && set -e &&
	expect_eq $st 130 &&
	sleep 1 &&
	expect_eq "$(pgrep -f "sleep 51" | wc -l)" 0
'

test_expect_success 'shardcap killed with -9: the workers stop the jobs themselves' '
	$SHARDCAP run -q dns -- sh -c "sleep 52; cat {}" > /dev/null 2>&1 &
	pid=$! &&
	sleep 1.5 &&
	test "$(pgrep -f "sleep 52" | wc -l)" -ge 3 &&
	kill -KILL $pid &&
	sleep 1.5 &&
	expect_eq "$(pgrep -f "sleep 52" | wc -l)" 0
'

test_expect_success 'Ctrl-Z for longer than a worker waits: the query goes on, exit 0' '
	# keep-alives of 1 s: a worker gives up on a silent shardcap in 3 to
	# 6 s; stopped for 8 s, shardcap must have told them to wait
	sed -i "s/^\[ssh\]\$/[ssh]\n\talive-interval = 1/" "$SHARDCAP_DIR/config" &&
	tcpdump -nS -tt -r "$DNS" "udp port 53" 2>/dev/null | sort > want &&
	$SHARDCAP run -q dns -- sh -c "sleep 1; exec tcpdump -nS -tt -r {} udp port 53" \
	    > out 2> err &
	pid=$! &&
	sleep 1.5 &&
	sed -i "/alive-interval = 1/d" "$SHARDCAP_DIR/config" &&
	w=$(pgrep -f "watchdog $TRASH/r[123]/\.shardcap-slot-" | wc -l) &&
	test "$w" -ge 3 &&
	kill -TSTP $pid &&
	sleep 0.5 &&
	case $(ps -o stat= -p $pid) in T*) ;; *) echo "not stopped"; exit 1;; esac &&
	# the watchdogs: one per slot before, none while stopped, none left
	# after the run
	w=$(pgrep -f "watchdog $TRASH/r[123]/\.shardcap-slot-" | wc -l) &&
	expect_eq "$w" 0 "watchdogs while stopped: $(pgrep -af "watchdog $TRASH/r[123]/\.shardcap-slot-")" &&
	sleep 8 &&
	kill -CONT $pid &&
	set +e && wait $pid; st=$? && set -e &&
	expect_eq $st 0 "exit" &&
	sort out | cmp want - &&
	sleep 0.5 &&
	expect_eq "$(pgrep -f "watchdog $TRASH/r[123]/\.shardcap-slot-" | wc -l)" 0 \
	    "watchdogs left: $(ps -o pid,ppid,pgid,args -p "$(pgrep -d, -f "watchdog $TRASH/r[123]/\.shardcap-slot-")")" &&
	expect_eq "$(ls -A "$TRASH"/r1 "$TRASH"/r2 "$TRASH"/r3 | grep -c shardcap-slot)" \
	    0 "mark files left"
'

test_expect_success 'a failing chunk over ssh is named with its status' '
	set +e &&
	$SHARDCAP run -q dns -- sh -c "case {} in *000002*) exit 7;; esac" 2> err
	st=$? &&
	set -e &&
	expect_eq $st 21 &&
	grep -q "dns-000002.pcap (exit 7)" err
'

test_expect_success 'a deleted copy is copied from the store over ssh, watched, nothing left' '
	f=$(ls "$TRASH/r2/dns" | head -1) &&
	rm "$TRASH/r2/dns/$f" || exit 1
	set +e
	$SHARDCAP run -q dns -- sh -c "sleep 0.3; exec tcpdump -nS -tt -r {}" \
	    > out 2> err &
	pid=$!
	for i in $(seq 40); do
		pgrep -af "$TRASH/r2/\.shardcap-copy-"; sleep 0.1
	done > "$TRASH/ps"
	wait $pid; st=$?
	set -e
	expect_eq $st 23 &&
	tcpdump -nS -tt -r "$DNS" 2>/dev/null | sort > want &&
	sort out | cmp - want &&
	cmp "$TRASH/r2/dns/$f" "$SHARDCAP_DIR/store/dns/$f" &&
	# the copy was watched (its beacon and rsync name the mark); both
	# gone, and the mark with them
	grep -q "\.shardcap-copy-" "$TRASH/ps" &&
	sleep 0.5 &&
	! ls -A "$TRASH/r2" | grep -q "^\.shardcap-copy-" &&
	! pgrep -f "$TRASH/r[123]/\.shardcap-copy-" > /dev/null
'

test_expect_success 'an unreachable worker: named, its chunks run elsewhere, exit 23' '
	kill $(cat "$SSH_DIR/sshd_r3.pid") &&
	pkill -f "^ssh: $SHARDCAP_DIR/ssh/" ; sleep 0.3 &&
	set +e &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} > out 2> err
	st=$? &&
	set -e &&
	cat err &&
	expect_eq $st 23 &&
	grep -q "worker .r3. (root@127.0.0.1:$P3:.*): ssh: connect to host 127.0.0.1 port $P3: Connection refused" err &&
	grep -q "recovered: [1-9][0-9]* chunks\? ran again or elsewhere" err &&
	tcpdump -nS -tt -r "$DNS" 2>/dev/null | sort > want &&
	sort out | cmp - want
'

test_expect_success 'repair: the lost worker copies made on the others' '
	$SHARDCAP repair > out &&
	grep -q "worker .r3. does not answer" out &&
	$SHARDCAP status dns --json > st.json &&
	python3 -c "
import json
for c in json.load(open(\"st.json\"))[\"chunks\"]:
    assert [w for w in c[\"workers\"] if w != \"r3\"], c"
'

test_done
