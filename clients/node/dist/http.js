"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.retryingFetch = retryingFetch;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
function retryingFetch(options = {}) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    const baseDelayMs = options.baseDelayMs ?? 250;
    const inner = options.fetch ?? globalThis.fetch;
    return async (request) => {
        const repeatable = request.method === "GET" || request.headers.has("idempotency-key");
        for (let attempt = 1;; attempt++) {
            const last = !repeatable || attempt >= maxAttempts;
            try {
                const response = await inner(request.clone(), { signal: AbortSignal.timeout(timeoutMs) });
                if (last || !RETRYABLE_STATUS.has(response.status))
                    return response;
            }
            catch (error) {
                if (last)
                    throw error;
            }
            await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
        }
    };
}
