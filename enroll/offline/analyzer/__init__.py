"""A Python CrossGuard policy pack, driven over the engine's analyzer gRPC protocol without
the engine: `wire` (values, requests, results, protos), `config` (reconciliation), `client`
(the pack process and its RPCs)."""
