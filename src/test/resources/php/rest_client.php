<?php
// A DataSnap REST call as a PHP client makes it, with PHP's curl.
// Usage: php rest_client.php URL [SESSION] [USER PASSWORD]
// Prints {"status":..., "body":..., "session":...} (the session of the answer's Pragma header).
$url = $argv[1];
$session = $argv[2] ?? '';
$ch = curl_init($url);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_HEADER, true);
curl_setopt($ch, CURLOPT_TIMEOUT, 30);
$headers = [];
if ($session !== '') {
    $headers[] = "Pragma: dssession=$session";
}
curl_setopt($ch, CURLOPT_HTTPHEADER, $headers);
if (isset($argv[3])) {
    curl_setopt($ch, CURLOPT_USERPWD, $argv[3] . ':' . $argv[4]);
}
$response = curl_exec($ch);
if ($response === false) {
    fwrite(STDERR, curl_error($ch) . "\n");
    exit(1);
}
$status = curl_getinfo($ch, CURLINFO_HTTP_CODE);
$headerSize = curl_getinfo($ch, CURLINFO_HEADER_SIZE);
$head = substr($response, 0, $headerSize);
$body = substr($response, $headerSize);
preg_match('/dssession=([^,\s]+)/', $head, $m);
echo json_encode(['status' => $status, 'body' => json_decode($body), 'session' => $m[1] ?? null]);
