// The agent console's behaviour: live updates (server-sent events) and actions through the
// JSON API. Everything from the server is inserted as text (textContent), never as HTML.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  const page = document.body.dataset.page;

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

  function live(handlers) {
    const source = new EventSource("/console/events");
    for (const [kind, handler] of Object.entries(handlers)) {
      source.addEventListener(kind, (event) => handler(JSON.parse(event.data)));
    }
    return source;
  }

  // A reply locale (en, zh, zh-TW, zh-HK) as an HTML lang: bot/web/console/locales.py html_lang.
  function htmlLang(locale) {
    return locale === "zh" ? "zh-CN" : ["en", "zh-TW", "zh-HK"].includes(locale) ? locale : "";
  }

  function queuePage() {
    const body = document.getElementById("tickets");
    const empty = document.getElementById("empty");
    const filters = new URLSearchParams(window.location.search);
    if (!filters.has("status")) filters.set("status", "active");

    // The page's own "older" link and totals follow the API's page (new tickets shift it).
    function showPaging(next, totals) {
      const older = document.getElementById("older");
      if (next) {
        const url = new URL(next, window.location.origin);
        older.href = `/console/${url.search}`;
      }
      older.hidden = !next;
      document.getElementById("totals").textContent =
        `${totals.open} open · ${totals.assigned} assigned · ${totals.resolved} resolved`;
    }

    async function refresh() {
      const { tickets, next, totals } = await api("GET", `/api/tickets?${filters}`);
      const rows = tickets.map((t) => {
        const row = element("tr", null, `priority-${t.priority}`);
        row.dataset.ticket = t.id;
        const idCell = element("td");
        const link = element("a", t.id);
        link.href = `/console/tickets/${t.id}`;
        idCell.append(link);
        row.append(
          idCell,
          element("td", t.created_at),
          element("td", t.status),
          element("td", t.reason),
          element("td", t.channel || ""),
          customerCell(t.customer),
          questionCell(t),
          element("td", t.assigned_to || ""),
        );
        return row;
      });
      body.replaceChildren(...rows);
      empty.hidden = rows.length > 0;
      showPaging(next, totals);
    }

    function customerCell(customer) {
      const cell = element("td", customer.name || `#${customer.id}`);
      if (customer.language) cell.append(" ", element("span", customer.language, "locale"));
      return cell;
    }

    function questionCell(t) {
      const cell = element("td", t.question || "");
      cell.lang = htmlLang(t.customer.language);
      return cell;
    }

    live({ ticket: refresh });
  }

  function ticketPage() {
    const root = document.querySelector(".ticket");
    const ticketId = root.dataset.ticket;
    const conversation = root.dataset.conversation;
    const status = document.getElementById("reply-status");

    async function refresh() {
      const t = await api("GET", `/api/tickets/${ticketId}`);
      document.getElementById("status").textContent = t.status;
      document.getElementById("assignee").textContent = t.assigned_to || "nobody";
      document.getElementById("transcript").replaceChildren(
        ...t.transcript.map((m) => {
          const item = element("li", null, `msg ${m.direction}`);
          const text = element("span", m.text || "", "text");
          text.lang = htmlLang(m.language);
          item.append(element("span", m.direction, "who"), " ", text);
          return item;
        }),
      );
      document.getElementById("undelivered").replaceChildren(
        ...t.replies
          .filter((r) => r.failed_at)
          .map((r) => {
            const item = element("li", "Not delivered: ");
            item.append(element("q", r.text), ` — ${r.last_error || "refused by the channel"}`);
            return item;
          }),
      );
      document.getElementById("notes").replaceChildren(
        ...t.notes.map((n) => element("li", `${n.agent || ""}: ${n.text}`)),
      );
    }

    async function act(path, body, done) {
      try {
        await api("POST", `/api/tickets/${ticketId}/${path}`, body);
        status.textContent = done;
        await refresh();
      } catch (error) {
        status.textContent = `Could not ${path}: ${error.message}`;
      }
    }

    document.getElementById("reply-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = document.getElementById("reply-text");
      await act("reply", { text: text.value }, "Reply sent.");
      text.value = "";
    });
    document.getElementById("claim").addEventListener("click", () => act("claim", undefined, "Claimed."));
    document.getElementById("reopen").addEventListener("click", () => act("reopen", undefined, "Reopened."));
    document.getElementById("resolve-form").addEventListener("submit", (event) => {
      event.preventDefault();
      act("resolve", { note: document.getElementById("resolve-note").value }, "Resolved.");
    });
    document.getElementById("assign-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const agentId = Number(document.getElementById("assign-agent").value);
      act("assign", { agent_id: agentId }, "Assigned.");
    });
    document.getElementById("note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = document.getElementById("note-text");
      await act("notes", { text: text.value }, "Note added.");
      text.value = "";
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
            const use = element("button", "Insert");
            use.type = "button";
            use.addEventListener("click", () => {
              document.getElementById("reply-text").value = r.answer;
            });
            item.append(element("strong", r.question), " ", element("span", r.answer), " ", use);
            return item;
          }),
        );
      } catch (error) {
        results.replaceChildren(element("li", `Search failed: ${error.message}`));
      }
    });

    // Only there for those who may publish (admins, or every agent by AGENTS_MAY_PUBLISH_FAQ).
    document.getElementById("faq-add")?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const said = document.getElementById("faq-add-status");
      said.textContent = "Adding and rebuilding the index…";
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
        said.textContent = `Added to ${added.entry_id}; the bot uses it from index ${added.version}.`;
      } catch (error) {
        said.textContent = `Could not add: ${error.message}`;
      }
    });

    live({
      conversation: (data) => data.conversation === conversation && refresh(),
      ticket: (data) => String(data.id) === ticketId && refresh(),
    });
  }

  if (page === "queue") queuePage();
  if (page === "ticket") ticketPage();
})();
