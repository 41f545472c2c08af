#!/bin/sh
# The generator's promises: deterministic output, captures tshark decodes
# without complaint, and DNS whose density per 25 MiB follows the paper's
# Figure 1.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'the same seed gives the same bytes, another seed others' '
	$GENCAP mixed --size 5M --seed 7 -o a.pcap &&
	$GENCAP mixed --size 5M --seed 7 -o b.pcap &&
	$GENCAP mixed --size 5M --seed 8 -o c.pcap &&
	cmp a.pcap b.pcap &&
	! cmp -s a.pcap c.pcap &&
	for v in $($GENCAP list) $($GENCAP list-bad); do
		$GENCAP $v -o x1 && $GENCAP $v -o x2 && cmp x1 x2 || exit 1
	done
'

test_expect_success 'the mixed capture decodes with no warning or error' '
	$GENCAP mixed --size 40M -o m.pcap --stats 2> stats &&
	tshark_q -r m.pcap -q -z expert > expert &&
	! grep -E "^(Errors|Warns) \\(" expert &&
	tshark_q -r m.pcap -Y "_ws.malformed" -T fields -e frame.number > bad &&
	test ! -s bad &&
	responses=$(sed -n "s/.*dns_responses=\([0-9]*\).*/\1/p" stats) &&
	tshark_q -r m.pcap -Y "dns.flags.response == 1" -T fields -e dns.qry.name > names &&
	expect_eq "$(wc -l < names)" "$responses" &&
	! grep -q "^$" names &&
	tshark_q -r m.pcap -Y "dns.flags.response == 1 && dns.flags.rcode == 0" \
	    -T fields -e dns.a -e dns.aaaa -e dns.cname -e dns.mx.mail_exchange \
	    -e dns.txt > answers &&
	! grep -q "^[[:space:]]*$" answers
'

test_expect_success 'the pcapng version decodes with no warning either' '
	$GENCAP mixed --size 20M --pcapng -o m.pcapng --stats 2> stats &&
	$SHARDCAP inspect m.pcapng > i &&
	grep -q "^format: *pcapng, 1 section$" i &&
	tshark_q -r m.pcapng -q -z expert > expert &&
	! grep -E "^(Errors|Warns) \\(" expert &&
	responses=$(sed -n "s/.*dns_responses=\([0-9]*\).*/\1/p" stats) &&
	tshark_q -r m.pcapng -Y "dns.flags.response == 1" -T fields -e dns.qry.name > names &&
	expect_eq "$(wc -l < names)" "$responses"
'

test_expect_success 'DNS responses per 25 MiB chunk follow the paper (Figure 1)' '
	$GENCAP mixed --size 695M -o paper.pcap &&
	$SHARDCAP split -q -o chunks paper.pcap > /dev/null &&
	rm paper.pcap &&
	for c in chunks/*; do
		tcpdump -nr $c "udp src port 53 and (udp[10] & 0x80) != 0" 2>/dev/null | wc -l
	done > counts &&
	python3 - <<-PY
	import statistics
	profile = [356, 1310, 897, 1042, 174, 330, 418, 378, 389, 420, 2393,
	           923, 419, 358, 561, 417, 796, 80, 179, 1963, 497, 841, 379,
	           364, 588, 744, 388]
	counts = [int(x) for x in open("counts")]
	full = counts[:27]
	assert len(counts) == 28, len(counts)
	for i, (got, want) in enumerate(zip(full, profile)):
	    assert abs(got - want) <= 3, (i + 1, got, want)
	print("27 chunks:", sum(full), "responses, mean %.0f, median %d, "
	      "min %d, max %d, sd %.2f" % (statistics.mean(full),
	      statistics.median(full), min(full), max(full), statistics.stdev(full)))
	assert abs(sum(full) - 17604) <= 30
	assert abs(statistics.stdev(full) - 526.83) < 5
	PY
'

test_done
