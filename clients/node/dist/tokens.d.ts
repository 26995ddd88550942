export declare const ORDER_TOKEN_AUDIENCE = "qpay-payments";
export interface OrderTokenKey {
    key: string;
    kid: string;
}
export interface OrderClaims {
    reference: string;
    /** integer, minor units (dirhams): 12500 is QAR 125.00 */
    amount: number;
    currency?: "QAR";
}
export declare function mintOrderToken(order: OrderClaims, key: OrderTokenKey, options?: {
    expiresInS?: number;
    jti?: string;
}): string;
