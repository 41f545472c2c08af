#!/bin/sh
# Every capture variant the generator writes, split into several chunks:
# the chunks open cleanly in capinfos, tshark and (where it can read the
# original) tcpdump; they hold exactly the original's packets and other
# blocks, in order, byte for byte (an independent reader and tshark's own
# view agree); no chunk exceeds the size; the manifest is true. The
# variants are shared with t0101 (which runs this file with
# VARIANTS_HALF=1), so that the two halves run at once.
# test-slow
. "$(dirname "$0")/../lib.sh"
: "${VARIANTS_HALF:=0}"

i=0
for v in $($GENCAP list); do
	i=$((i + 1))
	[ $((i % 2)) -ne "$VARIANTS_HALF" ] || continue
	test_expect_success "split $v" '
		$GENCAP $v -n 300 -o in.cap &&
		size=$(( $(stat -c %s in.cap) / 5 + 200 )) &&
		$SHARDCAP split -q --json -s $size -o out in.cap > manifest.json &&
		n=$(ls out | wc -l) &&
		echo "$n chunks of at most $size bytes" &&
		case $v in *empty*) ;; *) test "$n" -ge 4 ;; esac &&
		expect_eq "$(ls -A out | grep -c "^\.")" 0 "hidden files" &&
		same_records in.cap out &&
		within_size out $size &&
		manifest_matches out manifest.json &&
		frames in.cap > want-frames &&
		clean_frames $(ls out/*) > got-frames &&
		cmp want-frames got-frames &&
		if tcpdump -nr in.cap >/dev/null 2>&1; then
			for c in out/*; do
				tcpdump -nr $c > /dev/null 2>tcpdump.err || {
					cat tcpdump.err; exit 1; }
			done
		fi &&
		rm -rf out in.cap
	'
done

if [ "$VARIANTS_HALF" -eq 1 ]; then
	test_done
	exit
fi

test_expect_success 'pcapng chunks keep each interface and its link type' '
	$GENCAP pcapng-multi-if -n 400 -o in.pcapng &&
	$SHARDCAP split -q -s 8K -o out in.pcapng > /dev/null &&
	tshark_q -r in.pcapng -T fields -e frame.interface_id -e frame.interface_name \
	    -e frame.encap_type > want &&
	for c in out/*; do
		tshark_q -r $c -T fields -e frame.interface_id -e frame.interface_name \
		    -e frame.encap_type
	done > got &&
	cmp want got &&
	cut -f3 got | sort -u | wc -l > types &&
	test "$(cat types)" -ge 4
'

test_expect_success 'decryption secrets reach every chunk after them' '
	$GENCAP pcapng-dsb -n 200 -o in.pcapng &&
	$SHARDCAP split -q -s 8K -o out in.pcapng > /dev/null &&
	for c in out/*; do
		$SHARDCAP inspect --json $c > i.json &&
		python3 -c "import json,sys; assert json.load(open(\"i.json\"))[\"blocks\"][\"dsb\"] >= 1" || exit 1
	done
'

test_expect_success 'a real section length is not copied into chunks' '
	$GENCAP pcapng-section-length -n 200 -o in.pcapng &&
	$SHARDCAP split -q -s 8K -o out in.pcapng > /dev/null &&
	for c in out/*; do
		od -A n -t x1 -j 16 -N 8 $c | tr -d " \n" > len &&
		expect_eq "$(cat len)" ffffffffffffffff "$c" || exit 1
	done
'

test_expect_success 'default size is 25 MiB' '
	$GENCAP mixed --size 60M -o big.pcap &&
	$SHARDCAP split -q -o out big.pcap > /dev/null &&
	expect_eq "$(ls out | wc -l)" 3 &&
	within_size out 26214400 &&
	same_records big.pcap out
'

test_done
