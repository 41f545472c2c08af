#!/bin/sh
# shardcap run on local workers and ad hoc: results equal the same tool over
# the whole file (as multisets, exactly with --ordered), merged captures
# hold exactly the selected packets, failures are named, interrupts and
# readers that stop leave nothing running, timings reach the catalog.
. "$(dirname "$0")/../lib.sh"

export SHARDCAP_DIR=$TRASH/c/.shardcap
mkdir -p "$TRASH/c"
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 40M -o "$DNS" || exit 1
$SHARDCAP -C "$TRASH/c" init --local 3 > /dev/null || exit 1
$SHARDCAP add -q -s 4M "$DNS" > /dev/null || exit 1
export DNS

# ngrep numbers its matches per file and names its input: drop both
ngrep_norm() {
	sed -e '/^input: /d' -e '/^filter: /d' -e '/^match/d' -e 's/ #[0-9]*$//' |
	    grep -v '^$'
}

test_expect_success 'tshark fields: the same multiset as over the whole file' '
	$SHARDCAP run -q dns -- tshark -r {} -Y "dns.flags.response==1" \
	    -T fields -e dns.qry.name -e dns.a -e frame.time_epoch \
	    2>/dev/null | sort > got &&
	tshark_q -r "$DNS" -Y "dns.flags.response==1" -T fields \
	    -e dns.qry.name -e dns.a -e frame.time_epoch | sort > want &&
	test -s want && cmp want got
'

test_expect_success 'tcpdump -n: the same multiset' '
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" 2>/dev/null |
	    sort > got &&
	tcpdump -nS -tt -r "$DNS" "udp port 53" 2>/dev/null | sort > want &&
	test -s want && cmp want got
'

test_expect_success 'local times: this machine'"'"'s zone by its name, the analyst'"'"'s kept' '
	(unset TZ; $SHARDCAP run -q dns -- sh -c "echo \"\${TZ-unset}\"" sh {}) |
	    sort -u > got &&
	if [ -e /etc/localtime ]; then
		readlink -f /etc/localtime | sed "s|.*/zoneinfo/||"
	else
		echo UTC0
	fi > want &&
	cmp want got &&
	TZ=Asia/Kolkata $SHARDCAP run -q dns -- sh -c "echo \"\$TZ\"" sh {} |
	    sort -u > got &&
	echo Asia/Kolkata > want && cmp want got &&
	(unset TZ; $SHARDCAP run -q dns -- tcpdump -n -r {} "udp port 53") \
	    2>/dev/null | sort > got &&
	(unset TZ; tcpdump -n -r "$DNS" "udp port 53") 2>/dev/null | sort > local &&
	test -s local && cmp local got &&
	TZ=Asia/Kolkata $SHARDCAP run -q dns -- tcpdump -n -r {} "udp port 53" \
	    2>/dev/null | sort > got &&
	TZ=Asia/Kolkata tcpdump -n -r "$DNS" "udp port 53" 2>/dev/null |
	    sort > want && cmp want got &&
	! cmp -s want local &&
	TZ=No/Such_Zone $SHARDCAP run -q dns -- tcpdump -n -r {} \
	    "udp port 53" > got 2> err &&
	for w in local1 local2 local3; do
		expect_eq "$(grep -c "^\[$w\] warning: this worker has no time zone '"'"'No/Such_Zone'"'"' (tzdata)" err)" 1 ||
		    return 1
	done &&
	expect_eq "$(grep -vc "^\[local[123]\] warning: \|\] reading from file " err)" 0 &&
	TZ=UTC0 tcpdump -n -r "$DNS" "udp port 53" 2>/dev/null | sort > want &&
	sort got | cmp want -
'

