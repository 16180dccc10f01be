/* events.js — gatewayd typed events in the browser (docs/events.md). No build step: a classic
 * script that defines the global connectEvents (also fine as `import "./events.js"`).
 *   const socket = connectEvents("ws://127.0.0.1:7272");
 *   socket.on("sum", (n) => …);                        server events ["sum", n] → fn(n)
 *   socket.emit("add", 1, 2);                          sends ["add", 1, 2]
 *   socket.emit("add", 1, 2, (status, result) => …);   sends {"event":"add","args":[1,2],"ack":1}
 *   socket.on("error", (frame) => …);                  error frames {"error": "bad_argument", …}
 * Other text reaches socket.on("message", (text) => …); socket.ws is the WebSocket. */
globalThis.connectEvents = function connectEvents(url) {
  const ws = new WebSocket(url), handlers = {}, acks = new Map(), waiting = [];
  let nextAck = 1;
  const call = (name, args) => (handlers[name] || []).forEach((fn) => fn(...args));
  ws.addEventListener("open", () => waiting.splice(0).forEach((text) => ws.send(text)));
  ws.addEventListener("message", ({ data }) => {
    let frame = null;
    try { frame = JSON.parse(data); } catch {}
    if (Array.isArray(frame) && typeof frame[0] === "string") return call(frame[0], frame.slice(1));
    const done = frame !== null && acks.get(frame.ack);
    if (frame !== null && typeof frame.error === "string") { acks.delete(frame.ack); return call("error", [frame]); }
    if (done && "status" in frame) { acks.delete(frame.ack); return done(frame.status, frame.result); }
    call("message", [data]);
  });
  return {
    ws,
    on(name, fn) { (handlers[name] ||= []).push(fn); return this; },
    emit(name, ...args) {
      const done = typeof args[args.length - 1] === "function" ? args.pop() : null, ack = done && nextAck++;
      if (done) acks.set(ack, done);
      const text = JSON.stringify(done ? { event: name, args, ack } : [name, ...args]);
      ws.readyState === WebSocket.OPEN ? ws.send(text) : waiting.push(text);
      return this;
    },
  };
};
