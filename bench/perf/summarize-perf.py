#!/usr/bin/env python3
"""Where the CPU goes, from `perf script -F comm,pid,tid,ip,sym,dso` (demangled) on stdin.

usage: perf script -i X.data -F comm,pid,tid,ip,sym,dso | swift demangle --simplified |
       summarize-perf.py ROLE=PID[,PID] ...

For each role (a set of pids, e.g. gateway=123 worker=456,789): the share of its samples by
cost class of the innermost frame (kernel, malloc/free, reference counting, exclusivity
checks, generic-metadata lookups and casts, NIO, gatewayd's own code...), the top leaf
functions, and the inclusive share of the frames that matter on gatewayd's paths.
"""
import collections
import re
import sys

# Types and functions of gatewayd itself (demangled names carry no module).
OWN = re.compile(r"Gateway|WebSocketConnectionHandler|WebSocketHandshakeHandler|InnerConnectionHandler|FlushScheduler|"
                 r"ClientConnection|ConnectionTable|WorkerRouter|WorkerLink|HeldEvent|HeartbeatPolicy|PluginHost|PluginEvent|"
                 r"PluginInvocation|HostAPI|OutgoingBatch|WorkerService|ClientID|IPv4|PHP|SendToAll|WebSocketFrameWriter|"
                 r"RegisterClient|ReconnectingConnection|ControlLink|ChildRuntime")

LEAF_CLASSES = [
    ("kernel (syscalls, TCP, epoll)", lambda sym, dso: "kernel" in dso),
    ("malloc/free", lambda sym, dso: re.search(r"\b(_?int_malloc|malloc|_?int_free|cfree|free|realloc|unlink_chunk|malloc_consolidate|tcache|_mid_memalign|posix_memalign|aligned_alloc)\b", sym) is not None and "libc" in dso),
    ("ARC retain/release", lambda sym, dso: re.search(r"swift_(retain|release|bridgeObject|unknownObject)|RefCounts|swift_deallocClassInstance|swift_deallocObject", sym) is not None),
    ("exclusivity checks (swift_beginAccess + TLS)", lambda sym, dso: re.search(r"swift_beginAccess|swift_endAccess|AccessSet|__tls_get_addr|SwiftTLSContext", sym) is not None),
    ("generic metadata / dynamic casts", lambda sym, dso: re.search(r"Metadata|getCache|swift_dynamicCast|conformsToProtocol|WitnessTable|LockingConcurrentMap|swift_checkMetadataState|tryCast|swift_getAssociated", sym) is not None),
    ("memcpy/memmove/memset", lambda sym, dso: re.search(r"mem(cpy|move|set)|_swift_pod_copy", sym) is not None),
    ("other libc / ld.so", lambda sym, dso: "libc" in dso or "ld-linux" in dso),
    ("other Swift runtime/stdlib", lambda sym, dso: "libswift" in dso),
    ("gatewayd's own code", lambda sym, dso: dso.endswith("/gatewayd") and OWN.search(sym) is not None),
    ("SwiftNIO and other Swift code in the binary", lambda sym, dso: dso.endswith("/gatewayd")),
    ("plugin (.so)", lambda sym, dso: dso.endswith(".so") and "swift" not in dso),
    ("other", lambda sym, dso: True),
]

