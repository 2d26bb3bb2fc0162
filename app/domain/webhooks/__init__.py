"""Webhook subscriptions and deliveries (Standard Webhooks): which events an endpoint
receives, how deliveries are signed, retried and given up, and which targets are safe."""