test_expect_success 'check: a worker without this machine'"'"'s zone is told, not failed' '
	TZ=No/Such_Zone $SHARDCAP check > out &&
	for w in local1 local2 local3; do
		grep "^$w: no time zone '"'"'No/Such_Zone'"'"' (tzdata): its tools print local times in UTC$" out ||
		    return 1
	done &&
	TZ=No/Such_Zone $SHARDCAP check --json > out.json &&
	expect_eq "$(grep -o "\"zone_missing\": *true" out.json | wc -l)" 3 &&
	TZ=Asia/Kolkata $SHARDCAP check > out &&
	! grep "time zone" out &&
	TZ=Asia/Kolkata $SHARDCAP check --json > out.json &&
	expect_eq "$(grep -o "\"zone_missing\": *false" out.json | wc -l)" 3
'

test_expect_success 'ngrep: the same matches' '
	$SHARDCAP run -q dns -- ngrep -q -t -I {} "edge[0-9]" "udp" 2>/dev/null |
	    ngrep_norm | sort > got &&
	ngrep -q -t -I "$DNS" "edge[0-9]" "udp" 2>/dev/null | ngrep_norm | sort > want &&
	test -s want && cmp want got
'

test_expect_success '--ordered: exactly the whole file'"'"'s output' '
	$SHARDCAP run -q --ordered dns -- tshark -r {} -Y dns -T fields \
	    -e frame.time_epoch -e dns.qry.name 2>/dev/null > got &&
	tshark_q -r "$DNS" -Y dns -T fields -e frame.time_epoch \
	    -e dns.qry.name > want &&
	cmp want got
'

test_expect_success '--pcap-out with tcpdump: exactly the packets it selects' '
	$SHARDCAP run -q dns --pcap-out sel.pcap -- tcpdump -r {} -w - "udp port 53" 2>/dev/null &&
	tcpdump -r "$DNS" -w want.pcap "udp port 53" 2>/dev/null &&
	$PCAPDUMP sel.pcap > got && $PCAPDUMP want.pcap > want &&
	test -s want && cmp want got &&
	opens_cleanly sel.pcap &&
	expect_eq "$(stat -c %a sel.pcap)" "$(umask -S >/dev/null; printf %o $((0666 & ~$(umask))))"
'

test_expect_success '--pcap-out with tshark (pcapng) to stdout' '
	$SHARDCAP run -q dns --pcap-out - -- tshark -r {} -w - -Y dns 2>/dev/null > sel.pcapng &&
	opens_cleanly sel.pcapng &&
	tshark_q -r sel.pcapng -T fields -e frame.time_epoch -e frame.len > got &&
	tshark_q -r "$DNS" -Y dns -T fields -e frame.time_epoch -e frame.len > want &&
	test -s want && cmp want got
'

# sections FILE: how many pcapng section header blocks FILE has
sections() {
	python3 - "$1" <<-'EOF'
	import struct, sys
	d = open(sys.argv[1], "rb").read()
	i = n = 0
	while i < len(d):
	    t, l = struct.unpack("<II", d[i:i + 8])
	    n += t == 0x0a0d0d0a
	    i += l
	print(n)
	EOF
}

test_expect_success '--pcap-out of pcapng: one section, byte for byte tshark'"'"'s over the whole file' '
	$SHARDCAP run -q dns --pcap-out sel.pcapng -- tshark -r {} -w - -Y dns 2>/dev/null &&
	expect_eq "$(sections sel.pcapng)" 1 "sections" &&
	tshark_q -r "$DNS" -Y dns -w whole.pcapng &&
	cmp whole.pcapng sel.pcapng &&
	$SHARDCAP run -q dns --pcap-out none.pcapng -- tshark -r {} -w - -Y "frame.len > 99999" 2>/dev/null &&
	expect_eq "$(sections none.pcapng)" 1 "sections of an empty result" &&
	opens_cleanly none.pcapng
'

test_expect_success '--pcap-out of pcapng sections whose headers differ: kept apart, and why' '
	$SHARDCAP run -q dns --pcap-out c.pcapng -- sh -c "editcap -F pcapng --capture-comment \"\$1\" \"\$1\" -" sh {} 2> err &&
	n=$(ls "$SHARDCAP_DIR/store/dns" | wc -l) &&
	expect_eq "$(sections c.pcapng)" "$n" "sections" &&
	grep -q "warning: the capture written has $n pcapng sections, not one: the jobs.s* section headers differ" err &&
	opens_cleanly c.pcapng &&
	tshark_q -r c.pcapng -T fields -e frame.time_epoch -e frame.len > got &&
	tshark_q -r "$DNS" -T fields -e frame.time_epoch -e frame.len > want &&
	test -s want && cmp want got
