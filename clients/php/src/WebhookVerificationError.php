<?php
declare(strict_types=1);

namespace QPay;

/** The event is not ours, was altered, or is stale: answer 400 and do not act on it. */
final class WebhookVerificationError extends \RuntimeException
{
}
