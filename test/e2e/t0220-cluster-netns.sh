#!/bin/sh
# Workers on hosts of their own: each sshd in its own network namespace with
# its own address, reached over a veth link. Cutting a link makes a worker
# unreachable: the error names it, shardcap does not hang, and the catalog
# records only what arrived.
. "$(dirname "$0")/../lib.sh"
. "$TOP/test/sshd.sh"
. "$TOP/test/netns.sh"

if ! netns_usable || ! command -v "$SSHD" > /dev/null; then
	test_skip "workers in network namespaces" "needs root, ip netns and sshd"
	test_done
	exit
fi

sshd_setup || { echo "Bail out! ssh setup"; exit 1; }
at_exit netns_teardown
NS1=sc$$a NS2=sc$$b
netns_host $NS1 1 && A1=$NETNS_ADDR && netns_host $NS2 2 && A2=$NETNS_ADDR ||
    { echo "Bail out! cannot make network namespaces"; exit 1; }
sshd_start n1 22 "$A1" $NS1 && sshd_start n2 22 "$A2" $NS2 ||
    { echo "Bail out! sshd in namespaces"; exit 1; }
export SHARDCAP_DIR=$TRASH/c/.shardcap A1 A2 NS1 NS2
mkdir -p "$TRASH/c"
$SHARDCAP -C "$TRASH/c" init --local 0 > /dev/null || exit 1
cluster_use_sshd "$SHARDCAP_DIR/config" || exit 1
$GENCAP mixed --size 12M -o "$TRASH/dns.pcap" || exit 1

test_expect_success 'workers at their own addresses are reachable' '
	$SHARDCAP worker add n1 root@$A1:$TRASH/n1 &&
	$SHARDCAP worker add n2 root@$A2:$TRASH/n2 &&
	$SHARDCAP check --json > ck.json &&
	python3 -c "
import json; c = json.load(open(\"ck.json\"))
assert all(w[\"reachable\"] and w[\"writable\"] for w in c), c"
'

test_expect_success 'add pushes to both over their links' '
	$SHARDCAP add --json -s 2M "$TRASH/dns.pcap" > add.json &&
	python3 -c "
import json; a = json.load(open(\"add.json\"))
assert all(w[\"ok\"] and w[\"files_sent\"] == w[\"chunks\"] > 0 for w in a[\"workers\"]), a" &&
	mkdir all && cp "$TRASH"/n1/dns/* "$TRASH"/n2/dns/* all/ &&
	same_records "$TRASH/dns.pcap" all
'

test_expect_success 'a cut link: the worker is named, no hang, catalog true' '
	pkill -f "^ssh: $SHARDCAP_DIR/ssh/" ; sleep 0.2
	netns_link $NS2 down &&
	$GENCAP pcap-le-us -n 3000 -o "$TRASH/cut.pcap" &&
	start=$(date +%s) &&
	set +e &&
	$SHARDCAP add --json -s 64K "$TRASH/cut.pcap" > cut.json 2> err
	st=$? &&
	set -e &&
	took=$(( $(date +%s) - start )) &&
	netns_link $NS2 up &&
	cat err &&
	expect_eq $st 20 &&
	test $took -lt 20 &&
	# a neighbour entry still cached: the SYNs go out and time out;
	# none: the kernel answers at once that there is no route
	grep -Eq "worker .n2. \(root@$A2:.*\): ssh: connect to host $A2 port 22: (Connection timed out|No route to host)" err &&
	$SHARDCAP status --json cut > st.json &&
	python3 -c "
import json; s = json.load(open(\"st.json\"))
assert all(c[\"workers\"] in ([\"n1\"], []) for c in s[\"chunks\"]), s
assert s[\"missing\"] == sum(1 for c in s[\"chunks\"] if not c[\"workers\"]) > 0" &&
	test ! -e "$TRASH/n2/cut"
'

test_expect_success 'with the link back, the next add completes it' '
	$SHARDCAP add --json "$TRASH/cut.pcap" > back.json &&
	$SHARDCAP status --json cut > st.json &&
	python3 -c "
import json; s = json.load(open(\"st.json\")); assert s[\"missing\"] == 0, s" &&
	mkdir all && cp "$TRASH"/n1/cut/* "$TRASH"/n2/cut/* all/ &&
	same_records "$TRASH/cut.pcap" all
'

test_done
