// The order token: a standard JWT (HS256, kid, aud "qpay-payments", a fresh jti per order attempt) the
// browser sends as X-Order-Token so it can create this one payment without being able to change the price.
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";

export const ORDER_TOKEN_AUDIENCE = "qpay-payments";

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

export function mintOrderToken(
  order: OrderClaims,
  key: OrderTokenKey,
  options: { expiresInS?: number; jti?: string } = {},
): string {
  if (!Number.isInteger(order.amount) || order.amount <= 0) {
    throw new RangeError("amount must be a positive integer in minor units");
  }
  return jwt.sign({ reference: order.reference, amount: order.amount, currency: order.currency ?? "QAR" }, key.key, {
    algorithm: "HS256",
    keyid: key.kid,
    audience: ORDER_TOKEN_AUDIENCE,
    expiresIn: options.expiresInS ?? 900,
    jwtid: options.jti ?? randomUUID(),
  });
}
