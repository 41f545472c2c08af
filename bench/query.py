#!/usr/bin/env python3
"""bench/query.py - the measuring half of bench/query (which sets up the
captures and clusters and says what is measured): ROUNDS QUERIES MODES
SHAPE=FILE...; the clusters in $TRASH/c2 and $TRASH/c1."""
import os
import statistics
import subprocess
import sys
import threading
import time

SC = os.environ["SHARDCAP"]
TRASH = os.environ["TRASH"]
CG = "/sys/fs/cgroup/cpuacct"
REF_ENV = dict(os.environ, TZ=":/etc/localtime") \
    if os.environ.get("PIN_TZ") == "1" else None

QUERIES = {
    "paper": ["tshark", "-r", "{}", "-Y", "dns.flags.response==1",
              "-T", "fields", "-e", "dns.qry.name"],
    "fields": ["tshark", "-r", "{}", "-T", "fields", "-e", "frame.time_epoch",
               "-e", "ip.src", "-e", "ip.dst", "-e", "frame.len",
               "-e", "_ws.col.Protocol"],
    "tcpdump": ["tcpdump", "-nq", "-r", "{}"],
}
MODES = {
    "default": [],
    "no-warm": ["--no-warm"],
    "batch8": ["--no-warm", "--batch", "8"],
}


def whole(query, path):
    return [path if a == "{}" else a for a in QUERIES[query]]


def sharded(query, name, mode, workers=2):
    return [SC, "run", "-q"] + MODES[mode] + [name, "--"] + QUERIES[query], \
        dict(os.environ, SHARDCAP_DIR=os.path.join(TRASH, "c%d" % workers,
                                                   ".shardcap"))


class Group:
    """A cpuacct cgroup the command and everything it starts run in."""
    serial = 0

    def __init__(self):
        Group.serial += 1
        self.path = os.path.join(CG, "bench-query-%d-%d" % (os.getpid(),
                                                             Group.serial))
        os.mkdir(self.path)

    def seconds(self):
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def remove(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)     # a last process still leaving


def memory_of(pids, names):
    """of the processes named in names: the largest VmHWM, the largest
    private memory (what is its alone: a forked child's own pages, not
    those it shares with the warm tool), the sum of their PSS (each shared
    page counted once over its sharers: the whole run's memory); KB"""
    hwm = priv = pss = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or (pids is not None and int(pid) not in pids):
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                st = f.read()
            name = st.split("\n", 1)[0].split("\t")[-1]
            if name not in names:
                continue
            for line in st.splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
            mine = 0
            with open("/proc/%s/smaps_rollup" % pid) as f:
                for line in f:
                    k = line.split()
                    if k[0] in ("Private_Clean:", "Private_Dirty:"):
                        mine += int(k[1])
                    elif k[0] == "Pss:":
                        pss += int(k[1])
            priv = max(priv, mine)
        except (OSError, IndexError, ValueError):
            continue
    return hwm, priv, pss


def start(argv, env, cpu, group, out):
    pre = ["taskset", "-c", str(cpu)] if cpu is not None else []
    return subprocess.Popen(
        pre + ["sh", "-c", 'echo $$ > "$0/tasks" && exec "$@"', group.path]
        + argv, env=env, stdout=out, stderr=subprocess.DEVNULL)


def group_pids(group):
    try:
        with open(os.path.join(group.path, "tasks")) as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


def timed(argv, env=None, keep=False):
    """one run on any CPU: wall seconds, CPU seconds, the tools' memory
    at its peak (memory_of: [hwm, private, pss]), its output's lines
    sorted (keep)"""
    g = Group()
    tool = {"tshark", "tcpdump", "ngrep"}
    peak, done = [0, 0, 0], threading.Event()

    def sample():
        while not done.is_set():
            now = memory_of(group_pids(g), tool)
            for i in range(3):
                peak[i] = max(peak[i], now[i])
            time.sleep(0.05)
    th = threading.Thread(target=sample)
    th.start()
    t = time.perf_counter()
    p = start(argv, env, None, g, subprocess.PIPE if keep else
              subprocess.DEVNULL)
    out = p.communicate()[0]
    wall = time.perf_counter() - t
    done.set()
    th.join()
    time.sleep(0.1)
    cpu = g.seconds()
    g.remove()
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d" % (" ".join(argv), p.returncode))
    return wall, cpu, peak, sorted(out.splitlines()) if keep else None


def together(a, b, cpu):
    """a and b (argv, env) started at once on the same CPU: their CPU
    seconds"""
    ga, gb = Group(), Group()
    pa = start(a[0], a[1], cpu, ga, subprocess.DEVNULL)
    pb = start(b[0], b[1], cpu, gb, subprocess.DEVNULL)
    pa.wait()
    pb.wait()
    time.sleep(0.1)
    r = ga.seconds(), gb.seconds()
    ga.remove()
    gb.remove()
    if pa.returncode or pb.returncode:
        sys.exit("bench/query: a run failed: %d %d" % (pa.returncode,
                                                      pb.returncode))
    return r


