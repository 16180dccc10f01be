#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<Target>/, from the captured PHP GatewayWorker bytes
(shared/compat/vectors.json and php-serialize.json) plus hand-made WebSocket traffic.

Each seed is the target's control bytes (see the comment at the top of each target) followed
by the payload. Usage: fuzz/make_seeds.py [path/to/compat]   (default: ../shared/compat
beside the repository). Rewrites the corpus directories from scratch; deterministic.
"""
import hashlib
import json
import os
import shutil
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "compat")
CORPUS = os.path.join(HERE, "corpus")

seeds = {name: [] for name in
         ("FuzzInner", "FuzzRegister", "FuzzPHPSerialize", "FuzzWebSocket", "FuzzGatewayInner", "FuzzTextFrame",
          "FuzzEvents", "FuzzWebSocketCodec", "FuzzStreamScanners")}


def add(target, data):
    seeds[target].append(bytes(data))


def frame(cmd, conn=0, flag=0, ext=b"", body=b""):
    header = struct.pack(">IBIHIHIBHI", 28 + len(ext) + len(body), cmd, 0x0A010203, 2900, 0xC0000207, 50000, conn, flag,
                         8282, len(ext))
    return header + ext + body


vectors = json.load(open(os.path.join(COMPAT, "vectors.json")))["vectors"]
php = json.load(open(os.path.join(COMPAT, "php-serialize.json")))

# --- FuzzInner: [0 frames | 1 replies | 2 ext, option, reads, split] + bytes -----------------
frames = [v for v in vectors if "frame" in v["channel"]]
replies = [v for v in vectors if "reply" in v["channel"]]
for v in frames:
    add("FuzzInner", bytes([0, 1, 0, 0]) + bytes.fromhex(v["hex"]))
for v in replies:
    add("FuzzInner", bytes([1, 1, 0, 0]) + bytes.fromhex(v["hex"]))
# Whole captured streams, split across reads.
worker_stream = b"".join(bytes.fromhex(v["hex"]) for v in frames if v["group"] == "G3")
client_stream = b"".join(bytes.fromhex(v["hex"]) for v in frames if v["group"] == "G4")
add("FuzzInner", bytes([0, 1, 2, 0x73]) + worker_stream)
add("FuzzInner", bytes([0, 1, 1, 0x08]) + client_stream)
add("FuzzInner", bytes([1, 1, 2, 0x4A]) + b"".join(bytes.fromhex(v["hex"]) for v in replies))
add("FuzzInner", bytes([0, 0, 0, 0]) + frame(7, body=b"x" * 100))  # over the small limit
# ext_data / bodies straight into their decoder: 0 sendToAll, 1 group, 2 uid list, 3 select,
# 4 worker hello, 5 client hello, 6 websocket-connect body, 7 query string.
ext_decoder = {"CMD_SEND_TO_ALL": 0, "CMD_SEND_TO_GROUP": 1, "CMD_SEND_TO_UID": 2, "CMD_BATCH_GET_CLIENT_ID_BY_UID": 2,
               "CMD_BATCH_GET_CLIENT_COUNT_BY_GROUP": 2, "CMD_SELECT": 3}
body_decoder = {"CMD_WORKER_CONNECT": 4, "CMD_GATEWAY_CLIENT_CONNECT": 5, "CMD_ON_WEBSOCKET_CONNECT": 6}
for v in frames:
    raw = bytes.fromhex(v["hex"])
    ext_len = struct.unpack(">I", raw[24:28])[0]
    ext, body = raw[28:28 + ext_len], raw[28 + ext_len:]
    name = v["decoded"]["cmd_name"]
    if name in ext_decoder:
        add("FuzzInner", bytes([2, ext_decoder[name]]) + ext)
    if name in body_decoder:
        add("FuzzInner", bytes([2, body_decoder[name]]) + body)
for q in [b"a=1&b[]=2&b[]=3&c[x][y]=%E4%BD%A0+z", b"token=abc&uid=7", b"a[=1&&=2&b]]=3&%zz=%41"]:
    add("FuzzInner", bytes([2, 7]) + q)

# --- FuzzRegister: [limit, reads, split] + lines ------------------------------------------
lines = [bytes.fromhex(v["hex"]) for v in vectors if v["group"].startswith("R") and v["hex"]]
for line in lines:
    add("FuzzRegister", bytes([0, 0, 0]) + line)
add("FuzzRegister", bytes([0, 2, 0x93]) + b"".join(lines))
add("FuzzRegister", bytes([0, 1, 0x05]) + b'{"event":"ping"}\r\n{"event":"worker_connect"}\r\r\npartial')
add("FuzzRegister", bytes([1, 0, 0]) + b'{"event":"gateway_connect","address":"127.0.0.1:2900"}\n')
add("FuzzRegister", bytes([0, 0, 0]) + b'{"event":"gateway_connect","address":"a\\"b","secret_key":"\\u00e9"}\n')

# --- FuzzPHPSerialize: [0 PHP | 1 JSON] + text ---------------------------------------------
for v in php:
    if v["codec"] == "serialize":
        add("FuzzPHPSerialize", b"\x00" + bytes.fromhex(v["serialized_hex"]))
    else:
        add("FuzzPHPSerialize", b"\x01" + bytes.fromhex(v["encoded_hex"]))
for v in vectors:
    if v["group"].startswith("R") and v.get("line"):
        add("FuzzPHPSerialize", b"\x01" + v["line"].encode())
add("FuzzPHPSerialize", b"\x01" + '[1.5,-0.0,1e300,12345678901234567890,"\\ud83d\\ude00",{"a":{"a":null}},true]'.encode())


# --- FuzzWebSocket: [options, refusal status, reads, split] + request + frames ---------------
def ws_frame(opcode, payload=b"", fin=True, mask=b"\x12\x34\x56\x78", rsv=0):
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    m = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([first, m | n])
    elif n < 65536:
        head = bytes([first, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, m | 127]) + struct.pack(">Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close(code, reason=b""):
    return ws_frame(8, struct.pack(">H", code) + reason)


handshake = (b"GET /chat?token=abc&room[]=1 HTTP/1.1\r\nHost: 127.0.0.1:8282\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             b"Origin: http://example.com\r\nCookie: a=1; b=2\r\n\r\n")
frame_sets = {
    "text": ws_frame(1, "héllo".encode()),
    "binary": ws_frame(2, bytes(range(256))),
    "fragmented": ws_frame(1, b"Hel", fin=False) + ws_frame(9, b"ping") + ws_frame(0, b"lo", fin=False) + ws_frame(0, b"!"),
    "ping_pong": ws_frame(9, b"are you there") + ws_frame(10, b"yes") + ws_frame(9),
    "close_1000": close(1000, b"bye"),
    "close_empty": ws_frame(8),
    "close_bad_code": close(1005),
    "close_one_byte": ws_frame(8, b"\x03"),
    "close_bad_utf8": close(1000, b"\xc0\x80"),
    "unmasked": ws_frame(1, b"hi", mask=None),
    "rsv1": ws_frame(1, b"hi", rsv=4),
    "reserved_opcode": ws_frame(3, b"x"),
    "bad_utf8": ws_frame(1, b"a\xc0\x80"),
    "long_126": ws_frame(2, b"x" * 300),
    "continuation_first": ws_frame(0, b"x"),
    "fragmented_ping_too_long": ws_frame(9, b"p" * 126),
    "text_then_close": ws_frame(1, b"a") + ws_frame(1, b"b", fin=False) + ws_frame(0, b"c") + close(1001),
}
for i, (name, frames_bytes) in enumerate(sorted(frame_sets.items())):
    options = [0, 4, 1, 2][i % 4]  # PHP / gatewayd worker, limits 1024 / 125 / 16
    add("FuzzWebSocket", bytes([options, 0, 2, 0x60]) + handshake + frames_bytes)
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + handshake)


def deflated(payload, wbits=15):
    """A permessage-deflate message: raw deflate, sync flush, the 00 00 FF FF tail removed."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


