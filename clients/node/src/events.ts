// Order events forwarded to the merchant's endpoint are signed per the Standard Webhooks spec
// (https://www.standardwebhooks.com/, headers webhook-id, webhook-timestamp, webhook-signature), verified
// here with the spec's own library, `standardwebhooks` on npm.
import { Webhook } from "standardwebhooks";

/** The EventBridge envelope the stack publishes (detail: see docs/events.md). */
export interface OrderEvent {
  id: string;
  "detail-type": string;
  source: string;
  time: string;
  detail: Record<string, unknown> & { event_id: string; payment_id: string; reference: string; status: string };
  [key: string]: unknown;
}

/**
 * Verify the signature and the timestamp (5 minutes' tolerance) and return the event; throws
 * (standardwebhooks' WebhookVerificationError) if it is not ours or is stale. `body` is the raw request
 * body as received (a string or bytes, before any JSON parsing).
 */
export function verifyOrderEvent(
  secret: string,
  body: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
): OrderEvent {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const payload = typeof body === "string" ? body : body.toString("utf8");
  return new Webhook(secret).verify(payload, flat) as OrderEvent;
}
