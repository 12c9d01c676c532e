"""Analytics selectors: the forecast, changes and metrics figures, each defined once."""
