# test/sshd.sh - real sshd workers for the end-to-end tests, sourced after
# lib.sh. Everything lives in $TRASH/ssh: generated host and user keys, a
# private known_hosts and client config; every sshd is checked with
# `sshd -t`, started, waited for through its pid file, and killed (with
# every ssh that used it) when the test file ends.
#
#   sshd_setup                 keys, client config; SSH_CONFIG is its path
#   sshd_start NAME PORT [ADDR [NETNS]]
#                              an sshd for worker NAME on ADDR:PORT
#                              (default 127.0.0.1), in network namespace
#                              NETNS if given
#   cluster_use_sshd CONFIG    points a cluster's config at SSH_CONFIG
#
# SSHD_SETENV, when set for sshd_start, is added to its SetEnv: e.g.
# PATH=DIR for a worker whose sessions lack a tool.
#
# Call them at the top level of a test file, not inside a test: the
# cleanup they register must outlive the test's subshell.

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
SSH_DIR=$TRASH/ssh

sshd_setup() {
	mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id" || return 1
	cp "$SSH_DIR/id.pub" "$SSH_DIR/authorized_keys"
	: > "$SSH_DIR/known_hosts"
	SSH_CONFIG=$SSH_DIR/ssh_config
	cat > "$SSH_CONFIG" <<-CFG
	Host *
		IdentityFile $SSH_DIR/id
		IdentitiesOnly yes
		UserKnownHostsFile $SSH_DIR/known_hosts
		StrictHostKeyChecking yes
		LogLevel ERROR
	CFG
	# privilege separation needs this directory, which only a booted
	# system's tmpfiles would make
	[ -d /run/sshd ] || mkdir -p /run/sshd
	at_exit sshd_teardown
	export SSH_CONFIG
}

sshd_start() {
	name=$1 port=$2 addr=${3:-127.0.0.1} ns=${4:-}
	cfg=$SSH_DIR/sshd_$name.conf
	# SHLVL=1: bash run by sshd sources ~/.bashrc only as a top-level
	# shell; a host's rc file (pyenv's rehash takes a lock for up to 60 s)
	# must not time the tests
	cat > "$cfg" <<-CFG
	Port $port
	ListenAddress $addr
	HostKey $SSH_DIR/host_key
	PidFile $SSH_DIR/sshd_$name.pid
	AuthorizedKeysFile $SSH_DIR/authorized_keys
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	PermitRootLogin prohibit-password
	StrictModes no
	UsePAM no
	SetEnv SHLVL=1 ${SSHD_SETENV:-}
	MaxStartups 64
	MaxSessions 64
	LogLevel ERROR
	CFG
	"$SSHD" -t -f "$cfg" || { echo "sshd -t rejects $cfg"; return 1; }
	rm -f "$SSH_DIR/sshd_$name.pid"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$SSHD" -f "$cfg" -E "$SSH_DIR/sshd_$name.log" || return 1
	else
		"$SSHD" -f "$cfg" -E "$SSH_DIR/sshd_$name.log" || return 1
	fi
	_tries=0
	while [ ! -s "$SSH_DIR/sshd_$name.pid" ]; do
		_tries=$((_tries + 1))
		[ $_tries -lt 100 ] || { echo "sshd $name did not start"; cat "$SSH_DIR/sshd_$name.log"; return 1; }
		sleep 0.05
	done
	if [ "$port" = 22 ]; then
		echo "$addr $(cat "$SSH_DIR/host_key.pub")" >> "$SSH_DIR/known_hosts"
	else
		echo "[$addr]:$port $(cat "$SSH_DIR/host_key.pub")" >> "$SSH_DIR/known_hosts"
	fi
}

sshd_teardown() {
	for p in "$SSH_DIR"/sshd_*.pid; do
		[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	# ssh masters and sessions of this test: everything naming $TRASH
	pkill -f -- "$TRASH/" 2>/dev/null
	sleep 0.2
	pkill -9 -f -- "$TRASH/" 2>/dev/null
	true
}

# Writes the [ssh] section for this test into the config file $1.
cluster_use_sshd() {
	python3 - "$1" "$SSH_CONFIG" <<-'PY'
	import sys
	path, ssh = sys.argv[1], sys.argv[2]
	text = open(path).read().replace("[ssh]\n",
	    "[ssh]\n\tconfig = %s\n" % ssh, 1)
	text = text.replace("connect-timeout = 10", "connect-timeout = 3")
	text = text.replace("control-persist = 60", "control-persist = 5")
	open(path, "w").write(text)
	PY
}

# free_port N: the Nth port (N < 20) of a range on the loopback chosen
# for this run: test files running side by side (their pids differ by
# less than 1000) get ranges apart.
free_port() {
	echo $((20000 + $$ * 20 % 20000 + $1))
}
