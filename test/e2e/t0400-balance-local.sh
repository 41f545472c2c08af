#!/bin/sh
# shardcap balance on local workers: the plan comes from the last run and
# moves chunks off the slow worker; applied, every chunk is where the
# catalog says and nowhere else, and queries return the same result. The
# move journal is tested by killing shardcap after each of its states: the
# chunks stay reachable, the next command finishes or rolls back, and
# nothing is lost or left behind.
# test-slow
. "$(dirname "$0")/../lib.sh"

dns_capture 12M || exit 1

# A query that is slow on local1 (1 s more per chunk: more than the noise
# of a busy machine), to have something to balance.
SLOW='case {} in */local1/*) sleep 1;; esac; exec tcpdump -nS -tt -r {} "udp port 53"'
export SLOW

# slow_run: the slow query, its result checked against the whole file's.
slow_run() {
	$SHARDCAP run -q dns -- sh -c "$SLOW" 2>/dev/null | sort > got &&
	cmp "$TRASH/want" got
}

test_expect_success 'no run yet: exit 15 and says why' '
	new_cluster c && cd c &&
	expect_status 15 $SHARDCAP balance dns &&
	grep -q "has no run yet" .err &&
	expect_status 15 $SHARDCAP balance nosuch
'

test_expect_success 'usage errors' '
	expect_status 2 $SHARDCAP balance &&
	expect_status 2 $SHARDCAP balance dns --algorithm best &&
	grep -q "want default or paper" .err &&
	expect_status 2 $SHARDCAP balance dns --threshold 150% &&
	expect_status 2 $SHARDCAP balance dns --threshold ten &&
	expect_status 2 $SHARDCAP run "$DNS" --balance -- tcpdump -r {}
'

test_expect_success '--dry-run: a plan off the slow worker, nothing moved' '
	new_cluster c && cd c && slow_run &&
	find .shardcap/workers -type f | sort > before &&
	$SHARDCAP balance dns --dry-run > plan &&
	grep -q "^ideal" plan && grep -q "dry run: nothing moved" plan &&
	$SHARDCAP balance dns --dry-run --json > plan.json &&
	python3 -c "
