// Saved replies in a reply box (textarea[data-saved-replies]): typing "/" and the start of a
// code lists the matching saved replies, the customer's language first; Enter, Tab or a click
// inserts the chosen text in place of "/code"; Escape closes the list. The list is a listbox
// whose options the box points at (aria-activedescendant), so that keys and screen readers
// work from the box. The customer's locale comes from the box's data-locale-from (the id of an
// element whose value is the locale), its data-locale, or the closest element with a
// data-locale (the ticket page's <div class="ticket" data-locale="...">).
// The replies are fetched once per page, from /api/saved-replies; everything from the server is
// inserted as text, never as HTML. Listens on the document, so boxes added later work too.
(() => {
  "use strict";
  if (window.savedReplies) return; // the script included twice
  const BOX = "textarea[data-saved-replies]";
  const TRIGGER = /(^|\s)\/([a-z0-9_-]{0,32})$/;
  const PREVIEW_CHARS = 120;
  const chinese = (document.documentElement.lang || "").toLowerCase().startsWith("zh");
  const WORDS = chinese
    ? { list: "常用回复", count: (n) => `${n} 条常用回复，上下键选择，回车插入，Esc 关闭` }
    : {
        list: "Saved replies",
        count: (n) =>
          `${n} saved ${n === 1 ? "reply" : "replies"}: arrow keys to choose, Enter to insert, Escape to close`,
      };
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  let replies = null;
  let loading = null;
  let boxes = 0;
  const states = new WeakMap();

  function load() {
    if (replies) return Promise.resolve(replies);
    if (!loading) {
      loading = fetch("/api/saved-replies", {
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf || "" },
      })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((data) => (replies = Array.isArray(data.saved_replies) ? data.saved_replies : []))
        .catch(() => {
          loading = null; // try again at the next "/"
          return [];
        });
    }
    return loading;
  }

  function stylesheet() {
    if (document.querySelector("link[data-saved-replies-css]")) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/console/static/saved_replies.css";
    link.dataset.savedRepliesCss = "";
    document.head.append(link);
  }

  const base = (locale) => (locale || "").split("-")[0];

  function customerLocale(box) {
    const from = box.dataset.localeFrom && document.getElementById(box.dataset.localeFrom);
    if (from && from.value) return from.value;
    if (box.dataset.locale) return box.dataset.locale;
    const holder = box.closest("[data-locale]") || document.querySelector(".ticket[data-locale]");
    return holder ? holder.dataset.locale : "";
  }

  function htmlLang(locale) {
    return locale === "zh" ? "zh-CN" : locale || "";
  }

  function state(box) {
    let s = states.get(box);
    if (s) return s;
    stylesheet();
    boxes += 1;
    const list = document.createElement("ul");
    list.id = `saved-replies-list-${boxes}`;
    list.className = "saved-replies-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", WORDS.list);
    list.hidden = true;
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    box.after(list, status);
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    list.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) insert(box, Number(option.dataset.index));
    });
    s = { list, status, matches: [], active: -1, start: -1, dismissed: -1 };
    states.set(box, s);
    return s;
  }

  function close(box) {
    const s = states.get(box);
    if (!s) return;
    s.list.hidden = true;
    s.list.replaceChildren();
    s.matches = [];
    s.active = -1;
    s.status.textContent = "";
    box.removeAttribute("aria-activedescendant");
  }

  function ranked(prefix, locale) {
    const rank = (reply) =>
      reply.language === locale ? 0 : base(reply.language) === base(locale) ? 1 : 2;
    return replies
      .filter((reply) => reply.code.startsWith(prefix))
      .sort(
        (a, b) =>
          (a.code === prefix ? 0 : 1) - (b.code === prefix ? 0 : 1) ||
          rank(a) - rank(b) ||
          a.code.localeCompare(b.code) ||
          a.language.localeCompare(b.language),
      );
  }

  function option(s, reply, index) {
    const item = document.createElement("li");
    item.id = `${s.list.id}-${index}`;
    item.setAttribute("role", "option");
    item.dataset.index = String(index);
    const code = document.createElement("span");
    code.className = "saved-reply-code";
    code.textContent = `/${reply.code}`;
    const language = document.createElement("span");
    language.className = "saved-reply-language";
    language.textContent = reply.language;
    const text = document.createElement("span");
    text.className = "saved-reply-text";
    text.lang = htmlLang(reply.language);
    text.textContent =
      reply.text.length > PREVIEW_CHARS ? `${reply.text.slice(0, PREVIEW_CHARS - 1)}…` : reply.text;
    item.append(code, " ", language, " ", text);
    return item;
  }

  function choose(box, index) {
    const s = states.get(box);
    s.active = index;
    s.list.querySelectorAll('[role="option"]').forEach((item, i) => {
      item.setAttribute("aria-selected", String(i === index));
    });
    const chosen = s.list.children[index];
    box.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({ block: "nearest" });
  }

  function refresh(box) {
    if (!replies || box.selectionStart !== box.selectionEnd) return close(box);
    const found = TRIGGER.exec(box.value.slice(0, box.selectionStart));
    const s = state(box);
    const start = found ? box.selectionStart - found[2].length - 1 : -1;
    if (!found || start === s.dismissed) return close(box);
    s.dismissed = -1;
    s.start = start;
    s.matches = ranked(found[2], customerLocale(box));
    if (!s.matches.length) return close(box);
    s.list.replaceChildren(...s.matches.map((reply, i) => option(s, reply, i)));
    s.list.hidden = false;
    s.status.textContent = WORDS.count(s.matches.length);
    choose(box, 0);
  }

  function insert(box, index) {
    const s = states.get(box);
    const reply = s && s.matches[index];
    if (!reply) return;
    box.setRangeText(reply.text, s.start, box.selectionStart, "end");
    close(box);
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function onInput(event) {
    const box = event.target.closest?.(BOX);
    if (!box) return;
    const before = box.value.slice(0, box.selectionStart);
    if (!TRIGGER.test(before)) {
      if (states.has(box)) states.get(box).dismissed = -1;
      return close(box);
    }
    load().then(() => refresh(box));
  }

  function onKey(event) {
    const box = event.target.closest?.(BOX);
    const s = box && states.get(box);
    if (!s || s.list.hidden || event.isComposing) return; // an IME's Enter is the IME's
    const count = s.matches.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      choose(box, (s.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      insert(box, s.active);
    } else if (event.key === "Escape") {
      s.dismissed = s.start; // stays closed while this "/code" is typed on
      close(box);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation(); // the console's own shortcuts must not act on these keys
  }

  function onBlur(event) {
    const box = event.target.closest?.(BOX);
    if (box) close(box);
  }

  document.addEventListener("input", onInput);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("focusout", onBlur);
  document.addEventListener("click", (event) => {
    const box = event.target.closest?.(BOX);
    if (box && states.has(box)) refresh(box);
  });
  window.savedReplies = { load };
})();
