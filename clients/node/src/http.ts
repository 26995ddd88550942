// The transport under every call: a timeout per attempt, and bounded retries with jitter for what is safe
// to repeat (a GET, or a request carrying an Idempotency-Key: the API answers a repeat with the first answer).
export interface RetryOptions {
  /** per attempt, default 10 000 ms */
  timeoutMs?: number;
  /** attempts in all, default 3 */
  maxAttempts?: number;
  /** first backoff ceiling, default 250 ms (doubles, full jitter) */
  baseDelayMs?: number;
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function retryingFetch(options: RetryOptions = {}): (input: Request) => Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 250;
  const inner = options.fetch ?? globalThis.fetch;
  return async (request: Request): Promise<Response> => {
    const repeatable = request.method === "GET" || request.headers.has("idempotency-key");
    for (let attempt = 1; ; attempt++) {
      const last = !repeatable || attempt >= maxAttempts;
      try {
        const response = await inner(request.clone(), { signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
        if (last || !RETRYABLE_STATUS.has(response.status)) return response;
      } catch (error) {
        if (last) throw error;
      }
      await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
    }
  };
}
