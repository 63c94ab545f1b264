"""Self-checks of the kit: every family is complete, honest and hides later rounds."""
