/** The EventBridge envelope the stack publishes (detail: see docs/events.md). */
export interface OrderEvent {
    id: string;
    "detail-type": string;
    source: string;
    time: string;
    detail: Record<string, unknown> & {
        event_id: string;
        payment_id: string;
        reference: string;
        status: string;
    };
    [key: string]: unknown;
}
/**
 * Verify the signature and the timestamp (5 minutes' tolerance) and return the event; throws
 * (standardwebhooks' WebhookVerificationError) if it is not ours or is stale. `body` is the raw request
 * body as received (a string or bytes, before any JSON parsing).
 */
export declare function verifyOrderEvent(secret: string, body: string | Buffer, headers: Record<string, string | string[] | undefined>): OrderEvent;
