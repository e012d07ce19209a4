"""The manipulation orchestrator's pure core (request checks, stage progress, metrics): see core.py."""
