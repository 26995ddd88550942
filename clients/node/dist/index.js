"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.API_VERSION = exports.retryingFetch = exports.verifyOrderEvent = exports.signRefund = exports.refund = exports.ORDER_TOKEN_AUDIENCE = exports.mintOrderToken = void 0;
exports.createClient = createClient;
exports.configFromEnv = configFromEnv;
// qpay-client: the QPay on AWS API for a Node storefront. Calls are generated from openapi.json
// (openapi-typescript types, openapi-fetch calls); beside them the three helpers a storefront needs.
const openapi_fetch_1 = __importDefault(require("openapi-fetch"));
const http_1 = require("./http");
var tokens_1 = require("./tokens");
Object.defineProperty(exports, "mintOrderToken", { enumerable: true, get: function () { return tokens_1.mintOrderToken; } });
Object.defineProperty(exports, "ORDER_TOKEN_AUDIENCE", { enumerable: true, get: function () { return tokens_1.ORDER_TOKEN_AUDIENCE; } });
var refunds_1 = require("./refunds");
Object.defineProperty(exports, "refund", { enumerable: true, get: function () { return refunds_1.refund; } });
Object.defineProperty(exports, "signRefund", { enumerable: true, get: function () { return refunds_1.signRefund; } });
var events_1 = require("./events");
Object.defineProperty(exports, "verifyOrderEvent", { enumerable: true, get: function () { return events_1.verifyOrderEvent; } });
var http_2 = require("./http");
Object.defineProperty(exports, "retryingFetch", { enumerable: true, get: function () { return http_2.retryingFetch; } });
/** The API version this client was generated from (openapi.json info.version). */
exports.API_VERSION = "1.0.0";
/**
 * A typed openapi-fetch client: `client.POST("/payments", { body, params: { header: { "Idempotency-Key": … } } })`
 * gives `{ data, error, response }` typed by status. Every call has a timeout; GETs and calls with an
 * Idempotency-Key are retried (bounded, with jitter) on 429/502/503/504 and network errors.
 */
function createClient(options) {
    const client = (0, openapi_fetch_1.default)({
        baseUrl: options.baseUrl.replace(/\/+$/, ""),
        fetch: (0, http_1.retryingFetch)(options),
    });
    const auth = {
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
/**
 * The configuration from the environment, under the names `make run` writes to .local-state/env.local
 * (load it with dotenv): QPAY_API_URL, QPAY_MERCHANT_API_KEY, QPAY_ORDER_TOKEN_KEY/_KID,
 * QPAY_AWS_REGION/_ACCESS_KEY_ID/_SECRET_ACCESS_KEY (prefixed, so your own AWS SDK calls keep their
 * credentials), QPAY_EVENT_FORWARDING_SECRET. Missing names are empty strings.
 */
function configFromEnv(env = process.env) {
    const get = (name) => env[name] ?? "";
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
