// The shopper's browser creates the payment with the order token the shop's server minted,
// then follows the API's redirect_url to the QPay page. The token fixes reference, amount and currency.
(function () {
  "use strict";
  var root = document.getElementById("checkout");
  var progress = document.getElementById("progress");
  var errorBox = document.getElementById("error");
  var retry = document.getElementById("retry-button");
  var newOrder = document.getElementById("new-order");

  function showError(title, doc) {
    progress.hidden = true;
    errorBox.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = title;
    errorBox.appendChild(strong);
    if (doc && doc.message) {
      var p = document.createElement("p");
      p.textContent = doc.message + (doc.code ? " (" + doc.code + ")" : "");
      errorBox.appendChild(p);
    }
    if (doc && Array.isArray(doc.fields) && doc.fields.length) {
      var ul = document.createElement("ul");
      doc.fields.forEach(function (f) {
        var li = document.createElement("li");
        li.textContent = f.field + ": " + f.issue;
        ul.appendChild(li);
      });
      errorBox.appendChild(ul);
    }
    if (doc && doc.request_id) {
      var small = document.createElement("p");
      small.className = "muted";
      small.textContent = "Request id: " + doc.request_id;
      errorBox.appendChild(small);
    }
    errorBox.hidden = false;
    retry.hidden = false;
    newOrder.hidden = false;
    retry.disabled = false;
  }

  function createPayment() {
    progress.hidden = false;
    errorBox.hidden = true;
    retry.disabled = true;
    fetch(root.dataset.apiUrl + "/payments", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Order-Token": root.dataset.orderToken,
        // One payment per order even if this is retried after a timeout.
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
          progress.textContent = "Redirecting to QPay…";
          window.location.assign(r.doc.redirect_url);
        } else if (r.ok) {
          showError("The payment was created, but it cannot be paid any more (" + (r.doc && r.doc.status) + ").", null);
        } else {
          showError("The payments API refused the payment (HTTP " + r.status + ").", r.doc);
        }
      })
      .catch(function (err) {
        showError("Could not reach the payments API.", { message: String(err) });
      });
  }

  retry.addEventListener("click", createPayment);
  createPayment();
})();