INCLUSIVE = [
    ("client read: WebSocketConnectionHandler.channelRead", "WebSocketConnectionHandler.channelRead"),
    ("  NIO WebSocketFrameDecoder", "WebSocketFrameDecoder"),
    ("  unmask (webSocketUnmask)", "webSocketUnmask"),
    ("  UTF-8 validation", "isValidUTF8"),
    ("  GatewayServer.clientMessage (to worker)", "GatewayServer.clientMessage"),
    ("inner read: InnerConnectionHandler.channelRead", "InnerConnectionHandler.channelRead"),
    ("  GatewayFrameDecoder", "GatewayFrameDecoder"),
    ("  GatewayServer.execute (worker commands)", "GatewayServer.execute"),
    ("  WebSocketFrameWriter.frame (encode)", "WebSocketFrameWriter.frame"),
    ("FlushScheduler.write", "FlushScheduler.write"),
    ("FlushScheduler.flushAll (flush → writev)", "FlushScheduler.flushAll"),
    ("ByteToMessageHandler (all decoders)", "ByteToMessageHandler"),
    ("socket reads (readFromSocket)", "readFromSocket"),
    ("socket writes (PendingWritesManager)", "PendingWritesManager"),
    ("epoll_wait", "epoll_wait"),
    ("worker: plugin thread host API", "HostAPI"),
    ("worker: PluginHost", "PluginHost"),
    ("worker: GatewayLinkSet", "GatewayLinkSet"),
    ("worker: OutgoingBatch", "OutgoingBatch"),
    ("futex wake/wait (thread hand-offs)", "futex"),
    ("malloc+free (inclusive)", "@@malloc"),
]

HEADER = re.compile(r"^(\S.*?)\s+(\d+)/(\d+)\s*$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def parse(stream):
    sample = None
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if sample:
                yield sample
            sample = None
            continue
        if not line.startswith((" ", "\t")):
            if sample:
                yield sample
            m = HEADER.match(line)
            sample = {"comm": m.group(1), "pid": int(m.group(2)), "tid": int(m.group(3)), "frames": []} if m else None
            continue
        m = FRAME.match(line)
        if sample is not None and m:
            sample["frames"].append((m.group(2), m.group(3)))
    if sample:
        yield sample


def classify(sym, dso):
    for name, test in LEAF_CLASSES:
        if test(sym, dso):
            return name
    return "other"


def is_malloc(sym, dso):
    return "libc" in dso and re.search(r"\b(_?int_malloc|malloc|_?int_free|cfree|free|realloc|unlink_chunk|malloc_consolidate|tcache)\b", sym)


def main():
    roles = {}
    for arg in sys.argv[1:]:
        role, pids = arg.split("=")
        for pid in pids.split(","):
            roles[int(pid)] = role
    per_role = collections.defaultdict(lambda: {"n": 0, "classes": collections.Counter(), "leaf": collections.Counter(),
                                                "incl": collections.Counter(), "threads": collections.Counter()})
    for s in parse(sys.stdin):
        if not s["frames"]:
            continue
        role = roles.get(s["pid"], "pid %d" % s["pid"])
        r = per_role[role]
        r["n"] += 1
        r["threads"][s["comm"]] += 1
        sym, dso = s["frames"][0]
        r["classes"][classify(sym, dso)] += 1
        r["leaf"][sym[:110]] += 1
        stack = " ".join(f[0] for f in s["frames"])
        for label, needle in INCLUSIVE:
            if needle == "@@malloc":
                if any(is_malloc(f, d) for f, d in s["frames"][:6]):
                    r["incl"][label] += 1
            elif needle in stack:
                r["incl"][label] += 1
    for role, r in sorted(per_role.items()):
        n = r["n"]
        print("### %s: %d samples (%s)" % (role, n, ", ".join("%s %.0f%%" % (t, 100 * c / n) for t, c in r["threads"].most_common())))
        print()
        print("| self time by class | share |")
        print("|---|---|")
        for name, count in r["classes"].most_common():
            print("| %s | %.1f%% |" % (name, 100 * count / n))
        print()
        print("| top leaf functions | share |")
        print("|---|---|")
        for sym, count in r["leaf"].most_common(15):
            print("| `%s` | %.1f%% |" % (sym.replace("|", "\\|"), 100 * count / n))
        print()
        print("| inclusive (frame anywhere on the stack) | share |")
        print("|---|---|")
        for label, _ in INCLUSIVE:
            if r["incl"][label]:
                print("| %s | %.1f%% |" % (label, 100 * r["incl"][label] / n))
        print()


if __name__ == "__main__":
    main()
