// Polls GET /payments/{id} (with the payment's client secret) until the payment is decided and no
// refund is open, backing off from 1 s to 3 s, so the page follows webhooks as they land; a refund
// starts the polling again. Refunds go to the shop's own server (POST <shop>/refund), which signs them
// with SigV4 for the IAM-only API route.
(function () {
  "use strict";
  var i18n = window.shopI18n;
  var t = i18n.t;
  var money = i18n.money;
  var root = document.getElementById("result");
  var apiUrl = root.dataset.apiUrl;
  var paymentId = root.dataset.paymentId;
  var refundUrl = root.dataset.refundUrl;
  var declineUrl = root.dataset.declineUrl;
  var declineTries = 0;
  var checking = root.dataset.checking === "true";
  var $ = function (id) { return document.getElementById(id); };
  var UNDECIDED = ["Pending", "Capture Pending"];
  var NOT_PAID = ["Declined", "Canceled", "Expired"];
  var REFUNDABLE = ["Captured", "Partially Refunded"];
  var WITH_REFUNDS = ["Captured", "Partially Refunded", "Refunded"];
  var OPEN_REFUND = ["Requested", "Pending"];
  var FIRST_POLL_MS = 1000;
  var MAX_POLL_MS = 3000;
  var delay = FIRST_POLL_MS;
  var timer = null;
  var current = null;
  var refundKey = newKey();
  var lastRefund = null; // the refund this page requested: its notice follows the poll

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "shop-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function when(iso) {
    if (!iso) return "–";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString(i18n.lang === "ar" ? "ar-QA" : undefined);
  }

  function statusLabel(status) {
    var label = t("status_" + status);
    return label === "status_" + status ? status : label;
  }

  function showError(text) {
    var box = $("error");
    box.textContent = text;
    box.hidden = !text;
  }

  function openRefunds(doc) {
    return (doc.refunds || []).filter(function (r) { return OPEN_REFUND.indexOf(r.status) >= 0; });
  }

  function refundable(doc) {
    var reserved = openRefunds(doc).reduce(function (sum, r) { return sum + r.amount; }, 0);
    return Math.max(0, doc.amount - (doc.refunded_amount || 0) - reserved);
  }

  function showHidden(selector, visible) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (el) { el.hidden = !visible; });
  }

  function renderOutcome(doc) {
    var outcome = $("outcome");
    var key = "outcome_" + doc.status;
    if (checking && (doc.status === "Pending" || doc.status === "Capture Pending")) key = "outcome_check";
    outcome.textContent = t(key) === key ? "" : t(key);
    outcome.hidden = !outcome.textContent;
    outcome.dataset.status = doc.status;
    var retry = $("retry-qpay");
    $("retry-actions").hidden = !(retry && NOT_PAID.indexOf(doc.status) >= 0);
    if (doc.status === "Declined") loadDeclineReason();
  }

  // Why it was declined: the merchant's view of the payment, read by the shop's server (the browser's
  // client secret does not show it). Checkout's notification may come a moment after the status.
  function loadDeclineReason() {
    if (!declineUrl || declineTries < 0 || declineTries >= 10) return;
    declineTries += 1;
    fetchWithTimeout(declineUrl, { headers: { "Accept": "application/json" }, cache: "no-store" }, 5000)
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (doc) {
        if (doc && doc.decline && doc.decline.response_code) {
          declineTries = -1;
          var box = $("decline-reason");
          box.textContent = t("outcome_decline_reason", {
            summary: doc.decline.response_summary || t("status_Declined"), code: doc.decline.response_code
          });
          box.hidden = false;
        } else {
          setTimeout(loadDeclineReason, 1000);
        }
      })
      .catch(function () { setTimeout(loadDeclineReason, 2000); });
  }

  function renderRefunds(doc) {
    var refunds = doc.refunds || [];
    var body = $("refunds");
    body.textContent = "";
    refunds.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.refundId = r.id;
      [r.id, money(r.amount), r.status, when(r.created_at)].forEach(function (value, i) {
        var td = document.createElement("td");
        if (i === 2) {
          var span = document.createElement("span");
          span.className = "badge small";
          span.dataset.status = value;
          span.textContent = statusLabel(value);
          td.appendChild(span);
        } else if (i === 0) {
          var code = document.createElement("code");
          code.className = "id";
          code.dir = "ltr";
          code.textContent = value;
          td.appendChild(code);
        } else {
          td.textContent = value;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    $("refunds-section").hidden = refunds.length === 0;
    if (lastRefund) {
      var seen = refunds.filter(function (r) { return r.id === lastRefund.id; })[0];
      if (seen && seen.status !== lastRefund.status) {
        lastRefund.status = seen.status;
        showRefundResult(seen.status !== "Declined" && seen.status !== "Failed", refundNotice(lastRefund));
      }
    }
  }

  function render(doc) {
    current = doc;
    showError("");
    if (doc.reference) $("reference").textContent = doc.reference;
    var status = $("status");
    status.textContent = statusLabel(doc.status);
    status.dataset.status = doc.status;
    renderOutcome(doc);
    $("awaiting").hidden = !doc.awaiting_confirmation;
    $("amount").textContent = money(doc.amount);
    showHidden(".refund-row", WITH_REFUNDS.indexOf(doc.status) >= 0 || (doc.refunded_amount || 0) > 0);
    $("refunded-amount").textContent = money(doc.refunded_amount || 0);
    $("updated-at").textContent = when(doc.updated_at);
    renderRefunds(doc);

    var left = refundable(doc);
    var canRefund = REFUNDABLE.indexOf(doc.status) >= 0 && left > 0;
    $("refund-section").hidden = !canRefund;
    $("refundable").textContent = canRefund ? "(" + t("up_to", { amount: money(left) }) + ")" : "";
  }

  function fetchWithTimeout(url, options, ms) {
    // A poll that hangs must not freeze the page: give up after `ms` and try again on the next tick.
    if (typeof AbortController === "undefined") return fetch(url, options);
    var controller = new AbortController();
    var tm = setTimeout(function () { controller.abort(); }, ms);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { clearTimeout(tm); });
  }

  function poll() {
    timer = null;
    var headers = { "Accept": "application/json" };
    var secret = null;
    try { secret = sessionStorage.getItem("qpay:" + paymentId); } catch (e) { secret = null; }
    if (secret) headers["X-Client-Secret"] = secret;
    fetchWithTimeout(apiUrl + "/payments/" + encodeURIComponent(paymentId), {
      headers: headers,
      cache: "no-store"
    }, 5000)
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (doc) {
          return { status: response.status, ok: response.ok, doc: doc };
        });
      })
      .then(function (r) {
        if (r.ok && r.doc) {
          render(r.doc);
          if (UNDECIDED.indexOf(r.doc.status) < 0 && openRefunds(r.doc).length === 0) return; // settled
        } else if (r.status === 404 || r.status === 401) {
          showError(t("not_found_poll"));
          $("status").textContent = t("unknown_status");
          return;
        } else {
          showError(t("load_error"));
        }
        schedule();
      })
      .catch(function () {
        showError(t("load_error"));
        schedule();
      });
  }

  function schedule(ms) {
    if (timer !== null) clearTimeout(timer);
    if (ms === undefined) {
      ms = delay;
      delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
    } else {
      delay = FIRST_POLL_MS; // something just changed: follow it closely again
    }
    timer = setTimeout(poll, ms);
  }

  function refundNotice(refund) {
    return t("refund_done", { id: refund.id, amount: money(refund.amount), status: statusLabel(refund.status) });
  }

  function showRefundResult(ok, text, detailLine) {
    var box = $("refund-result");
    box.className = ok ? "notice" : "alert";
    box.textContent = text;
    if (detailLine) {
      var p = document.createElement("p");
      p.className = "details";
      p.textContent = t("details") + ": " + detailLine;
      box.appendChild(p);
    }
    box.hidden = false;
  }

  function refundRefusal(r) {
    var code = r.doc && r.doc.code;
    if (code === "amount_exceeds_balance") return t("refund_too_much", { amount: money(current ? refundable(current) : 0) });
    if (code === "not_refundable") return t("refund_not_refundable");
    if (code === "validation_error" || code === "validation_failed") return t("refund_invalid");
    return t("refund_refused");
  }

  $("refund-amount").addEventListener("input", function () { refundKey = newKey(); });

  $("refund-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = $("refund-button");
    var amount = $("refund-amount").value.trim();
    if (!amount) {
      showRefundResult(false, t("refund_enter_amount"));
      return;
    }
    button.disabled = true;
    button.textContent = t("refunding");
    fetch(refundUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ payment_id: paymentId, amount: amount, idempotency_key: refundKey })
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (doc) {
          return { status: response.status, ok: response.ok, doc: doc || {} };
        });
      })
      .then(function (r) {
        if (r.ok) {
          lastRefund = { id: r.doc.id, amount: r.doc.amount, status: r.doc.status };
          showRefundResult(true, refundNotice(lastRefund));
          $("refund-amount").value = "";
        } else {
          showRefundResult(false, refundRefusal(r), i18n.details(r.status, r.doc));
        }
        if (r.status < 500) refundKey = newKey(); // a definite answer; keep the key only to retry a failure
        schedule(0);
      })
      .catch(function (err) {
        showRefundResult(false, t("refund_unreachable"), String(err));
      })
      .then(function () {
        button.disabled = false;
        button.textContent = t("refund");
      });
  });

  poll();
})();
