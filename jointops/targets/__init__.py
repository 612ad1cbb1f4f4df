"""An agency's cases and targets (28 CFR Part 23 facts): validation, storing, CSV import, pages."""
