"""`python -m siaran_ingest` runs the ingest service."""

from siaran_shared.service import run_service

if __name__ == "__main__":
    run_service("ingest", "siaran_ingest.app:create_app")
