"""The finding catalogue and the rules that produce findings."""
