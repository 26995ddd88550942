"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.verifyOrderEvent = verifyOrderEvent;
// Order events forwarded to the merchant's endpoint are signed per the Standard Webhooks spec
// (https://www.standardwebhooks.com/, headers webhook-id, webhook-timestamp, webhook-signature), verified
// here with the spec's own library, `standardwebhooks` on npm.
const standardwebhooks_1 = require("standardwebhooks");
/**
 * Verify the signature and the timestamp (5 minutes' tolerance) and return the event; throws
 * (standardwebhooks' WebhookVerificationError) if it is not ours or is stale. `body` is the raw request
 * body as received (a string or bytes, before any JSON parsing).
 */
function verifyOrderEvent(secret, body, headers) {
    const flat = {};
    for (const [name, value] of Object.entries(headers)) {
        if (value !== undefined)
            flat[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
    }
    const payload = typeof body === "string" ? body : body.toString("utf8");
    return new standardwebhooks_1.Webhook(secret).verify(payload, flat);
}
