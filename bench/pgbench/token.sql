-- tokens.authenticate (TokenService.authenticate): run only on a token-cache miss, i.e. once per user per cache
-- lifetime (10 s), not once per request. bench/run drives it from its own rate-limited pgbench client.
SELECT u.weight_unit, t.expires_at
FROM auth_tokens t JOIN users u ON u.id = t.user_id
WHERE t.user_id = :uid AND t.token_hash = :hash AND t.expires_at > now();
