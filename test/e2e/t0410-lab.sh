#!/bin/sh
# bench/lab: emulated servers (sshd in a network namespace and a CPU
# cgroup each). Up twice is up once; the workers' jobs run in their
# cgroup under the quota; queries over the lab equal the whole file's;
# balancing moves chunks off the slowest; down leaves nothing behind.
# A lab of its own (SHARDCAP_LAB_NET), so a bench's lab is not touched.
# test-lock: lab
# test-slow
. "$(dirname "$0")/../lib.sh"

if ! lab_usable; then
	test_skip "the lab" "needs root, sshd, network namespaces, bridges and the cgroup v1 cpu controller"
	test_done
	exit
fi

LABNET=$((230 + $$ % 10))
export SHARDCAP_LAB=$TRASH/lab SHARDCAP_LAB_NET=$LABNET SHARDCAP
LAB_CMD="$TOP/bench/lab"
CG=/sys/fs/cgroup/cpu/shardcap-lab$LABNET
ACG=/sys/fs/cgroup/cpuacct/shardcap-lab$LABNET
NSP=sc${LABNET}l
at_exit '"$LAB_CMD" down > /dev/null 2>&1'
DNS=$TRASH/dns.pcap
$GENCAP mixed --size 8M -o "$DNS" || exit 1
tcpdump -nS -tt -r "$DNS" "udp port 53" 2>/dev/null | sort > "$TRASH/want" ||
    exit 1
export DNS LAB_CMD CG ACG NSP

# lab_placed C: each lab worker's directory holds exactly the chunks the
# catalog of cluster C places on it.
lab_placed() {
	for w in lab1 lab2; do
		ls "$SHARDCAP_LAB/workers/$w/dns" > have.$w &&
		$SHARDCAP -C "$1" status dns --json | python3 -c '
import json, sys
st = json.load(sys.stdin)
print("\n".join(c["file"] for c in st["chunks"] if sys.argv[1] in c["workers"]))
' $w > want.$w && cmp want.$w have.$w || return 1
	done
}

test_expect_success 'up: two workers with their quotas, reachable' '
	"$LAB_CMD" up 2 --cpu 0.5,0.1 > dir &&
	ip netns exec ${NSP}1 ssh -F "$SHARDCAP_LAB/ssh/ssh_config" \
	    -o BatchMode=yes root@10.$LABNET.2.2 true &&
	expect_eq "$(cat dir)" "$SHARDCAP_LAB/cluster" &&
	expect_eq "$(cat $CG/lab1/cpu.cfs_quota_us)" 50000 &&
	expect_eq "$(cat $CG/lab2/cpu.cfs_quota_us)" 10000 &&
	grep -qx "$(cat $SHARDCAP_LAB/ssh/sshd_lab1.pid)" $CG/lab1/cgroup.procs &&
	ip netns list | grep -q "^${NSP}1 " &&
	$SHARDCAP -C "$SHARDCAP_LAB/cluster" check > check.txt &&
	grep -q lab2 check.txt
'

test_expect_success 'up again: nothing changes' '
	p1=$(cat $SHARDCAP_LAB/ssh/sshd_lab1.pid) &&
	"$LAB_CMD" up 2 --cpu 0.5,0.1 > /dev/null &&
	expect_eq "$(cat $SHARDCAP_LAB/ssh/sshd_lab1.pid)" "$p1"
'

test_expect_success 'bad arguments are refused' '
	expect_status 2 "$LAB_CMD" up &&
	expect_status 1 "$LAB_CMD" up 2 --cpu fast &&
	expect_status 1 "$LAB_CMD" up 0
'

test_expect_success 'jobs run in their worker'"'"'s cgroup; results exact' '
	C=$SHARDCAP_LAB/cluster &&
	$SHARDCAP -C "$C" add -q -s 1M --name dns "$DNS" > /dev/null &&
	$SHARDCAP -C "$C" run -q --tag dns -- sh -c "grep :cpu: /proc/self/cgroup" {} > cg &&
	grep -q "lab1	.*shardcap-lab$LABNET/lab1\$" cg &&
	grep -q "lab2	.*shardcap-lab$LABNET/lab2\$" cg &&
	! grep -v "lab\([12]\)	.*/lab\1\$" cg &&
	if test -d /sys/fs/cgroup/cpuacct && ! test /sys/fs/cgroup/cpuacct -ef /sys/fs/cgroup/cpu
	then
		# and in their cpuacct group, which counts the CPU they get
		$SHARDCAP -C "$C" run -q --tag dns -- sh -c "grep :cpuacct: /proc/self/cgroup" {} > acg &&
		grep -q "lab2	.*shardcap-lab$LABNET/lab2\$" acg &&
		! grep -v "lab\([12]\)	.*/lab\1\$" acg &&
		test "$(cat $ACG/lab1/cpuacct.usage)" -gt 0
	fi &&
	$SHARDCAP -C "$C" run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got
'

