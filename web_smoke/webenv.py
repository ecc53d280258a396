"""Constants shared by the browser smoke tests (a module, so test files can import it)."""

DEMO_KEY = "demo-page-key-0123456789abcdef"