'

test_expect_success '--pcap-out of a command that prints instead of writing: says so, no file' '
	st=0 && $SHARDCAP run -q dns --pcap-out sel.pcap -- tcpdump -nr {} \
	    > out 2> err || st=$? &&
	test "$st" != 0 && test ! -e sel.pcap &&
	grep "a job.s output is not a capture (it begins .*): --pcap-out wants the command to write one to its standard output (tcpdump -w -" err
'

test_expect_success '--tag: every line names its chunk and worker' '
	$SHARDCAP run -q --tag dns -- tcpdump -nS -tt -r {} 2>/dev/null > tagged &&
	awk -F "\t" "{print \$1}" tagged | sort -u > chunks &&
	ls "$SHARDCAP_DIR/store/dns" > all && cmp all chunks &&
	awk -F "\t" "{print \$2}" tagged | sort -u | tr "\n" " " > ws &&
	expect_eq "$(cat ws)" "local1 local2 local3 " &&
	cut -f3- tagged | sort > got &&
	tcpdump -nS -tt -r "$DNS" 2>/dev/null | sort > want &&
	cmp want got
'

test_expect_success '--stdin: the chunk on standard input' '
	$SHARDCAP run -q --stdin dns -- tcpdump -nS -tt -r - "udp port 53" 2>/dev/null | sort > got &&
	tcpdump -nS -tt -r "$DNS" "udp port 53" 2>/dev/null | sort > want &&
	cmp want got &&
	expect_status 2 $SHARDCAP run dns -- tcpdump -nr - &&
	grep -q "no {}" .err
'

test_expect_success 'large output: spilled to disk past the memory budget, nothing lost' '
	$SHARDCAP run -q --ordered dns -- tcpdump -nS -tt -x -r {} 2>/dev/null > out.txt &&
	tcpdump -nS -tt -x -r "$DNS" 2>/dev/null > want.txt &&
	test $(stat -c %s want.txt) -gt 100000000 &&
	cmp want.txt out.txt
'

test_expect_success 'jobs'"'"' stderr is passed on, prefixed; a failing chunk is named' '
	set +e &&
	$SHARDCAP run -q dns -- sh -c "echo oops-\$(basename {}) >&2; case {} in *000003*) exit 3;; esac" > out 2> err
	st=$? &&
	set -e &&
	expect_eq $st 21 &&
	grep -q "^\[dns-000003.pcap local3\] oops-dns-000003.pcap$" err &&
	grep -q "1 of [0-9]* chunks failed: dns-000003.pcap (exit 3)" err
'

test_expect_success 'Ctrl-C stops the run and leaves no process behind' '
	$SHARDCAP run -q dns -- sh -c "sleep 41; cat {}" > /dev/null 2>&1 &
	pid=$! &&
	sleep 1 &&
	test "$(pgrep -f "sleep 41" | wc -l)" -ge 3 &&
	kill -INT $pid &&
	set +e && wait $pid; st=$? && set -e &&
	expect_eq $st 130 &&
	sleep 0.3 &&
	expect_eq "$(pgrep -f "sleep 41" | wc -l)" 0
'

test_expect_success 'even kill -9 of shardcap leaves no job running' '
	$SHARDCAP run -q dns -- sh -c "sleep 42; cat {}" > /dev/null 2>&1 &
	pid=$! &&
	sleep 1 &&
	test "$(pgrep -f "sleep 42" | wc -l)" -ge 3 &&
	kill -KILL $pid && { wait $pid || true; } &&
	# the jobs see their pipes close and go; give a loaded machine (or
	# a sanitizer build) up to 15 s, still well short of the 42 s a job
	# left behind would live. Only the jobs'"'"' sleeps are counted: shardcap
	# itself has "sleep 42" in its arguments, and a killed process is
	# matched by pgrep -f until it is reaped.
	n=1 && for i in $(seq 150); do
		n=$(pgrep -f "^sleep 42$" | wc -l)
		test "$n" -eq 0 && break
		sleep 0.1
	done &&
	expect_eq "$n" 0
