"""The host's routes, one router per area; ``haltguard.host.app`` includes them all."""
