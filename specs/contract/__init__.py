"""Claims about the contract itself: call forms, layouts, special values, adversarial data, the envelope, the conv family."""
