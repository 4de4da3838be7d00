"""`python -m siaran_console` runs the web console."""

from siaran_shared.service import run_service

if __name__ == "__main__":
    run_service("console", "siaran_console.app:create_app")
