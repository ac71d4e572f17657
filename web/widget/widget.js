/*
 * Switchboard web chat widget. Served by the loader after `window.__SWITCHBOARD_WIDGET__`
 * is set. It uses nothing of the host page: plain DOM inside a shadow root, fetch with
 * credentials (the ccmessaging-token cookie), and sessionStorage for what must survive a
 * reload (the open conversation and the sends not yet acknowledged).
 * Protocol: docs/api/widget.md.
 */
(function () {
  "use strict";
  var config = window.__SWITCHBOARD_WIDGET__;
  if (!config || window.__SWITCHBOARD_WIDGET_STARTED__) {
    return;
  }
  window.__SWITCHBOARD_WIDGET_STARTED__ = true;

  var TEXTS = {
    en: {
      title: "Online customer service",
      open: "Chat with us",
      close: "Close",
      placeholder: "Type a message",
      send: "Send",
      privacy: "Your messages are stored to serve you and to improve our service.",
      connecting: "Connecting…",
      offline: "Connection lost, retrying…",
      sending: "sending",
      ended: "This conversation has ended.",
      you: "You",
      agent: "Agent",
      bot: "Assistant",
      system: "System",
      rate: "Rate",
      rateTitle: "How was our service?",
      comment: "Comment (optional)",
      submit: "Submit",
      thanks: "Thank you for your evaluation.",
      chooseRating: "Choose from 1 to 5 stars.",
      attach: "Send an image or a file",
      emoji: "Emoji",
      uploading: "Uploading…"
    },
    zh: {
      title: "在线客服",
      open: "在线咨询",
      close: "关闭",
      placeholder: "请输入消息",
      send: "发送",
      privacy: "您的消息将被保存，用于为您提供服务和改进服务质量。",
      connecting: "正在连接…",
      offline: "连接中断，正在重试…",
      sending: "发送中",
      ended: "会话已结束。",
      you: "我",
      agent: "客服",
      bot: "机器人",
      system: "系统",
      rate: "评价",
      rateTitle: "请对本次服务进行评价",
      comment: "评价内容（可选）",
      submit: "提交",
      thanks: "感谢您的评价。",
      chooseRating: "请选择 1 到 5 颗星。",
      attach: "发送图片或文件",
      emoji: "表情",
      uploading: "正在上传…"
    }
  };
  var t = TEXTS[config.locale] || TEXTS.en;
  var base = config.base.replace(/\/$/, "");
  var storageKey = "switchboard:" + config.channelConfigId;
  var saved = load();
  var state = {
    conversationId: saved.conversationId || null,
    lastSeq: 0,
    pending: saved.pending || [],
    shown: {},
    ended: false,
    polling: false
  };

  function load() {
    try {
      return JSON.parse(window.sessionStorage.getItem(storageKey) || "{}");
    } catch (e) {
      return {};
    }
  }

  function save() {
    try {
      window.sessionStorage.setItem(storageKey, JSON.stringify({
        conversationId: state.conversationId,
        pending: state.pending
      }));
    } catch (e) {
      /* storage may be disabled: the chat still works, only a reload forgets more */
    }
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "include", headers: {} };
    if (body !== undefined) {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return window.fetch(base + "/webchat/v1/" + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || ("HTTP " + response.status));
          error.status = response.status;
          error.code = data.code;
          throw error;
        }
        return data;
      });
    });
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // ---- view -------------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-switchboard-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    ".sb{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328}" +
    ".sb-button{position:fixed;right:24px;bottom:24px;z-index:2147483000;border:0;border-radius:28px;" +
    "padding:14px 20px;background:#0b63ce;color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".sb-window{position:fixed;right:24px;bottom:88px;z-index:2147483001;width:360px;max-width:calc(100vw - 48px);" +
    "height:520px;max-height:calc(100vh - 120px);display:none;flex-direction:column;background:#fff;border-radius:12px;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}" +
    ".sb-window.open{display:flex}" +
    ".sb-head{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#0b63ce;color:#fff;font-weight:600}" +
    ".sb-head button{border:0;background:transparent;color:#fff;font:inherit;cursor:pointer}" +
    ".sb-privacy{padding:8px 14px;font-size:12px;color:#57606a;background:#f6f8fa;border-bottom:1px solid #d0d7de}" +
    ".sb-status{padding:4px 14px;font-size:12px;color:#9a6700;min-height:0}" +
    ".sb-list{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:8px}" +
    ".sb-msg{max-width:80%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".sb-msg small{display:block;font-size:11px;opacity:.7;margin-bottom:2px}" +
    ".sb-customer{align-self:flex-end;background:#0b63ce;color:#fff}" +
    ".sb-agent,.sb-bot{align-self:flex-start;background:#eaeef2}" +
    ".sb-system{align-self:center;background:transparent;color:#57606a;font-size:12px}" +
    ".sb-pending{opacity:.6}" +
    ".sb-head .sb-actions{display:flex;gap:10px}" +
    ".sb-rating{padding:10px 14px;border-bottom:1px solid #d0d7de;background:#fffbea}" +
    ".sb-stars button{border:0;background:transparent;font-size:22px;color:#c9ccd1;cursor:pointer;padding:0 2px}" +
    ".sb-stars button.on{color:#e3a008}" +
    ".sb-rating input{width:100%;margin:6px 0;padding:6px;border:1px solid #d0d7de;border-radius:6px;font:inherit}" +
    ".sb-rating .sb-rating-send{border:0;border-radius:6px;padding:6px 12px;background:#0b63ce;color:#fff;font:inherit;cursor:pointer}" +
    ".sb-form{display:flex;gap:8px;padding:10px;border-top:1px solid #d0d7de}" +
    ".sb-form input{flex:1;padding:8px;border:1px solid #d0d7de;border-radius:8px;font:inherit}" +
    ".sb-form button{border:0;border-radius:8px;padding:8px 14px;background:#0b63ce;color:#fff;font:inherit;cursor:pointer}" +
    ".sb-form .sb-tool{background:transparent;color:#1f2328;padding:8px 4px;font-size:18px}" +
    ".sb-emojis{display:flex;flex-wrap:wrap;gap:2px;padding:6px 10px;border-top:1px solid #d0d7de}" +
    ".sb-emojis button{border:0;background:transparent;font-size:20px;cursor:pointer;padding:2px}" +
    ".sb-msg img{display:block;max-width:100%;max-height:200px;border-radius:6px;margin-top:4px}" +
    ".sb-msg a{color:inherit}" +
    "</style>" +
    "<div class='sb'>" +
    "<button class='sb-button' type='button'></button>" +
    "<section class='sb-window' role='dialog'>" +
    "<header class='sb-head'><span class='sb-title'></span><span class='sb-actions'>" +
    "<button class='sb-rate' type='button' hidden></button><button class='sb-close' type='button'></button></span></header>" +
    "<div class='sb-privacy'></div><div class='sb-status'></div>" +
    "<div class='sb-rating' hidden><div class='sb-rating-title'></div><div class='sb-stars'>" +
    "<button type='button' data-rating='1'>★</button><button type='button' data-rating='2'>★</button>" +
    "<button type='button' data-rating='3'>★</button><button type='button' data-rating='4'>★</button>" +
    "<button type='button' data-rating='5'>★</button></div>" +
    "<input class='sb-comment' maxlength='500'><button type='button' class='sb-rating-send'></button></div>" +
    "<div class='sb-list' aria-live='polite'></div>" +
    "<div class='sb-emojis' hidden></div>" +
    "<form class='sb-form'><button type='button' class='sb-tool sb-emoji'>😊</button>" +
    "<button type='button' class='sb-tool sb-attach'>📎</button><input class='sb-file' type='file' hidden " +
    "accept='image/png,image/jpeg,image/gif,image/webp,.pdf,.docx,.xlsx,.pptx,.zip,.txt,.csv'>" +
    "<input class='sb-input' autocomplete='off' maxlength='5000'><button type='submit' class='sb-send'></button></form>" +
    "</section></div>";

  function $(selector) {
    return root.querySelector(selector);
  }

  $(".sb-button").textContent = t.open;
  $(".sb-title").textContent = t.title;
  $(".sb-close").textContent = t.close;
  $(".sb-privacy").textContent = t.privacy;
  $(".sb-input").setAttribute("placeholder", t.placeholder);
  $(".sb-send").textContent = t.send;
  $(".sb-rate").textContent = t.rate;
  $(".sb-attach").setAttribute("title", t.attach);
  $(".sb-emoji").setAttribute("title", t.emoji);
  $(".sb-rating-title").textContent = t.rateTitle;
  $(".sb-comment").setAttribute("placeholder", t.comment);
  $(".sb-rating-send").textContent = t.submit;
  (document.body || document.documentElement).appendChild(host);

  function setStatus(text) {
    $(".sb-status").textContent = text || "";
  }

  function author(sender) {
    return { customer: t.you, agent: t.agent, bot: t.bot, system: t.system }[sender.kind] || "";
  }

  function fileUrl(fileId) {
    return base + "/webchat/v1/files/" + encodeURIComponent(fileId) +
      "?conversationId=" + encodeURIComponent(state.conversationId);
  }

  // Text as text; an image shown inline; a place as its name; a document as a download
  // link.
  function describe(content) {
    if (content.type === "text") {
      return document.createTextNode(content.text);
    }
    if (content.type === "location") {
      var label = [content.name, content.address].filter(Boolean).join(", ");
      return document.createTextNode("📍 " + (label || content.latitude + ", " + content.longitude));
    }
    if (content.type === "image") {
      var image = document.createElement("img");
      image.src = fileUrl(content.fileId);
      image.alt = content.name || "";
      return image;
    }
    var link = document.createElement("a");
    link.href = fileUrl(content.fileId);
    link.textContent = "📄 " + (content.name || content.fileId);
    link.setAttribute("download", content.name || "");
    return link;
  }

  function bubble(kind, who, body, extraClass) {
    var item = document.createElement("div");
    item.className = "sb-msg sb-" + kind + (extraClass ? " " + extraClass : "");
    if (kind !== "system") {
      var label = document.createElement("small");
      label.textContent = who;
      item.appendChild(label);
    }
    item.appendChild(typeof body === "string" ? document.createTextNode(body) : body);
    var list = $(".sb-list");
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function show(message) {
    if (state.shown[message.seq]) {
      return;
    }
    state.shown[message.seq] = true;
    var pending = root.querySelector("[data-client-id='" + cssEscape(message.clientMessageId) + "']");
    if (pending && message.sender.kind === "customer") {
      pending.remove();
    }
    var item = bubble(message.sender.kind, author(message.sender), describe(message.content));
    item.setAttribute("data-seq", String(message.seq));
    if (message.sender.kind === "agent") {
      // The service can be rated once an agent has answered, during or after the chat.
      $(".sb-rate").hidden = false;
    }
  }

  function cssEscape(value) {
    return String(value).replace(/[^a-zA-Z0-9_-]/g, "\\$&");
  }

  // ---- conversation -----------------------------------------------------------------
  function start() {
    setStatus(t.connecting);
    return api("POST", "conversation").then(function (opened) {
      // Show the whole conversation once: after a reload the list starts empty.
      state.conversationId = opened.conversationId;
      state.lastSeq = 0;
      state.shown = {};
      $(".sb-list").textContent = "";
      save();
      setStatus("");
      state.pending.forEach(function (entry) {
        renderPending(entry);
        deliver(entry, 0);
      });
      poll();
    }, function () {
      setStatus(t.offline);
      window.setTimeout(start, 3000);
    });
  }

  function poll() {
    if (state.polling || state.ended) {
      return;
    }
    state.polling = true;
    var query = "messages?conversationId=" + encodeURIComponent(state.conversationId) +
      "&after=" + state.lastSeq + "&waitSeconds=25";
    api("GET", query).then(function (answer) {
      state.polling = false;
      setStatus("");
      answer.messages.forEach(function (message) {
        show(message);
        state.lastSeq = Math.max(state.lastSeq, message.seq);
      });
      save();
      if (answer.state === "closed" || answer.state === "abandoned") {
        state.ended = true;
        bubble("system", "", t.ended);
        return;
      }
      poll();
    }, function (error) {
      state.polling = false;
      setStatus(t.offline);
      if (error.status === 401) {
        return;
      }
      window.setTimeout(poll, 2000);
    });
  }

  function renderPending(entry) {
    if (root.querySelector("[data-client-id='" + cssEscape(entry.id) + "']")) {
      return;
    }
    var item = bubble("customer", t.you + " · " + t.sending, entry.text, "sb-pending");
    item.setAttribute("data-client-id", entry.id);
  }

  // A send is retried with the same client id until the server acknowledges it, so a
  // dropped connection can neither lose it nor store it twice.
  function deliver(entry, attempt) {
    api("POST", "messages", {
      conversationId: state.conversationId,
      clientMessageId: entry.id,
      content: entry.content || { type: "text", text: entry.text }
    }).then(function () {
      state.pending = state.pending.filter(function (p) { return p.id !== entry.id; });
      save();
    }, function (error) {
      if (error.status && error.status < 500 && error.status !== 429) {
        state.pending = state.pending.filter(function (p) { return p.id !== entry.id; });
        save();
        setStatus(error.message);
        return;
      }
      setStatus(t.offline);
      window.setTimeout(function () { deliver(entry, attempt + 1); }, Math.min(1000 * Math.pow(2, attempt), 15000));
    });
  }

  $(".sb-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $(".sb-input");
    var text = input.value.trim();
    if (!text || !state.conversationId || state.ended) {
      return;
    }
    input.value = "";
    var entry = { id: newId(), text: text };
    state.pending.push(entry);
    save();
    renderPending(entry);
    deliver(entry, 0);
  });

  // ---- satisfaction evaluation ------------------------------------------------------
  var rating = 0;
  $(".sb-rate").addEventListener("click", function () {
    $(".sb-rating").hidden = !$(".sb-rating").hidden;
  });
  Array.prototype.forEach.call(root.querySelectorAll(".sb-stars button"), function (star) {
    star.addEventListener("click", function () {
      rating = Number(star.getAttribute("data-rating"));
      Array.prototype.forEach.call(root.querySelectorAll(".sb-stars button"), function (other) {
        other.classList.toggle("on", Number(other.getAttribute("data-rating")) <= rating);
      });
    });
  });
  $(".sb-rating-send").addEventListener("click", function () {
    if (!rating) {
      setStatus(t.chooseRating);
      return;
    }
    api("POST", "evaluation", {
      conversationId: state.conversationId,
      rating: rating,
      comment: $(".sb-comment").value.trim()
    }).then(function () {
      $(".sb-rating").hidden = true;
      setStatus("");
      bubble("system", "", t.thanks);
    }, function (error) {
      setStatus(error.message);
    });
  });

  // ---- emoji and files ----------------------------------------------------------------
  var EMOJIS = ["😀", "😊", "😂", "😍", "🤔", "😢", "😡", "👍", "👎", "🙏", "👏", "🎉", "❤️", "✅", "❓", "🔥"];
  EMOJIS.forEach(function (emoji) {
    var choice = document.createElement("button");
    choice.type = "button";
    choice.textContent = emoji;
    choice.addEventListener("click", function () {
      var input = $(".sb-input");
      input.value += emoji;
      input.focus();
    });
    $(".sb-emojis").appendChild(choice);
  });
  $(".sb-emoji").addEventListener("click", function () {
    $(".sb-emojis").hidden = !$(".sb-emojis").hidden;
  });
  $(".sb-attach").addEventListener("click", function () {
    $(".sb-file").click();
  });
  $(".sb-file").addEventListener("change", function () {
    var file = $(".sb-file").files[0];
    $(".sb-file").value = "";
    if (!file || !state.conversationId || state.ended) {
      return;
    }
    setStatus(t.uploading);
    var url = base + "/webchat/v1/files?conversationId=" + encodeURIComponent(state.conversationId) +
      "&name=" + encodeURIComponent(file.name);
    window.fetch(url, { method: "POST", credentials: "include", body: file }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error(data.message || ("HTTP " + response.status));
        }
        return data;
      });
    }).then(function (stored) {
      setStatus("");
      var image = stored.mimeType.indexOf("image/") === 0;
      var content = image ? { type: "image", fileId: stored.fileId, name: stored.name } :
        { type: "file", fileId: stored.fileId, name: stored.name, size: stored.size, mimeType: stored.mimeType };
      var entry = { id: newId(), text: stored.name, content: content };
      state.pending.push(entry);
      save();
      renderPending(entry);
      deliver(entry, 0);
    }, function (error) {
      setStatus(error.message);
    });
  });

  var started = false;
  $(".sb-button").addEventListener("click", function () {
    $(".sb-window").classList.toggle("open");
    if (!started) {
      started = true;
      start();
    }
  });
  $(".sb-close").addEventListener("click", function () {
    $(".sb-window").classList.remove("open");
  });

  // A reload in the middle of a chat reopens it where it was.
  if (state.conversationId) {
    $(".sb-window").classList.add("open");
    started = true;
    start();
  }
})();
