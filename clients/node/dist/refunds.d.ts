import type { components } from "./schema";
import { type RetryOptions } from "./http";
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
export type RefundAnswer = {
    status: 202;
    body: components["schemas"]["RefundResponse"];
} | {
    status: number;
    body: components["schemas"]["ErrorBody"] | components["schemas"]["GatewayError"];
};
export declare function signRefund(request: RefundRequest): Promise<Request>;
/** Sign and send a refund: 202 {id, payment_id, amount, status: "Requested"}, or the error body. */
export declare function refund(request: RefundRequest, options?: RetryOptions): Promise<RefundAnswer>;