'

test_expect_success 'a reader that stops (| head -1) ends the run promptly' '
	start=$(date +%s%N) &&
	$SHARDCAP run -q dns -- sh -c "case {} in *000002*) cat {};; *) sleep 43;; esac" \
	    2>/dev/null | head -c 100 > /dev/null &&
	took=$(( ($(date +%s%N) - start) / 1000000 )) &&
	echo "took $took ms" &&
	test $took -lt 5000 &&
	sleep 0.3 &&
	expect_eq "$(pgrep -f "sleep 43" | wc -l)" 0 &&
	(set +e; $SHARDCAP run -q dns -- tcpdump -nr {} 2>/dev/null | head -1 > one; echo "${PIPESTATUS:-}" > /dev/null) &&
	expect_eq "$(wc -l < one)" 1
'

test_expect_success 'timings reach the catalog; stats shows them' '
	$SHARDCAP run -q --stats dns -- tcpdump -nr {} 2> summary > /dev/null &&
	grep -q "^completion: mean .* standard deviation" summary &&
	$SHARDCAP stats --json --last 1 dns > s.json &&
	python3 -c "
import json; (r,) = json.load(open(\"s.json\"))
assert r[\"capture\"] == \"dns\" and r[\"status\"] == 0
assert sum(w[\"chunks\"] for w in r[\"workers\"]) == r[\"jobs\"] > 0
assert all(w[\"completion\"] > 0 and w[\"completion\"] <= r[\"seconds\"] + 0.01 for w in r[\"workers\"])
assert r[\"sd\"] >= 0 and r[\"mean\"] > 0" &&
	n=$(sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM jobs WHERE run_id = (SELECT max(id) FROM runs)") &&
	c=$(sqlite3 "$SHARDCAP_DIR/catalog.db" "SELECT count(*) FROM chunks") &&
	expect_eq $n $c &&
	$SHARDCAP stats > st.txt &&
	grep -q "^worker  *chunks  *completion  *busy" st.txt
'

test_expect_success 'ad hoc: a capture file, no cluster; the temporary store goes' '
	(unset SHARDCAP_DIR; cd / &&
	 TMPDIR=$TRASH/tmp && export TMPDIR && mkdir -p $TMPDIR &&
	 $SHARDCAP run -q "$DNS" -- tshark -r {} -Y "dns.flags.response==1" \
	    -T fields -e dns.qry.name 2>/dev/null | sort > $TRASH/adhoc.got &&
	 test -z "$(ls -A $TMPDIR)") &&
	tshark_q -r "$DNS" -Y "dns.flags.response==1" -T fields -e dns.qry.name |
	    sort > want &&
	cmp want "$TRASH/adhoc.got"
'

test_expect_success 'ad hoc on a compressed capture, several workers' '
	(unset SHARDCAP_DIR; gzip -c "$DNS" > d.pcap.gz &&
	 $SHARDCAP run -q --workers 3 --size 2M d.pcap.gz -- tcpdump -nS -tt -r {} 2>/dev/null | sort > got) &&
	tcpdump -nS -tt -r "$DNS" 2>/dev/null | sort > want &&
	cmp want got
'

test_expect_success 'no such capture or file' '
	expect_status 15 $SHARDCAP run nosuch -- tcpdump -nr {} &&
	expect_status 2 $SHARDCAP run dns tcpdump -nr {}
'

test_expect_success 'an argument holding a newline is refused, nothing runs' '
	nl="$(printf "a\nb")" &&
	expect_status 2 $SHARDCAP run dns -- sh -c "touch \"$PWD/ran\"" "$nl" {} &&
	grep -q "newline" .err &&
	test ! -e ran &&
	$SHARDCAP run -q dns -- sh -c "touch \"$PWD/ran\"" "a b" {} &&
	test -e ran
'

test_done
