#!/bin/sh
# shardcap run (ad hoc) over the public corpus: for every capture the tools
# read, the output over its chunks equals the output over the whole file.
# test-slow
. "$(dirname "$0")/../lib.sh"

if [ ! -d "$CAPTURES" ]; then
	test_skip "public capture corpus" "no $CAPTURES"
	test_done
	exit
fi

for path in "$CAPTURES"/*; do
	f=$(basename "$path")
	case $f in corrupt-*|*.md|*.tsv|SHA256SUMS) continue ;; esac
	export path f
	test_expect_success "run over chunks of $f" '
		size=$(( $(stat -c %s "$path") / 3 + 1024 )) &&
		if tshark -r "$path" -T fields -e frame.time_epoch -e frame.len \
		    -e ip.src -e ip.dst > whole 2>/dev/null; then
			$SHARDCAP run -q --workers 2 --size $size "$path" -- tshark -r {} \
			    -T fields -e frame.time_epoch -e frame.len -e ip.src \
			    -e ip.dst 2>/dev/null | sort > got &&
			sort whole > want &&
			cmp want got
		fi &&
		if tcpdump -nr "$path" -c 1 > /dev/null 2>&1; then
			$SHARDCAP run -q --workers 2 --size $size "$path" -- tcpdump \
			    -nS -tt -r {} 2>/dev/null | sort > got &&
			tcpdump -nS -tt -r "$path" 2>/dev/null | sort > want &&
			cmp want got
		fi
	'
done

test_done
