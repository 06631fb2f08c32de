"""The model: problems, ops, the contract a result must meet, call forms, layouts, drawn cases."""
