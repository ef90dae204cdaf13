"""Running driftflow in production: health, automations, notifications, retention and secrets."""
