"""The truth: the references (the definition), the error model, the expected value, the check."""
