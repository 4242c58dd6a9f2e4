"""Filter rules at work: the facts a decision needs, looked up and remembered, and the one
decision per operation the gateway and the read cache ask for (docs/rules.md)."""
