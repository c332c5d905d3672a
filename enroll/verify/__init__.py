"""`org-logging verify`: a canary object and a canary event through the real pipeline, from
chosen source accounts to the central bucket, with each path's latency."""
