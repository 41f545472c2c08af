#!/bin/sh
# What an analyst meets on a real case (issue 26): a worker lacking the
# tool is a worker fault, the command's own error stops the run at once
# and is shown once, a run's failed chunks can be run again, and the
# progress line on a terminal.
# test-lock: fake
. "$(dirname "$0")/../lib.sh"
. "$TOP/test/sshd.sh"

if [ "$(id -u)" != 0 ] || ! command -v "$SSHD" > /dev/null; then
	test_skip "analyst's faults on ssh workers" "needs root and sshd"
	test_done
	exit
fi

sshd_setup || { echo "Bail out! ssh setup"; exit 1; }
# r3's sessions have every command of /usr/bin but tshark
mkdir -p "$TRASH/notshark" || exit 1
for f in /usr/bin/* /usr/sbin/*; do
	case $f in */tshark) continue ;; esac
	[ -e "$TRASH/notshark/${f##*/}" ] || ln -s "$f" "$TRASH/notshark/${f##*/}"
done
P1=$(free_port 15); P2=$(free_port 16); P3=$(free_port 17)
# r2's sessions are in another time zone than this machine's
sshd_start r1 $P1 && SSHD_SETENV="TZ=America/New_York" sshd_start r2 $P2 &&
SSHD_SETENV="PATH=$TRASH/notshark" sshd_start r3 $P3 ||
    { echo "Bail out! sshd"; exit 1; }
export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c"
$SHARDCAP -C "$TRASH/c" init --local 0 > /dev/null || exit 1
cluster_use_sshd "$SHARDCAP_DIR/config" || exit 1
$SHARDCAP worker add r1 root@127.0.0.1:$P1:$TRASH/r1 --jobs 1 > /dev/null &&
$SHARDCAP worker add r2 root@127.0.0.1:$P2:$TRASH/r2 --jobs 1 > /dev/null &&
$SHARDCAP worker add r3 root@127.0.0.1:$P3:$TRASH/r3 --jobs 1 > /dev/null || exit 1
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 12M -o "$DNS" || exit 1
$SHARDCAP add -q -s 1M "$DNS" > /dev/null || exit 1
export DNS

tshark_q -r "$DNS" -Y "dns.flags.response==1" -T fields -e dns.qry.name |
    sort > want || exit 1
test -s want || exit 1

test_expect_success 'check: a worker without tshark is named, exit 20' '
	expect_status 20 $SHARDCAP check > out &&
	grep -q "^r3: no tshark on its PATH$" out &&
	! grep -q "^r[12]:" out &&
	grep "^r3 " out | grep -q missing &&
	expect_status 20 $SHARDCAP check --json > j &&
	python3 -c "
