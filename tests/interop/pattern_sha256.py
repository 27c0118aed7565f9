#!/usr/bin/env python3
"""SHA-256 of the first N bytes of Oasis's test pattern (what /bytes/N serves),
computed independently of the C code: byte i is (i mod 251 + i div 65536) mod 256.
Usage: pattern_sha256.py N"""
import hashlib
import sys


def main():
    n = int(sys.argv[1])
    base = bytes(i % 251 for i in range(251 + 65536))
    h = hashlib.sha256()
    for block in range((n + 65535) // 65536):
        start = block * 65536
        length = min(65536, n - start)
        j = start % 251
        shift = bytes((x + block) & 255 for x in range(256))
        h.update(base[j:j + length].translate(shift))
    print(h.hexdigest())


if __name__ == "__main__":
    main()
