// qpay-client: the QPay on AWS API for a Node storefront. Calls are generated from openapi.json
// (openapi-typescript types, openapi-fetch calls); beside them the three helpers a storefront needs.
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { retryingFetch, type RetryOptions } from "./http";
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
export const API_VERSION = "1.0.0";

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
export function createClient(options: ClientOptions): Client<paths> {
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    fetch: retryingFetch(options),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      if (options.merchantKey && !request.headers.has("authorization") && !request.headers.has("x-order-token")) {
        request.headers.set("Authorization", `Bearer ${options.merchantKey}`);
      }
      if (options.clientSecret && !request.headers.has("x-client-secret")) {
        request.headers.set("X-Client-Secret", options.clientSecret);
      }
      return request;
    },
  };
  client.use(auth);
  return client;
}

export interface EnvConfig {
  baseUrl: string;
  merchantKey: string;
  orderTokenKey: { key: string; kid: string };
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
export function configFromEnv(env: Record<string, string | undefined> = process.env): EnvConfig {
  const get = (name: string): string => env[name] ?? "";
  const sessionToken = env.QPAY_AWS_SESSION_TOKEN;
  return {
    baseUrl: get("QPAY_API_URL"),
    merchantKey: get("QPAY_MERCHANT_API_KEY"),
    orderTokenKey: { key: get("QPAY_ORDER_TOKEN_KEY"), kid: get("QPAY_ORDER_TOKEN_KID") },
    region: get("QPAY_AWS_REGION"),
    credentials: {
      accessKeyId: get("QPAY_AWS_ACCESS_KEY_ID"),
      secretAccessKey: get("QPAY_AWS_SECRET_ACCESS_KEY"),
      ...(sessionToken ? { sessionToken } : {}),
    },
    eventSecret: get("QPAY_EVENT_FORWARDING_SECRET"),
  };
}
