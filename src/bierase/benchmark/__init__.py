"""``bierase benchmark``: every method and ablation on the toy world's scenarios, same seeds, one table."""
