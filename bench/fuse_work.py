#!/usr/bin/env python3
"""fuse_work.py - the workloads of bench/fuse.sh, the same code for every
file system so that only the file system differs.  Each prints one line:
"<metric value> <unit> <seconds>".

  seqwrite FILE MIB      sequential 1 MiB writes, then fsync      -> MB/s
  seqread FILE           sequential 1 MiB reads                   -> MB/s
  randwrite FILE COUNT   4 KiB writes at random aligned offsets
                         (seeded), then fsync                     -> IOPS
  create DIR N           N files of 1 KiB                         -> files/s
  stat DIR N             stat each                                -> files/s
  delete DIR N           unlink each                              -> files/s
"""
import os
import random
import sys
import time

MIB = 1 << 20


def seqwrite(path, mib):
    buf = bytes(range(256)) * (MIB // 256)
    t = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for _ in range(mib):
        os.write(fd, buf)
    os.fsync(fd)
    os.close(fd)
    dt = time.perf_counter() - t
    return mib * MIB / dt / 1e6, "MB/s", dt


def seqread(path):
    t = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    n = 0
    while True:
        b = os.read(fd, MIB)
        if not b:
            break
        n += len(b)
    os.close(fd)
    dt = time.perf_counter() - t
    return n / dt / 1e6, "MB/s", dt


def randwrite(path, count):
    rng = random.Random(42)
    size = os.path.getsize(path)
    blocks = size // 4096
    buf = b"r" * 4096
    t = time.perf_counter()
    fd = os.open(path, os.O_WRONLY)
    for _ in range(count):
        os.pwrite(fd, buf, rng.randrange(blocks) * 4096)
    os.fsync(fd)
    os.close(fd)
    dt = time.perf_counter() - t
    return count / dt, "IOPS", dt


def files(op, d, n):
    data = b"s" * 1024
    t = time.perf_counter()
    for i in range(n):
        p = os.path.join(d, "f%05d" % i)
        if op == "create":
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, data)
            os.close(fd)
        elif op == "stat":
            os.stat(p)
        else:
            os.unlink(p)
    dt = time.perf_counter() - t
    return n / dt, "files/s", dt


def main():
    a = sys.argv[1:]
    if a[0] == "seqwrite":
        r = seqwrite(a[1], int(a[2]))
    elif a[0] == "seqread":
        r = seqread(a[1])
    elif a[0] == "randwrite":
        r = randwrite(a[1], int(a[2]))
    elif a[0] in ("create", "stat", "delete"):
        r = files(a[0], a[1], int(a[2]))
    else:
        sys.exit("bad workload")
    print("%.1f %s %.3f" % r)


if __name__ == "__main__":
    main()
