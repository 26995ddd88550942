import { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";
import { type RetryOptions } from "./http";
import type { AwsCredentials } from "./refunds";
export type { components, paths } from "./schema";
export { mintOrderToken, ORDER_TOKEN_AUDIENCE, type OrderClaims, type OrderTokenKey } from "./tokens";
export { refund, signRefund, type AwsCredentials, type RefundAnswer, type RefundRequest } from "./refunds";
export { verifyOrderEvent, type OrderEvent } from "./events";
export { retryingFetch, type RetryOptions } from "./http";
export type Payment = components["schemas"]["PaymentView"];
export type CreatePayment = components["schemas"]["CreatePaymentRequest"];
export type CreatedPayment = components["schemas"]["CreatePaymentResponse"];
export type ApiError = components["schemas"]["ErrorBody"];
/** The API version this client was generated from (openapi.json info.version). */
export declare const API_VERSION = "1.0.0";
export interface ClientOptions extends RetryOptions {
    /** the stack's ApiUrl output; locally QPAY_API_URL from .local-state/env.local */
    baseUrl: string;
    /** server side: Authorization: Bearer <merchant API key> */
    merchantKey?: string;
    /** browser side: reads the one payment it belongs to (X-Client-Secret) */
    clientSecret?: string;
}
/**
 * A typed openapi-fetch client: `client.POST("/payments", { body, params: { header: { "Idempotency-Key": … } } })`
 * gives `{ data, error, response }` typed by status. Every call has a timeout; GETs and calls with an
 * Idempotency-Key are retried (bounded, with jitter) on 429/502/503/504 and network errors.
 */
export declare function createClient(options: ClientOptions): Client<paths>;
export interface EnvConfig {
    baseUrl: string;
    merchantKey: string;
    orderTokenKey: {
        key: string;
        kid: string;
    };
    region: string;
    credentials: AwsCredentials;
    eventSecret: string;
}
/**
 * The configuration from the environment, under the names `make run` writes to .local-state/env.local
 * (load it with dotenv): QPAY_API_URL, QPAY_MERCHANT_API_KEY, QPAY_ORDER_TOKEN_KEY/_KID,
 * QPAY_AWS_REGION/_ACCESS_KEY_ID/_SECRET_ACCESS_KEY (prefixed, so your own AWS SDK calls keep their
 * credentials), QPAY_EVENT_FORWARDING_SECRET. Missing names are empty strings.
 */
export declare function configFromEnv(env?: Record<string, string | undefined>): EnvConfig;
