"""Siaran's common library: event schemas, settings, telemetry, logging, store and Kafka helpers."""
