// Refunds are merchant-only: API Gateway checks an AWS Signature V4 (service execute-api) before the
// function runs. Signed with @smithy/signature-v4, the signer the AWS SDK for JavaScript v3 uses.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { components } from "./schema";
import { retryingFetch, type RetryOptions } from "./http";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RefundRequest {
  baseUrl: string;
  region: string;
  credentials: AwsCredentials;
  paymentId: string;
  /** one per refund you mean: a retry with the same key never refunds twice */
  idempotencyKey: string;
  /** minor units; omitted: the whole refundable balance */
  amount?: number;
  reference?: string;
  reason?: string;
}

export type RefundAnswer =
  | { status: 202; body: components["schemas"]["RefundResponse"] }
  | { status: number; body: components["schemas"]["ErrorBody"] | components["schemas"]["GatewayError"] };

export async function signRefund(request: RefundRequest): Promise<Request> {
  const url = new URL(`${request.baseUrl.replace(/\/+$/, "")}/payments/${encodeURIComponent(request.paymentId)}/refunds`);
  const payload: Record<string, unknown> = {};
  if (request.amount !== undefined) payload.amount = request.amount;
  if (request.reference !== undefined) payload.reference = request.reference;
  if (request.reason !== undefined) payload.reason = request.reason;
  const body = JSON.stringify(payload);
  const signer = new SignatureV4({
    service: "execute-api",
    region: request.region,
    sha256: Sha256,
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
export async function refund(request: RefundRequest, options: RetryOptions = {}): Promise<RefundAnswer> {
  // signed once: a retry re-sends the same signature (valid for 5 minutes) and the same Idempotency-Key
  const response = await retryingFetch(options)(await signRefund(request));
  return { status: response.status, body: await response.json() } as RefundAnswer;
}
