"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.ORDER_TOKEN_AUDIENCE = void 0;
exports.mintOrderToken = mintOrderToken;
// The order token: a standard JWT (HS256, kid, aud "qpay-payments", a fresh jti per order attempt) the
// browser sends as X-Order-Token so it can create this one payment without being able to change the price.
const node_crypto_1 = require("node:crypto");
const jsonwebtoken_1 = __importDefault(require("jsonwebtoken"));
exports.ORDER_TOKEN_AUDIENCE = "qpay-payments";
function mintOrderToken(order, key, options = {}) {
    if (!Number.isInteger(order.amount) || order.amount <= 0) {
        throw new RangeError("amount must be a positive integer in minor units");
    }
    return jsonwebtoken_1.default.sign({ reference: order.reference, amount: order.amount, currency: order.currency ?? "QAR" }, key.key, {
        algorithm: "HS256",
        keyid: key.kid,
        audience: exports.ORDER_TOKEN_AUDIENCE,
        expiresIn: options.expiresInS ?? 900,
        jwtid: options.jti ?? (0, node_crypto_1.randomUUID)(),
    });
}
