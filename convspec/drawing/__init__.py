"""What the search draws: hypothesis strategies, IEEE special values, adversarial data."""
