/*
 * The shop assistant's chat widget: one tag on any page.
 *
 *   <script src="https://BOT-HOST/widget.js" data-bot-host="https://BOT-HOST:5005"
 *           data-lang="zh" data-title="Help" data-color="#3556c9" data-position="right"
 *           data-open="false" data-customer-id="c-42" data-customer-hash="..."></script>
 *
 * data-lang (else the page's lang) picks the widget's locale: en, zh (Simplified), zh-TW or
 * zh-HK (Traditional: zh-Hant, zh-Hant-TW, zh-HK, zh-Hant-HK, zh-MO ...); it is sent with every
 * message as the metadata "language", the bot's hint for a message with no script of its own.
 * It talks to Rasa's socket.io channel with the socket.io client served by the web service,
 * keeps its conversation id (128 random bits) in localStorage so the conversation survives
 * reloads, restores the history from the web service (the secret in a POST body, never in a
 * URL), and queues what is typed offline.
 * Everything from the server is inserted as text; links become <a> elements, nothing else.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__shopAssistantLoaded) return;
  window.__shopAssistantLoaded = true;

  const data = script.dataset;
  const host = new URL(script.src).origin;
  const botHost = data.botHost || host;
  // A language tag as the widget's locale; the same rule as vocabulary's locale_from_tag.
  function localeOf(tag) {
    const parts = String(tag || "").trim().toLowerCase().replace(/_/g, "-").split("-");
    if (parts[0] !== "zh") return "en";
    if (parts.includes("hans")) return "zh";
    if (parts.includes("hk") || parts.includes("mo")) return "zh-HK";
    if (parts.includes("tw") || parts.includes("hant")) return "zh-TW";
    return "zh";
  }
  const lang = localeOf(data.lang || document.documentElement.lang);
  const STORE = "shopAssistant";
  const TEXT = {
    en: {
      title: data.title || "Questions? Ask us",
      open: "Open the chat",
      close: "Close the chat",
      placeholder: "Type your question…",
      send: "Send",
      person: "Talk to a person",
      typing: "The assistant is typing…",
      offline: "Offline: your messages will be sent when the connection is back.",
      agent: "Agent",
      log: "Conversation",
    },
    zh: {
      title: data.title || "有问题？问我们",
      open: "打开聊天",
      close: "关闭聊天",
      placeholder: "请输入您的问题…",
      send: "发送",
      person: "转人工客服",
      typing: "客服助手正在输入…",
      offline: "网络已断开：恢复后会自动发送您的消息。",
      agent: "客服",
      log: "对话",
    },
    // OpenCC's s2twp and s2hk of the zh strings (tests/bot/web/test_widget_locales.py checks them).
    "zh-TW": {
      title: data.title || "有問題？問我們",
      open: "開啟聊天",
      close: "關閉聊天",
      placeholder: "請輸入您的問題…",
      send: "傳送",
      person: "轉人工客服",
      typing: "客服助手正在輸入…",
      offline: "網路已斷開：恢復後會自動傳送您的訊息。",
      agent: "客服",
      log: "對話",
    },
    "zh-HK": {
      title: data.title || "有問題？問我們",
      open: "打開聊天",
      close: "關閉聊天",
      placeholder: "請輸入您的問題…",
      send: "發送",
      person: "轉人工客服",
      typing: "客服助手正在輸入…",
      offline: "網絡已斷開：恢復後會自動發送您的消息。",
      agent: "客服",
      log: "對話",
    },
  }[lang];

  function stored(key, fallback) {
    try {
      const value = localStorage.getItem(`${STORE}.${key}`);
      return value === null ? fallback : JSON.parse(value);
    } catch {
      return fallback;
    }
  }
  function store(key, value) {
    try {
      localStorage.setItem(`${STORE}.${key}`, JSON.stringify(value));
    } catch {
      /* private mode: the conversation lasts as long as the page */
    }
  }

  function newSessionId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // The session id is the conversation's secret; a conversation belongs to whoever was
  // signed in when it started, so another (or no) sign-in starts a new one.
  const owner = data.customerId || "";
  let sessionId = stored("sessionId", null);
  if (!sessionId || stored("sessionOwner", "") !== owner) {
    sessionId = newSessionId();
    store("outbox", []);
  }
  store("sessionId", sessionId);
  store("sessionOwner", owner);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Text with its links as <a>; nothing else from the server becomes markup.
  function rich(text) {
    const fragment = document.createDocumentFragment();
    const lines = String(text || "").split("\n");
    lines.forEach((line, index) => {
      for (const part of line.split(/(https?:\/\/[^\s<>"']+)/g)) {
        if (/^https?:\/\//.test(part)) {
          const link = element("a", null, part);
          link.href = part;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          fragment.append(link);
        } else if (part) {
          fragment.append(document.createTextNode(part));
        }
      }
      if (index < lines.length - 1) fragment.append(document.createElement("br"));
    });
    return fragment;
  }

  // A speech bubble, drawn rather than an emoji: no font needed.
  function chatIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute(
      "d",
      "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z",
    );
    svg.append(path);
    return svg;
  }

  // --- the page's elements --------------------------------------------------------------
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = `${host}/widget.css`;
  document.head.append(css);

  const root = element("div", `sa-root sa-${data.position === "left" ? "left" : "right"}`);
  root.lang = lang;
  if (data.color && /^#[0-9a-fA-F]{3,8}$/.test(data.color)) {
    root.style.setProperty("--sa-color", data.color);
  }
  const bubble = element("button", "sa-bubble");
  bubble.type = "button";
  bubble.setAttribute("aria-label", TEXT.open);
  bubble.setAttribute("aria-expanded", "false");
  bubble.append(chatIcon());

  const panel = element("section", "sa-panel");
  panel.id = "sa-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", TEXT.title);
  bubble.setAttribute("aria-controls", panel.id);

  const header = element("header", "sa-header");
  header.append(element("h2", "sa-title", TEXT.title));
  const close = element("button", "sa-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", TEXT.close);
  header.append(close);

  const log = element("ol", "sa-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", TEXT.log);
  const status = element("p", "sa-status");
  status.setAttribute("role", "status");
  const typing = element("p", "sa-typing", TEXT.typing);
  typing.hidden = true;

  const form = element("form", "sa-form");
  const input = element("textarea", "sa-input");
  input.rows = 1;
  input.maxLength = 1000;
  input.placeholder = TEXT.placeholder;
  input.setAttribute("aria-label", TEXT.placeholder);
  const send = element("button", "sa-send", TEXT.send);
  send.type = "submit";
  const person = element("button", "sa-person", TEXT.person);
  person.type = "button";
  form.append(input, send);

  panel.append(header, log, typing, status, form, person);
  root.append(panel, bubble);
  document.body.append(root);

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? TEXT.close : TEXT.open);
    store("open", open);
    if (open) input.focus();
  }
  bubble.addEventListener("click", () => setOpen(panel.hidden));
  close.addEventListener("click", () => {
    setOpen(false);
    bubble.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      bubble.focus();
    }
  });

  // --- messages ---------------------------------------------------------------------------
  function show(direction, text, buttons, agent) {
    const item = element("li", `sa-msg sa-${direction}`);
    if (agent) item.append(element("span", "sa-agent", `${TEXT.agent} ${agent}`));
    const body = element("div", "sa-text");
    body.append(rich(text));
    item.append(body);
    if (buttons && buttons.length) {
      const row = element("div", "sa-buttons");
      for (const button of buttons) {
        const choice = element("button", "sa-choice", button.title);
        choice.type = "button";
        choice.addEventListener("click", () => {
          row.querySelectorAll("button").forEach((b) => (b.disabled = true));
          say(button.payload, button.title);
        });
        row.append(choice);
      }
      item.append(row);
    }
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  let socket = null;
  let ready = false;
  let typingTimer = null;
  const outbox = stored("outbox", []); // typed while offline, sent in order once back

  function metadata() {
    const extra = { language: lang };
    if (data.customerId && data.customerHash) {
      extra.customer_id = data.customerId;
      extra.customer_hash = data.customerHash;
    }
    return extra;
  }

  function deliver(message) {
    socket.emit("user_uttered", { message, session_id: sessionId, metadata: metadata() });
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => (typing.hidden = true), 15000);
  }

  function say(message, shown) {
    const text = String(message || "").trim();
    if (!text) return;
    show("customer", shown || text);
    if (online()) {
      deliver(text);
    } else {
      outbox.push(text);
      store("outbox", outbox);
      status.textContent = TEXT.offline;
    }
  }

  function online() {
    return ready && socket !== null && socket.connected && navigator.onLine !== false;
  }

  function flush() {
    while (outbox.length && online()) {
      deliver(outbox.shift());
      store("outbox", outbox);
    }
    if (!outbox.length) status.textContent = "";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say(input.value);
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  person.addEventListener("click", () => say("/request_human", TEXT.person));

  // The secret goes in a POST body, never in a URL (browser history, proxies' logs).
  async function restoreHistory() {
    const ask = { session_id: sessionId };
    if (data.customerId && data.customerHash) {
      ask.customer_id = data.customerId;
      ask.customer_hash = data.customerHash;
    }
    try {
      const response = await fetch(`${host}/api/widget/history`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(ask),
        credentials: "omit",
        cache: "no-store",
      });
      if (!response.ok) return;
      const { messages } = await response.json();
      for (const m of messages) show(m.direction, m.text, null, m.agent);
    } catch {
      /* no history: a new conversation */
    }
    for (const text of outbox) show("customer", text); // typed offline, not sent yet
  }

  function connect() {
    socket = window.io(botHost, { transports: ["websocket", "polling"] });
    socket.on("connect", () => socket.emit("session_request", { session_id: sessionId }));
    socket.on("session_confirm", (confirmed) => {
      if (typeof confirmed === "string" && confirmed !== sessionId) {
        sessionId = confirmed; // the server gave a new one for an id it could not accept
        store("sessionId", sessionId);
      }
      ready = true;
      flush();
    });
    socket.on("disconnect", () => {
      ready = false;
    });
    socket.on("bot_uttered", (message) => {
      typing.hidden = true;
      const buttons = (message.quick_replies || message.buttons || []).map((b) => ({
        title: b.title,
        payload: b.payload,
      }));
      if (message.text) show(message.agent ? "agent" : "bot", message.text, buttons, message.agent);
    });
  }

  const loader = document.createElement("script");
  loader.src = `${host}/widget/socket.io.min.js`;
  loader.addEventListener("load", connect);
  document.head.append(loader);

  restoreHistory();
  if (data.open === "true" || stored("open", false)) setOpen(true);
  window.addEventListener("online", flush);
  window.addEventListener("offline", () => (status.textContent = TEXT.offline));
})();
