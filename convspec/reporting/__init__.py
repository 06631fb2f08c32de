"""Reporting: the one result model, the text report, where files go, the JSON schemas."""
