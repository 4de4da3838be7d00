"""`python -m siaran_metrics` runs the metrics service."""

from siaran_shared.service import run_service

if __name__ == "__main__":
    run_service("metrics", "siaran_metrics.app:create_app")
