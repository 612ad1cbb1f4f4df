"""The jobs themselves, one module each; the scheduler imports every module here."""
