"""FastAPI host."""
