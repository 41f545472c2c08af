#!/bin/sh
# The public capture corpus (../shared/captures, when it is there): every
# sound capture splits into chunks that hold exactly its packets and open
# wherever the original opens; every damaged one gets a damage status, a
# one-line message with the offset, and only sound chunks. The corpus is
# shared with t0131 (which runs this file with CORPUS_HALF=1), so that
# the two halves run at once: this file takes every other capture in the
# directory's order starting with the first, t0131 the others.
# test-slow
. "$(dirname "$0")/../lib.sh"
: "${CORPUS_HALF:=0}"

if [ ! -d "$CAPTURES" ]; then
	test_skip "public capture corpus" "no $CAPTURES"
	test_done
	exit
fi

i=0
for path in "$CAPTURES"/*; do
	f=$(basename "$path")
	case $f in *.pcap|*.pcapng) ;; *) continue ;; esac
	i=$((i + 1))
	[ $((i % 2)) -ne "$CORPUS_HALF" ] || continue
	export path f
	case $f in
	corrupt-*)
		test_expect_success "corpus (damaged): $f" '
			size=$(( $(stat -c %s "$path") / 4 + 2048 )) &&
			set +e &&
			$SHARDCAP split -q -s $size -o out "$path" > /dev/null 2> .err
			st=$? &&
			set -e &&
			echo "status $st: $(cat .err)" &&
			test $st -ge 4 && test $st -le 10 &&
			expect_eq "$(grep -c . .err)" 1 &&
			grep -q "at byte [0-9]*:" .err &&
			if [ -d out ]; then
				! ls -A out | grep -q "^\." &&
				$PCAPDUMP $(ls out/*) > /dev/null &&
				opens_cleanly out/*
			fi
		'
		;;
	*)
		test_expect_success "corpus: $f" '
			size=$(( $(stat -c %s "$path") / 3 + 1024 )) &&
			$SHARDCAP split -q --json -s $size -o out "$path" > m.json &&
			same_records "$path" out &&
			within_size out $size &&
			manifest_matches out m.json &&
			if capinfos "$path" > /dev/null 2>&1; then
				frames "$path" > want &&
				clean_frames $(ls out/*) > got &&
				cmp want got
			fi &&
			if tcpdump -nr "$path" > /dev/null 2>&1; then
				for c in out/*; do
					tcpdump -nr $c > /dev/null 2> err || {
						cat err; exit 1; }
				done
			fi
		'
		;;
	esac
done

[ "$CORPUS_HALF" -eq 0 ] &&
test_expect_success 'corpus: inspect counts what capinfos counts' '
	for path in "$CAPTURES"/*.pcap "$CAPTURES"/*.pcapng; do
		case $(basename $path) in corrupt-*|*custom*|*all-block*|*mixed-endian*) continue ;; esac
		capinfos -c -M "$path" > ci 2>/dev/null || continue
		want=$(sed -n "s/^Number of packets: *//p" ci)
		$SHARDCAP inspect --json "$path" > i.json || { echo "$path"; exit 1; }
		got=$(python3 -c "import json; print(json.load(open(\"i.json\"))[\"packets\"])")
		expect_eq "$got" "$want" "$path" || exit 1
	done
'

test_done
