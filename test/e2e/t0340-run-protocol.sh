#!/bin/sh
# The protocol between shardcap and its slots (src/slot.h): a job's stdout
# and stderr are the tool's, byte for byte (a stderr line another job said
# already is counted, not shown: each chunk's lines here name it);
# shardcap's records travel
# among them behind a secret token. Whatever a tool prints - no last
# newline, binary, the records' words, a token of its own, a 100 MB line -
# or however it ends - stdout closed, its shell killed mid-line - every
# run ends, every chunk's output comes once, nothing of the protocol is
# shown. Each case on local workers and, where sshd can run, ssh workers.
# test-lock: fake
. "$(dirname "$0")/../lib.sh"
. "$TOP/test/sshd.sh"

CAP=$TRASH/a.pcap
$GENCAP mixed --size 3M -o "$CAP" || exit 1
$SHARDCAP split -q -s 1M -o "$TRASH/chunks" "$CAP" > /dev/null || exit 1
N=$(ls "$TRASH/chunks" | wc -l)
FIRST=$(ls "$TRASH/chunks" | head -1)
export CAP N FIRST

# The ways to run: ad hoc on two local workers; a dataset on two ssh
# workers (the same chunks: the same cut).
run_local() {
	timeout 120 $SHARDCAP run -q --workers 2 --size 1M "$CAP" "$@"
}
MODES=local
if [ "$(id -u)" = 0 ] && command -v "$SSHD" > /dev/null && sshd_setup; then
	P1=$(free_port 14); P2=$(free_port 15)
	if sshd_start p1 $P1 && sshd_start p2 $P2; then
		export SSHC=$TRASH/c/.shardcap
		mkdir -p "$TRASH/c"
		SHARDCAP_DIR=$SSHC $SHARDCAP -C "$TRASH/c" init --local 0 > /dev/null &&
		cluster_use_sshd "$SSHC/config" &&
		SHARDCAP_DIR=$SSHC $SHARDCAP worker add p1 root@127.0.0.1:$P1:$TRASH/p1 > /dev/null &&
		SHARDCAP_DIR=$SSHC $SHARDCAP worker add p2 root@127.0.0.1:$P2:$TRASH/p2 > /dev/null &&
		SHARDCAP_DIR=$SSHC $SHARDCAP add -q -s 1M "$CAP" > /dev/null &&
		MODES="local ssh"
	fi
fi
run_ssh() {
	SHARDCAP_DIR=$SSHC timeout 120 $SHARDCAP run -q a "$@"
}

# no_protocol FILE...: nothing of shardcap's records in the files.
no_protocol() {
	! grep -a -e 'shardcap-end-[0-9a-f]\{32\}' -e 'shardcap-job' \
	    -e 'shardcap-slot' -e 'shardcap-chunk' "$@"
}

