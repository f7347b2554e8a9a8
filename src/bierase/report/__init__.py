"""Self-contained HTML reports (images inlined, no JavaScript, no plotting library)."""
