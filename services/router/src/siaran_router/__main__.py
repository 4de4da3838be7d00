"""`python -m siaran_router` runs the router service."""

from siaran_shared.service import run_service

if __name__ == "__main__":
    run_service("router", "siaran_router.app:create_app")
