"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.signRefund = signRefund;
exports.refund = refund;
// Refunds are merchant-only: API Gateway checks an AWS Signature V4 (service execute-api) before the
// function runs. Signed with @smithy/signature-v4, the signer the AWS SDK for JavaScript v3 uses.
const sha256_js_1 = require("@aws-crypto/sha256-js");
const signature_v4_1 = require("@smithy/signature-v4");
const http_1 = require("./http");
async function signRefund(request) {
    const url = new URL(`${request.baseUrl.replace(/\/+$/, "")}/payments/${encodeURIComponent(request.paymentId)}/refunds`);
    const payload = {};
    if (request.amount !== undefined)
        payload.amount = request.amount;
    if (request.reference !== undefined)
        payload.reference = request.reference;
    if (request.reason !== undefined)
        payload.reason = request.reason;
    const body = JSON.stringify(payload);
    const signer = new signature_v4_1.SignatureV4({
        service: "execute-api",
        region: request.region,
        sha256: sha256_js_1.Sha256,
        credentials: request.credentials,
    });
    const signed = await signer.sign({
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        headers: { host: url.host, "content-type": "application/json", "idempotency-key": request.idempotencyKey },
        body,
    });
    const { host: _host, ...headers } = signed.headers; // fetch sets Host itself
    return new Request(url, { method: "POST", headers, body });
}
/** Sign and send a refund: 202 {id, payment_id, amount, status: "Requested"}, or the error body. */
async function refund(request, options = {}) {
    // signed once: a retry re-sends the same signature (valid for 5 minutes) and the same Idempotency-Key
    const response = await (0, http_1.retryingFetch)(options)(await signRefund(request));
    return { status: response.status, body: await response.json() };
}
