"""The browser bundle's own sources (JS API, worker, demo page, npm manifest), shipped as package
data so ``haltguard bundle`` works from an installed package as well as from a checkout."""
