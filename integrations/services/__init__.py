"""Writes of integrations: webhook endpoints (register, rotate, disable) and deliveries
(fan-out from the outbox, sending, retries, redelivery, purge)."""
