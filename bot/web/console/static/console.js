// The agent console's behaviour: live updates (server-sent events), actions through the JSON
// API, times in the agent's zone, keyboard shortcuts, notifications and sound, preferences.
// Its words, the agent's zone and the first-response target come from the page
// (<script type="application/json" id="console-config">, bot/web/console/nav.py). Live parts
// are re-rendered by the server (the page is fetched again and its parts swapped in), so that
// they look exactly like the first render; the rest inserts text only (textContent).
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  const page = document.body.dataset.page;
  const configNode = document.getElementById("console-config");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const words = config ? config.text : {};
  const STORE = { sound: "console.sound", notify: "console.notify", told: "console.told" };

  // A message of the page's catalogue, with %(name)s / %(name)d filled in.
  function t(key, values) {
    const message = words[key] || key;
    return message.replace(/%\((\w+)\)[sd]/g, (_, name) => String(values?.[name] ?? ""));
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // --- times: relative words kept current, absolute in the agent's zone on hover -------------
  function relative(date, now) {
    const seconds = (now - date) / 1000;
    if (seconds < 60) return t("just_now");
    if (seconds < 3600) return t("minutes_ago", { n: Math.floor(seconds / 60) });
    if (seconds < 86400) return t("hours_ago", { n: Math.floor(seconds / 3600) });
    return t("days_ago", { n: Math.floor(seconds / 86400) });
  }

  function duration(seconds) {
    const minutes = Math.floor(Math.max(0, seconds) / 60);
    if (minutes < 60) return t("minutes", { m: minutes });
    if (minutes < 1440) return t("hours_minutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
    return t("days_hours", { d: Math.floor(minutes / 1440), h: Math.floor((minutes % 1440) / 60) });
  }

  function waitLevel(seconds) {
    const target = config.target;
    return seconds > target ? "late" : seconds >= target / 2 ? "near" : "ok";
  }

  function tick() {
    if (!config) return;
    const now = Date.now();
    for (const node of document.querySelectorAll("time[data-relative]")) {
      const date = new Date(node.getAttribute("datetime"));
      if ((now - date) / 1000 < 7 * 86400) node.textContent = relative(date, now);
    }
    for (const node of document.querySelectorAll("[data-waiting-since]")) {
      const seconds = (now - new Date(node.dataset.waitingSince)) / 1000;
      node.textContent = duration(seconds);
      const cell = node.closest(".wait");
      if (cell) cell.classList.remove("ok", "near", "late");
      if (cell) cell.classList.add(waitLevel(seconds));
    }
  }

  // --- one event stream per page; what other parts listen to -------------------------------
  const listeners = { ticket: [], conversation: [] };
  function listen(kind, handler) {
    listeners[kind].push(handler);
  }
  function connect() {
    const source = new EventSource("/console/events");
    for (const kind of Object.keys(listeners)) {
      source.addEventListener(kind, (event) => {
        const data = JSON.parse(event.data);
        for (const handler of listeners[kind]) handler(data);
      });
    }
  }

  // Several notices at once make one refresh: the first starts it at once, those that come
  // while it runs make one more after it. No timer: browsers delay the timers of background
  // tabs (to whole seconds, or minutes), and agents keep the console in one.
  function coalesce(action) {
    let running = false;
    let again = false;
    return async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          try {
            await action();
          } catch {
            // the next notice tries again
          }
        } while (again);
      } finally {
        running = false;
      }
    };
  }

  // The page again from the server, to swap parts of it in (see the comment at the top).
  async function fetchPage(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(response.statusText);
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  function swap(fresh, ids) {
    for (const id of ids) {
      const now = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (now && next) now.replaceWith(document.adoptNode(next));
    }
  }

  async function refreshCounts() {
    try {
      const counts = await api("GET", "/api/me/counts");
      for (const node of document.querySelectorAll("[data-count]")) {
        const value = counts[node.dataset.count];
        node.textContent = value;
        if (node.dataset.count === "open") node.classList.toggle("some", value > 0);
      }
    } catch {
      // the counts stay as they were; the next notice tries again
    }
  }

  // --- notifications and sound, in every console tab --------------------------------------
  function setting(name) {
    return localStorage.getItem(STORE[name]) === "on";
  }

  function beep() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    const audio = new Context();
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.type = "sine";
    tone.frequency.setValueAtTime(880, audio.currentTime);
    tone.frequency.setValueAtTime(1320, audio.currentTime + 0.12);
    volume.gain.setValueAtTime(0.0001, audio.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
    tone.onended = () => audio.close();
    window.consoleSounds = (window.consoleSounds || 0) + 1; // for tests and curious agents
  }

  // Every open tab hears the same notice: the first to claim it tells the agent. A Web Lock
  // (the browser's, shared by the site's tabs) decides at once; localStorage remembers the last
  // notice for tabs that hear it later, and stands in where Web Locks are missing (plain http).
  function claimNotice(key) {
    if (localStorage.getItem(STORE.told) === key) return false;
    localStorage.setItem(STORE.told, key);
    return true;
  }

  function tell(key, title, body, url) {
    if (!navigator.locks) {
      if (claimNotice(key)) show(title, body, url, key);
      return;
    }
    navigator.locks.request(`console-notice:${key}`, { ifAvailable: true }, async (lock) => {
      if (!lock || !claimNotice(key)) return;
      show(title, body, url, key);
      await new Promise((resolve) => setTimeout(resolve, 10_000)); // the other tabs hear it now
    });
  }

  function show(title, body, url, key) {
    window.consoleNotices = [...(window.consoleNotices || []), { title, body, url }];
    if (setting("sound")) beep();
    if (setting("notify") && "Notification" in window && Notification.permission === "granted") {
      const notice = new Notification(title, { body, tag: key, lang: config.language });
      notice.onclick = () => {
        window.focus();
        window.location.href = url;
      };
    }
  }

  // My tickets' conversations and when their customer last wrote, to tell new messages apart
  // from the bot's and agents' (a conversation notice does not say who wrote).
  const mine = new Map();
  async function loadMine() {
    try {
      const { tickets } = await api("GET", "/api/tickets?status=active&mine=1&limit=200");
      mine.clear();
      for (const ticket of tickets) mine.set(ticket.conversation, ticket);
    } catch {
      // no notices about my tickets until the next successful load
    }
  }

  function watchForNotices() {
    listen("ticket", async (data) => {
      if (data.change === "created") {
        tell(`ticket:${data.id}`, t("new_ticket_title"), t("new_ticket_body", { id: data.id }), `/console/tickets/${data.id}`);
      }
      if (data.change !== "created") await loadMine();
    });
    listen("conversation", async (data) => {
      const known = mine.get(data.conversation);
      if (!known) return;
      const fresh = await api("GET", `/api/tickets/${known.id}`).catch(() => null);
      if (!fresh || !fresh.last_customer_at || fresh.last_customer_at === known.last_customer_at) return;
      mine.set(data.conversation, { ...known, last_customer_at: fresh.last_customer_at });
      const looking = page === "ticket" && !document.hidden && document.querySelector(".ticket")?.dataset.ticket === String(known.id);
      if (looking) return;
      const last = [...fresh.transcript].reverse().find((m) => m.direction === "customer");
      tell(`message:${known.id}:${fresh.last_customer_at}`, t("new_message_title", { id: known.id }), last?.text || "", `/console/tickets/${known.id}`);
    });
    loadMine();
  }

  // --- the header: status, preferences, help ------------------------------------------------
  function header() {
    const said = (text) => {
      const node = document.getElementById("prefs-status");
      if (node) node.textContent = text;
    };
    const status = document.getElementById("status-toggle");
    status?.addEventListener("click", async () => {
      const wanted = status.dataset.status === "online" ? "away" : "online";
      try {
        const { status: now } = await api("POST", "/api/me/status", { status: wanted });
        status.dataset.status = now;
        status.className = `status-toggle ${now}`;
        status.setAttribute("aria-pressed", String(now === "online"));
        status.textContent = now === "online" ? t("online") : t("away");
      } catch (error) {
        said(t("could_not", { error: error.message }));
      }
    });

    document.getElementById("pref-language")?.addEventListener("change", async (event) => {
      try {
        await api("POST", "/api/me/preferences", { language: event.target.value });
        window.location.reload();
      } catch (error) {
        said(t("could_not", { error: error.message }));
      }
    });
    const zoneInput = document.getElementById("pref-timezone");
    async function saveZone(zone) {
      try {
        await api("POST", "/api/me/preferences", { timezone: zone || null });
        window.location.reload();
      } catch (error) {
        said(t("could_not", { error: error.message }));
      }
    }
    document.getElementById("pref-timezone-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      saveZone(zoneInput.value.trim());
    });
    document.getElementById("pref-timezone-browser")?.addEventListener("click", () => {
      saveZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
    });

    for (const name of ["sound", "notify"]) {
      const box = document.getElementById(`pref-${name}`);
      if (!box) continue;
      box.checked = setting(name);
      box.addEventListener("change", async () => {
        localStorage.setItem(STORE[name], box.checked ? "on" : "off");
        if (name === "sound" && box.checked) beep(); // a user gesture: browsers allow audio now
        if (name === "notify" && box.checked && "Notification" in window) {
          const permission = await Notification.requestPermission();
          if (permission !== "granted") said(t("notifications_blocked"));
        }
      });
    }

    const help = document.getElementById("help");
    document.getElementById("help-button")?.addEventListener("click", () => help.showModal());
  }

  // --- keyboard shortcuts (never while typing in a field) -----------------------------------
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  const shortcuts = {};
  function shortcut(key, action) {
    shortcuts[key] = action;
  }

  function keyboard() {
    shortcut("?", () => document.getElementById("help")?.showModal());
    shortcut("q", () => {
      window.location.href = "/console/";
    });
    shortcut("n", nextTicket);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        const prefs = document.getElementById("prefs");
        if (prefs?.open) prefs.open = false;
        if (typing(event.target)) event.target.blur();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      if (typing(event.target) || document.querySelector("dialog[open]")) return;
      const action = shortcuts[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    });
  }

  // The ticket that needs attention first (the queue's order), other than the one open here.
  async function nextTicket() {
    const here = document.querySelector(".ticket")?.dataset.ticket;
    const { tickets } = await api("GET", "/api/tickets?status=active&order=attention&limit=3");
    const next = tickets.find((ticket) => String(ticket.id) !== here);
    if (next) window.location.href = `/console/tickets/${next.id}`;
    else announce(t("no_next_ticket"));
  }

  function announce(text) {
    const node = document.getElementById("reply-status") || document.getElementById("prefs-status");
    if (node) node.textContent = text;
  }

  // --- the queue ----------------------------------------------------------------------------
  function queuePage() {
    let selected = -1;
    const rows = () => [...document.querySelectorAll("#tickets tr[data-ticket]")];

    function select(index) {
      const all = rows();
      if (!all.length) return;
      selected = Math.max(0, Math.min(all.length - 1, index));
      for (const row of all) row.classList.remove("selected");
      const row = all[selected];
      row.classList.add("selected");
      row.querySelector("a")?.focus();
    }

    shortcut("j", () => select(selected + 1));
    shortcut("k", () => select(selected - 1));
    shortcut("o", () => {
      const row = rows()[Math.max(0, selected)];
      if (row) window.location.href = row.dataset.href;
    });
    // The whole row opens its ticket (the customer's name is the keyboard's link).
    document.getElementById("tickets").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-ticket]");
      if (row && !event.target.closest("a")) window.location.href = row.dataset.href;
    });

    const refresh = coalesce(async () => {
      const fresh = await fetchPage(window.location.href);
      const selectedId = rows()[selected]?.dataset.ticket;
      swap(fresh, ["tickets", "totals", "empty", "older"]);
      if (selectedId) selected = rows().findIndex((row) => row.dataset.ticket === selectedId);
      rows()[selected]?.classList.add("selected");
      tick();
    });
    listen("ticket", refresh);
    // A message changes a row's wait and unread mark: only rows shown here matter.
    listen("conversation", (data) => {
      if (rows().some((row) => row.dataset.conversation === data.conversation)) refresh();
    });
  }

  // --- a ticket -----------------------------------------------------------------------------
  function ticketPage() {
    const root = document.querySelector(".ticket");
    const ticketId = root.dataset.ticket;
    const conversation = root.dataset.conversation;
    const status = document.getElementById("reply-status");
    const reply = document.getElementById("reply-text");
    const transcript = document.getElementById("transcript");

    function toBottom() {
      transcript.scrollTop = transcript.scrollHeight;
    }

    // The server renders the live parts again (and counts them read: the agent sees them).
    const refresh = async () => {
      const fresh = await fetchPage(window.location.pathname);
      const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
      swap(fresh, ["transcript", "undelivered", "mails", "notes", "status", "assignee", "wait", "earlier-tickets"]);
      root.dataset.status = fresh.querySelector(".ticket")?.dataset.status || root.dataset.status;
      const list = document.getElementById("transcript");
      if (atBottom) list.scrollTop = list.scrollHeight;
      tick();
    };
    const refreshSoon = coalesce(refresh);

    async function act(path, body, done) {
      try {
        await api("POST", `/api/tickets/${ticketId}/${path}`, body);
        status.textContent = done;
        await refresh();
        return true;
      } catch (error) {
        status.textContent = t("could_not", { error: error.message });
        return false;
      }
    }

    async function send() {
      if (!reply.value.trim()) {
        status.textContent = t("reply_empty");
        reply.focus();
        return;
      }
      if (await act("reply", { text: reply.value }, t("reply_sent"))) reply.value = "";
    }

    function resolve() {
      act("resolve", { note: document.getElementById("resolve-note").value }, t("resolved"));
    }

    document.getElementById("reply-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    reply.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        send();
      }
    });
    document.getElementById("claim").addEventListener("click", () => act("claim", undefined, t("claimed")));
    document.getElementById("resolve").addEventListener("click", resolve);
    document.getElementById("reopen").addEventListener("click", () => act("reopen", undefined, t("reopened")));
    document.getElementById("resolve-form").addEventListener("submit", (event) => {
      event.preventDefault();
      resolve();
    });
    document.getElementById("assign-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const agentId = Number(document.getElementById("assign-agent").value);
      act("assign", { agent_id: agentId }, t("assigned"));
    });
    document.getElementById("note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = document.getElementById("note-text");
      if (await act("notes", { text: text.value }, t("note_added"))) text.value = "";
    });

    document.getElementById("faq-search").addEventListener("submit", async (event) => {
      event.preventDefault();
      const query = document.getElementById("faq-query").value;
      const results = document.getElementById("faq-results");
      try {
        const search = new URLSearchParams({ q: query, locale: root.dataset.locale || "" });
        const { results: found } = await api("GET", `/api/faq/search?${search}`);
        results.replaceChildren(
          ...found.map((r) => {
            const item = element("li");
            const use = element("button", t("insert"));
            use.type = "button";
            use.addEventListener("click", () => {
              reply.value = r.answer;
              reply.focus();
            });
            item.append(element("strong", r.question), " ", element("span", r.answer), " ", use);
            return item;
          }),
        );
        if (!found.length) results.replaceChildren(element("li", t("nothing_found")));
      } catch (error) {
        results.replaceChildren(element("li", t("search_failed", { error: error.message })));
      }
    });

    // Only there for those who may publish (admins, or every agent by AGENTS_MAY_PUBLISH_FAQ).
    document.getElementById("faq-add")?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const said = document.getElementById("faq-add-status");
      said.textContent = t("adding");
      try {
        const added = await api("POST", "/api/faq", {
          kind: form.get("kind"),
          entry_id: form.get("entry_id"),
          category: form.get("category"),
          language: form.get("language"),
          question: form.get("question"),
          answer: form.get("answer"),
          ticket_id: Number(ticketId),
        });
        said.textContent = t("added", { entry: added.entry_id, version: added.version });
      } catch (error) {
        said.textContent = t("could_not_add", { error: error.message });
      }
    });

    function open(id) {
      const box = document.getElementById(id);
      if (box) box.open = true;
      return box;
    }
    shortcut("r", () => reply.focus());
    shortcut("c", () => document.getElementById("claim").click());
    shortcut("e", resolve);
    shortcut("f", () => {
      open("faq-search-box");
      document.getElementById("faq-query").focus();
    });

    listen("conversation", (data) => data.conversation === conversation && refreshSoon());
    listen("ticket", (data) => String(data.id) === ticketId && refreshSoon());
    toBottom();
  }

  if (config) {
    header();
    keyboard();
    if (page === "queue") queuePage();
    if (page === "ticket") ticketPage();
    listen("ticket", coalesce(refreshCounts));
    watchForNotices();
    connect();
    tick();
    setInterval(tick, 30_000);
  }
})();
