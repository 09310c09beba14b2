"""Models: the client handed to targets, model profiles, and the providers behind them."""
