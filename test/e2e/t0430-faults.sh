#!/bin/sh
# The fault-injection suite: bench/faults --quick over a lab of its own -
# one query per fault kind (a worker unreachable from the start, sshd
# killed, link cut, link cut mid-add, host frozen, disk full,
# a chunk deleted or damaged on a worker, the coordinator killed mid-run,
# mid-add, mid-balance, mid-repair). For each: the output's multiset equals
# the whole file's (nothing lost, nothing twice), the exit status is the
# documented one, the catalog is consistent afterwards, no process is left
# on a worker.
# test-lock: lab
# test-slow
. "$(dirname "$0")/../lib.sh"

if ! lab_usable || ! command -v nsenter > /dev/null; then
	test_skip "the fault suite" "needs root, sshd, nsenter, network namespaces, bridges and the cgroup v1 cpu controller"
	test_done
	exit
fi

export SHARDCAP_LAB=$TRASH/lab SHARDCAP_LAB_NET=$((240 + $$ % 10)) SHARDCAP
at_exit '"$TOP/bench/lab" down > /dev/null 2>&1'
# what the suite leaves for the tests below: its rows, each query's stderr
R=$TRASH/results
mkdir -p "$R/keep" || exit 1
export R

test_expect_success 'bench/faults --quick runs every kind' '
	"$TOP/bench/faults" --quick --tsv "$R/rows.tsv" --keep "$R/keep" \
	    > table 2> log || { cat log; exit 1; }
	cat table &&
	test "$(wc -l < "$R/rows.tsv")" -eq 12
'

# row KIND: its fields
row() { awk -F'\t' -v k="$1" '$1 == k' "$R/rows.tsv"; }

for kind in unreachable kill-sshd link-down stop disk-full chunk-deleted chunk-corrupted; do
	test_expect_success "$kind: exact result, exit 23, catalog sound, nothing left" '
		set -- $(row '$kind') &&
		expect_eq "$3" 23 "exit" && expect_eq "$4" 0 "lines lost" &&
		expect_eq "$5" 0 "lines duplicated" &&
		expect_eq "$7" 1 "catalog consistent" &&
		expect_eq "$8" 0 "processes left on workers" &&
		grep -q "recovered:" "$R/keep/'$kind'.1.err"
	'
done

# what runs on lab2 is counted 10 s after the add, its link still cut:
# the worker's rsync must have ended by itself (its beacon gone silent)
test_expect_success 'link cut mid-add: add fails naming lab2, nothing left there, add again is exact' '
	set -- $(row link-down-add) &&
	expect_eq "$3" 20 "exit of the add cut off" &&
	expect_eq "$4" 0 "lines lost" && expect_eq "$5" 0 "lines duplicated" &&
	expect_eq "$7" 1 "catalog consistent" &&
	expect_eq "$8" 0 "processes left on lab2, its link cut" &&
	grep -q "worker .lab2. (root@" "$R/keep/link-down-add.1.err"
'

test_expect_success 'a lost worker is named; a frozen one given up on in seconds' '
	for k in unreachable kill-sshd link-down stop; do
		grep -q "worker .lab2. (root@" "$R"/keep/$k.1.err || exit 1
	done &&
	set -- $(row stop) &&
	awk -v t="$6" "BEGIN { exit !(t < 20) }"
'

test_expect_success 'disk full: a copy to the full worker fails, goes elsewhere' '
	grep -q "\[lab3\] copying [0-9]* chunks\? from the store failed" "$R"/keep/disk-full.1.err
'

for kind in kill-run kill-add kill-balance kill-repair; do
	test_expect_success "$kind: the next command recovers, exact result, exit 0" '
		set -- $(row '$kind') &&
		expect_eq "$3" 0 "exit" && expect_eq "$4" 0 "lines lost" &&
		expect_eq "$5" 0 "lines duplicated" &&
		expect_eq "$7" 1 "catalog consistent" &&
		expect_eq "$8" 0 "processes left on workers"
	'
done

test_done
