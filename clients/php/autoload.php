<?php
// Without Composer: require __DIR__ . '/clients/php/autoload.php'; (with it: composer.json's PSR-4 map).
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'QPay\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 5)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
