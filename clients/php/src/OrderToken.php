<?php
declare(strict_types=1);

namespace QPay;

/**
 * The order token: a standard JWT (RFC 7519; HS256, header kid, aud "qpay-payments", a fresh jti per order
 * attempt) the browser sends as X-Order-Token, so it can create this one payment but not change the price.
 * A few lines of hash_hmac: the README's test vector pins the bytes (tests/clients/test_php_client.py).
 */
final class OrderToken
{
    public const AUDIENCE = 'qpay-payments';

    /** $amount: integer, minor units (dirhams): 12500 is QAR 125.00. */
    public static function mint(
        string $reference,
        int $amount,
        string $key,
        string $kid,
        string $currency = 'QAR',
        int $expiresInS = 900,
        ?string $jti = null,
        ?int $now = null,
    ): string {
        if ($amount <= 0) {
            throw new \InvalidArgumentException('amount must be a positive integer in minor units');
        }
        $claims = [
            'reference' => $reference,
            'amount' => $amount,
            'currency' => $currency,
            'exp' => ($now ?? time()) + $expiresInS,
            'aud' => self::AUDIENCE,
            'jti' => $jti ?? bin2hex(random_bytes(16)),
        ];
        return self::encode(['alg' => 'HS256', 'kid' => $kid, 'typ' => 'JWT'], $claims, $key);
    }

    /** @param array<string, mixed> $header @param array<string, mixed> $claims */
    public static function encode(array $header, array $claims, string $key): string
    {
        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;
        $signingInput = self::b64url(json_encode($header, $flags)) . '.' . self::b64url(json_encode($claims, $flags));
        return $signingInput . '.' . self::b64url(hash_hmac('sha256', $signingInput, $key, true));
    }

    private static function b64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
