// Switchboard workbench: an agent's desk built only on the documented agent API
// (docs/api/agent.md): REST under /api/v1 and the WebSocket /api/v1/agent/events.
"use strict";

const state = {
  me: null,
  signedIn: false,
  conversations: new Map(), // id -> { conversation, lastSeq, unread, wrappingUp }
  selected: null,
  socket: null,
};

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error((data && data.message) || "HTTP " + response.status);
    error.status = response.status;
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function show(view) {
  for (const id of ["login", "password", "desk"]) {
    $(id).hidden = id !== view;
  }
}

async function start() {
  try {
    state.me = await api("GET", "/auth/me");
  } catch (error) {
    show("login");
    return;
  }
  if (state.me.passwordChangeRequired) {
    show("password");
    return;
  }
  $("who").textContent = state.me.account;
  show("desk");
  connect();
  loadHistory();
  loadQuickReplies();
  loadTransferQueues();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("login-error").textContent = "";
  try {
    await api("POST", "/auth/login", { account: form.get("account"), password: form.get("password") });
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("password-error").textContent = "";
  try {
    await api("POST", "/auth/password", { currentPassword: form.get("currentPassword"), newPassword: form.get("newPassword") });
    await start();
  } catch (error) {
    $("password-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  if (state.signedIn) {
    await api("POST", "/agent/sign-out").catch(() => {});
  }
  await api("POST", "/auth/logout").catch(() => {});
  location.reload();
});

$("sign-in").addEventListener("click", async () => {
  if (state.signedIn) {
    await api("POST", "/agent/sign-out");
    state.signedIn = false;
  } else {
    const answer = await api("POST", "/agent/sign-in");
    state.signedIn = true;
    answer.conversations.forEach(track);
    $("status").value = answer.status;
  }
  $("sign-in").textContent = state.signedIn ? "Sign out of routing" : "Sign in to routing";
  $("status").disabled = !state.signedIn;
  countWaiting();
  render();
});

$("status").addEventListener("change", async (event) => {
  await api("PUT", "/agent/status", { status: event.target.value });
});

// The event stream: hints to look, the messages themselves are always fetched by REST.
function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + "/api/v1/agent/events");
  state.socket = socket;
  socket.onopen = async () => {
    $("connection").textContent = "";
    if (state.signedIn) {
      const answer = await api("POST", "/agent/sign-in");
      answer.conversations.forEach(track);
      refreshAll();
    }
  };
  socket.onmessage = (frame) => onEvent(JSON.parse(frame.data));
  socket.onclose = () => {
    $("connection").textContent = "reconnecting…";
    setTimeout(connect, 2000);
  };
}

function onEvent(event) {
  switch (event.type) {
    case "assigned":
      track(event.conversation);
      refresh(event.conversation.id);
      countWaiting();
      break;
    case "message":
      refresh(event.message.conversationId);
      break;
    case "customerLeft":
      refresh(event.conversationId);
      break;
    case "wrapUpStarted":
      mark(event.conversationId, (entry) => { entry.wrappingUp = true; });
      break;
    case "transferredAway":
    case "wrapUpEnded":
      state.conversations.delete(event.conversationId);
      loadHistory();
      if (state.selected === event.conversationId) {
        state.selected = null;
      }
      render();
      break;
    case "delivery":
      mark(event.delivery.conversationId, (entry) => {
        entry.deliveries.set(event.delivery.seq, event.delivery);
      });
      break;
    case "resync":
      refreshAll();
      break;
  }
}

// Where replies to a customer on a messaging platform stand; web chat has none.
async function loadDeliveries(id) {
  const deliveries = await api("GET", "/agent/conversations/" + id + "/deliveries").catch(() => []);
  mark(id, (entry) => {
    for (const delivery of deliveries) {
      entry.deliveries.set(delivery.seq, delivery);
    }
  });
}

const DELIVERY_LABELS = {
  pending: "⏳ waiting to be sent",
  sending: "⏳ sending",
  sent: "✓ sent",
  delivered: "✓✓ delivered",
  read: "✓✓ read",
  failed: "⚠ not delivered",
};

function deliveryNote(delivery) {
  const note = document.createElement("small");
  note.className = "delivery " + delivery.state;
  note.textContent = DELIVERY_LABELS[delivery.state] || delivery.state;
  if (delivery.lastError && delivery.state !== "sent") {
    note.textContent += ": " + delivery.lastError;
  }
  return note;
}

function track(conversation) {
  if (!state.conversations.has(conversation.id)) {
    state.conversations.set(conversation.id, { conversation, messages: [], lastSeq: 0, unread: 0, wrappingUp: conversation.state === "wrapUp", deliveries: new Map() });
    loadDeliveries(conversation.id);
  }
  render();
}

function mark(id, change) {
  const entry = state.conversations.get(id);
  if (entry) {
    change(entry);
    render();
  }
}

