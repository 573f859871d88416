"""Shadow deployments: a registered version scores live traffic beside production, off the caller's path; its
answers are only counted and compared, never returned."""
