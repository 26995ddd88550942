// The shopper's browser creates the payment with the order token the shop's server minted,
// then follows the API's redirect_url to the QPay page. The token fixes reference, amount and currency.
(function () {
  "use strict";
  var i18n = window.shopI18n;
  var t = i18n.t;
  var root = document.getElementById("checkout");
  var progress = document.getElementById("progress");
  var progressText = document.getElementById("progress-text");
  var errorBox = document.getElementById("error");
  var retry = document.getElementById("retry-button");
  var newOrder = document.getElementById("new-order");

  // The API's error code → what the shopper reads (the code itself goes in the details line).
  function shopperMessage(status, doc) {
    var code = doc && doc.code;
    if (code === "checkout_unavailable") return t("error_unavailable");
    if (code === "service_misconfigured") return t("error_misconfigured");
    if (code === "checkout_rejected") return t("error_rejected");
    if (code === "forbidden" || code === "unauthorized") return t("error_token");
    if (code === "conflict") return t("error_conflict");
    if (code === "validation_failed" || code === "malformed_body" || code === "payload_too_large") return t("error_invalid");
    return t("error_generic");
  }

  function showError(message, detailLine, canRetry) {
    progress.hidden = true;
    errorBox.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = message;
    errorBox.appendChild(strong);
    if (detailLine) {
      // for the developer, folded away: the shopper reads the message above (review U10)
      var fold = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = t("details");
      var small = document.createElement("p");
      small.className = "details";
      small.id = "error-details";
      small.textContent = detailLine;
      fold.appendChild(summary);
      fold.appendChild(small);
      errorBox.appendChild(fold);
    }
    errorBox.hidden = false;
    retry.hidden = !canRetry;
    retry.disabled = false;
    newOrder.hidden = false;
  }

  function createPayment() {
    progress.hidden = false;
    progressText.textContent = t("creating");
    errorBox.hidden = true;
    retry.disabled = true;
    fetch(root.dataset.apiUrl + "/payments", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Order-Token": root.dataset.orderToken,
        // One payment per attempt even if this is retried after a timeout.
        "Idempotency-Key": root.dataset.idempotencyKey
      },
      body: root.dataset.body
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var doc = null;
          try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = { message: text.slice(0, 200) }; }
          return { status: response.status, ok: response.ok, doc: doc };
        });
      })
      .then(function (r) {
        if (r.ok && r.doc && r.doc.client_secret) {
          // the result page reads this payment with it (and nothing else can)
          try { sessionStorage.setItem("qpay:" + r.doc.id, r.doc.client_secret); } catch (e) { /* private mode */ }
        }
        if (r.ok && r.doc && r.doc.redirect_url) {
          progressText.textContent = t("redirecting");
          window.location.assign(r.doc.redirect_url);
        } else if (r.ok) {
          showError(t("error_not_payable"), i18n.details(r.status, { code: r.doc && r.doc.status }), false);
        } else {
          // a 5xx or a 409 in flight may pass: the same Idempotency-Key replays, never pays twice
          var transient = r.status >= 500 || r.status === 409;
          showError(shopperMessage(r.status, r.doc), i18n.details(r.status, r.doc), transient);
        }
      })
      .catch(function (err) {
        showError(t("error_network"), String(err), true);
      });
  }

  retry.addEventListener("click", createPayment);
  createPayment();
})();