import json, sys
w = {x[\"name\"]: x for x in json.load(open(\"j\"))}
assert w[\"r3\"][\"missing\"] == [\"tshark\"], w[\"r3\"]
assert w[\"r3\"][\"tools\"][\"tshark\"] is None
assert w[\"r1\"][\"missing\"] == [] and w[\"r1\"][\"tools\"][\"editcap\"]
"
'

test_expect_success 'check --tool: only the tools named; any command name' '
	$SHARDCAP check --tool tcpdump --tool rsync > out &&
	expect_status 20 $SHARDCAP check --tool tcpdump --tool no-such-tool > out &&
	test "$(grep -c ": no no-such-tool on its PATH$" out)" = 3 &&
	expect_status 2 $SHARDCAP check --tool "a;b" &&
	grep -q "bad --tool" .err
'

test_expect_success 'a worker without tshark: its chunks run elsewhere, every line, exit 23 naming it' '
	expect_status 23 $SHARDCAP run -q dns -- tshark -r {} \
	    -Y "dns.flags.response==1" -T fields -e dns.qry.name > got &&
	sort got | cmp - "$TRASH/want" &&
	grep -q "worker .r3. (root@127.0.0.1:$P3:.*): cannot run the command there (exit 127): tshark: not found" .err &&
	grep -q "recovered:" .err &&
	test "$(grep -c "tshark: not found" .err)" -le 2
'

# a display filter with a typo, as in issue 26
BAD="dns.flags.respons==1"
export BAD

test_expect_success 'a bad display filter stops the run at once, its error shown once' '
	expect_status 21 $SHARDCAP run -q dns -- tshark -r {} -Y "$BAD" \
	    -T fields -e dns.qry.name > got &&
	! test -s got &&
	test "$(grep -c "Left side of \"==\" expression must be a field" .err)" = 1 &&
	grep -q "stopped, [1-9][0-9]* chunks not run (--keep-going" .err
'

test_expect_success '--keep-going runs every chunk, the error still shown once' '
	expect_status 21 $SHARDCAP run -q --keep-going dns -- tshark -r {} \
	    -Y "$BAD" -T fields -e dns.qry.name > got &&
	test "$(grep -c "Left side of \"==\" expression must be a field" .err)" = 2 &&
	grep "\[[0-9]* times\] tshark: Left side" .err &&
	grep -q "of 13 chunks failed" .err
'

test_expect_success 'the same failure on two chunks (not a set-up) stops the run' '
	expect_status 21 $SHARDCAP run -q --no-warm dns -- sh -c "echo no such thing >&2; exit 3" {} \
	    &&
	test "$(grep -c "no such thing" .err)" = 1 &&
	grep -q "the command failed alike on dns-0000..\.pcap and dns-0000..\.pcap (exit 3, the same stderr): stopped" .err
'

# tshark piped into a grep that finds nothing (exit 1); r3 has no
# tshark, and says what tshark says to root
cat > "$TRASH/nomatch" <<'EOF' || exit 1
#!/bin/sh
if command -v tshark > /dev/null; then
	tshark -r "$1" -T fields -e frame.len
else
	echo 'Running as user "root" and group "root". This could be dangerous.' >&2
fi | grep -q no-such-line
EOF
chmod +x "$TRASH/nomatch" || exit 1

test_expect_success 'silent failures alike (grep finding nothing) do not stop the run' '
	expect_status 21 $SHARDCAP run -q dns -- "$TRASH/nomatch" {} &&
	grep -q "13 of 13 chunks failed" .err &&
	! grep -q stopped .err
'

test_expect_success 'failures that differ by chunk do not stop the run' '
	expect_status 21 $SHARDCAP run -q dns -- sh -c "echo \"\$1\" >&2; exit 3" sh {} \
	    &&
	grep -q "13 of 13 chunks failed" .err
'

# a tool that fails on chunks 2 and 5 while $TRASH/flag is there, each
# failure saying its chunk (so the run goes on)
cat > "$TRASH/flaky" <<EOF || exit 1
#!/bin/sh
case \$1 in
*-000002.pcap | *-000005.pcap)
	if [ -e "$TRASH/flag" ]; then echo "\$1: flaky" >&2; exit 5; fi ;;
esac
exec tcpdump -nS -tt -r "\$1" 2>/dev/null
EOF
chmod +x "$TRASH/flaky" || exit 1
tcpdump -nS -tt -r "$DNS" 2>/dev/null | sort > "$TRASH/want-tcpdump" || exit 1

# last_run: the number of the newest run
last_run() { sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT max(id) FROM runs"; }

test_expect_success '--rerun runs only what a run left: both outputs make the whole file'"'"'s' '
	: > "$TRASH/flag" &&
	expect_status 21 $SHARDCAP run -q dns -- "$TRASH/flaky" {} > a &&
	id=$(last_run) &&
	grep -q "2 of 13 chunks failed" .err &&
	grep -q "note: .shardcap run --rerun $id. runs the 2 chunks this run left" .err &&
	$SHARDCAP stats --last 1 | grep -q "^run $id .*  (2 chunks left: run --rerun $id)$" &&
	rm "$TRASH/flag" &&
	$SHARDCAP run -q --stats --rerun $id > b 2> err &&
	grep -q "^selected: 2 of 13 chunks" err &&
	sort a b | cmp - "$TRASH/want-tcpdump" &&
	$SHARDCAP stats --json --last 1 > s &&
	python3 -c "
import json
r = json.load(open(\"s\"))[0]
assert r[\"selection\"] == \"--rerun $id\", r
assert r[\"jobs\"] == 2 and r[\"left\"] == 0, r
" &&
	$SHARDCAP run --rerun $(last_run) > c 2> err &&
	! test -s c && grep -q "note: run [0-9]* left no chunk to run again" err
'

test_expect_success '--rerun of a run stopped at the command'"'"'s error runs the rest' '
	expect_status 21 $SHARDCAP run -q dns -- tshark -r {} -Y "$BAD" \
	    -T fields -e dns.qry.name &&
	id=$(last_run) &&
	n=$(sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM run_left WHERE run_id = $id") &&
	expect_eq "$n" 13 "chunks left by a stopped run" &&
	expect_status 21 $SHARDCAP run -q --rerun $id > out &&
	grep -q "stopped" .err
'

# the progress line, in a real terminal: tmux's pane, read while the run
# goes on and after
if command -v tmux > /dev/null; then
cat > "$TRASH/slow" <<EOF || exit 1
#!/bin/sh
sleep 0.3
echo "\$1: a warning" >&2
exec tcpdump -nS -tt -r "\$1" 2>/dev/null
EOF
chmod +x "$TRASH/slow" || exit 1
at_exit 'tmux -S "$TRASH/tmux.sock" kill-server 2>/dev/null'

test_expect_success 'progress on a terminal: one line redrawn, stderr above it, a summary at the end' '
	tmux -S "$TRASH/tmux.sock" new-session -d -x 220 -y 60 -c "$PWD" \
	    "SHARDCAP_DIR=$SHARDCAP_DIR $SHARDCAP run dns -- $TRASH/slow {} > out; echo exit=\$? > done; sleep 60" &&
	seen=0 &&
	for i in $(seq 1 200); do
		tmux -S "$TRASH/tmux.sock" capture-pane -p > pane
		grep -q "^run: [0-9]*/13 chunks  [0-9.]* [kM]B/[0-9.]* MB  [0-9.]* [kM]B/s  ETA [0-9]*s  [0-9] running  [0-9.]*s$" pane && seen=1
		test -e done && break
		sleep 0.1
	done &&
	sleep 0.2 &&
	tmux -S "$TRASH/tmux.sock" capture-pane -p > final &&
	cat final &&
	expect_eq "$seen" 1 "a progress line seen while the run went on" &&
	grep -q exit=0 done &&
	sort out | cmp - "$TRASH/want-tcpdump" &&
	expect_eq "$(grep -c ": a warning$" final)" 13 "warnings, each on a line of its own" &&
	! grep -q "warning.*run: \|run: .*warning" final &&
	grep -q "^run: 13 chunks, [0-9.]* MB in [0-9.]*s ([0-9.]* [kM]B/s)$" final &&
	expect_eq "$(grep -c "^run: " final)" 1 "lines of progress left"
'
fi

test_expect_success 'local times: in this machine'"'"'s zone on every worker, whatever theirs' '
	(unset TZ; $SHARDCAP run -q dns -- sh -c "echo \"\$TZ\"" sh {}) |
	    sort -u > tz &&
	expect_eq "$(cat tz)" "$(readlink -f /etc/localtime |
	    sed "s|.*/zoneinfo/||")" &&
	TZ=Asia/Kolkata $SHARDCAP run -q --tag dns -- tcpdump -n -r {} \
	    "udp port 53" 2>/dev/null > tagged &&
	cut -f2 tagged | sort -u | tr "\n" " " > ws &&
	expect_eq "$(cat ws)" "r1 r2 r3 " &&
	cut -f3- tagged | sort > got &&
	TZ=Asia/Kolkata tcpdump -n -r "$DNS" "udp port 53" 2>/dev/null |
	    sort > want.tz &&
	test -s want.tz && cmp want.tz got &&
	(unset TZ; $SHARDCAP run -q dns -- tcpdump -n -r {} "udp port 53") \
	    2>/dev/null | sort > got &&
	(unset TZ; tcpdump -n -r "$DNS" "udp port 53") 2>/dev/null |
	    sort > want.here &&
	cmp want.here got && ! cmp -s want.tz want.here &&
	TZ=America/New_York tcpdump -n -r "$DNS" "udp port 53" 2>/dev/null |
	    sort > want.ny && ! cmp -s want.ny want.here
'

test_expect_success '--rerun: usage, no such run, chunks changed since' '
	expect_status 2 $SHARDCAP run --rerun 1 dns -- tcpdump -r {} &&
	grep -q "give neither" .err &&
	expect_status 2 $SHARDCAP run --rerun 1 --chunks 2 &&
	expect_status 2 $SHARDCAP run --rerun x &&
	expect_status 15 $SHARDCAP run --rerun 99999 &&
	grep -q "no run 99999" .err &&
	: > "$TRASH/flag" &&
	expect_status 21 $SHARDCAP run -q dns -- "$TRASH/flaky" {} > /dev/null &&
	id=$(last_run) && rm "$TRASH/flag" &&
	$GENCAP mixed --size 3M -s 7 -o other.pcap &&
	$SHARDCAP add -q --replace --name dns other.pcap > /dev/null &&
	expect_status 15 $SHARDCAP run --rerun $id &&
	grep -q "have changed since" .err
'

[ -n "${EXP:-}" ] && . "$EXP"
test_done
