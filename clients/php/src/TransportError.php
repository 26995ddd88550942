<?php
declare(strict_types=1);

namespace QPay;

/** No HTTP answer (connection refused, timeout) after the last attempt. */
final class TransportError extends \RuntimeException
{
}