# permessage-deflate (option bit 4): offers, compressed frames, and what must be refused.
offering = handshake.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
small_window = handshake.replace(
    b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9, permessage-deflate\r\n\r\n")
compressed_sets = {
    "text": ws_frame(1, deflated("héllo héllo héllo".encode()), rsv=4),
    "binary": ws_frame(2, deflated(bytes(range(256)) * 4), rsv=4),
    "fragmented": (lambda d: ws_frame(1, d[:3], fin=False, rsv=4) + ws_frame(9, b"p") + ws_frame(0, d[3:]))(deflated(b"fragmented " * 20)),
    "plain_and_compressed": ws_frame(1, b"plain") + ws_frame(1, deflated(b"{\"a\":1}" * 30), rsv=4),
    "bomb": ws_frame(2, deflated(b"\x00" * 200000), rsv=4),
    "garbage": ws_frame(1, b"\xff\xff\xff\xff", rsv=4),
    "latin1": ws_frame(1, deflated(b"caf\xe9"), rsv=4),
    "rsv1_continuation": ws_frame(1, deflated(b"ab"), fin=False, rsv=4) + ws_frame(0, b"x", rsv=4),
    "final_block": ws_frame(1, bytes([0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), rsv=4),
}
for i, (name, frames_bytes) in enumerate(sorted(compressed_sets.items())):
    options = 16 | [0, 4, 1, 3][i % 4]
    add("FuzzWebSocket", bytes([options, 0, 2, 0x60]) + (small_window if i % 3 == 0 else offering) + frames_bytes)
add("FuzzWebSocket", bytes([16, 0, 0, 0]) + handshake + ws_frame(1, deflated(b"not agreed"), rsv=4))
add("FuzzWebSocket", bytes([12, 3, 0, 0]) + handshake + ws_frame(1, b"refused"))  # gatewayd worker refuses (403)
add("FuzzWebSocket", bytes([0, 0, 2, 0x21]) + handshake.replace(b"13", b"8"))  # wrong version
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + handshake.replace(b"Upgrade: websocket\r\n", b""))
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + handshake.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short"))
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
add("FuzzWebSocket", bytes([0, 0, 1, 0x08]) + b"GET / HTTP/1.0\r\n\r\n")
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # TLS hello
add("FuzzWebSocket", bytes([0, 0, 0, 0]) + handshake + handshake)  # a second request before the 101

# --- FuzzWebSocketCodec: [options, reads, split] + request + frames ----------------------------
# options: bits 0-1 the limit (1024 / 125 / 16 / 1 MiB), bit 2 also through SwiftNIO, bit 3 byte by byte.
chromium = (b"GET /chat?room=lobby HTTP/1.1\r\nHost: gateway.example.com:8282\r\nConnection: Upgrade\r\n"
            b"Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0\r\n"
            b"Upgrade: websocket\r\nOrigin: https://app.example.com\r\nSec-WebSocket-Version: 13\r\n"
            b"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
for i, (name, frames_bytes) in enumerate(sorted(frame_sets.items())):
    options = [4, 5, 6, 12][i % 4]
    add("FuzzWebSocketCodec", bytes([options, 2, 0x60]) + handshake + frames_bytes)
    add("FuzzWebSocketCodec", bytes([options & 3, 1, 0x07]) + chromium + frames_bytes)
for request in [
    handshake.replace(b"13", b"8"), handshake.replace(b"Upgrade: websocket\r\n", b""),
    handshake.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short"), handshake.replace(b"GET", b"POST"),
    handshake.replace(b"HTTP/1.1", b"HTTP/1.0"), handshake.replace(b"\r\n", b"\n"),
    handshake.replace(b"Origin", b" Origin"), handshake.replace(b"/chat", b"http://example.com/chat"),
    handshake.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc"),
    handshake.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: gzip\r\n\r\n"),
    handshake.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    b"\r\n" + handshake, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", handshake + handshake,
]:
    add("FuzzWebSocketCodec", bytes([4, 2, 0x31]) + request + ws_frame(1, b"after"))

# --- FuzzGatewayInner: [bit 0 secret, bit 1 inner heartbeat, reads, split] + worker / GatewayClient frames
for v in frames:
    if v["direction"].split(" ")[0] in ("businessworker", "gatewayclient", "probe"):
        add("FuzzGatewayInner", bytes([0, 0, 0]) + bytes.fromhex(v["hex"]))
add("FuzzGatewayInner", bytes([0, 2, 0x73]) + worker_stream)
add("FuzzGatewayInner", bytes([0, 1, 0x08]) + client_stream)
auth = frame(202, body=b'{"secret_key":"k9"}')  # CMD_GATEWAY_CLIENT_CONNECT
worker_auth = frame(200, body=b'{"worker_key":"Fuzz:0","secret_key":"k9","gatewayd":1}')
add("FuzzGatewayInner", bytes([1, 1, 0x0C]) + auth + client_stream)
add("FuzzGatewayInner", bytes([1, 0, 0]) + worker_auth + worker_stream)
add("FuzzGatewayInner", bytes([1, 0, 0]) + frame(202, body=b'{"secret_key":"no"}') + client_stream)
add("FuzzGatewayInner", bytes([1, 0, 0]) + worker_auth + frame(231) + frame(5, conn=1, body=b"x") + frame(233))
add("FuzzGatewayInner", bytes([1, 0, 0]) + worker_auth + frame(230, conn=1, body=b"403"))
# A second worker attaching from the inner peer, then leaving: the engine gateway once leaked
# every worker link that ended (its HubWorker held it); the harness traps unless all is freed.
add("FuzzGatewayInner", bytes([0, 0, 0]) + frame(200, body=b'{"worker_key":"BusinessWorker:9","secret_key":""}'))
# With the inner heartbeat (bit 1): a gatewayd worker that pings (capability 2), one that does not.
open_worker = frame(200, body=b'{"worker_key":"Fuzz:1","secret_key":"","gatewayd":2}')
add("FuzzGatewayInner", bytes([2, 0, 0]) + open_worker + frame(201, body=b"gatewayd") + frame(5, conn=2, body=b"hi"))
add("FuzzGatewayInner", bytes([3, 1, 0x09]) + worker_auth + worker_stream)

# --- FuzzTextFrame: [bit 0 frame://, bits 1-2 limit (1024, 16, 0, 1 MiB), reads, split] + stream


def length_prefixed(body):
    return struct.pack(">I", 4 + len(body)) + body


add("FuzzTextFrame", bytes([0, 0, 0]) + b"hello\n")
add("FuzzTextFrame", bytes([0, 2, 0x5A]) + "line one\r\nline two\r\r\n\n\u00e9t\u00e9\ntail".encode())
add("FuzzTextFrame", bytes([2, 0, 0]) + b"short\n" + b"this line is longer than sixteen\n")
add("FuzzTextFrame", bytes([0, 1, 0x03]) + b"".join(bytes.fromhex(v["hex"]) for v in vectors if v["group"] == "R2"))
add("FuzzTextFrame", bytes([1, 0, 0]) + length_prefixed(b"hello"))
add("FuzzTextFrame", bytes([1, 2, 0x7C]) + length_prefixed(b"") + length_prefixed(bytes(range(256))) + length_prefixed(b"x"))
add("FuzzTextFrame", bytes([3, 0, 0]) + length_prefixed(b"fits") + length_prefixed(b"y" * 40))  # over 16
add("FuzzTextFrame", bytes([1, 0, 0]) + b"\x00\x00\x00\x02ab")  # length below the header
add("FuzzTextFrame", bytes([1, 1, 0x08]) + length_prefixed(b"complete") + b"\x00\x00\x01\x00partial")

# --- FuzzStreamScanners: [bit 0 frame://, bits 1-7 cut (0 whole, 1 bytewise, else seed), limit] + stream
# (limit: 0-249 itself; 250 1 KiB, 251 64 KiB, 252 1 MiB, 253 1 GiB, 254 Int.max - 1, 255 Int.max)


def scanners(frame, cut, limit, stream):
    add("FuzzStreamScanners", bytes([cut << 1 | frame, limit]) + stream)


scanners(0, 0, 255, b"hello\n")
scanners(0, 1, 250, "line one\r\nline two\r\r\n\n\u00e9t\u00e9\ntail".encode())
scanners(0, 5, 16, b"short\n" + b"this line is longer than sixteen\n")
scanners(0, 0, 8, b"12345678\n1234567\r\n123456789\n")
scanners(0, 9, 0, b"\n\n\r\n")
scanners(0, 7, 3, b"\r\r\r\n\r\r\r\r\n")
scanners(0, 3, 251, b"".join(bytes.fromhex(v["hex"]) for v in vectors if v["group"] == "R2"))
scanners(1, 0, 255, length_prefixed(b"hello"))
scanners(1, 1, 250, length_prefixed(b"") + length_prefixed(bytes(range(256))) + length_prefixed(b"x"))
scanners(1, 4, 16, length_prefixed(b"fits") + length_prefixed(b"y" * 40))
scanners(1, 0, 4, length_prefixed(b"four") + length_prefixed(b"fives"))
scanners(1, 2, 100, b"\x00\x00\x00\x02ab")
scanners(1, 3, 252, length_prefixed(b"complete") + b"\x00\x00\x01\x00partial")
scanners(1, 0, 255, b"\xff\xff\xff\xff" + b"abc")
scanners(1, 6, 0, length_prefixed(b"") * 3 + b"\x00\x00\x00\x00")

# --- FuzzEvents: [bits 0-1 decoder, bit 2 twice] + one client text message --------------------
# The target's table: all (s:s S:bytes i:int d:num b:flag j:json), ping, jays (j:a j:b j:c j:d),
# say (s:room s:text), add (i:a i:b).
event_messages = [
    '["all", "room", "by\\u0000tes", -9223372036854775808, 1e308, true, {"k": [1, 2.5, null]}]',
    '{"event": "all", "s": "\\u00e9\\ud83d\\ude00", "bytes": "", "int": 9223372036854775807, "num": -0,'
    ' "flag": false, "json": "x", "ack": 7}',
    '{"json": [], "flag": true, "num": 0.30000000000000004, "int": 0, "bytes": "b", "s": "s", "event": "all"}',
    '{"event": "all", "args": ["a", "b", 1, 2, false, null], "ack": -1}',
    '["ping"]',
    ' {"event":"ping","ack":0} ',
    '["jays", [[[[]]]], {"a": {"b": {}}}, "\\ud800", 1e400]',
    '{"event":"jays","a":1,"b":"2","c":[3],"d":{"4":4}}',
    '["say", "room1", "hi \\"there\\" \\n"]',
    '{"event":"say","room":"r","text":"t","room":"r2","extra":{"x":[1,2,3]}}',
    '["add", 2, 3]',
    '{"event": "add", "a": 1.5, "b": "x"}',
    '["add", 1, 2, 3]',
    '["add", 1]',
    '{"event": "add", "a": 1, "b": 2, "ack": "7"}',
    '["add", 1,',
    '{"event": "say", "room": "\\u12"}',
    '["nope", 1, 2]',
    '{"event": "nope", "ack": 5}',
    '[1, 2]',
    '{"foo": 1}',
    'hello',
    '["' + 'x' * 300 + '"]',
    '["jays", ' + '[' * 65 + ']' * 65 + ', 1, 2, 3]',
]
for i, text in enumerate(event_messages):
    add("FuzzEvents", bytes([i % 8]) + text.encode())
add("FuzzEvents", bytes([0]) + b'["say", "\xff\xfe", "x"]')

for target, items in seeds.items():
    directory = os.path.join(CORPUS, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for data in items:
        with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(set(items))} seeds")
