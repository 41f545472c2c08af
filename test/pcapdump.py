#!/usr/bin/env python3
"""pcapdump.py - an independent reader of pcap and pcapng, for the tests.

It shares no code with shardcap: the tests compare what shardcap wrote with
what this reader (and tshark) make of the original. For the files given, in
order, it prints one line per packet record:

    LINKTYPE IFACE TIMESTAMP CAPLEN ORIGLEN SHA1-OF-THE-WHOLE-RECORD

so that the packets of a capture and the concatenated packets of its chunks
can be compared with diff. --blocks prints the pcapng blocks that must
appear exactly once and in order (statistics, custom, unknown ones);
--stats prints per file its size, packets and content blocks. Any
structural fault in a file is an error (exit 1), so a chunk that is not a
valid capture on its own fails the test.
"""
import gzip
import hashlib
import struct
import subprocess
import sys

PACKET_TYPES = {2, 3, 6}
REPEATED_TYPES = {1, 4, 10}     # IDB, NRB, DSB: chunks repeat them


class Fault(Exception):
    pass


def read_bytes(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        return gzip.decompress(data)
    if data[:4] == b'\x28\xb5\x2f\xfd':
        return subprocess.run(['zstd', '-dc'], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def pcap(data, path, out):
    magic = data[:4]
    if magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d', b'\xa1\xb2\xcd\x34'):
        e = '>'
    else:
        e = '<'
    raw_magic = struct.unpack(e + 'I', magic)[0]
    hdr_len = 24 if raw_magic == 0xa1b2cd34 else 16
    if len(data) < 24:
        raise Fault('%s: short pcap header' % path)
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    off = 24
    packets = 0
    while off < len(data):
        if off + hdr_len > len(data):
            raise Fault('%s: truncated record header at %d' % (path, off))
        sec, frac, caplen, origlen = struct.unpack(e + 'IIII', data[off:off + 16])
        end = off + hdr_len + caplen
        if end > len(data):
            raise Fault('%s: truncated record at %d' % (path, off))
        rec = data[off:end]
        out['packets'].append('%d 0 %d.%d %d %d %s' % (
            linktype, sec, frac, caplen, origlen,
            hashlib.sha1(rec).hexdigest()))
        packets += 1
        off = end
    out['files'].append((path, len(data), packets, packets))


def pcapng(data, path, out):
    off = 0
    e = None
    ifaces = []
    packets = 0
    content = 0
    while off < len(data):
        if off + 12 > len(data):
            raise Fault('%s: truncated block at %d' % (path, off))
        btype_le = struct.unpack('<I', data[off:off + 4])[0]
        if btype_le == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            if bom == b'\x1a\x2b\x3c\x4d':
                e = '>'
            elif bom == b'\x4d\x3c\x2b\x1a':
                e = '<'
            else:
                raise Fault('%s: bad byte-order magic at %d' % (path, off))
            ifaces = []
        elif e is None:
            raise Fault('%s: no section header at %d' % (path, off))
        btype, blen = struct.unpack(e + 'II', data[off:off + 8])
        if blen < 12 or blen % 4 or off + blen > len(data):
            raise Fault('%s: bad block length %d at %d' % (path, blen, off))
        if struct.unpack(e + 'I', data[off + blen - 4:off + blen])[0] != blen:
            raise Fault('%s: trailer mismatch at %d' % (path, off))
        block = data[off:off + blen]
        body = block[8:-4]
        if btype == 0x0A0D0D0A:
            section_len = struct.unpack(e + 'q', body[8:16])[0]
            if section_len != -1:
                # a real section length must then be right
                end = off + blen + section_len
                if end > len(data):
                    raise Fault('%s: section length runs past the file' % path)
        elif btype == 1:
            lt, _, snap = struct.unpack(e + 'HHI', body[:8])
            ifaces.append((lt, snap))
        elif btype in PACKET_TYPES:
            if btype == 6:
                iface, hi, lo, caplen, origlen = struct.unpack(e + 'IIIII', body[:20])
                ts = '%d' % (hi << 32 | lo)
            elif btype == 2:
                iface, _, hi, lo, caplen, origlen = struct.unpack(e + 'HHIIII', body[:20])
                ts = '%d' % (hi << 32 | lo)
            else:
                iface = 0
                origlen = struct.unpack(e + 'I', body[:4])[0]
                caplen = min(origlen, ifaces[0][1] or origlen) if ifaces else 0
                ts = '-'
            if iface >= len(ifaces):
                raise Fault('%s: packet names interface %d of %d at %d'
                            % (path, iface, len(ifaces), off))
            out['packets'].append('%d %d %s %d %d %s' % (
                ifaces[iface][0], iface, ts, caplen, origlen,
                hashlib.sha1(block).hexdigest()))
            packets += 1
        if btype not in PACKET_TYPES and btype not in REPEATED_TYPES \
                and btype != 0x0A0D0D0A:
            out['blocks'].append('%08x %s' % (btype, hashlib.sha1(block).hexdigest()))
        if btype != 0x0A0D0D0A and btype not in REPEATED_TYPES:
            content += 1
        off += blen
    out['files'].append((path, len(data), packets, content))


def read_into(path, out):
    """Reads one file's records into out (Fault if it is not a sound
    capture)."""
    data = read_bytes(path)
    if data[:4] == b'\x0a\x0d\x0d\x0a':
        pcapng(data, path, out)
    elif len(data) >= 4 and data[:4] in (
            b'\xa1\xb2\xc3\xd4', b'\xd4\xc3\xb2\xa1',
            b'\xa1\xb2\x3c\x4d', b'\x4d\x3c\xb2\xa1',
            b'\xa1\xb2\xcd\x34', b'\x34\xcd\xb2\xa1'):
        pcap(data, path, out)
    else:
        raise Fault('%s: not a capture' % path)


def records(path):
    """The packet lines and block lines of one file."""
    out = {'packets': [], 'blocks': [], 'files': []}
    read_into(path, out)
    return out['packets'], out['blocks']


def main():
    mode = 'packets'
    files = []
    for a in sys.argv[1:]:
        if a in ('--packets', '--blocks', '--stats'):
            mode = a[2:]
        else:
            files.append(a)
    out = {'packets': [], 'blocks': [], 'files': []}
    try:
        for path in files:
            read_into(path, out)
    except (Fault, struct.error, IndexError) as err:
        print('pcapdump: %s' % err, file=sys.stderr)
        return 1
    if mode == 'stats':
        for path, size, packets, content in out['files']:
            print('%s %d %d %d' % (path, size, packets, content))
    else:
        for line in out[mode]:
            print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
