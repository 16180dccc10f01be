#!/usr/bin/env python3
"""Crash to replacement, as a client sees it (issue 15): gatewayd with 1 gateway and 1 worker
(the C conformance plugin), a client that sends `crash:`, then `ver:` every 5 ms. The `ver:`s
the gateway had sent the dying worker behind `crash:` it sends again once the worker is gone,
and those it gets while no worker is attached it holds; all go to the replacement, which
answers with its pid (`crash:` itself is the one event lost). Prints, per crash, the time from
sending `crash:` to the first answer, then the median.

    bench/crash-recovery/run.py [--crashes N] [--gatewayd PATH]

Needs the release build (.build-release, built by bench/run.sh or swift build -c release
--scratch-path .build-release --product gatewayd) and cc.
"""
import argparse, base64, json, os, re, socket, statistics, struct, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def ws_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += s.recv(4096)
    assert b" 101 " in response.split(b"\r\n")[0], response
    return s, response.split(b"\r\n\r\n", 1)[1]

def ws_send(s, text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81, 0x80 | len(payload)]) + mask  # texts here are short
    s.sendall(header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

def ws_receive(s, pending):
    while True:
        if len(pending) >= 2:
            length = pending[1] & 0x7F
            start = 2
            if length == 126:
                length, start = struct.unpack(">H", pending[2:4])[0], 4
            if len(pending) >= start + length:
                return pending[start:start + length].decode(), pending[start + length:]
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        pending += chunk

def ws_send_blocking(s, text):
    s.setblocking(True)
    ws_send(s, text)
    s.setblocking(False)

def has_frame(pending):
    if len(pending) < 2:
        return False
    length = pending[1] & 0x7F
    start = 4 if length == 126 else 2
    if length == 126 and len(pending) >= 4:
        length = struct.unpack(">H", pending[2:4])[0]
    return len(pending) >= start + length

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--crashes", type=int, default=10)
    parser.add_argument("--gatewayd", default=os.path.join(root, ".build-release/release/gatewayd"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="gwd-crash-recovery-")
    plugin = os.path.join(work, "conformance.so")
    subprocess.run([args.gatewayd, "plugin", "build", os.path.join(root, "plugins/conformance-c/conformance.c"), "-o", plugin],
                   check=True, stdout=subprocess.DEVNULL)
    run = os.path.join(work, "run")
    ready = subprocess.run([args.gatewayd, "start", "-d", "--run-dir", run, "--plugin", plugin, "--listen", "websocket://127.0.0.1:0",
                            "--register", "127.0.0.1:0", "--start-port", "0", "--gateway-count", "1", "--worker-count", "1",
                            "--log-level", os.environ.get("GATEWAYD_LOG_LEVEL", "warning")], check=True, capture_output=True, text=True).stdout
    port = int(re.search(r"listen=websocket://127.0.0.1:(\d+)", ready).group(1))
    times = []
    try:
        s, pending = ws_connect(port)
        ws_send(s, "ver:")
        version, pending = ws_receive(s, pending)
        for crash in range(args.crashes):
            time.sleep(11)  # past RestartPolicy.stableSeconds: restarted after the initial delay, not backed off
            started = time.monotonic()
            ws_send(s, "crash:")
            s.setblocking(False)
            answer = None
            while answer is None:
                ws_send_blocking(s, "ver:")
                time.sleep(0.005)
                try:
                    pending += s.recv(65536)
                except BlockingIOError:
                    continue
                if has_frame(pending):
                    answer, pending = ws_receive(s, pending)
            elapsed = time.monotonic() - started
            # The other held ver:s are answered too: read them before the next round.
            s.settimeout(0.5)
            try:
                while True:
                    _, pending = ws_receive(s, pending)
            except (TimeoutError, socket.timeout):
                pending = b""
            s.settimeout(10)
            assert answer != version, f"answered by the crashed worker: {answer}"
            version = answer
            times.append(elapsed * 1000)
            print(f"crash {crash + 1}: replacement answered after {elapsed * 1000:.1f} ms ({answer})", flush=True)
    finally:
        subprocess.run([args.gatewayd, "stop", "--run-dir", run], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("GATEWAYD_LOG_LEVEL"):
            print(open(os.path.join(run, "gatewayd.log")).read()[-6000:])
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f} over {len(times)} crashes "
          f"({os.uname().nodename}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})")

if __name__ == "__main__":
    main()
