#!/bin/sh
# Cutting a hot chunk: a chunk that alone costs a query more than the
# ideal time is cut into parts that balance spreads; the parts hold its
# packets in order, so results (also --ordered) do not change; adding the
# capture again keeps the parts while the chunk is unchanged and drops
# them when it changed; a cut killed after each of its states loses
# nothing and the next command finishes or rolls it back.
# test-slow
. "$(dirname "$0")/../lib.sh"

dns_capture 12M || exit 1
tcpdump -nS -tt -r "$DNS" 2>/dev/null > "$TRASH/ordered" || exit 1

# A query for which chunk 3 (on local3) costs 4 s and the others 0.1 s
# (enough to be measured, so that the workers' speeds come out equal); its
# parts are cheap. 4 s, not less: the cut makes ceil(2 x its time / the
# ideal) parts, and on a loaded machine (the others' tcpdump slower) 2 s
# gave only 3, one per worker, and no worker two parts to stream together.
HOT='case {} in */dns-000003.pcap) sleep 4;; *) sleep 0.1;; esac; exec tcpdump -nS -tt -r {} "udp port 53"'
export HOT

hot_run() {
	$SHARDCAP run -q dns -- sh -c "$HOT" 2>/dev/null | sort > got &&
	cmp "$TRASH/want" got
}

same_results() {
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got && cmp "$TRASH/want" got &&
	$SHARDCAP run -q --ordered dns -- tcpdump -nS -tt -r {} \
	    2>/dev/null > got && cmp "$TRASH/ordered" got
}

test_expect_success '--dry-run plans a cut of the hot chunk and its parts spread' '
	new_cluster c && cd c && hot_run &&
	find .shardcap -type f -path "*dns*" | sort > before &&
	$SHARDCAP balance dns --dry-run > plan &&
	grep -q "^cut dns-000003.pcap (.*) into [2-9][0-9]* parts: .*to local[12]" plan &&
	grep -q "dry run: nothing moved" plan &&
	$SHARDCAP balance dns --dry-run --json > plan.json &&
	python3 -c "
