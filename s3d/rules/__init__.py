"""Filter rules (pure core): the selector language, rule files, and the decisions they make.
See docs/rules.md."""
