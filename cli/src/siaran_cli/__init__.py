"""The `siaran` command: run the local stack, manage keys, channels, reports, dead letters."""
