"""`python -m siaran_publisher` runs the publisher service."""

from siaran_shared.service import run_service

if __name__ == "__main__":
    run_service("publisher", "siaran_publisher.app:create_app")
