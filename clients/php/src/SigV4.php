<?php
declare(strict_types=1);

namespace QPay;

/**
 * AWS Signature Version 4 for one request (service execute-api), as documented in
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html — what API Gateway's IAM
 * authorizer checks on the refund route. Checked against the stack's verifier (botocore's rules).
 */
final class SigV4
{
    /**
     * @param array<string, string> $headers
     * @return array<string, string> the headers to send (with Authorization and X-Amz-Date)
     */
    public static function sign(
        string $method,
        string $url,
        array $headers,
        string $body,
        AwsCredentials $credentials,
        string $region,
        string $service = 'execute-api',
        ?int $now = null,
    ): array {
        $parts = parse_url($url);
        if ($parts === false || !isset($parts['host'])) {
            throw new \InvalidArgumentException("not a URL: $url");
        }
        $host = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
        $amzDate = gmdate('Ymd\THis\Z', $now ?? time());
        $day = substr($amzDate, 0, 8);
        $payloadHash = hash('sha256', $body);
        $all = ['host' => $host, 'x-amz-date' => $amzDate];
        foreach ($headers as $name => $value) {
            $all[strtolower($name)] = trim(preg_replace('/\s+/', ' ', $value) ?? $value);
        }
        if ($credentials->sessionToken !== null && $credentials->sessionToken !== '') {
            $all['x-amz-security-token'] = $credentials->sessionToken;
        }
        ksort($all);
        $canonicalHeaders = '';
        foreach ($all as $name => $value) {
            $canonicalHeaders .= "$name:$value\n";
        }
        $signedHeaders = implode(';', array_keys($all));
        $path = $parts['path'] ?? '/';
        $canonicalPath = implode('/', array_map(static fn (string $s): string => rawurlencode(rawurldecode($s)), explode('/', $path)));
        $canonicalQuery = '';
        if (isset($parts['query']) && $parts['query'] !== '') {
            parse_str($parts['query'], $pairs);
            ksort($pairs);
            $canonicalQuery = implode('&', array_map(
                static fn ($k, $v): string => rawurlencode((string) $k) . '=' . rawurlencode((string) $v),
                array_keys($pairs),
                $pairs,
            ));
        }
        $canonicalRequest = implode("\n", [$method, $canonicalPath, $canonicalQuery, $canonicalHeaders, $signedHeaders, $payloadHash]);
        $scope = "$day/$region/$service/aws4_request";
        $toSign = implode("\n", ['AWS4-HMAC-SHA256', $amzDate, $scope, hash('sha256', $canonicalRequest)]);
        $key = hash_hmac('sha256', 'aws4_request', hash_hmac('sha256', $service, hash_hmac('sha256', $region, hash_hmac('sha256', $day, 'AWS4' . $credentials->secretAccessKey, true), true), true), true);
        $signature = hash_hmac('sha256', $toSign, $key);
        $all['authorization'] = "AWS4-HMAC-SHA256 Credential={$credentials->accessKeyId}/$scope, SignedHeaders=$signedHeaders, Signature=$signature";
        unset($all['host']); // curl sends Host itself
        return $all;
    }
}