async function refreshAll() {
  for (const id of state.conversations.keys()) {
    await refresh(id);
  }
}

// Fetches what came after the last message shown: nothing is shown twice or skipped.
async function refresh(id) {
  const entry = state.conversations.get(id);
  if (!entry) {
    return;
  }
  const messages = await api("GET", "/agent/conversations/" + id + "/messages?after=" + entry.lastSeq).catch(() => []);
  for (const message of messages) {
    if (message.seq <= entry.lastSeq) {
      continue;
    }
    entry.messages.push(message);
    entry.lastSeq = message.seq;
    if (state.selected !== id && message.sender.kind === "customer") {
      entry.unread += 1;
    }
  }
  render();
}

function render() {
  const list = $("conversations");
  list.textContent = "";
  for (const [id, entry] of state.conversations) {
    if (entry.ended) {
      continue;
    }
    const item = document.createElement("li");
    item.dataset.id = id;
    item.className = (state.selected === id ? "selected " : "") + (entry.wrappingUp ? "wrapup" : "");
    const label = document.createElement("span");
    label.textContent = "Customer " + entry.conversation.customerId.slice(-6) + (entry.wrappingUp ? " (wrap-up)" : "");
    item.appendChild(label);
    if (entry.unread > 0) {
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.textContent = String(entry.unread);
      item.appendChild(badge);
    }
    item.addEventListener("click", () => select(id));
    list.appendChild(item);
  }
  $("empty").hidden = [...state.conversations.values()].some((entry) => !entry.ended);
  const entry = state.selected && state.conversations.get(state.selected);
  $("chat").hidden = !entry;
  if (!entry) {
    return;
  }
  $("chat-title").textContent = "Customer " + entry.conversation.customerId;
  $("end").disabled = entry.wrappingUp;
  $("transfer").disabled = entry.wrappingUp;
  $("reply").hidden = Boolean(entry.ended);
  const messages = $("messages");
  messages.textContent = "";
  for (const message of entry.messages) {
    const item = document.createElement("li");
    item.className = message.sender.kind;
    item.dataset.seq = String(message.seq);
    item.appendChild(describe(entry.conversation.id, message.content));
    const delivery = entry.deliveries.get(message.seq);
    if (delivery) {
      item.appendChild(deliveryNote(delivery));
    }
    messages.appendChild(item);
  }
  messages.scrollTop = messages.scrollHeight;
}

// Text as text, an image inline, audio and video with a player, a place as a map link,
// a document as a download link.
function describe(conversationId, content) {
  if (content.type === "text") {
    return document.createTextNode(content.text);
  }
  if (content.type === "location") {
    const place = document.createElement("a");
    place.href = "https://www.openstreetmap.org/?mlat=" + content.latitude + "&mlon=" + content.longitude;
    place.target = "_blank";
    place.rel = "noopener noreferrer";
    const label = [content.name, content.address].filter(Boolean).join(", ");
    place.textContent = "📍 " + (label || content.latitude + ", " + content.longitude);
    return place;
  }
  const url = "/api/v1/agent/conversations/" + conversationId + "/files/" + encodeURIComponent(content.fileId);
  if (content.type === "image") {
    const image = document.createElement("img");
    image.src = url;
    image.alt = content.name || "";
    return image;
  }
  const player = content.mimeType && content.mimeType.match(/^(audio|video)\//);
  if (player) {
    const media = document.createElement(player[1]);
    media.controls = true;
    media.preload = "metadata";
    media.src = url;
    media.title = content.name || "";
    return media;
  }
  const link = document.createElement("a");
  link.href = url;
  link.download = content.name || "";
  link.textContent = "📄 " + (content.name || content.fileId);
  return link;
}

for (const emoji of ["😀", "😊", "🙂", "😉", "🙏", "👍", "👌", "👏", "🎉", "❤️", "✅", "📦", "🚚", "⏳", "❓", "😢"]) {
  const choice = document.createElement("button");
  choice.type = "button";
  choice.textContent = emoji;
  choice.addEventListener("click", () => {
    const input = $("reply-text");
    input.value += emoji;
    input.focus();
  });
  $("emojis").appendChild(choice);
}
$("emoji").addEventListener("click", () => { $("emojis").hidden = !$("emojis").hidden; });

$("attach").addEventListener("click", () => $("file").click());
$("file").addEventListener("change", async () => {
  const file = $("file").files[0];
  const id = state.selected;
  $("file").value = "";
  if (!file || !id) {
    return;
  }
  const response = await fetch("/api/v1/agent/conversations/" + id + "/files?name=" + encodeURIComponent(file.name),
    { method: "POST", credentials: "same-origin", body: file });
  const stored = await response.json();
  if (!response.ok) {
    alert(stored.message);
    return;
  }
  const content = stored.mimeType.startsWith("image/")
    ? { type: "image", fileId: stored.fileId, name: stored.name }
    : { type: "file", fileId: stored.fileId, name: stored.name, size: stored.size, mimeType: stored.mimeType };
  const clientMessageId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2);
  await api("POST", "/agent/conversations/" + id + "/messages", { clientMessageId, content });
  refresh(id);
});

