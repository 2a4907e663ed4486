"""Routing: policies, hard-constraint checks, readiness and ranked decisions."""