def two_at_once(argv, env=None):
    """two copies of the whole-file tool started at once, any CPUs: the
    wall time until both have ended"""
    t = time.perf_counter()
    ps = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) for _ in range(2)]
    for p in ps:
        p.wait()
    return time.perf_counter() - t


def spread(v):
    return "%.2f (%.2f-%.2f)" % (statistics.median(v), min(v), max(v))


def main():
    rounds = int(sys.argv[1])
    queries = sys.argv[2].split(",")
    modes = sys.argv[3].split(",")
    shapes = [a.split("=", 1) for a in sys.argv[4:]]
    ncpu = os.cpu_count() or 1
    print("# bench/query: %d rounds, %d CPUs, %s\n" % (
        rounds, ncpu, subprocess.run(["tshark", "--version"],
                                     capture_output=True, text=True)
        .stdout.split("\n")[0]))
    print("cpu: CPU seconds of all the run's processes over the whole-file "
          "tool's, started together on one CPU; wall: the whole-file tool's "
          "wall time over the run's on 2 local workers (the speedup); host: "
          "two runs of the whole-file tool at once over the time of one, the "
          "speedup this host gives two CPUs in that round; 1w: "
          "the run's wall time on 1 local worker over the tool's (one after "
          "the other), and its CPU seconds over the tool's (together on one "
          "CPU); medians of per-round "
          "ratios (min-max); RSS: the largest tool process's peak, and its "
          "share of the whole-file tool's; private: the largest private "
          "memory of one tool process (its own pages: a warm child's chunk "
          "state, not the set-up it shares); all PSS: every tool process's "
          "PSS together at the peak (sampled every 50 ms). shardcap's "
          "jobs get this machine's zone by its name; the whole-file tool %s.\n"
          % ("with TZ=:/etc/localtime (--pin-tz): the ratios are the "
             "sharding's alone"
             if REF_ENV else "as typed, TZ unset (--pin-tz pins it too)"))
    print("| shape | query | way | whole-file tool | cpu | wall speedup "
          "| 1w | RSS | same lines |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    worst = {"cpu": (0, ""), "wall": (99, ""), "1w": (0, "")}
    worst_host = 99
    worst_mem = (0, 0, "")
    same_all = True
    for shape, path in shapes:
        size = os.path.getsize(path)
        for q in queries:
            # the whole-file tool as typed (TZ unset), or with the zone
            # pinned as shardcap's jobs have it (--pin-tz)
            ref = (whole(q, path), REF_ENV)
            try:
                want = timed(ref[0], ref[1], keep=True)[3]
            except RuntimeError as e:
                # libpcap refuses pcapng of mixed link types (tcpdump)
                print("| %s (%.0f MB) | %s | whole file | %s | | | | | |" % (
                    shape, size / 1e6, q, e))
                continue
            ref_wall, ref_cpu, ref_rss, capacity = [], [], 0, []
            res = {m: {"cpu": [], "wall": [], "1w": [], "1wcpu": [],
                       "rss": 0,
                       "priv": 0, "pss": 0,
                       "same": True} for m in modes}
            for r in range(rounds):
                for m in modes:
                    run = sharded(q, shape, m)
                    # CPU: together on one CPU, the CPU alternating
                    a, b = together(ref, run, r % ncpu)
                    res[m]["cpu"].append(b / a)
                    # wall: one after the other, the order alternating
                    pair = [("ref", ref), ("run", run)]
                    got = {}
                    for k, cmd in (pair if r % 2 == 0 else pair[::-1]):
                        got[k] = timed(cmd[0], cmd[1], keep=(k == "run"))
                    w, c, rss, _ = got["ref"]
                    # what this host gives two CPUs at once, measured
                    # now: two runs of the tool over the time of one
                    if m == modes[0]:
                        capacity.append(2 * w / two_at_once(*ref))
                    ref_wall.append(w)
                    ref_cpu.append(c)
                    ref_rss = max(ref_rss, rss[0])
                    w2, _, rss2, lines2 = got["run"]
                    res[m]["wall"].append(w / w2)
                    res[m]["rss"] = max(res[m]["rss"], rss2[0])
                    res[m]["priv"] = max(res[m]["priv"], rss2[1])
                    res[m]["pss"] = max(res[m]["pss"], rss2[2])
                    res[m]["same"] &= lines2 == want
                    # 1 worker, then the tool: the order alternating
                    one = sharded(q, shape, m, workers=1)
                    # and its CPU seconds, paired on one CPU as above:
                    # a sequential wall ratio moves with the host
                    a, b = together(ref, one, (r + 1) % ncpu)
                    res[m]["1wcpu"].append(b / a)
                    order = [one, ref] if r % 2 == 0 else [ref, one]
                    t = [timed(c[0], c[1])[0] for c in order]
                    res[m]["1w"].append(t[0] / t[1] if r % 2 == 0 else
                                        t[1] / t[0])
            print("| %s (%.0f MB) | %s | %s | %.2f s, %.2f CPU s, %d MB "
                  "| | host: %s | | %d MB | |" % (
                      shape, size / 1e6, q, "whole file",
                      statistics.median(ref_wall), statistics.median(ref_cpu),
                      ref_rss // 1024, spread(capacity), ref_rss // 1024))
            worst_host = min(worst_host, statistics.median(capacity))
            for m in modes:
                v = res[m]
                same_all &= v["same"]
                print("| %s | %s | shardcap %s | | %s | %s | %s | %d MB "
                      "(%.0f%%); private %d MB (%.0f%%); all PSS %d MB | %s |"
                      % (shape, q, m, spread(v["cpu"]), spread(v["wall"]),
                         spread(v["1w"]) + "; cpu " + spread(v["1wcpu"]),
                         v["rss"] // 1024,
                         100.0 * v["rss"] / max(ref_rss, 1),
                         v["priv"] // 1024,
                         100.0 * v["priv"] / max(ref_rss, 1),
                         v["pss"] // 1024, "yes" if v["same"] else "NO"))
                if m != "default":
                    continue
                label = "%s/%s" % (shape, q)
                share = (v["priv"] / max(ref_rss, 1),
                         v["rss"] / max(ref_rss, 1), label)
                worst_mem = max(worst_mem, share)
                c = statistics.median(v["cpu"])
                s = statistics.median(v["wall"])
                o = statistics.median(v["1w"])
                if c > worst["cpu"][0]:
                    worst["cpu"] = (c, label)
                if s < worst["wall"][0]:
                    worst["wall"] = (s, label)
                if o > worst["1w"][0]:
                    worst["1w"] = (o, label)
            sys.stdout.flush()
    print("\n- CPU seconds over the whole-file tool's, worst: **%.2f** (%s; "
          "target <= 1.10)" % worst["cpu"])
    print("- wall-time speedup on 2 workers, worst: **%.2f** (%s; target "
          ">= 1.8)" % worst["wall"])
    print("- this host's own speedup with two CPUs (two runs of the "
          "whole-file tool at once over the time of one), lowest median: "
          "**%.2f**: the most any speedup could be here" % worst_host)
    print("- 1 worker's wall time over the tool's, worst: **%.2f** (%s; "
          "target <= 1.05)" % worst["1w"])
    print("- the largest tool process over the whole-file tool's peak RSS, "
          "worst: private memory **%.0f%%**, RSS %.0f%% (%s; target <= "
          "25%%)" % (100 * worst_mem[0], 100 * worst_mem[1], worst_mem[2]))
    print("- every output the whole-file tool's lines: **%s**" % (
        "yes" if same_all else "NO"))
    sys.stdout.flush()
    extras(shapes)


def extras(shapes):
    """shardcap's own memory with a slow reader; the machinery over ssh"""
    env = dict(os.environ, SHARDCAP_DIR=os.path.join(TRASH, "c2",
                                                     ".shardcap"))
    p = subprocess.Popen([SC, "run", "-q", "--batch", "1", shapes[0][0],
                          "--", "tcpdump", "-nS", "-tt", "-x", "-r", "{}"],
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    got, hwm = 0, 0
    while got < 1200 << 20:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        got += len(b)
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.025)          # a reader of at most 40 MB/s
    p.stdout.close()               # and then it goes away
    p.wait()
    print("- shardcap's own peak RSS while %.1f GB of output went to a "
          "reader of 40 MB/s: **%.1f MB** (target <= 32 MB)" % (
              got / 1e9, hwm / 1024))
    if os.environ.get("SSH_OK") != "1":
        return

    def machinery(env):
        subprocess.run([SC, "run", "-q", "dns", "--", "true", "{}"], env=env,
                       check=True)
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([SC, "run", "-q", "dns", "--", "true", "{}"],
                           env=env, check=True)
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)
    env = dict(os.environ, SHARDCAP_DIR=os.path.join(TRASH, "s/.shardcap"))
    n = len(os.listdir(os.path.join(TRASH, "s/.shardcap/store/dns")))
    with_rc = machinery(env)
    # bash runs ~/.bashrc for every command sshd gives it; root's here
    # may run `pyenv init` (0.1 s of CPU). The lab's sshd can tell bash
    # not to (SHLVL=1), as a worker with a stock .bashrc would not either.
    ssh_dir = os.path.join(TRASH, "ssh")
    for f in os.listdir(ssh_dir):
        if f.startswith("sshd_q") and f.endswith(".conf"):
            with open(os.path.join(ssh_dir, f), "a") as c:
                c.write("SetEnv SHLVL=1\n")
        if f.startswith("sshd_q") and f.endswith(".pid"):
            with open(os.path.join(ssh_dir, f)) as pf:
                os.kill(int(pf.read()), 1)
    time.sleep(0.5)
    subprocess.run(["pkill", "-f", "^ssh: %s/ssh/" % env["SHARDCAP_DIR"]])
    time.sleep(0.3)
    without_rc = machinery(env)
    print("- the machinery: `shardcap run dns -- true {}` over %d chunks on "
          "4 ssh workers on the loopback (2 slots each): **%.2f s** median "
          "of 5 (target <= 0.5 s); %.2f s with this machine's root "
          "~/.bashrc, which bash runs for every ssh command"
          % (n, without_rc, with_rc))


if __name__ == "__main__":
    main()
