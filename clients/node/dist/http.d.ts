export interface RetryOptions {
    /** per attempt, default 10 000 ms */
    timeoutMs?: number;
    /** attempts in all, default 3 */
    maxAttempts?: number;
    /** first backoff ceiling, default 250 ms (doubles, full jitter) */
    baseDelayMs?: number;
    fetch?: typeof fetch;
}
export declare function retryingFetch(options?: RetryOptions): (input: Request) => Promise<Response>;
