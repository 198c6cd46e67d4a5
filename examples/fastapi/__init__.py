"""FastAPI example application on doorward."""