test_expect_success 'balancing over ssh moves chunks to the faster worker' '
	C=$SHARDCAP_LAB/cluster &&
	$SHARDCAP -C "$C" run -q dns -- sh -c "dd if={} of=/dev/null bs=64k 2>/dev/null; i=0; while [ \$i -lt 60000 ]; do i=\$((i+1)); done" &&
	$SHARDCAP -C "$C" balance dns --json > plan.json &&
	python3 -c "
import json
p = json.load(open(\"plan.json\"))
m = p[\"moves\"]
# chunks go from the slow worker to the fast one; the planner may also
# exchange one of its big chunks for a small one of the fast worker
out = [x for x in m if x[\"from\"] == \"lab2\" and x[\"to\"] == \"lab1\"]
back = [x for x in m if x[\"from\"] == \"lab1\" and x[\"to\"] == \"lab2\"]
assert out and len(out) + len(back) == len(m) and len(back) < len(out), m
assert sum(x[\"cost\"] for x in back) < sum(x[\"cost\"] for x in out), m
w = {x[\"name\"]: x for x in p[\"workers\"]}
assert w[\"lab2\"][\"after\"] < w[\"lab2\"][\"predicted\"], w
assert p[\"applied\"][\"failed\"] == 0, p
" &&
	$SHARDCAP -C "$C" run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got
'

test_expect_success 'peer-copy: chunks go worker to worker, checked, results exact' '
	C=$SHARDCAP_LAB/cluster &&
	sed -i "s/^\[cluster\]\$/[cluster]\n\tpeer-copy = true/" "$C/.shardcap/config" &&
	$SHARDCAP -C "$C" rm dns > /dev/null &&
	$SHARDCAP -C "$C" add -q -s 1M --name dns "$DNS" > /dev/null &&
	$SHARDCAP -C "$C" run -q dns -- sh -c "dd if={} of=/dev/null bs=64k 2>/dev/null; i=0; while [ \$i -lt 60000 ]; do i=\$((i+1)); done" &&
	$SHARDCAP -C "$C" balance dns --json > plan.json &&
	python3 -c "
import json
p = json.load(open(\"plan.json\"))
a = p[\"applied\"]
assert p[\"moves\"] and a[\"failed\"] == 0, p
assert a[\"worker_to_worker\"] == len(p[\"moves\"]), a
" &&
	lab_placed "$C" &&
	$SHARDCAP -C "$C" run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got
'

# The hot chunk sleeps 12 s, not 5: once, in a whole suite on a busy host,
# the plan cut nothing (the workers' times were not kept; the likeliest
# cause, lab2 at 0.1 core slowed until the hot chunk was no longer what
# made the run slow). A failed assertion now prints them.
test_expect_success 'a hot chunk is cut over ssh: parts placed, results exact' '
	C=$SHARDCAP_LAB/cluster &&
	$SHARDCAP -C "$C" rm dns > /dev/null &&
	$SHARDCAP -C "$C" add -q -s 1M --name dns "$DNS" > /dev/null &&
	$SHARDCAP -C "$C" run -q dns -- sh -c "case {} in */dns-000001.pcap) sleep 12;; esac; exec tcpdump -nS -tt -r {} \"udp port 53\"" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got &&
	$SHARDCAP -C "$C" balance dns --json > plan.json &&
	python3 -c "
import json
p = json.load(open(\"plan.json\"))
c = p[\"cuts\"]
assert len(c) == 1 and c[0][\"chunk\"] == \"dns-000001.pcap\", (c, p[\"workers\"], p[\"moves\"])
assert c[0][\"applied\"] and len(c[0][\"files\"]) >= 2, c
# parts that stay on lab1 are made from its copy: rsync sends what
# differs (a header), not the part
assert \"lab1\" in c[0][\"to\"], c
assert c[0][\"bytes_sent\"] < c[0][\"bytes_copied\"] + 0.05 * c[0][\"bytes\"], c
" &&
	lab_placed "$C" &&
	# the cut chunk itself, left on lab2 as a crash would: claimed by
	# no chunk any more, verify removes it (over ssh)
	cp "$C/.shardcap/store/dns/dns-000002.pcap" \
	    "$SHARDCAP_LAB/workers/lab2/dns/dns-000001.pcap" &&
	$SHARDCAP -C "$C" verify dns > v.txt &&
	grep -q "^removed, claimed by no chunk: lab2:dns/dns-000001.pcap$" v.txt &&
	lab_placed "$C" &&
	$SHARDCAP -C "$C" run -q --ordered dns -- tcpdump -nS -tt -r {} \
	    2>/dev/null > got && tcpdump -nS -tt -r "$DNS" 2>/dev/null > want &&
	cmp want got
'

test_expect_success 'down: no namespace, link, cgroup, route or directory left' '
	"$LAB_CMD" down &&
	! ip netns list | grep -q "^$NSP" &&
	! ip link show | grep -q "v$NSP" &&
	! ip link show "scbr$LABNET" 2>/dev/null &&
	test ! -d $CG &&
	test ! -d $ACG &&
	! ip route show type blackhole | grep -q "10.$LABNET.0.0/16" &&
	test ! -d "$SHARDCAP_LAB" &&
	"$LAB_CMD" down
'

test_done
