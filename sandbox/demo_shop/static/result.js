// Polls GET /payments/{id} every second so the page follows webhooks as they land; refunds go to the
// shop's own server (POST <shop>/refund), which signs them with SigV4 for the IAM-only API route.
(function () {
  "use strict";
  var root = document.getElementById("result");
  var apiUrl = root.dataset.apiUrl;
  var paymentId = root.dataset.paymentId;
  var refundUrl = root.dataset.refundUrl;
  var $ = function (id) { return document.getElementById(id); };
  var FINAL = ["Declined", "Canceled", "Expired", "Refunded"];
  var REFUNDABLE = ["Captured", "Partially Refunded"];
  var OPEN_REFUND = ["Requested", "Pending"];
  var POLL_MS = 1000;
  var timer = null;
  var current = null;
  var refundKey = newKey();

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "shop-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function money(minor, currency) {
    var major = Math.floor(minor / 100);
    var rest = ("0" + (minor % 100)).slice(-2);
    return (currency || "QAR") + " " + major.toLocaleString("en-US") + "." + rest;
  }

  function when(iso) {
    if (!iso) return "–";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
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

  function render(doc) {
    current = doc;
    showError("");
    if (doc.reference) $("reference").textContent = doc.reference;
    var status = $("status");
    status.textContent = doc.status;
    status.dataset.status = doc.status;
    $("awaiting").hidden = !doc.awaiting_confirmation;
    $("amount").textContent = money(doc.amount, doc.currency);
    $("refunded-amount").textContent = money(doc.refunded_amount || 0, doc.currency);
    $("updated-at").textContent = when(doc.updated_at);

    var refunds = doc.refunds || [];
    var body = $("refunds");
    body.textContent = "";
    refunds.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.refundId = r.id;
      [r.id, money(r.amount, doc.currency), r.status, when(r.created_at)].forEach(function (value, i) {
        var td = document.createElement("td");
        if (i === 2) {
          var span = document.createElement("span");
          span.className = "badge small";
          span.dataset.status = value;
          span.textContent = value;
          td.appendChild(span);
        } else if (i === 0) {
          var code = document.createElement("code");
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

    var left = refundable(doc);
    var canRefund = REFUNDABLE.indexOf(doc.status) >= 0 && left > 0;
    $("refund-section").hidden = !canRefund;
    $("refundable").textContent = canRefund ? "(up to " + money(left, doc.currency) + ")" : "";
  }

  function fetchWithTimeout(url, options, ms) {
    // A poll that hangs must not freeze the page: give up after `ms` and try again on the next tick.
    if (typeof AbortController === "undefined") return fetch(url, options);
    var controller = new AbortController();
    var t = setTimeout(function () { controller.abort(); }, ms);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { clearTimeout(t); });
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
          if (FINAL.indexOf(r.doc.status) >= 0 && openRefunds(r.doc).length === 0) return; // settled
        } else if (r.status === 404) {
          showError("This payment does not exist.");
          $("status").textContent = "Unknown";
          return;
        } else {
          showError("Could not load the payment (HTTP " + r.status + ")" + (r.doc && r.doc.message ? ": " + r.doc.message : "") + "; retrying…");
        }
        schedule();
      })
      .catch(function () {
        showError("Could not reach the payments API; retrying…");
        schedule();
      });
  }

  function schedule(ms) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(poll, ms === undefined ? POLL_MS : ms);
  }

  function showRefundResult(ok, text, details) {
    var box = $("refund-result");
    box.className = ok ? "notice" : "alert";
    box.textContent = text;
    (details || []).forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      box.appendChild(p);
    });
    box.hidden = false;
  }

  $("refund-amount").addEventListener("input", function () { refundKey = newKey(); });

  $("refund-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = $("refund-button");
    var amount = $("refund-amount").value.trim();
    if (!amount) {
      showRefundResult(false, "Enter an amount to refund.");
      return;
    }
    button.disabled = true;
    button.textContent = "Refunding…";
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
        var doc = r.doc;
        if (r.ok) {
          showRefundResult(true, "Refund " + doc.id + " for " + money(doc.amount, current && current.currency) + ": " + doc.status + ".");
          $("refund-amount").value = "";
        } else {
          var lines = (doc.fields || []).map(function (f) { return f.field + ": " + f.issue; });
          showRefundResult(false, "Refund refused (HTTP " + r.status + "): " + (doc.message || "error") + (doc.code ? " (" + doc.code + ")" : ""), lines);
        }
        if (r.status < 500) refundKey = newKey(); // a definite answer; keep the key only to retry a failure
        schedule(0);
      })
      .catch(function (err) {
        showRefundResult(false, "Could not reach the shop's server: " + err);
      })
      .then(function () {
        button.disabled = false;
        button.textContent = "Refund";
      });
  });

  poll();
})();
