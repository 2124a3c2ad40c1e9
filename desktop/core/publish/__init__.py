"""Publishing: the index bundle, the widget config, the endpoint protocol and pre-publish checks."""
