"""One package per erasure method (Bi-Erasing, and the baselines it is compared with)."""
