#!/bin/sh
# Damaged captures: the documented exit status, one line on stderr naming
# the file and the byte offset of the damage; the complete packets before
# the damage kept in sound chunks, or nothing at all if there are none;
# never a temporary or half-written file. Chunks of 32K: a few before
# the damage, each opened by tshark.
. "$(dirname "$0")/../lib.sh"

for v in $($GENCAP list-bad); do
	test_expect_success "damaged: $v" '
		$GENCAP $v -n 300 -o in.cap --expect > expect &&
		eval "$(sed "s/ /; /g" expect)" &&
		expect_status $exit $SHARDCAP split -q -s 32K -o out in.cap &&
		expect_eq "$(grep -c . .err)" 1 "stderr lines" &&
		grep -q "'"'"'in.cap'"'"'" .err &&
		grep -q "at byte $offset:" .err &&
		if [ "$packets" -gt 0 ]; then
			grep -q "dropped" .err &&
			ls -A out > listing &&
			! grep -q "^\." listing &&
			$PCAPDUMP $(ls out/*) > got &&
			expect_eq "$(wc -l < got)" "$packets" "packets kept" &&
			opens_cleanly out/*
		else
			test ! -e out
		fi
	'
done

test_expect_success 'the kept packets are the first ones, unchanged' '
	$GENCAP pcap-bad-caplen -n 300 -o bad.cap --expect > expect &&
	$GENCAP pcap-le-us -n 300 -o good.cap &&
	expect_status 7 $SHARDCAP split -q -s 8K -o out bad.cap &&
	$PCAPDUMP out/* > got &&
	$PCAPDUMP good.cap | head -n "$(wc -l < got)" > want &&
	cmp want got
'

test_expect_success 'inspect reports the same damage with the same status' '
	$GENCAP pcapng-trailer -n 300 -o in.cap --expect > expect &&
	eval "$(sed "s/ /; /g" expect)" &&
	expect_status $exit $SHARDCAP inspect in.cap > out.txt &&
	grep -q "damage: .*at byte $offset" out.txt &&
	grep -q "^packets: *$packets$" out.txt
'

test_done