import json
p = json.load(open(\"plan.json\"))
c = p[\"cuts\"]
assert len(c) == 1 and c[0][\"chunk\"] == \"dns-000003.pcap\", c
assert c[0][\"parts\"] >= 2 and len(c[0][\"to\"]) == c[0][\"parts\"], c
assert set(c[0][\"to\"]) - {\"local3\"}, c
assert not c[0][\"applied\"] and not c[0][\"files\"], c
# the parts spread: the slowest worker within the threshold of the ideal
# (not a fraction of before: the ideal is mostly the cheap chunks, which a
# loaded host makes dearer) and well below where it was
assert p[\"slowest_after\"] <= (1 + p[\"threshold\"]) * p[\"ideal\"], p
assert p[\"slowest_after\"] < 0.8 * p[\"slowest_before\"], p
" &&
	find .shardcap -type f -path "*dns*" | sort > after &&
	cmp before after
'

test_expect_success 'balance cuts it: parts in its place, results unchanged, history as it was' '
	new_cluster c && cd c && hot_run &&
	$SHARDCAP stats dns --json > stats.before &&
	$SHARDCAP balance dns > out &&
	$SHARDCAP stats dns --json > stats.after &&
	cmp stats.before stats.after &&
	grep -q "cut dns-000003.pcap into [2-9][0-9]* parts (dns-000003-000001.pcap .. " out &&
	$SHARDCAP status dns --json > st.json &&
	python3 -c "
import json
st = json.load(open(\"st.json\"))
files = [c[\"file\"] for c in st[\"chunks\"]]
assert files == sorted(files), files
assert \"dns-000003.pcap\" not in files, files
parts = [c for c in st[\"chunks\"] if c[\"file\"].startswith(\"dns-000003-\")]
assert len(parts) >= 2, files
assert [c[\"seq\"] for c in st[\"chunks\"]] == list(range(1, len(files) + 1))
assert sum(c[\"packets\"] for c in st[\"chunks\"]) == st[\"packets\"], st
assert len(set(w for c in parts for w in c[\"workers\"])) >= 2, parts
" &&
	placed_as_catalog && same_results &&
	$SHARDCAP verify dns > /dev/null &&
	hot_run
'

# batches STATUS-JSON B: how many streams a run with --batch B makes on
# this placement (each worker's chunks in order, a stream taking chunks
# up to B times the largest chunk's bytes, as run.c's next_batch does
# with one slot a worker), then how many it would with B chunks a stream.
batches() {
	python3 - "$1" "$2" <<-\EOF
	import json, sys
	st, b = json.load(open(sys.argv[1])), int(sys.argv[2])
	largest = max(c["bytes"] for c in st["chunks"])
	by_bytes = by_count = 0
	for w in sorted({c["workers"][0] for c in st["chunks"]}):
	    mine = [c["bytes"] for c in st["chunks"] if c["workers"] == [w]]
	    by_count += (len(mine) + b - 1) // b
	    while mine:
	        want = min(sum(mine), b * largest)
	        taken = mine.pop(0)
	        while mine and taken + mine[0] <= want:
	            taken += mine.pop(0)
	        by_bytes += 1
	print(by_bytes, by_count)
	EOF
}

test_expect_success 'the parts of a cut chunk share a stream, as the chunk did' '
	new_cluster c && cd c && hot_run &&
	$SHARDCAP balance dns > /dev/null &&
	$SHARDCAP status dns --json > st.json &&
	# a batch for which counting bytes makes fewer streams than counting
	# chunks would: parts of the chunk share a worker (4 or more parts
	# over 3 workers), so some batch does
	b= && for try in 2 3 4 5 6 7 8; do
		set -- $(batches st.json $try)
		if [ "$1" -lt "$2" ]; then b=$try want=$1; break; fi
	done &&
	test -n "$b" &&
	mkdir bin && real=$(command -v tcpdump) &&
	printf "#!/bin/sh\necho x >> %s/calls\nexec %s \"\$@\"\n" "$PWD" "$real" \
	    > bin/tcpdump && chmod +x bin/tcpdump &&
	PATH=$PWD/bin:$PATH $SHARDCAP run -q --batch $b --timeout 1h dns -- \
	    tcpdump -nS -tt -r {} "udp port 53" 2>/dev/null | sort > got &&
	cmp "$TRASH/want" got &&
	expect_eq "$(wc -l < calls)" "$want" "tcpdump processes, --batch $b"
'

test_expect_success 'the parts hold the chunk: concatenated, the same records' '
	new_cluster c && cd c && hot_run &&
	cp .shardcap/store/dns/dns-000003.pcap whole.pcap &&
	$SHARDCAP balance dns > /dev/null &&
	tcpdump -nS -tt -xx -r whole.pcap 2>/dev/null > want3 &&
	for f in .shardcap/store/dns/dns-000003-*.pcap; do
		tcpdump -nS -tt -xx -r $f 2>/dev/null || exit 1
	done > got3 &&
	cmp want3 got3 &&
	for f in .shardcap/store/dns/dns-000003-*.pcap; do
		capinfos $f > /dev/null 2>capinfos.err && test ! -s capinfos.err ||
		    exit 1
	done
'

test_expect_success 'balance --json says what was cut' '
	new_cluster c && cd c && hot_run &&
	$SHARDCAP balance dns --json > b.json &&
	python3 -c "
import json
p = json.load(open(\"b.json\"))
c = p[\"cuts\"][0]
assert c[\"applied\"] and len(c[\"files\"]) == c[\"parts\"], c
assert c[\"files\"][0] == \"dns-000003-000001.pcap\", c
# the parts that left local3 changed place; those that stay were made
# from its copy; local workers get whole files (rsync -W) all the same
stay = c[\"to\"].count(\"local3\")
assert 0 < stay < c[\"parts\"], c
share = c[\"bytes\"] * (c[\"parts\"] - stay) / c[\"parts\"]
assert 0.5 * share < c[\"bytes_copied\"] < 1.5 * share + 1000, (share, c)
assert c[\"bytes_sent\"] >= c[\"bytes\"] > 0, c
"
'

test_expect_success 'adding it again keeps the parts; a grown capture too' '
	new_cluster c && cd c && hot_run &&
	$SHARDCAP balance dns > /dev/null &&
	$SHARDCAP status dns --json > a.json &&
	touch "$DNS" &&
	$SHARDCAP add --json -s 1M "$DNS" --name dns > add.json &&
	$SHARDCAP status dns --json > b.json &&
	python3 -c "
import json
a, b = json.load(open(\"a.json\")), json.load(open(\"b.json\"))
add = json.load(open(\"add.json\"))
assert a[\"chunks\"] == b[\"chunks\"], \"chunks changed\"
assert add[\"chunks_new\"] == add[\"chunks_changed\"] == 0, add
assert sum(w[\"files_sent\"] for w in add[\"workers\"]) == 0, add
" &&
	mergecap -F pcap -a -w grown.pcap "$DNS" "$DNS" &&
	$SHARDCAP add --json -s 1M grown.pcap --name dns > add.json &&
	python3 -c "
import json
add = json.load(open(\"add.json\"))
assert add[\"chunks_changed\"] <= 1 and add[\"chunks_new\"] > 5, add
" &&
	ls .shardcap/workers/*/dns | grep -q dns-000003-000001.pcap &&
	placed_as_catalog &&
	tcpdump -nS -tt -r grown.pcap "udp port 53" 2>/dev/null | sort > want2 &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got2 && cmp want2 got2
'

test_expect_success 'a cut chunk that changed: its parts go, everywhere' '
	new_cluster c && cd c && hot_run &&
	$SHARDCAP balance dns > /dev/null &&
	n1=$(tcpdump -r .shardcap/store/dns/dns-000001.pcap 2>/dev/null | wc -l) &&
	n2=$(tcpdump -r .shardcap/store/dns/dns-000002.pcap 2>/dev/null | wc -l) &&
	n=$((n1 + n2)) &&
	editcap -F pcap -r "$DNS" changed.pcap 1-$((n + 10)) 2>/dev/null &&
	$SHARDCAP add --json -s 1M changed.pcap --name dns > add.json &&
	python3 -c "
import json
add = json.load(open(\"add.json\"))
assert add[\"chunks\"] == 3 and add[\"chunks_changed\"] == 1, add
" &&
	! ls .shardcap/workers/*/dns .shardcap/store/dns | grep -q dns-000003- &&
	placed_as_catalog &&
	tcpdump -nS -tt -r changed.pcap "udp port 53" 2>/dev/null | sort > want2 &&
	$SHARDCAP run -q dns -- tcpdump -nS -tt -r {} "udp port 53" \
	    2>/dev/null | sort > got2 && cmp want2 got2
'

test_expect_success 'a query running while its chunk is cut reads it whole' '
	new_cluster c && cd c && hot_run || exit 1
	$SHARDCAP run -q dns -- sh -c "sleep 1; exec tcpdump -nS -tt -r {} \"udp port 53\"" \
	    > bg.out 2> bg.err &
	bg=$! &&
	sleep 0.5 &&
	$SHARDCAP balance dns > out 2> err &&
	wait $bg &&
	grep -q "cut dns-000003.pcap into" out &&
	grep -q "waiting" err &&
	sort bg.out | cmp "$TRASH/want" - &&
	placed_as_catalog && same_results &&
	$SHARDCAP stats dns --json --last 1 > s.json &&
	python3 -c "
import json
r = json.load(open(\"s.json\"))[0]
assert r[\"status\"] == 0, r
"
'

for state in planned copied committed done; do
	test_expect_success "cut killed after '$state': nothing lost, the next command recovers" '
		new_cluster c && cd c && hot_run &&
		set +e
		SHARDCAP_CUT_CRASH='$state' $SHARDCAP balance dns > /dev/null 2>&1
		st=$?
		set -e
		expect_eq $st 137 "killed by SIGKILL" &&
		$SHARDCAP status --json > st.json &&
		python3 -c "
import json
k = json.load(open(\"st.json\"))[\"cuts_open\"]
if \"'$state'\" in (\"planned\", \"copied\"):
    assert [x[\"state\"] for x in k] == [\"planned\"], k
elif \"'$state'\" == \"committed\":
    assert [x[\"state\"] for x in k] == [\"committed\"], k
else:
    assert k == [], k
" &&
		$SHARDCAP status > st.txt &&
		case '$state' in
		planned|copied) grep -q "^1 chunk cut left open .*(planned \.\.\.)" st.txt ;;
		committed) grep -q "^1 chunk cut left open .*(committed \.\.\.)" st.txt ;;
		done) ! grep -q "left open" st.txt ;;
		esac &&
		same_results &&
		$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null 2> err &&
		case '$state' in
		planned|copied) grep -q "finished 0 and rolled back 1 chunk cuts" err ;;
		committed) grep -q "finished 1 and rolled back 0 chunk cuts" err ;;
		done) test ! -s err ;;
		esac &&
		placed_as_catalog &&
		$SHARDCAP add -q -s 1M "$DNS" --name dns > /dev/null 2> err2 &&
		test ! -s err2 &&
		same_results
	'
done

test_expect_success 'a cut whose parts cannot be copied rolls back, whole' '
	new_cluster c && cd c && hot_run &&
	for w in local1 local2; do
		mv .shardcap/workers/$w/dns .shardcap/workers/$w/dns.aside &&
		echo "not a directory" > .shardcap/workers/$w/dns || exit 1
	done &&
	set +e
	$SHARDCAP balance dns > out 2> err
	st=$?
	set -e
	for w in local1 local2; do
		rm .shardcap/workers/$w/dns &&
		mv .shardcap/workers/$w/dns.aside .shardcap/workers/$w/dns ||
		    exit 1
	done &&
	expect_eq $st 20 && grep -q "cannot cut .dns-000003.pcap." err &&
	! grep -q "cut dns-000003.pcap into" out &&
	test -f .shardcap/workers/local3/dns/dns-000003.pcap &&
	left_copies_removed dns out err &&
	placed_as_catalog && same_results &&
	$SHARDCAP status --json > st.json &&
	python3 -c "
import json
assert json.load(open(\"st.json\"))[\"cuts_open\"] == []
"
'

test_done
