<?php
declare(strict_types=1);

namespace QPay;

/** IAM credentials allowed to call the refund route (execute-api:Invoke on the refund route). */
final class AwsCredentials
{
    public function __construct(
        public readonly string $accessKeyId,
        public readonly string $secretAccessKey,
        public readonly ?string $sessionToken = null,
    ) {
    }
}
