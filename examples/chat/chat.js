/* chat.js — the page of examples/chat, on ../events/events.js (connectEvents). Plain JS, no
 * build step. Every piece of user text goes into the page through textContent, never as HTML.
 * The events are listed in examples/chat/README.md. `window.chat` holds the page's state, for
 * the console. */
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const chat = {
  url: params.get("ws") || `ws://${location.hostname || "127.0.0.1"}:7272/`,
  socket: null,
  room: null,
  nick: null,
  online: [],
  typing: new Set(),   // nicknames typing in this room, other than ours
  lastTyping: 0,       // when we last told the server we type
};
globalThis.chat = chat;

/* An element with a class and text; the text is never parsed as HTML. */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const clock = (at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function setState(text, connected) {
  $("state").textContent = text;
  $("state").classList.toggle("connected", connected);
}

function notice(text) {
  $("notice").textContent = text;
}

/* One line in the conversation: [time] nick text, or a system line. */
function addLine({ at, nick, text, kind = "", prefix }) {
  const list = $("messages");
  const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const line = element("li", kind);
  if (at !== undefined) line.append(element("span", "time", clock(at)));
  if (nick !== undefined) line.append(element("span", "nick", prefix ? `${prefix} ${nick}` : nick));
  line.append(document.createTextNode(text));
  list.append(line);
  if (stick) list.scrollTop = list.scrollHeight;
}

function showJoined(room, nick) {
  chat.room = room;
  chat.nick = nick;
  chat.typing.clear();
  showTyping();
  const inRoom = room !== null;
  $("title").textContent = inRoom ? `#${room} — you are ${nick}` : "Not in a room — pick a nickname and join one";
  $("leave").classList.toggle("hidden", !inRoom);
  for (const id of ["text", "send", "pm-to", "pm-text", "pm-send"]) $(id).disabled = !inRoom;
  $("text").placeholder = inRoom ? `Message #${room}` : "Message";
  if (!inRoom) showOnline([]);
  highlightRoom();
}

function highlightRoom() {
  for (const item of $("rooms").children) item.classList.toggle("current", item.dataset.room === chat.room);
}

function showRooms(rooms) {
  const list = $("rooms");
  list.replaceChildren();
  const names = Object.keys(rooms).sort();
  if (chat.room && !names.includes(chat.room)) names.push(chat.room);
  for (const name of names) {
    const item = element("li");
    item.dataset.room = name;
    item.append(element("span", "", `#${name}`), element("span", "count", String(rooms[name] ?? 0)));
    item.onclick = () => { $("room").value = name; join(); };
    list.append(item);
  }
  if (names.length === 0) list.append(element("li", "empty", "no one is chatting yet"));
  highlightRoom();
}

function showOnline(nicks) {
  chat.online = nicks;
  $("online").replaceChildren(...nicks.map((nick) => {
    const item = element("li", nick === chat.nick ? "me" : "", nick);
    item.title = nick === chat.nick ? "you" : `send ${nick} a private message`;
    item.onclick = () => { if (nick !== chat.nick) { $("pm-to").value = nick; $("pm-text").focus(); } };
    return item;
  }));
  $("online-count").textContent = nicks.length ? `(${nicks.length})` : "";
  const to = $("pm-to"), chosen = to.value;
  to.replaceChildren(...nicks.filter((nick) => nick !== chat.nick).map((nick) => element("option", "", nick)));
  if (nicks.includes(chosen) && chosen !== chat.nick) to.value = chosen;
}

function showTyping() {
  const nicks = [...chat.typing].sort();
  $("typing").textContent =
    nicks.length === 0 ? "" :
    nicks.length === 1 ? `${nicks[0]} is typing…` :
    nicks.length === 2 ? `${nicks[0]} and ${nicks[1]} are typing…` : `${nicks.length} people are typing…`;
}

function join() {
  notice("");
  chat.socket.emit("join", $("room").value.trim(), $("nick").value.trim());
}

function connect() {
  const socket = connectEvents(chat.url);
  chat.socket = socket;
  setState("connecting…", false);
  socket.ws.addEventListener("open", () => { setState("connected", true); socket.emit("hello"); });
  socket.ws.addEventListener("close", (event) => {
    setState(`disconnected (${event.code}) — reload to reconnect`, false);
    showJoined(null, null);
  });
  socket
    .on("welcome", (greeting) => { $("greeting").textContent = greeting; })
    .on("rooms", showRooms)
    .on("joined", (room, nick) => {
      $("messages").replaceChildren();
      showJoined(room, nick);
      $("text").focus();
    })
    .on("left", () => {
      showJoined(null, null);
      addLine({ text: "You left the room.", kind: "system" });
      socket.emit("rooms");
    })
    .on("history", (room, messages) => {
      if (room !== chat.room) return;
      for (const [at, nick, text] of messages) addLine({ at, nick, text, kind: "history" });
    })
    .on("said", (room, nick, text, at) => {
      if (room !== chat.room) return;
      chat.typing.delete(nick);
      showTyping();
      addLine({ at, nick, text, kind: nick === chat.nick ? "mine" : "" });
    })
    .on("private", (from, to, text, at) => {
      const mine = from === chat.nick;
      addLine({ at, nick: mine ? to : from, prefix: mine ? "to" : "from", text, kind: "private" });
    })
    .on("presence", (room, nick, what) => {
      if (room !== chat.room) return;
      if (what === "left") { chat.typing.delete(nick); showTyping(); }
      addLine({ text: `${nick === chat.nick ? "You" : nick} ${what} #${room}`, kind: "system" });
    })
    .on("online", (room, nicks) => { if (room === chat.room) showOnline(nicks); })
    .on("typing", (room, nick, typing) => {
      if (room !== chat.room || nick === chat.nick) return;
      typing ? chat.typing.add(nick) : chat.typing.delete(nick);
      showTyping();
    })
    .on("refused", (code, text) => notice(text))
    .on("error", (frame) => notice(`The server refused ${frame.event || "that"}: ${frame.reason || frame.error}.`));
}

$("join-form").onsubmit = (event) => { event.preventDefault(); join(); };
$("leave").onclick = () => chat.socket.emit("leave");
$("say-form").onsubmit = (event) => {
  event.preventDefault();
  notice("");
  chat.socket.emit("say", $("text").value);
  $("text").value = "";
  chat.lastTyping = 0;
};
$("pm-form").onsubmit = (event) => {
  event.preventDefault();
  notice("");
  chat.socket.emit("pm", $("pm-to").value, $("pm-text").value);
  $("pm-text").value = "";
};
// "typing…": at most one event a second while keys go in; the server ends it by a timer.
$("text").addEventListener("input", () => {
  const now = Date.now();
  if (!chat.room || $("text").value === "" || now - chat.lastTyping < 1000) return;
  chat.lastTyping = now;
  chat.socket.emit("typing");
});
$("nick").value = params.get("nick") || "";
if (params.get("room")) $("room").value = params.get("room");
connect();
