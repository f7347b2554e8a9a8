"""Trainers for each model of the toy world; ``bierase.toyworld.build`` runs them in order."""
