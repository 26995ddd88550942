<?php
declare(strict_types=1);

namespace QPay;

/**
 * Verify an order event forwarded to your endpoint, per the Standard Webhooks spec
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * base64(HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")), the secret being the base64
 * after "whsec_"; webhook-signature is a space-separated list of "v1,<signature>"; timestamps more than
 * 5 minutes away are refused. Checked against the spec's test vector (tests/clients/test_php_client.py).
 */
final class Webhook
{
    public const TOLERANCE_S = 300;

    /**
     * @param array<string, string|string[]> $headers request headers (any case), e.g. getallheaders()
     * @return array<string, mixed> the event (the EventBridge envelope; detail per docs/events.md)
     */
    public static function verify(string $secret, string $body, array $headers, ?int $now = null): array
    {
        $h = [];
        foreach ($headers as $name => $value) {
            $h[strtolower((string) $name)] = is_array($value) ? implode(' ', $value) : $value;
        }
        $id = $h['webhook-id'] ?? '';
        $timestamp = $h['webhook-timestamp'] ?? '';
        $signatures = $h['webhook-signature'] ?? '';
        if ($id === '' || $signatures === '' || !ctype_digit($timestamp)) {
            throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
        }
        if (abs(($now ?? time()) - (int) $timestamp) > self::TOLERANCE_S) {
            throw new WebhookVerificationError('webhook-timestamp is too old or too new');
        }
        $expected = self::sign($secret, $id, (int) $timestamp, $body);
        foreach (explode(' ', $signatures) as $candidate) {
            if (str_starts_with($candidate, 'v1,') && hash_equals($expected, $candidate)) {
                $event = json_decode($body, true);
                if (!is_array($event)) {
                    throw new WebhookVerificationError('the body is not a JSON object');
                }
                return $event;
            }
        }
        throw new WebhookVerificationError('no matching signature');
    }

    /** "v1,<base64 signature>" */
    public static function sign(string $secret, string $id, int $timestamp, string $body): string
    {
        $key = base64_decode(str_starts_with($secret, 'whsec_') ? substr($secret, 6) : $secret, true);
        if ($key === false) {
            throw new \InvalidArgumentException('the secret is not whsec_<base64>');
        }
        return 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    }
}
