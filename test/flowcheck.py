#!/usr/bin/env python3
"""flowcheck.py - checks a split in the flow layout, for the tests.

    flowcheck.py ORIGINAL CHUNK...
    flowcheck.py ORIGINAL MANIFEST.json

Reads the packets of ORIGINAL and of the chunks with pcapdump.py (an
independent reader) and checks that every packet of ORIGINAL is in exactly
one chunk, byte for byte, that each chunk holds its packets in ORIGINAL's
order, and that the blocks a capture holds once (statistics, custom,
unknown) are in the chunks once. Then reads each chunk's Ethernet/IPv4 TCP and UDP
packets itself and checks that no flow (addresses and ports, both ways
together) is in two chunks - but in the chunks of one group (a
manifest's "group": an elephant flow's consecutive chunks), which must
be consecutive and hold more than a chunk's worth. Prints what it found;
exit 1 on any fault.
"""
import collections
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapdump  # noqa: E402


def packet_lines(path):
    """pcapdump's line of each packet record of path, in order."""
    return pcapdump.records(path)[0]


def block_lines(path):
    """pcapdump's line of each block a file holds once (statistics,
    custom, unknown), in order."""
    return pcapdump.records(path)[1]


def flows(path):
    """The flows of the Ethernet/IPv4 TCP and UDP packets of a pcap."""
    data = pcapdump.read_bytes(path)
    if data[:4] not in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        return set()
    out = set()
    at = 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from('<I', data, at + 8)[0]
        p = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if len(p) < 34 or p[12:14] != b'\x08\x00':
            continue
        ihl = (p[14] & 15) * 4
        proto = p[23]
        if proto not in (6, 17) or len(p) < 14 + ihl + 4:
            continue
        if struct.unpack_from('>H', p, 20)[0] & 0x1fff:
            continue
        a = (p[26:30], struct.unpack_from('>H', p, 14 + ihl)[0])
        b = (p[30:34], struct.unpack_from('>H', p, 14 + ihl + 2)[0])
        out.add((proto,) + tuple(sorted([a, b])))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    original, chunks = sys.argv[1], sys.argv[2:]
    group = {}
    faults = 0
    if len(chunks) == 1 and chunks[0].endswith('.json'):
        with open(chunks[0]) as f:
            m = json.load(f)
        chunks = [c['path'] for c in m['chunks']]
        for c in m['chunks']:
            if c['group']:
                group[c['path']] = c['group']
                first = m['chunks'][c['group'] - 1]
                if first['group'] != c['group'] or c['index'] < c['group']:
                    print('%s: in group %d, which does not begin there'
                          % (c['path'], c['group']))
                    faults += 1
        for g in set(group.values()):
            parts = [c for c in m['chunks'] if c['group'] == g]
            if len(parts) < 2 or [c['index'] for c in parts] != list(
                    range(g, g + len(parts))):
                print('group %d: not two or more consecutive chunks' % g)
                faults += 1
    where = collections.defaultdict(list)
    for i, line in enumerate(packet_lines(original)):
        where[line].append(i)
    taken = collections.Counter()
    for c in chunks:
        last = -1
        for line in packet_lines(c):
            k = taken[line]
            if k >= len(where[line]):
                print('%s: a packet not in the original, or twice: %s'
                      % (c, line))
                faults += 1
                continue
            taken[line] += 1
            i = where[line][k]
            if i < last:
                print('%s: packet %d after packet %d' % (c, i, last))
                faults += 1
            last = i
    blocks = collections.Counter(block_lines(original))
    got = collections.Counter()
    for c in chunks:
        got.update(block_lines(c))
    if blocks != got:
        print('the blocks held once differ: %d in the original, %d in the '
              'chunks' % (sum(blocks.values()), sum(got.values())))
        faults += 1
    lost = sum(len(v) for v in where.values()) - sum(taken.values())
    if lost:
        print('%d packets of the original in no chunk' % lost)
        faults += 1
    seen = {}
    for c in chunks:
        for f in flows(c):
            if f in seen and seen[f] != group.get(c, c):
                print('a flow in %s and in %s' % (seen[f], c))
                faults += 1
            seen[f] = group.get(c, c)
    print('%d packets, %d flows, %d chunks, %d faults'
          % (sum(taken.values()), len(seen), len(chunks), faults))
    return 1 if faults else 0


if __name__ == '__main__':
    sys.exit(main())
