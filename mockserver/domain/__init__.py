"""The fake's state and PostHog's rules. Nothing in this package knows about HTTP."""