// History: ended conversations this agent served, read-only transcripts.
async function loadHistory() {
  const page = await api("GET", "/agent/history?pageSize=20").catch(() => ({ items: [] }));
  const list = $("history");
  list.textContent = "";
  for (const conversation of page.items) {
    const item = document.createElement("li");
    item.dataset.id = conversation.id;
    item.textContent = new Date(conversation.createdAt).toLocaleString() + " · " + conversation.customerId.slice(-6);
    item.addEventListener("click", () => openTranscript(conversation));
    list.appendChild(item);
  }
}

async function openTranscript(conversation) {
  const messages = await api("GET", "/agent/conversations/" + conversation.id + "/messages?after=0");
  state.conversations.set(conversation.id, { conversation, messages, lastSeq: 0, unread: 0, wrappingUp: true, ended: true });
  select(conversation.id);
}

async function loadTransferQueues() {
  const queues = await api("GET", "/agent/transfer-queues").catch(() => []);
  const select = $("transfer");
  for (const queue of queues) {
    const option = document.createElement("option");
    option.value = queue.queueId;
    option.textContent = queue.name;
    select.appendChild(option);
  }
}

$("transfer").addEventListener("change", async (event) => {
  const id = state.selected;
  const queueId = event.target.value;
  event.target.value = "";
  if (!id || !queueId) {
    return;
  }
  try {
    await api("POST", "/agent/conversations/" + id + "/transfer", { queueId });
  } catch (error) {
    alert("Not transferred: " + error.message);
  }
});

async function loadQuickReplies() {
  const replies = await api("GET", "/agent/quick-replies").catch(() => []);
  const select = $("quick");
  for (const reply of replies) {
    const option = document.createElement("option");
    option.value = reply.text;
    option.textContent = reply.title;
    select.appendChild(option);
  }
}

$("quick").addEventListener("change", (event) => {
  const input = $("reply-text");
  input.value = (input.value ? input.value + " " : "") + event.target.value;
  event.target.value = "";
  input.focus();
});

function select(id) {
  state.selected = id;
  mark(id, (entry) => { entry.unread = 0; });
  showCustomer(id);
}

// The customer panel: who this is, from where, since when, and earlier contacts.
async function showCustomer(id) {
  const panel = await api("GET", "/agent/conversations/" + id + "/customer").catch(() => null);
  if (!panel || state.selected !== id) {
    return;
  }
  $("customer-name").textContent = panel.customer.name;
  $("customer-id").textContent = panel.customer.externalId;
  $("customer-channel").textContent = panel.channelName + " (" + panel.channelType + ")";
  state.since = Date.parse(panel.startedAt);
  tick();
  const earlier = $("customer-earlier");
  earlier.textContent = "";
  for (const contact of panel.earlier) {
    const item = document.createElement("li");
    item.textContent = new Date(contact.createdAt).toLocaleString() + " · " + contact.state;
    earlier.appendChild(item);
  }
  if (panel.earlier.length === 0) {
    earlier.textContent = "None";
  }
}

function tick() {
  if (state.since) {
    const seconds = Math.max(0, Math.round((Date.now() - state.since) / 1000));
    $("customer-since").textContent = Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  }
}

// The queue counter: how many wait in the agent's skill queues.
async function countWaiting() {
  if (!state.signedIn) {
    $("waiting").textContent = "";
    return;
  }
  const queues = await api("GET", "/agent/queues").catch(() => []);
  const waiting = queues.reduce((sum, queue) => sum + queue.waiting, 0);
  $("waiting").textContent = "Waiting: " + waiting;
}

setInterval(() => { tick(); countWaiting(); }, 5000);

$("reply").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("reply-text");
  const text = input.value.trim();
  const id = state.selected;
  if (!text || !id) {
    return;
  }
  input.value = "";
  const clientMessageId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2);
  // Retried with the same id until stored, so a dropped connection neither loses nor doubles it.
  for (let attempt = 0; ; attempt++) {
    try {
      await api("POST", "/agent/conversations/" + id + "/messages", { clientMessageId, content: { type: "text", text } });
      break;
    } catch (error) {
      if (error.status && error.status < 500) {
        alert(error.message);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** attempt, 10000)));
    }
  }
  refresh(id);
});

$("end").addEventListener("click", async () => {
  const id = state.selected;
  if (id) {
    await api("POST", "/agent/conversations/" + id + "/end");
    mark(id, (entry) => { entry.wrappingUp = true; });
  }
});

start();
