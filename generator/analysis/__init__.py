"""Analysis: the model in, more findings (and derived facts such as drift) out."""
