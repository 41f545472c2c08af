# test/lib.sh - the end-to-end test harness, sourced by test/e2e/t*.sh.
#
# Each test file runs in a scratch directory of its own ($TRASH, removed at
# the end) and drives the real binaries. test_expect_success runs a body in
# a subshell with `set -e` and prints TAP: "ok N - what" or "not ok N - what"
# followed by the last lines of its output.

set -u
# The tests run Debian's tools: the system directories come first, so a
# version manager's shims (pyenv's python3 costs 0.35 s a call) neither
# slow them down nor choose another python3.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD:=build/default}"
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
SHARDCAP=$BUILD/shardcap
GENCAP=$BUILD/gencap
PCAPDUMP="python3 $TOP/test/pcapdump.py"
CAPTURES=${SHARDCAP_CAPTURES:-$TOP/../shared/captures}
export SHARDCAP GENCAP PCAPDUMP CAPTURES TOP

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/shardcap-e2e.XXXXXX")
# at_exit CMD: run CMD when the test file ends, before the scratch
# directory goes (last registered, first run).
exit_hooks=
at_exit() {
	exit_hooks="$1; $exit_hooks"
}
run_exit_hooks() {
	cd /
	eval "$exit_hooks"
	rm -rf "$TRASH"
}
export TRASH
trap run_exit_hooks EXIT
trap 'exit 130' INT TERM HUP
cd "$TRASH" || exit 1

test_count=0
test_failed=0

test_expect_success() {
	test_count=$((test_count + 1))
	# Every test starts in an empty directory of its own.
	mkdir "$TRASH/t$test_count" && cd "$TRASH/t$test_count" || exit 1
	if (set -e; eval "$2") >"$TRASH/.test-out" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		tail -n 25 "$TRASH/.test-out" | sed 's/^/#   /'
		test_failed=$((test_failed + 1))
	fi
	cd "$TRASH" && rm -rf "$TRASH/t$test_count"
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}

# Fails with a message unless "$1" = "$2".
expect_eq() {
	if [ "$1" != "$2" ]; then
		echo "expected '$2', got '$1'${3:+ ($3)}"
		return 1
	fi
}

# Runs a command, expecting exit status $1; its stderr goes to .err.
expect_status() {
	want=$1
	shift
	set +e
	"$@" 2>.err
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "exit status $got, expected $want: $*"
		cat .err
		return 1
	fi
}

# tshark and capinfos, without the line tshark prints when run as root.
tshark_q() {
	tshark "$@" 2> .tshark-err
	st=$?
	grep -v 'Running as user "root"' .tshark-err >&2 || true
	return $st
}

# tshark's view of each packet, for comparing a capture with its chunks:
# the fields of a frame that do not depend on other frames (which
# protocols tshark finds does: it follows conversations).
FRAME_FIELDS="-e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_id -e frame.encap_type"
frames() {
	for f in "$@"; do
		tshark_q -r "$f" -T fields $FRAME_FIELDS || return 1
	done
}

# clean_frames FILE...: every file opens in capinfos and tshark with no
# warning at all; prints the frames of each, in order, as frames does
# (one tshark per file does both).
clean_frames() {
	for f in "$@"; do
		capinfos "$f" >/dev/null 2>.capinfos-err || {
			echo "capinfos failed on $f" >&2; cat .capinfos-err >&2; return 1; }
		if [ -s .capinfos-err ]; then
			echo "capinfos warns on $f:" >&2; cat .capinfos-err >&2; return 1
		fi
		tshark -r "$f" -T fields $FRAME_FIELDS 2>.tshark-err || {
			echo "tshark failed on $f" >&2; cat .tshark-err >&2; return 1; }
		if grep -v 'Running as user "root"' .tshark-err | grep -q .; then
			echo "tshark warns on $f:" >&2; cat .tshark-err >&2; return 1
		fi
	done
}

# Every file opens in capinfos and tshark with no warning at all.
opens_cleanly() {
	clean_frames "$@" > /dev/null
}

