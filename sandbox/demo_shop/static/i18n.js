// The page's translated strings (rendered by the shop's server into #i18n) and money formatting.
(function () {
  "use strict";
  var node = document.getElementById("i18n");
  var strings = {};
  try { strings = JSON.parse(node ? node.textContent : "{}"); } catch (e) { strings = {}; }
  var lang = document.documentElement.lang || "en";

  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  // QAR 125.00 (English) / 125.00 ر.ق (Arabic); Latin digits in both, as on Qatari receipts.
  function money(minor) {
    var major = Math.floor(minor / 100);
    var rest = ("0" + (minor % 100)).slice(-2);
    var text = major.toLocaleString("en-US") + "." + rest;
    return lang === "ar" ? text + " " + t("currency_symbol") : "QAR " + text;
  }

  // The developer's line under a shopper message: HTTP status, code, message, request id.
  function details(status, doc) {
    var parts = [];
    if (status) parts.push("HTTP " + status);
    if (doc && doc.code) parts.push(doc.code);
    if (doc && doc.message) parts.push(doc.message);
    (doc && Array.isArray(doc.fields) ? doc.fields : []).forEach(function (f) { parts.push(f.field + ": " + f.issue); });
    if (doc && doc.request_id) parts.push(t("request_id") + " " + doc.request_id);
    return parts.join(" · ");
  }

  window.shopI18n = { t: t, money: money, details: details, lang: lang };
})();
