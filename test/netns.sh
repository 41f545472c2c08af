# test/netns.sh - test hosts in network namespaces, sourced after lib.sh and
# sshd.sh. netns_host NAME N makes namespace NAME with a veth link to this
# host: 10.X.N.1 here, 10.X.N.2 there (X chosen per run), loopback up; it
# sets NETNS_ADDR to the namespace's address. Call it at the top level (not
# in $(...)): what it makes is recorded for the cleanup.
# Everything made is removed when the test file ends. Only these
# addresses are ever used.

NETNS_NET=$((100 + $$ % 100))
NETNS_MADE=
NETNS_BLACKHOLE=

netns_host() {
	ns=$1 n=$2
	here=10.$NETNS_NET.$n.1 there=10.$NETNS_NET.$n.2
	# Whatever happens to a link, nothing for the test range may leave
	# by the default route: a blackhole below the links' own routes.
	if [ -z "$NETNS_BLACKHOLE" ]; then
		ip route add blackhole "10.$NETNS_NET.0.0/16" metric 4000 || return 1
		NETNS_BLACKHOLE=10.$NETNS_NET.0.0/16
	fi
	ip netns add "$ns" || return 1
	NETNS_MADE="$NETNS_MADE $ns"
	ip link add "v$ns" type veth peer name "p$ns" || return 1
	ip link set "p$ns" netns "$ns" || return 1
	ip addr add "$here/24" dev "v$ns" || return 1
	ip link set "v$ns" up || return 1
	ip netns exec "$ns" ip addr add "$there/24" dev "p$ns" || return 1
	ip netns exec "$ns" ip link set "p$ns" up || return 1
	ip netns exec "$ns" ip link set lo up || return 1
	NETNS_ADDR=$there
}

netns_teardown() {
	for ns in $NETNS_MADE; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip link del "v$ns" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$NETNS_BLACKHOLE" ] && ip route del blackhole "$NETNS_BLACKHOLE" 2>/dev/null
	true
}

# Cuts (down) or restores (up) the link of namespace $1, from its side:
# packets to it are then dropped, never routed elsewhere.
netns_link() {
	ip netns exec "$1" ip link set "p$1" "$2"
}

netns_usable() {
	[ "$(id -u)" = 0 ] && command -v ip > /dev/null &&
	    ip netns add "scprobe$$" 2>/dev/null && ip netns del "scprobe$$"
}