# The chunks in $2 hold exactly the packets (and other blocks) of $1.
# (Every step is checked by hand: `set -e` does not apply inside a
# function called from an && list.)
same_records() {
	$PCAPDUMP "$1" > .want-packets || return 1
	$PCAPDUMP $(ls "$2"/*) > .got-packets || return 1
	test -s .want-packets || test ! -s .got-packets || return 1
	diff .want-packets .got-packets > .diff || {
		echo "packets differ:"; head -20 .diff; return 1; }
	$PCAPDUMP --blocks "$1" > .want-blocks || return 1
	$PCAPDUMP --blocks $(ls "$2"/*) > .got-blocks || return 1
	diff .want-blocks .got-blocks > .diff || {
		echo "blocks differ:"; head -20 .diff; return 1; }
}

# No chunk in $1 is larger than $2 unless it holds a single block.
within_size() {
	$PCAPDUMP --stats $(ls "$1"/*) > .stats || return 1
	while read -r f bytes packets content; do
		if [ "$bytes" -gt "$2" ] && [ "$content" -gt 1 ]; then
			echo "$f: $bytes bytes > $2 with $content blocks"
			return 1
		fi
	done < .stats
}

# The manifest $2 (JSON) lists the files of $1 in order, with their sizes
# and packet counts and digests as xxhsum (or sha256sum) computes them.
manifest_matches() {
	python3 - "$1" "$2" <<'PY'
import hashlib, json, os, subprocess, sys
d, m = sys.argv[1], json.load(open(sys.argv[2]))
files = sorted(os.listdir(d))
names = [c['file'] for c in m['chunks']]
assert names == files, (names, files)
assert [c['index'] for c in m['chunks']] == list(range(1, len(files) + 1))
total = 0
for c in m['chunks']:
    p = os.path.join(d, c['file'])
    assert c['bytes'] == os.path.getsize(p), c
    if m['digest_algorithm'] == 'sha256':
        h = hashlib.sha256(open(p, 'rb').read()).hexdigest()
    else:
        h = subprocess.run(['xxhsum', '-H2', p], check=True,
                           capture_output=True, text=True).stdout.split()[0]
    assert c['digest'] == h, (c['digest'], h)
    total += c['packets']
assert total == m['packets'], (total, m['packets'])
PY
}

# lab_usable: bench/lab can run here - root, sshd, network namespaces,
# bridges and the cgroup v1 cpu controller.
lab_usable() {
	[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/cpu ] &&
	    { command -v sshd > /dev/null || [ -x /usr/sbin/sshd ]; } &&
	    ip netns add "scprobe$$" 2>/dev/null &&
	    ip netns del "scprobe$$" &&
	    ip link add "scbp$$" type bridge 2>/dev/null &&
	    ip link del "scbp$$"
}

# dns_capture SIZE: DNS, a generated mixed capture of SIZE in
# $TRASH/dns.pcap, and $TRASH/want, its DNS lines as tcpdump prints them,
# sorted (exported for the tests).
dns_capture() {
	DNS=$TRASH/dns.pcap
	export DNS
	$GENCAP mixed --size "$1" -o "$DNS" &&
	tcpdump -nS -tt -r "$DNS" "udp port 53" 2>/dev/null | sort > "$TRASH/want"
}

# sum_lines FILE: the sum of the numbers that begin FILE's lines (awk:
# in every Debian, unlike bc).
sum_lines() {
	awk '{ s += $1 } END { printf "%.0f\n", s }' "$1"
}

# fake_tshark SECONDS [OPTION...]: $TRASH/bin/tshark, a tool named tshark
# (so that shardcap starts it warm) that reads {} through wiretap's calls
# as tshark does (test/fake/fake-tshark.c, which says the rest): notes
# each start in $TRASH/starts, says on stderr what it read, runs `sleep
# SECONDS` (a number of the test's own, to find its processes by) while
# $TRASH/slow exists and prints the bytes it read. While $TRASH/no-warm
# exists it will not start on a warm placeholder. Its paths are written
# in: it runs the same over ssh.
fake_tshark() {
	mkdir -p "$TRASH/bin" &&
	cat > "$TRASH/bin/tshark" <<-EOF &&
	#!/bin/sh
	exec "$BUILD/test/fake-tshark" "$TRASH" $* "\$@"
	EOF
	chmod +x "$TRASH/bin/tshark"
}

# new_cluster DIR [R]: a cluster in DIR of 3 local workers holding DNS as
# capture dns, in 1 MB chunks, R copies of each (1). Each chunk runs where
# it is placed (share-local = false): these tests give a worker a speed of
# its own by where its chunks are.
new_cluster() {
	mkdir -p "$1" &&
	$SHARDCAP -C "$1" init --local 3 > /dev/null &&
	sed -i 's/^\[cluster\]$/&\n\tshare-local = false/' \
	    "$1/.shardcap/config" &&
	(cd "$1" && $SHARDCAP add -q -s 1M -r "${2:-1}" "$DNS" --name dns > /dev/null)
}

# left_copies_removed NAME FILE...: when a balance's report (the FILEs)
# says old copies could not be removed yet - moves committed beside a
# failure, which ones depending on the recorded times - the next command
# that changes the cluster (repair NAME) finishes those moves, rolling
# none back.
left_copies_removed() {
	_name=$1
	shift
	cat "$@" | grep -q "old copies could not be removed yet" || return 0
	$SHARDCAP repair "$_name" > /dev/null 2> .left-err &&
	grep -q "finished [1-9][0-9]* and rolled back 0 chunk moves" .left-err
}

# placed_as_catalog [NAME]: in the cluster in this directory, the local
# workers' directories hold exactly the copies of capture NAME (dns) the
# catalog lists, the store exactly its chunks, and every chunk is on a
# worker with no stale copy.
placed_as_catalog() {
	$SHARDCAP status "${1:-dns}" --json > st.json &&
	python3 - "$PWD/.shardcap" st.json "${1:-dns}" <<-'EOF'
	import json, os, sys
	top, st, name = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
	want, have = set(), set()
	for c in st["chunks"]:
	    if not c["workers"]:
	        sys.exit("chunk %s is on no worker" % c["file"])
	    for w in c["workers"]:
	        want.add((w, c["file"]))
	for w in os.listdir(os.path.join(top, "workers")):
	    d = os.path.join(top, "workers", w, name)
	    for f in os.listdir(d) if os.path.isdir(d) else []:
	        have.add((w, f))
	if want != have:
	    sys.exit("catalog only: %s; disk only: %s" %
	             (sorted(want - have), sorted(have - want)))
	store = set(os.listdir(os.path.join(top, "store", name)))
	files = set(c["file"] for c in st["chunks"])
	if store != files:
	    sys.exit("store only: %s; catalog only: %s" %
	             (sorted(store - files), sorted(files - store)))
	if st["complete"] != len(st["chunks"]) or st["stale"]:
	    sys.exit("not complete: %r" % st)
	EOF
}
