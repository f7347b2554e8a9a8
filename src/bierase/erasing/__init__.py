"""Parts every erasure method shares: which parameters train, rollouts, checkpoints, outputs."""
