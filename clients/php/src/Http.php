<?php
declare(strict_types=1);

namespace QPay;

/**
 * The transport under every call (PHP's curl extension): a timeout per attempt, and bounded retries with
 * full jitter for what is safe to repeat (a GET, or a request carrying an Idempotency-Key: the API answers
 * a repeat with the first answer) on 429/502/503/504 and connection errors.
 */
final class Http
{
    private const RETRYABLE = [429, 502, 503, 504];

    public function __construct(
        private readonly int $timeoutMs = 10000,
        private readonly int $maxAttempts = 3,
        private readonly int $baseDelayMs = 250,
    ) {
    }

    /** @param array<string, string> $headers */
    public function send(string $method, string $url, array $headers, ?string $body = null): Response
    {
        $repeatable = $method === 'GET' || array_key_exists('idempotency-key', array_change_key_case($headers));
        for ($attempt = 1; ; $attempt++) {
            $last = !$repeatable || $attempt >= $this->maxAttempts;
            try {
                $response = $this->once($method, $url, $headers, $body);
                if ($last || !in_array($response->status, self::RETRYABLE, true)) {
                    return $response;
                }
            } catch (TransportError $error) {
                if ($last) {
                    throw $error;
                }
            }
            usleep(random_int(0, $this->baseDelayMs * 2 ** ($attempt - 1)) * 1000);
        }
    }

    /** @param array<string, string> $headers */
    private function once(string $method, string $url, array $headers, ?string $body): Response
    {
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        $received = [];
        $curl = curl_init($url);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => $this->timeoutMs,
            CURLOPT_CONNECTTIMEOUT_MS => min($this->timeoutMs, 5000),
            CURLOPT_HEADERFUNCTION => static function ($handle, string $line) use (&$received): int {
                $parts = explode(':', $line, 2);
                if (count($parts) === 2) {
                    $received[strtolower(trim($parts[0]))] = trim($parts[1]);
                }
                return strlen($line);
            },
        ]);
        if ($body !== null) {
            curl_setopt($curl, CURLOPT_POSTFIELDS, $body);
        }
        $text = curl_exec($curl);
        if ($text === false) {
            $message = curl_error($curl);
            curl_close($curl);
            throw new TransportError("$method $url: $message");
        }
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        $decoded = $text === '' ? [] : json_decode((string) $text, true);
        return new Response($status, is_array($decoded) ? $decoded : ['raw' => $text], $received);
    }
}