import json, sys
p = json.load(open(\"plan.json\"))
assert p[\"applied\"] is None, p
assert p[\"moves\"], \"no moves planned\"
# the slow worker is unloaded first; once it is not the slowest any
# more, other moves may follow - even a chunk back to it, when its 1 s
# more a chunk is within the ideal (a loaded host makes the ideal
# longer) - but it does not end the slowest
assert p[\"moves\"][0][\"from\"] == \"local1\", p[\"moves\"]
assert p[\"slowest_after\"] < p[\"slowest_before\"], p
w = {x[\"name\"]: x for x in p[\"workers\"]}
assert w[\"local1\"][\"measured\"] > w[\"local2\"][\"measured\"], w
others = max(x[\"after\"] for x in p[\"workers\"] if x[\"name\"] != \"local1\")
assert w[\"local1\"][\"after\"] <= others + 1e-6, p
" &&
	find .shardcap/workers -type f | sort > after &&
	cmp before after
'

test_expect_success 'balance moves chunks, the catalog follows, results unchanged' '
	new_cluster c && cd c && slow_run &&
	n1=$(ls .shardcap/workers/local1/dns | wc -l) &&
	$SHARDCAP balance dns > out &&
	grep -q "^moved [1-9][0-9]* chunks\? (" out &&
	n2=$(ls .shardcap/workers/local1/dns | wc -l) &&
	test "$n2" -lt "$n1" &&
	placed_as_catalog &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" 2>/dev/null |
	    sort > got && cmp "$TRASH/want" got
'

test_expect_success 'no second balance on stale timings' '
	new_cluster c && cd c && slow_run &&
	$SHARDCAP balance dns > /dev/null &&
	expect_status 15 $SHARDCAP balance dns &&
	grep -q "changed since its last run" .err
'

test_expect_success 'the paper algorithm, seeded: the same plan twice' '
	new_cluster c && cd c && slow_run &&
	$SHARDCAP balance dns -n --json --algorithm paper --seed 7 > a &&
	$SHARDCAP balance dns -n --json --algorithm paper --seed 7 > b &&
	cmp a b && grep -q "\"algorithm\": \"paper\"" a
'

test_expect_success 'run --balance: the plan on stderr, stdout only the query' '
	new_cluster c && cd c &&
	$SHARDCAP run -q --balance dns -- sh -c "$SLOW" 2>err | sort > got &&
	cmp "$TRASH/want" got &&
	grep -q "^moved [1-9]" err &&
	placed_as_catalog
'

test_expect_success 'a balanced query is faster than the one before' '
	new_cluster c && cd c && slow_run &&
	$SHARDCAP balance dns > /dev/null && slow_run &&
	$SHARDCAP stats --json --last 2 > s.json &&
	python3 -c "
import json
runs = json.load(open(\"s.json\"))
after, before = runs[0][\"slowest\"], runs[1][\"slowest\"]
assert after < before, (before, after)
"
'

test_expect_success 'run --balance after a failed run: no balancing, a warning' '
	new_cluster c && cd c &&
	expect_status 21 $SHARDCAP run -q --balance dns -- sh -c "case {} in *-000002.pcap) exit 3;; esac; true" &&
	grep -q "not balancing: the run did not complete" .err &&
	! grep -q "^moved" .err &&
	placed_as_catalog
'

for state in planned copied verified committed deleted; do
	test_expect_success "killed after '$state': nothing lost, the next command recovers" '
		new_cluster c && cd c && slow_run &&
		set +e
		SHARDCAP_MOVE_CRASH='$state' $SHARDCAP balance dns > /dev/null 2>&1
		st=$?
		set -e
		expect_eq $st 137 "killed by SIGKILL" &&
		$SHARDCAP status --json > st.json &&
		python3 -c "
import json
m = json.load(open(\"st.json\"))[\"moves_open\"]
assert (len(m) > 0) == (\"'$state'\" != \"deleted\"), m
assert all(x[\"state\"] == \"'$state'\" for x in m), m
" &&
		$SHARDCAP status > st.txt &&
		if [ '$state' = deleted ]; then
			! grep -q "left open" st.txt
		else
			grep -q "^[1-9][0-9]* chunk moves\? left open .*('$state' \.\.\.)" st.txt
		fi &&
		$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
		    2>/dev/null | sort > got && cmp "$TRASH/want" got &&
		$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null 2> err &&
		case '$state' in
		planned|copied) grep -q "finished 0 and rolled back [1-9]" err ;;
		verified|committed) grep -q "finished [1-9][0-9]* and rolled back 0" err ;;
		deleted) test ! -s err ;;
		esac &&
		placed_as_catalog &&
		$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null 2> err2 &&
		test ! -s err2 &&
		$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
		    2>/dev/null | sort > got && cmp "$TRASH/want" got
	'
done

# A worker that cannot take a chunk: a directory where each chunk it
# does not hold would go. (Not its whole directory a file: a move off
# it, which the plan may hold too, would then remove its old copy with
# "rm -f", which takes "not a directory" for "gone", and the copy would
# be back once the directory is.)
test_expect_success 'a move to a worker that cannot take it rolls back' '
	new_cluster c && cd c && slow_run &&
	for w in local2 local3; do
		for f in $(ls .shardcap/store/dns); do
			[ -e .shardcap/workers/$w/dns/$f ] ||
			    mkdir -p .shardcap/workers/$w/dns/$f/blocked || exit 1
		done
	done &&
	set +e
	$SHARDCAP balance dns > out 2> err
	st=$?
	set -e
	for w in local2 local3; do
		for f in .shardcap/workers/$w/dns/*; do
			[ ! -d $f ] || rm -r $f || exit 1
		done
	done &&
	expect_eq $st 20 && grep -q "moves failed" err &&
	grep -q "failed and stay where they were" out &&
	left_copies_removed dns out err &&
	placed_as_catalog &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got
'

test_expect_success 'an old copy that cannot be removed is removed by the next command' '
	new_cluster c && cd c && slow_run &&
	d=.shardcap/workers/local1/dns &&
	for f in $(ls $d); do
		rm $d/$f && mkdir $d/$f && touch $d/$f/x || exit 1
	done &&
	$SHARDCAP balance dns > out 2> err &&
	grep -q "old copies could not be removed yet" out &&
	for f in $(ls $d); do
		rm -r $d/$f && cp .shardcap/store/dns/$f $d/$f || exit 1
	done &&
	$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null 2> err &&
	grep -q "finished [1-9][0-9]* and rolled back 0" err &&
	placed_as_catalog
'

test_expect_success 'balance --even: a worker just added gets its share by bytes, no run needed' '
	new_cluster c && cd c &&
	$SHARDCAP worker add local4 --local "$PWD/.shardcap/workers/local4" \
	    > /dev/null &&
	$SHARDCAP balance --even dns --dry-run > plan &&
	grep "dry run: nothing moved" plan &&
	test ! -d .shardcap/workers/local4/dns &&
	$SHARDCAP balance --even --json > out.json &&
	python3 - out.json <<-\EOF &&
	import json, sys
	(cap,) = json.load(open(sys.argv[1]))
	assert cap["capture"] == "dns" and cap["applied"]["failed"] == 0, cap
	moves = cap["moves"]
	to4 = [m for m in moves if m["to"] == "local4"]
	assert len(to4) >= 3 and all(m["from"] != "local4" for m in moves), moves
	after = [w["bytes_after"] for w in cap["workers"]]
	biggest = max(m["bytes"] for m in moves)
	# within a chunk of each other, and local4 has its share
	assert max(after) - min(after) <= biggest, after
	assert cap["workers"][3]["chunks_after"] == len(to4), cap
	EOF
	placed_as_catalog &&
	test "$(ls .shardcap/workers/local4/dns | wc -l)" -ge 2 &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got &&
	$SHARDCAP balance --even dns > again &&
	grep "^0 moves" again &&
	expect_status 2 $SHARDCAP balance --even dns other
'

test_done
