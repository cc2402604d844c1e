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
 * URL) with the titles of the buttons the customer chose and the last buttons still to answer,
 * and queues what is typed offline. The shop's options come from the web service
 * (/widget/options): a greeting, a pre-chat form (name, e-mail: /widget/contact), and whether
 * people answer now. When an agent's reply is on screen (the panel open, the page visible), it
 * tells the web service (/widget/seen), so that the reply is not e-mailed as well.
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
      agentsOnline: "Our team is online.",
      agentsOffline: "Our team is offline right now: the assistant answers, and a person replies later.",
      agentsClosed: "We are closed now: the assistant answers, and a person replies when we open.",
      formIntro: "Before we start: your name and e-mail address, so that our team can reach you.",
      name: "Your name",
      email: "E-mail",
      start: "Start the chat",
      formError: "Please check your name and e-mail address.",
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
      agentsOnline: "客服在线，随时为您服务。",
      agentsOffline: "客服暂时离线：智能助手先为您解答，客服稍后回复。",
      agentsClosed: "现在不是营业时间：智能助手先为您解答，营业后客服回复您。",
      formIntro: "开始之前，请留下您的称呼和邮箱，方便客服联系您。",
      name: "您的称呼",
      email: "电子邮箱",
      start: "开始聊天",
      formError: "请检查您的称呼和邮箱。",
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
      agentsOnline: "客服線上，隨時為您服務。",
      agentsOffline: "客服暫時離線：智慧助手先為您解答，客服稍後回覆。",
      agentsClosed: "現在不是營業時間：智慧助手先為您解答，營業後客服回覆您。",
      formIntro: "開始之前，請留下您的稱呼和郵箱，方便客服聯絡您。",
      name: "您的稱呼",
      email: "電子郵箱",
      start: "開始聊天",
      formError: "請檢查您的稱呼和郵箱。",
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
      agentsOnline: "客服在線，隨時為您服務。",
      agentsOffline: "客服暫時離線：智能助手先為您解答，客服稍後回覆。",
      agentsClosed: "現在不是營業時間：智能助手先為您解答，營業後客服回覆您。",
      formIntro: "開始之前，請留下您的稱呼和郵箱，方便客服聯繫您。",
      name: "您的稱呼",
      email: "電子郵箱",
      start: "開始聊天",
      formError: "請檢查您的稱呼和郵箱。",
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
    store("choices", {});
    store("offer", null);
    store("contactSent", false);
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
  const presence = element("p", "sa-presence");
  presence.hidden = true;

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

  // The pre-chat form, shown instead of the message box while the shop asks for it.
  const prechat = element("form", "sa-prechat");
  prechat.hidden = true;
  prechat.append(element("p", "sa-prechat-intro", TEXT.formIntro));
  function field(name, type, autocomplete, maxLength) {
    const label = element("label", "sa-field");
    label.append(element("span", null, TEXT[name]));
    const box = element("input", `sa-${name}`);
    box.name = name;
    box.type = type;
    box.required = true;
    box.maxLength = maxLength;
    box.autocomplete = autocomplete;
    label.append(box);
    prechat.append(label);
    return box;
  }
  const nameInput = field("name", "text", "name", 100);
  const emailInput = field("email", "email", "email", 254);
  const startChat = element("button", "sa-start", TEXT.start);
  startChat.type = "submit";
  prechat.append(startChat);

  panel.append(header, presence, log, typing, status, prechat, form, person);
  root.append(panel, bubble);
  document.body.append(root);

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? TEXT.close : TEXT.open);
    store("open", open);
    if (open) (prechat.hidden ? input : nameInput).focus();
    if (open) reportSeen();
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
  // The titles of the buttons the customer chose, by payload (the history has the payloads),
  // and the last buttons the bot offered (shown again while its message is the last one).
  const choices = stored("choices", {});
  function remember(payload, title) {
    if (choices[payload] === title) return;
    choices[payload] = title;
    const payloads = Object.keys(choices);
    if (payloads.length > 100) delete choices[payloads[0]];
    store("choices", choices);
  }

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
    if (direction === "agent") {
      unseen = true;
      reportSeen();
    }
  }

  // --- the "seen" signal: an agent's reply the customer had on screen is not e-mailed --------
  let unseen = false; // an agent's reply is in the log that the web service was not told of
  function reportSeen() {
    if (!unseen || panel.hidden || document.visibilityState !== "visible") return;
    unseen = false;
    const ask = { session_id: sessionId };
    if (data.customerId && data.customerHash) {
      ask.customer_id = data.customerId;
      ask.customer_hash = data.customerHash;
    }
    fetch(`${host}/widget/seen`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(ask),
      credentials: "omit",
      cache: "no-store",
    })
      .then((response) => {
        if (!response.ok && response.status >= 500) unseen = true;
      })
      .catch(() => (unseen = true)); // offline: told when the page is shown again
  }
  document.addEventListener("visibilitychange", reportSeen);

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
    if (shown) remember(text, shown);
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
      const offer = stored("offer", null);
      messages.forEach((m, index) => {
        if (m.choice) {
          if (choices[m.text]) show("customer", choices[m.text]);
          return; // a payload this browser did not send: nothing a customer would recognise
        }
        const last = index === messages.length - 1;
        const open = last && offer && m.direction === "bot" && m.text.endsWith(offer.text);
        show(m.direction, m.text, open ? offer.buttons : null, m.agent);
      });
    } catch {
      /* no history: a new conversation */
    }
    for (const text of outbox) show("customer", text); // typed offline, not sent yet
    return log.childElementCount;
  }

  // --- the shop's options: greeting, pre-chat form, people's presence -------------------------
  async function fetchOptions() {
    try {
      const response = await fetch(`${host}/widget/options?lang=${encodeURIComponent(lang)}`, {
        credentials: "omit",
        cache: "no-store",
      });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  const PRESENCE = { online: TEXT.agentsOnline, offline: TEXT.agentsOffline, closed: TEXT.agentsClosed };
  function showPresence(options) {
    const text = options && PRESENCE[options.agents];
    presence.hidden = !text;
    presence.textContent = text || "";
    presence.className = `sa-presence sa-agents-${text ? options.agents : "unknown"}`;
  }

  function askForContact() {
    prechat.hidden = false;
    form.hidden = true;
    person.hidden = true;
    if (!panel.hidden) nameInput.focus();
  }
  prechat.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ask = { session_id: sessionId, name: nameInput.value, email: emailInput.value };
    if (data.customerId && data.customerHash) {
      ask.customer_id = data.customerId;
      ask.customer_hash = data.customerHash;
    }
    startChat.disabled = true;
    try {
      const response = await fetch(`${host}/widget/contact`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(ask),
        credentials: "omit",
        cache: "no-store",
      });
      if (!response.ok) throw new Error(String(response.status));
      store("contactSent", true);
      prechat.hidden = true;
      form.hidden = false;
      person.hidden = false;
      status.textContent = "";
      input.focus();
    } catch {
      status.textContent = TEXT.formError;
    } finally {
      startChat.disabled = false;
    }
  });

  async function start() {
    const [shown, options] = await Promise.all([restoreHistory(), fetchOptions()]);
    showPresence(options);
    if (!options || shown) return;
    if (options.greeting) show("bot", options.greeting);
    if (options.prechat_form && !stored("contactSent", false)) askForContact();
  }

  function connect() {
    // Websocket first; where a proxy or firewall blocks it, long-polling (tryAllTransports).
    socket = window.io(botHost, { transports: ["websocket", "polling"], tryAllTransports: true });
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
        title: String(b.title),
        payload: String(b.payload),
      }));
      if (buttons.length && message.text) store("offer", { text: message.text, buttons });
      // An agent's name rides in the metadata, where standard Rasa clients ignore it.
      const agent = message.metadata && message.metadata.agent_name;
      if (message.text) show(agent ? "agent" : "bot", message.text, buttons, agent);
    });
  }

  const loader = document.createElement("script");
  loader.src = `${host}/widget/socket.io.min.js`;
  loader.addEventListener("load", connect);
  document.head.append(loader);

  start();
  if (data.open === "true" || stored("open", false)) setOpen(true);
  // Whether people answer changes while the page is open: ask again every minute it is shown.
  setInterval(async () => {
    if (!panel.hidden && document.visibilityState === "visible") showPresence(await fetchOptions());
  }, 60000);
  window.addEventListener("online", flush);
  window.addEventListener("offline", () => (status.textContent = TEXT.offline));
})();
