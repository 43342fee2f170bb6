"""Platform adapters: translate platform events to the engine's neutral events and back."""
