"""What the benchmark asks of the service: the request mix, the routes it hits, the users it seeds."""

TOKEN_CACHE_TTL = 10.0  # seconds: ServiceConfiguration.tokenCacheTimeToLive's default
MIX = [("list", 70), ("create", 20), ("stats", 5), ("get", 5)]
ROUTES = {  # the route each scenario of the mix hits, as /metrics labels it
    "list": ('GET', '/v1/entries'), "create": ('POST', '/v1/entries'),
    "stats": ('GET', '/v1/stats'), "get": ('GET', '/v1/entries/{id}'),
    "ema": ('GET', '/v1/trend'), "progress": ('GET', '/v1/goal/progress'),  # the reads phase
    "changes": ('GET', '/v1/changes'), "put": ('PUT', '/v1/entries/by-client-id/{client_record_id}'),
    "me": ('GET', '/v1/me'), "healthz": ('GET', '/healthz'),  # the service phase's two floors
}
EMAIL_PREFIX = "bench"
# The measured servers run weighin's defaults but for the bcrypt cost. The mix never hashes a password, but every
# `weighin loadtest` starts by registering (409 for existing users, after a full hash) and logging in its 1,000
# users: at cost 12 that alone takes minutes of both cores before any measurement.
# The per-client request budget is lifted too: the reads phase drives one user's token at thousands of requests a
# second, far past the default 100/s (the mix's 1,000 users stay far below it either way).
SERVICE_FLAGS = ["--hash-cost", "4", "--rate-limit", "1000000", "--rate-burst", "1000000"]


def mix_text():
    return ",".join(f"{n}={w}" for n, w in MIX)
