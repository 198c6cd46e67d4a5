"""Importing ``app`` builds the module-level application from the
environment: point it at an in-memory database rather than the default
SQLite file in the working directory. The tests build their own apps."""

import os

os.environ["DOORWARD_DATABASE_URL"] = "sqlite::memory:"
os.environ.setdefault("DOORWARD_JWT_SECRET", "a-throwaway-secret-for-the-module-level-app")