for mode in $MODES; do
	export mode
	R="run_$mode"

	test_expect_success "$mode: stderr without a last newline: each chunk's, and the run ends at once" '
		'"$R"' -- sh -c "printf \"no newline %s\" \"\${1##*/}\" >&2" x {} > out 2> err &&
		test ! -s out &&
		expect_eq "$(grep -c "\] no newline [^ ]*$" err)" "$N" &&
		expect_eq "$(wc -l < err)" "$N" &&
		no_protocol err
	'

	test_expect_success "$mode: stdout without a last newline: each chunk's line once" '
		'"$R"' -- sh -c "printf %s \"\${1##*/}\"" x {} > out 2> err &&
		ls "$TRASH/chunks" > want &&
		sort out > got && cmp want got && no_protocol out err
	'

	# (a chunk's output that does not end a line is ended, so that
	# lines of two chunks never join: the binary output ends one)
	test_expect_success "$mode: binary output, byte for byte, in order" '
		'"$R"' --ordered -- sh -c "cat \"\$1\"; printf \"\\0\\377\\n\"" x {} \
		    > got 2> err &&
		for c in "$TRASH"/chunks/*; do cat "$c"; printf "\0\377\n"; done > want &&
		cmp want got
	'

	test_expect_success "$mode: a tool printing the records' words and tokens of its own" '
		cat > fake.sh <<-\EOF
		for f in 1 2; do
		  s=; [ $f = 2 ] && s=" ${1##*/}"
		  printf "%s$s\n" "shardcap-job-done 1" "started 4" "ready warm" \
		      "fed 0" "bad 1 0" "done 1" >&$f
		  printf "shardcap-end-00000000000000000000000000000000 done 1$s\n" >&$f
		  printf "shardcap-end-0123 1 0$s\n" >&$f
		done
		printf "%s\n" "${1##*/}"
		EOF
		'"$R"' -- sh "$PWD/fake.sh" {} > out 2> err &&
		expect_eq "$(wc -l < out)" "$((N * 9))" &&
		expect_eq "$(grep -c "^shardcap-end-0000" out)" "$N" &&
		expect_eq "$(grep -c "^started 4$" out)" "$N" &&
		expect_eq "$(grep -c "^done 1$" out)" "$N" &&
		expect_eq "$(wc -l < err)" "$((N * 8))" &&
		expect_eq "$(grep -c "\] bad 1 0 [^ ]*$" err)" "$N" &&
		expect_eq "$(grep -c "\] shardcap-end-0123 1 0 [^ ]*$" err)" "$N"
	'

	test_expect_success "$mode: the run's token is in no argv or environment a tool can read" '
		'"$R"' -- sh -c "{ ps -eo args; cat /proc/[0-9]*/environ | tr \"\\0\" \"\\n\"; } 2>/dev/null | grep -c \"shardcap-end-[0-9a-f]\\{32\\}\"; true" x {} \
		    > out 2> err &&
		expect_eq "$(sort -u out)" 0 &&
		expect_eq "$(wc -l < out)" "$N"
	'

	test_expect_success "$mode: a 100 MB line on stdout and on stderr" '
		'"$R"' -- sh -c "case \$1 in */$FIRST) head -c 100000000 /dev/zero | tr \"\\0\" a; echo; head -c 100000000 /dev/zero | tr \"\\0\" b >&2 ;; *) echo small; echo \"esmall \${1##*/}\" >&2 ;; esac" x {} \
		    > out 2> err &&
		expect_eq "$(grep -c ^small$ out)" "$((N - 1))" &&
		expect_eq "$(wc -c < out)" "$((100000001 + 6 * (N - 1)))" &&
		expect_eq "$(grep -c "\] esmall [^ ]*$" err)" "$((N - 1))" &&
		expect_eq "$(tr -cd b < err | wc -c)" 100000000 &&
		expect_eq "$(wc -l < err)" "$N"
	'

	test_expect_success "$mode: a tool that closes stdout and stderr early" '
		'"$R"' -- sh -c "exec >&- 2>&-; sleep 0.2" x {} > out 2> err &&
		test ! -s out && test ! -s err
	'

	test_expect_success "$mode: a job whose shell is killed mid-line ends, once" '
		expect_status 21 '"$R"' -- sh -c "printf partial; kill -9 \$PPID" x {} > out &&
		expect_eq "$(grep -c "^partial$" out)" "$N" &&
		expect_eq "$(wc -l < out)" "$N" &&
		grep -q "$N of $N chunks failed.*(exit 137)" .err &&
		no_protocol out .err
	'

	test_expect_success "$mode: a tool whose output stops mid-record-sized write, then ends" '
		'"$R"' -- sh -c "printf \"shardcap-end-\"; printf \"%s shardcap-end-\" \"\${1##*/}\" >&2" x {} > out 2> err &&
		expect_eq "$(grep -c "^shardcap-end-$" out)" "$N" &&
		expect_eq "$(grep -c "\] [^ ]* shardcap-end-$" err)" "$N"
	'
done

if [ "$MODES" = "local ssh" ]; then
	test_expect_success "ssh: a worker that lost the agent gets it again, the run goes on" '
		ls "$TRASH"/p1/.shardcap-agent-*.sh > had &&
		test -s had &&
		rm -f "$TRASH"/p1/.shardcap-agent-*.sh "$TRASH"/p2/.shardcap-agent-*.sh &&
		run_ssh -- sh -c "printf \"%s\\n\" \"\${1##*/}\"" x {} > out 2> err &&
		ls "$TRASH"/chunks > want && sort out | cmp want - &&
		ls "$TRASH"/p1/.shardcap-agent-*.sh > has &&
		cmp had has && ls "$TRASH"/p2/.shardcap-agent-*.sh
	'
fi

test_done
