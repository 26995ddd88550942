<?php
declare(strict_types=1);

namespace QPay;

/**
 * The QPay on AWS HTTP API (openapi.json, version API_VERSION) for a PHP storefront: create and read
 * payments with the merchant key (or create with an order token, read with the client secret), refund
 * signed with SigV4. Answers are Response objects (status, decoded body): check ->status, as the API
 * documents each one (201, 409, 422, 503, ...).
 */
final class Client
{
    public const API_VERSION = '1.0.0';

    private readonly string $baseUrl;

    public function __construct(
        string $baseUrl,
        private readonly ?string $merchantKey = null,
        private readonly Http $http = new Http(),
    ) {
        $this->baseUrl = rtrim($baseUrl, '/');
    }

    /** The names `make run` writes to .local-state/env.local (QPAY_API_URL, QPAY_MERCHANT_API_KEY). */
    public static function fromEnv(): self
    {
        return new self((string) getenv('QPAY_API_URL'), (string) getenv('QPAY_MERCHANT_API_KEY'));
    }

    /**
     * POST /payments. $payment: reference, amount (integer, minor units), currency "QAR", description,
     * national_id, and optionally language, quantity, customer, metadata. Retry with the same $idempotencyKey.
     * @param array<string, mixed> $payment
     */
    public function createPayment(array $payment, string $idempotencyKey, ?string $orderToken = null): Response
    {
        $headers = ['Content-Type' => 'application/json', 'Idempotency-Key' => $idempotencyKey];
        $headers += $orderToken !== null ? ['X-Order-Token' => $orderToken] : $this->auth();
        return $this->http->send('POST', "{$this->baseUrl}/payments", $headers, json_encode($payment, JSON_THROW_ON_ERROR));
    }

    /** GET /payments/{id}, with the merchant key, or with the create answer's client_secret. */
    public function getPayment(string $id, ?string $clientSecret = null): Response
    {
        $headers = $clientSecret !== null ? ['X-Client-Secret' => $clientSecret] : $this->auth();
        return $this->http->send('GET', "{$this->baseUrl}/payments/" . rawurlencode($id), $headers);
    }

    /**
     * POST /payments/{id}/refunds, signed with SigV4 (service execute-api). $refund: amount (minor units;
     * omitted: the whole refundable balance), reference, reason. 202 {id, payment_id, amount, status}.
     * @param array<string, mixed> $refund
     */
    public function refund(string $paymentId, array $refund, string $idempotencyKey, AwsCredentials $credentials, string $region): Response
    {
        $url = "{$this->baseUrl}/payments/" . rawurlencode($paymentId) . '/refunds';
        $body = json_encode((object) $refund, JSON_THROW_ON_ERROR);
        $headers = SigV4::sign('POST', $url, ['content-type' => 'application/json', 'idempotency-key' => $idempotencyKey], $body, $credentials, $region);
        return $this->http->send('POST', $url, $headers, $body);
    }

    /** @return array<string, string> */
    private function auth(): array
    {
        return $this->merchantKey ? ['Authorization' => "Bearer {$this->merchantKey}"] : [];
    }
}
