#!/usr/bin/env python3
"""respan.py - spreads a pcap's packets over a span of time, for the tests.

    respan.py IN OUT START SPAN [STRAY]

Writes OUT: the pcap IN (either byte order, micro- or nanoseconds) with
the time stamp of packet i (from 0, of n) set to START + i * SPAN / n
seconds, so that a capture of any shape covers SPAN seconds evenly.
STRAY, a packet number: that packet alone gets the time stamp of the
middle of the span, out of order with its neighbours (a capture merged
from two interfaces has such packets). Records are otherwise copied
byte for byte.
"""
import struct
import sys


def main():
    src, dst, start, span = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
        float(sys.argv[4])
    stray = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    data = open(src, 'rb').read()
    magic = data[:4]
    kinds = {b'\xd4\xc3\xb2\xa1': ('<', 10**6), b'\xa1\xb2\xc3\xd4': ('>', 10**6),
             b'\x4d\x3c\xb2\xa1': ('<', 10**9), b'\xa1\xb2\x3c\x4d': ('>', 10**9)}
    if magic not in kinds:
        sys.exit('respan.py: %s is not a pcap' % src)
    order, units = kinds[magic]
    offsets = []
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(order + 'I', data[pos + 8:pos + 12])[0]
        offsets.append(pos)
        pos += 16 + caplen
    n = len(offsets)
    out = bytearray(data)
    first = int(round(start * units))
    for i, off in enumerate(offsets):
        t = first + (i * int(span * units)) // max(n, 1)
        if i == stray:
            t = first + int(span * units) // 2
        struct.pack_into(order + 'II', out, off, t // units, t % units)
    open(dst, 'wb').write(out)


if __name__ == '__main__':
    main()
