"""`python -m siaran_console` runs the web console.

Not siaran_shared.service.run_service: that one supervises a service Runtime (broker, store,
background loops), and the console has none of them.
"""

import uvicorn

from siaran_console.config import console_settings


def main() -> None:
    settings = console_settings(None)
    uvicorn.run(
        "siaran_console.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # Live pages hold their streams open: a short grace, then they reconnect elsewhere.
        timeout_graceful_shutdown=3,
    )


if __name__ == "__main__":
    main()
