<?php
declare(strict_types=1);

namespace QPay;

/** An API answer: the HTTP status, the decoded JSON body (errors: {code, message, fields, request_id}), headers. */
final class Response
{
    /** @param array<string, mixed> $body @param array<string, string> $headers */
    public function __construct(public readonly int $status, public readonly array $body, public readonly array $headers = [])
    {
    }

    public function ok(): bool
    {
        return $this->status >= 200 && $this->status < 300;
    }
}
