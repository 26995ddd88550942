"use strict";
// The local dashboard: polls /_local/api/payments and /_local/api/payments/{id}. Text only (never
// innerHTML with data): references and messages come from requests.
(function () {
  const base = document.body.dataset.base || "/_local";
  const search = document.getElementById("search");
  const rows = document.querySelector("#payments tbody");
  const empty = document.getElementById("empty");
  const live = document.getElementById("live");
  const title = document.getElementById("detail-title");
  const summary = document.getElementById("summary");
  const refundsBlock = document.getElementById("refunds-block");
  const refundRows = document.querySelector("#refunds tbody");
  const timelineBlock = document.getElementById("timeline-block");
  const timeline = document.getElementById("timeline");
  let selected = decodeURIComponent(location.hash.replace(/^#\/?/, "")) || null;
  let lastList = "";
  let lastDetail = "";

  const OPEN = ["Pending", "Capture Pending"];
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
    return node;
  }
  function money(minor, currency) {
    if (minor == null) return "";
    return `${currency || "QAR"} ${(minor / 100).toFixed(2)} (${minor})`;
  }
  function clock(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString([], { hour12: false }) + "." + String(Math.floor((epoch % 1) * 1000)).padStart(3, "0");
  }
  function badge(status) {
    return el("span", { class: `badge ${status}`, "data-s": status }, status);
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok && r.status !== 404) throw new Error(`${r.status}`);
    return r.status === 404 ? null : r.json();
  }

  async function refreshList() {
    const q = search.value.trim();
    const doc = await getJSON(`${base}/api/payments?q=${encodeURIComponent(q)}`);
    const text = JSON.stringify(doc);
    if (text === lastList) return;
    lastList = text;
    rows.replaceChildren(...doc.payments.map((p) => {
      const tr = el("tr", { tabindex: "0", "data-id": p.id, "aria-selected": String(p.id === selected) },
        el("td", {}, p.reference, el("br"), el("code", {}, p.id)),
        el("td", {}, badge(p.status)),
        el("td", {}, money(p.amount, p.currency)),
        el("td", {}, p.created_at_iso ? new Date(p.created_at_iso).toLocaleTimeString([], { hour12: false }) : ""));
      const open = () => { location.hash = "#" + p.id; };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
      return tr;
    }));
    empty.hidden = doc.payments.length > 0 || q !== "";
  }

  function row(label, value) {
    return [el("dt", {}, label), el("dd", {}, value)];
  }

  async function refreshDetail() {
    if (!selected) return;
    const doc = await getJSON(`${base}/api/payments/${encodeURIComponent(selected)}`);
    const text = JSON.stringify(doc);
    if (text === lastDetail) return;
    lastDetail = text;
    if (!doc) {
      title.textContent = `No payment ${selected}`;
      summary.replaceChildren();
      refundsBlock.hidden = timelineBlock.hidden = true;
      return;
    }
    const p = doc.payment;
    title.replaceChildren(`${p.reference} `, badge(p.status));
    summary.replaceChildren(
      ...row("Payment id", el("code", {}, p.id)),
      ...row("Checkout payment id", el("code", {}, p.cko_id || "—")),
      ...row("Amount", money(p.amount, p.currency)),
      ...row("Captured / refunded", `${money(p.captured_amount, p.currency) || "0"} / ${money(p.refunded_amount, p.currency) || "0"}`),
      ...row("Created / updated", `${p.created_at_iso || ""} / ${p.updated_at_iso || ""}`),
      // a final payment has no deadline and no live timer any more: only open ones show them
      ...(OPEN.includes(p.status) ? row("Deadline", p.deadline_iso || "") : []),
      ...(OPEN.includes(p.status) && doc.timer ? row("Expiry timer", `due ${doc.timer.due_iso} (attempt ${doc.timer.attempt})`) : []),
      ...row("Version / last event", `${p.version ?? ""} / ${p.last_event || "—"}`),
      ...(p.attention ? row("Attention", "needs a human: pending past the maximum age") : []),
    );
    refundsBlock.hidden = doc.refunds.length === 0;
    refundRows.replaceChildren(...doc.refunds.map((r) =>
      el("tr", {}, el("td", {}, el("code", {}, r.id)), el("td", {}, r.state), el("td", {}, money(r.amount, p.currency)), el("td", {}, r.reference || ""))));
    timelineBlock.hidden = false;
    timeline.replaceChildren(...doc.timeline.map((e) => {
      const detail = Object.entries(e.detail || {}).filter(([, v]) => v != null && v !== "")
        .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join("  ");
      const eventId = e.detail && e.detail.id;
      const resend = e.kind === "event" && doc.forwarding && eventId
        ? el("button", { type: "button", class: "resend", "data-event": eventId }, "Resend") : "";
      return el("li", { class: e.ok ? "ok" : "bad", "data-kind": e.kind },
        el("span", { class: "time" }, clock(e.at)),
        el("span", {}, el("span", { class: `kind kind-${e.kind}` }, e.kind)),
        el("span", { class: "title" }, e.title, " ", resend),
        el("span", { class: "detail" }, detail));
    }));
  }

  async function tick() {
    try {
      await refreshList();
      await refreshDetail();
      live.textContent = "live";
      live.classList.remove("stale");
    } catch (err) {
      live.textContent = "stack not answering";
      live.classList.add("stale");
    }
  }
  timeline.addEventListener("click", async (ev) => {
    const button = ev.target.closest && ev.target.closest("button.resend");
    if (!button) return;
    button.disabled = true;
    const r = await fetch(`${base}/api/events/${encodeURIComponent(button.dataset.event)}/resend`, { method: "POST" });
    button.textContent = r.status === 202 ? "Resent" : `Refused (${r.status})`;
    lastDetail = "";
    setTimeout(tick, 300);
  });
  let typing;
  search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(tick, 150); });
  window.addEventListener("hashchange", () => {
    selected = decodeURIComponent(location.hash.replace(/^#\/?/, "")) || null;
    lastDetail = "";
    lastList = "";
    tick();
  });
  tick();
  setInterval(tick, 1500);
})();
